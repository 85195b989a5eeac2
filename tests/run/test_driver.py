"""The driver runs the stages in order, logged and timed; each stage leaves the state it got unchanged."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.conftest import package_file
from thresher.catalog import Catalog
from thresher.errors import ConfigError
from thresher.io.datasource import Datasource
from thresher.run.config import load_run_config
from thresher.run.driver import execute, plan
from thresher.run.stages import check_corruption, embed, enumerate_frames, remove_duplicates, select
from thresher.run.state import Selected, Setup, Written
from thresher.workspace import workspace_for

SELECTION = {"n_samples": 2, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}


@pytest.fixture
def lines():
    """The run's log lines."""
    return []


@pytest.fixture
def setup(tmp_path, lines):
    """Real photos, an exact copy of one, and a PNG cut in half (its header reads, its pixels do not)."""
    root = tmp_path / "ds"
    root.mkdir()
    for name in ("chelsea.png", "coffee.png", "astronaut.png"):
        shutil.copyfile(package_file("skimage", "data", name), root / name)
    shutil.copyfile(root / "chelsea.png", root / "chelsea_copy.png")
    whole = (root / "coffee.png").read_bytes()
    (root / "cut.png").write_bytes(whole[: len(whole) // 2])
    source = Datasource(root)
    workspace = workspace_for(source)
    (tmp_path / "out").mkdir()
    with Catalog(workspace) as catalog:
        config = load_run_config(selection_config=SELECTION)
        yield Setup(source=source, config=config, catalog=catalog, workspace=workspace, folder=tmp_path / "out", log=lines.append)


def test_each_stage_returns_a_new_state_and_leaves_its_input_as_it_was(setup):
    planned = plan(setup)
    enumerated = enumerate_frames(planned)
    candidates = enumerated.candidate.copy()
    checked = check_corruption(enumerated)
    assert np.array_equal(enumerated.candidate, candidates) and "corrupt files" not in enumerated.counts
    assert [(f, r) for f, r, _ in checked.removed] == [("cut.png", "corrupt")]
    embedded = embed(checked)
    assert checked.counts == {**enumerated.counts, "corrupt files": 1}
    unique = remove_duplicates(embedded)
    assert "chelsea_copy.png" in embedded.samples.id.tolist() and "chelsea_copy.png" not in unique.samples.id.tolist()
    assert [r for r in unique.removed if r[1] == "duplicate"] == [("chelsea_copy.png", "duplicate", "identical to chelsea.png")]
    assert len(embedded.removed) == 1 and embedded.counts.get("exact duplicates") is None
    selected = select(unique)
    assert isinstance(selected, Selected) and selected.resolver.samples is selected.samples
    assert selected.new_picks().tolist() == [True, True] and selected.counts["selected"] == 2


def test_the_driver_runs_the_stages_in_order_logged_and_timed(setup, lines):
    written = execute(plan(setup))
    assert isinstance(written, Written) and written.report == setup.folder / "report.html" and written.report.exists()
    stages = ["config check", "enumerate", "corruptness check", "embeddings", "exact duplicates", "selection", "outputs"]
    assert list(written.timings) == stages and all(seconds >= 0 for seconds in written.timings.values())
    assert [line for line in lines if line.endswith(" …")] == [f"{name} …" for name in stages]
    assert (setup.folder / "selection.csv").exists() and (setup.folder / "run.json").exists()


def test_a_name_clash_is_removed_as_such_naming_the_file_kept(setup):
    """`astronaut.jpg` beside `astronaut.png` would share `astronaut.json`: the first by name is kept."""
    from PIL import Image

    root = setup.workspace.parent
    Image.open(root / "coffee.png").convert("RGB").save(root / "astronaut.jpg")
    enumerated = enumerate_frames(plan(setup))
    assert "astronaut.jpg" in enumerated.frames.id.tolist() and "astronaut.png" not in enumerated.frames.id.tolist()
    detail = "the same prediction file 'astronaut.json' as the image 'astronaut.jpg', which is kept; the image 'astronaut.png' is left out"
    assert enumerated.removed == (("astronaut.png", "name clash", detail),)
    assert enumerated.counts["name clashes"] == 1
    checked = check_corruption(enumerated)
    assert checked.counts["corrupt files"] == 1 and [r for _, r, _ in checked.removed] == ["name clash", "corrupt"]


def with_relevant(setup, lines: str):
    """`setup` with a `relevant_filenames_file` holding `lines`."""
    from dataclasses import replace

    (setup.workspace.parent / ".lightly").mkdir(exist_ok=True)
    (setup.workspace.parent / ".lightly" / "relevant.txt").write_text(lines)
    return replace(setup, config=load_run_config(worker_config={"relevant_filenames_file": ".lightly/relevant.txt"}, selection_config=SELECTION))


def test_relevant_names_matching_no_file_are_warned_about(setup, lines):
    enumerated = enumerate_frames(plan(with_relevant(setup, "coffee.png\nchelsea.png\nimg/chelsea.png\nnope.jpg\n")))
    assert enumerated.frames.id[enumerated.candidate].tolist() == ["chelsea.png", "coffee.png"]
    warning = (
        "  warning: worker_config.relevant_filenames_file '.lightly/relevant.txt': 2 of its 4 names match no image, video or video frame "
        "of the datasource: 'img/chelsea.png' (did you mean 'chelsea.png'?), 'nope.jpg'; they are ignored"
    )
    assert warning in lines


def test_relevant_names_matching_nothing_are_an_error_listing_them(setup):
    names = "".join(f"img/{i}.png\n" for i in range(7))
    with pytest.raises(ConfigError) as caught:
        enumerate_frames(plan(with_relevant(setup, names)))
    assert str(caught.value) == (
        "worker_config.relevant_filenames_file '.lightly/relevant.txt': 7 of its 7 names match no image, video or video frame of the datasource: "
        "'img/0.png', 'img/1.png', 'img/2.png', 'img/3.png', 'img/4.png' and 2 more; expected names relative to the datasource, e.g. 'astronaut.png'"
    )
    with pytest.raises(ConfigError, match=r"relevant.txt': expected file names, one a line .*got an empty file"):
        enumerate_frames(plan(with_relevant(setup, "\n")))


def test_a_relevant_file_error_names_the_run_file(setup, tmp_path):
    import yaml
    from dataclasses import replace

    with_relevant(setup, "img/0.png\n")
    run_file = tmp_path / "run.yaml"
    run_file.write_text(yaml.safe_dump({"worker_config": {"relevant_filenames_file": ".lightly/relevant.txt"}, "selection_config": SELECTION}))
    with pytest.raises(ConfigError) as caught:
        enumerate_frames(plan(replace(setup, config=load_run_config(run_file))))
    assert str(caught.value).startswith(f"{run_file}: worker_config.relevant_filenames_file '.lightly/relevant.txt': 1 of its 1 names match no")


@pytest.mark.parametrize("object_level", [False, True], ids=["frames", "objects"])
def test_without_the_corruptness_check_a_truncated_file_is_still_listed_and_counted(setup, object_level):
    """cut.png passes enumerate (its header reads); pretagging cannot decode it. At object level
    no later stage decodes it again (only crops are embedded): pretagging must report it."""
    import csv
    import json
    from dataclasses import replace

    worker = {"pretagging": True, "enable_corruptness_check": False}
    if object_level:
        worker["object_level"] = {"task_name": "lightly_pretagging", "padding": 0.1}
    selection = {"n_samples": 2, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}
    config = load_run_config(worker_config=worker, selection_config=selection, thresher={"pretagging": {"confidence": 0.3}})
    written = execute(plan(replace(setup, config=config)))
    with open(setup.folder / "removed_samples.csv") as f:
        corrupt = [r for r in csv.DictReader(f) if r["reason"] == "corrupt"]
    assert [r["file_name"] for r in corrupt] == ["cut.png"]
    assert corrupt[0]["detail"].startswith("an image that decodes, got corrupt image, decoding failed (")
    counts = json.loads((setup.folder / "run.json").read_text())["counts"]
    assert counts["corrupt files"] == 1 == written.counts["corrupt files"]
    assert counts["pretagged frames"] == 4  # chelsea, its copy, coffee, astronaut: cut.png is not among them
    report = (setup.folder / "report.html").read_text()
    assert "<td>removed samples: corrupt</td><td>1</td>" in report and "<td>corrupt files</td><td>1</td>" in report
