"""The report of real runs (bikes.mp4, datapool): the saved bundle, the page, `thresher report`."""

from __future__ import annotations

import re

import numpy as np
import pytest

from thresher.report import build_report, load_report_data, numeric_summary
from thresher.report.data import DATA_JSON, DATA_NPZ, pack_strings, save_report_data, unpack_strings
from thresher.report.sections import set_masks
from tests.test_validate import run_cli

pytestmark = pytest.mark.slow


def test_the_run_saves_its_bundle_and_page(bikes_runs):
    folder = bikes_runs.second.folder
    assert (folder / DATA_NPZ).is_file() and (folder / DATA_JSON).is_file() and (folder / "report.html").is_file()


def test_bundle_holds_the_run(bikes_runs):
    first, second = bikes_runs.first, bikes_runs.second
    data = load_report_data(second.folder)
    assert data.meta["run_id"] == second.run_id
    assert data.samples.id.tolist() == second.samples.id.tolist() and len(data.samples) == 50
    assert data.selected.tolist() == second.selection.ids.tolist()
    assert sorted(data.preselected.tolist()) == sorted(first.selection.ids.tolist())
    assert len(data.new_picks) == 6 and not set(data.new_picks) & set(data.preselected)
    # the random selection: as many as the new picks, from the candidates (not preselected), seeded
    assert len(data.random) == 6 and not set(data.random) & set(data.preselected)
    assert set(data.random) <= set(data.samples.id)
    assert [d["kind"] for d in data.meta["inputs"]] == ["vectors", "scalar", "scalar", "classes"]
    assert data.inputs[0] is None and data.inputs[1].shape == (50,) and data.inputs[3].shape[0] == 50
    flicker = data.inputs[2]
    assert set(np.unique(flicker).tolist()) <= {0.5, 1.0}
    assert data.projection.shape == (50, 2) and np.isfinite(data.projection).all()
    assert set(data.nearest) == {"selected", "random", "datapool"}
    assert data.meta["box_task"] == "ssd" and data.meta["imputed_task"] == "ssd-imputed"
    assert data.meta["videos"] == {"bikes.mp4": 250}
    # thumbnails: every sample (50 < the hover limit), boxes of the ssd task on them
    assert set(data.thumbnails.frame_id.tolist()) >= set(data.samples.id.tolist())
    assert len(data.thumbnails.box_thumb) > 0 and "car" in data.thumbnails.labels.tolist()


def test_selected_values_in_the_bundle_match_selection_csv(bikes_runs):
    import csv

    data = load_report_data(bikes_runs.second.folder)
    with open(bikes_runs.second.folder / "selection.csv", newline="") as f:
        rows = {r["file_name"]: r for r in csv.DictReader(f)}
    column = "weights:scores:ssd/objectness_least_confidence"
    row_of = {s: i for i, s in enumerate(data.samples.id.tolist())}
    for sample in data.new_picks.tolist():
        assert float(rows[sample][column]) == pytest.approx(data.inputs[1][row_of[sample]])


def test_bundle_round_trip(bikes_runs, tmp_path):
    data = load_report_data(bikes_runs.second.folder)
    save_report_data(tmp_path, data)
    again = load_report_data(tmp_path)
    assert again.meta == data.meta
    for name in ("selected", "objective", "preselected", "random", "projection"):
        np.testing.assert_array_equal(getattr(again, name), getattr(data, name))
    for a, b in zip(again.inputs, data.inputs):
        assert (a is None and b is None) or np.array_equal(a, b)
    assert again.thumbnails.data.tobytes() == data.thumbnails.data.tobytes()
    assert again.samples.file_name.tolist() == data.samples.file_name.tolist()


@pytest.mark.parametrize("values", [[], [""], ["a", "", "a", "ü/ß.png"], ["x"] * 3])
def test_strings_pack_and_unpack(values):
    blob, index = pack_strings(np.array(values, dtype=str))
    assert unpack_strings(blob, index).tolist() == values


def test_page_is_self_contained(bikes_runs):
    page = (bikes_runs.second.folder / "report.html").read_text(encoding="utf-8")
    assert "default-src 'none'" in page  # the page's own policy forbids any request
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:|//)""", page)
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page)
    for section in ("sizes", "inputs", "classes", "embedding", "gallery", "timeline", "duplicates", "removed"):
        assert f"id='{section}'" in page
    assert "datapool" in page and "Gini imbalance" in page and "normalized entropy" in page


def test_page_shows_the_statistics_of_each_set(bikes_runs):
    data = load_report_data(bikes_runs.second.folder)
    masks = set_masks(data)
    page = (bikes_runs.second.folder / "report.html").read_text(encoding="utf-8")
    selected_mean = numeric_summary(data.inputs[1][masks["selected"]])["mean"]
    assert f"<td>{selected_mean:.4g}</td>" in page


def test_rebuilding_gives_the_same_page(bikes_runs, tmp_path):
    out = tmp_path / "again.html"
    build_report(bikes_runs.second.folder, out=out)
    assert out.read_bytes() == (bikes_runs.second.folder / "report.html").read_bytes()


def test_thresher_report_command(bikes_runs, tmp_path, capsys):
    out = tmp_path / "r.html"
    code, output = run_cli(["report", str(bikes_runs.first.folder), "--out", str(out)], capsys)
    assert code == 0, output
    assert out.read_bytes() == (bikes_runs.first.folder / "report.html").read_bytes()
    code, output = run_cli(["report", str(tmp_path)], capsys)
    assert code == 2 and "report_data" in output


def test_tsne_projection_on_request(bikes_runs, tmp_path, capsys):
    import shutil

    folder = tmp_path / "run"
    shutil.copytree(bikes_runs.first.folder, folder)
    pca = load_report_data(folder).projection
    code, output = run_cli(["report", str(folder), "--projection", "tsne"], capsys)
    assert code == 0, output
    data = load_report_data(folder)
    assert data.meta["projection"] == "tsne" and not np.allclose(data.projection, pca)
    assert "Embeddings (t-SNE)" in (folder / "report.html").read_text(encoding="utf-8")


def test_object_level_run_reports_its_crops(bikes_predicted, tmp_path):
    """At object level the samples are crops: the report keeps each crop's box and outlines it."""
    import shutil

    from thresher.run import run

    root = tmp_path / "ds"
    shutil.copytree(bikes_predicted, root)
    config = {
        "worker_config": {"object_level": {"task_name": "ssd", "padding": 0.1}},
        "thresher": {"every": 50, "exports": {"crops": False, "images": False}},
        "selection_config": {
            "n_samples": 4,
            "strategies": [
                {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
                {"input": {"type": "SCORES", "task": "ssd", "score": "objectness_least_confidence"}, "strategy": {"type": "WEIGHTS"}},
            ],
        },
    }
    result = run(root, config)
    data = load_report_data(result.folder)
    assert data.meta["level"] == "object" and set(data.samples.kind.tolist()) == {"crop"}
    assert data.sample_box is not None and data.sample_box.shape == (len(data.samples), 4)
    assert (data.sample_box[:, 2] > data.sample_box[:, 0]).all()
    # thumbnails are of the parent frames; the gallery outlines the selected crops in them
    assert set(data.thumbnails.frame_id.tolist()) >= set(data.samples.parent_id[np.isin(data.samples.id, data.selected)].tolist())
    page = (result.folder / "report.html").read_text(encoding="utf-8")
    assert page.count("class='crop'") >= 1 and "bikes.mp4" in page


def test_names_cannot_break_out_of_the_page_data(bikes_runs):
    """File names are data: the JSON block holds no `<`, so `<!--<script` or `</script>` in a
    name cannot end it or put the HTML parser in another state; the names read back intact."""
    import dataclasses
    import json

    from thresher.report.render import page

    data = load_report_data(bikes_runs.second.folder)
    hostile = "<!--<script>alert(1)</script>.png"
    samples = dataclasses.replace(data.samples, file_name=np.array([hostile] * len(data.samples)))
    html = page(dataclasses.replace(data, samples=samples))
    opening = "<script type='application/json' id='report-data'>"
    start = html.index(opening) + len(opening)
    block = html[start : html.index("</script>", start)]
    assert "<" not in block and json.loads(block)["names"][0] == hostile


def test_a_run_reading_its_task_only_through_the_assertions_draws_its_boxes(bikes_datasource_copy):
    """No SCORES, PREDICTIONS or pretagging: the task the assertions check is the one the
    exports carry, and the report (and `thresher serve`) draw its boxes, not only the imputed."""
    from thresher.run import run

    config = {
        "thresher": {"every": 10, "assertions": {"task": "ssd", "names": ["flicker"]}},
        "selection_config": {
            "n_samples": 3,
            "strategies": [
                {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
                {"input": {"type": "METADATA", "key": "flickering"}, "strategy": {"type": "WEIGHTS"}},
            ],
        },
    }
    data = load_report_data(run(bikes_datasource_copy, config).folder)
    assert data.meta["box_task"] == "ssd" and data.meta["imputed_task"] == "ssd-imputed"
    assert "car" in data.thumbnails.labels.tolist() and (~data.thumbnails.box_imputed).any()
    assert [t["task"] for t in data.meta["class_tasks"]] == ["ssd"]
