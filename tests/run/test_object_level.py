"""Object level end to end: crop embeddings reused only while a crop shows the same pixels, what
each selected object is (selection.csv, `thresher serve`), the errors and printed outputs."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import package_file, write_json
from thresher.embedding_store import EmbeddingStore
from thresher.run import run

BOXES = {"chelsea": [[10, 20, 120, 90], [150, 40, 100, 120]], "coffee": [[30, 30, 200, 150]], "astronaut": [[100, 20, 150, 180], [250, 250, 120, 150]]}
SCHEMA = {"task_type": "object-detection", "categories": [{"id": 0, "name": "cat"}, {"id": 1, "name": "cup"}]}


def write_task(root, task: str, boxes: dict) -> None:
    """The task `task` with `boxes` ([x, y, w, h] per image stem) for the PNGs of `root`."""
    pred = root / ".lightly" / "predictions"
    tasks = pred / "tasks.json"
    names = sorted({*(json.loads(tasks.read_text()) if tasks.exists() else []), task})
    write_json(tasks, names)
    write_json(pred / task / "schema.json", SCHEMA)
    for stem, stem_boxes in boxes.items():
        boxes_json = [{"category_id": 0, "bbox": b, "score": 0.9, "probabilities": [0.9, 0.1]} for b in stem_boxes]
        write_json(pred / task / f"{stem}.json", {"file_name": f"{stem}.png", "predictions": boxes_json})


@pytest.fixture
def datasource(tmp_path):
    """Three photos and the task `det` with five boxes."""
    root = tmp_path / "ds"
    root.mkdir()
    for stem in BOXES:
        shutil.copyfile(package_file("skimage", "data", f"{stem}.png"), root / f"{stem}.png")
    write_task(root, "det", BOXES)
    return root


def config(task: str = "det", padding: float = 0.0) -> dict:
    return {
        "worker_config": {"enable_corruptness_check": False, "remove_exact_duplicates": False, "object_level": {"task_name": task, "padding": padding}},
        "selection_config": {"n_samples": 2, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]},
    }


def embedded(result) -> tuple[int, int]:
    return result.counts["embedded"], result.counts["embeddings reused"]


def assert_same_as_fresh(tmp_path, datasource, cfg, result) -> None:
    """The vectors a run used equal those a fresh workspace computes for the same config."""
    fresh = run(datasource, cfg, catalog=tmp_path / "fresh")
    assert fresh.samples.id.tolist() == result.samples.id.tolist()
    ids = result.samples.id
    np.testing.assert_array_equal(stored(datasource / ".thresher", ids), stored(tmp_path / "fresh", ids))


def stored(workspace, ids) -> np.ndarray:
    """The latest stored vector of each of `ids` in `workspace`'s one embedding store."""
    (folder,) = [p for p in (workspace / "embeddings").iterdir() if p.is_dir()]
    return EmbeddingStore(folder).load().align(ids).vectors


def test_the_same_crops_are_reused(datasource):
    assert embedded(run(datasource, config())) == (5, 0)
    assert embedded(run(datasource, config())) == (0, 5)


def test_another_padding_embeds_every_crop_again(tmp_path, datasource):
    run(datasource, config())
    padded = run(datasource, config(padding=0.2))
    assert embedded(padded) == (5, 0)
    assert_same_as_fresh(tmp_path, datasource, config(padding=0.2), padded)


def test_a_moved_box_embeds_that_crop_only(tmp_path, datasource):
    run(datasource, config())
    write_task(datasource, "det", {**BOXES, "coffee": [[40, 30, 200, 150]]})
    moved = run(datasource, config())
    assert embedded(moved) == (1, 4)
    assert_same_as_fresh(tmp_path, datasource, config(), moved)


def test_another_task_embeds_the_crops_whose_boxes_differ(tmp_path, datasource):
    run(datasource, config())
    other = {"chelsea": [BOXES["chelsea"][1], BOXES["chelsea"][0]], "coffee": BOXES["coffee"], "astronaut": [[0, 0, 50, 60]]}
    write_task(datasource, "other", other)
    switched = run(datasource, config(task="other"))
    assert embedded(switched) == (3, 1)  # chelsea's two boxes swapped places, astronaut has a new one; coffee's is the same
    assert_same_as_fresh(tmp_path, datasource, config(task="other"), switched)


def test_a_changed_media_file_embeds_its_crops_again(datasource):
    run(datasource, config())
    shutil.copyfile(package_file("skimage", "data", "astronaut.png"), datasource / "coffee.png")  # same name, other pixels
    assert embedded(run(datasource, config())) == (1, 4)


def selected_rows(result) -> list[dict]:
    with open(result.folder / "selection.csv", newline="") as f:
        return list(csv.DictReader(f))


def expected_object(crop_id: str) -> tuple[list[float], str, float]:
    """(x1 y1 x2 y2, class, score) of a crop of `det` from BOXES (`<stem>-<k>-png.png`)."""
    stem, k, _ = crop_id.rsplit("-", 2)
    x, y, w, h = BOXES[stem][int(k)]
    return [float(x), float(y), float(x + w), float(y + h)], "cat", 0.9


def test_selection_csv_says_which_object_each_row_is(datasource):
    result = run(datasource, config(padding=0.2))
    rows = selected_rows(result)
    assert list(rows[0])[:12] == ["file_name", "kind", "video", "frame_index", "parent_id", "x1", "y1", "x2", "y2", "class", "score", "objective"]
    for row in rows:
        box, name, score = expected_object(row["file_name"])
        assert [float(row[k]) for k in ("x1", "y1", "x2", "y2")] == box and row["class"] == name and float(row["score"]) == score


def test_selection_csv_writes_boxes_and_scores_as_the_prediction_file_has_them(datasource):
    """12.3 stays `12.3`: neither float32's widening (12.300000190734863, what a tool writing a
    float32 box through float64 puts in its file) nor float64's x + w (112.39999999999999)."""
    pred = datasource / ".lightly" / "predictions" / "det"
    boxes = [{"category_id": 0, "bbox": [12.300000190734863, 20.7, 100.1, 60.3], "score": 0.800000011920929, "probabilities": [0.8, 0.2]}]
    write_json(pred / "chelsea.json", {"file_name": "chelsea.png", "predictions": boxes})
    rows = {row["file_name"]: row for row in selected_rows(run(datasource, {**config(), "selection_config": {**config()["selection_config"], "n_samples": 5}}))}
    assert [rows["chelsea-0-png.png"][k] for k in ("x1", "y1", "x2", "y2", "class", "score")] == ["12.3", "20.7", "112.4", "81.0", "cat", "0.8"]
    assert [rows["coffee-0-png.png"][k] for k in ("x1", "y1", "x2", "y2", "score")] == ["30.0", "30.0", "230.0", "180.0", "0.9"]


def test_the_app_shows_a_crop_with_its_own_box_and_class(datasource):
    import threading
    from urllib.parse import quote

    from tests.app.test_server import get_json
    from thresher.app import make_server

    result = run(datasource, config(padding=0.2))
    crop = result.picks.ids[0] if result.picks is not None else result.selection.ids[0]
    server = make_server(datasource / ".thresher", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        body = get_json(server, f"/api/sample?id={quote(str(crop))}&run={result.run_id}")
    finally:
        server.shutdown()
        server.server_close()
    box, name, score = expected_object(str(crop))
    (shown,) = body["boxes"]
    assert shown["frame_xyxy"] == box and shown["label"] == name and shown["score"] == score and body["classes"] == [name]
    inside = np.array(shown["xyxy"])  # drawn on the crop: in the padded crop's pixels, the same size as in the frame
    assert (inside[:2] > 0).all() and np.array_equal(inside[2:] - inside[:2], np.array(box[2:]) - np.array(box[:2]))


def test_an_object_task_without_boxes_is_named_in_the_error(datasource):
    from thresher.errors import NothingToSelectError

    write_task(datasource, "empty", {stem: [] for stem in BOXES})
    with pytest.raises(NothingToSelectError) as refused:
        run(datasource, config(task="empty"))
    message = str(refused.value)
    assert message.startswith("nothing to select: task 'empty' (worker_config.object_level.task_name) has no boxes on the 3 frames that take part, so there is no object to select")
    assert f"`thresher validate {datasource}` counts each task's boxes" in message and "remove object_level to select frames" in message


def test_the_printed_outputs_name_the_crops_folder(datasource, tmp_path, capsys):
    from tests.test_validate import run_cli

    cfg = config()
    cfg["worker_config"]["object_level"]["crop_dataset_name"] = "cat-crops"
    (tmp_path / "run.json").write_text(json.dumps(cfg))
    code, output = run_cli(["run", str(datasource), "--config", str(tmp_path / "run.json"), "--quiet"], capsys)
    assert code in (0, None), output
    listed = [line.strip() for line in output.splitlines() if line.startswith("  /")]
    crops = next(line for line in listed if line.endswith("/cat-crops"))
    assert listed.index(crops) == [line.rsplit("/", 1)[1] for line in listed].index("images") + 1
    assert len(list(Path(crops).glob("*.png"))) == 2


def csv_ids(path: Path) -> list[str]:
    with open(path, newline="") as f:
        return [row["file_name"] for row in csv.DictReader(f)]


def test_the_datapool_keeps_earlier_objects_when_new_images_come(datasource):
    cfg = config()
    cfg["worker_config"]["use_datapool"] = True
    first = run(datasource, cfg)
    earlier = first.selection.ids.tolist()
    assert len(earlier) == 2
    shutil.copyfile(package_file("skimage", "data", "motorcycle_left.png"), datasource / "motorcycle.png")
    write_task(datasource, "det", {**BOXES, "motorcycle": [[20, 20, 100, 80], [200, 100, 120, 90]]})
    cfg["selection_config"]["n_samples"] = 3  # the datapool's 2 objects count: 1 new one
    second = run(datasource, cfg)
    assert second.selection.ids.tolist()[:2] == earlier and len(second.picks.ids) == 1
    assert second.summary().startswith("selected 1 new (2 already in the datapool)")
    assert sorted(csv_ids(second.folder / "datapool.csv")) == sorted(earlier)
    assert csv_ids(second.folder / "selection.csv")[0].startswith("motorcycle-")  # the seen frames' other objects are no candidates
