"""The hand-off of real runs: every exported image opens, every box of the user's task is there.

The runs (tests/handoff_fixtures.py) read the user's own task written the seed-000 way (no file
for a frame without boxes) over bikes.mp4 and two stills; the checks read the prediction files
and the exports as plain JSON, independently of thresher's readers.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.handoff_fixtures import CAT_PHOTO, COFFEE, TASK, frames_config, make_user_datasource
from thresher.errors import ConfigError
from thresher.io.datasource import Datasource
from thresher.io.labelstudio_urls import path_of_url
from thresher.run import run


def prediction_boxes(root: Path, task: str, name: str) -> list[tuple[str, list[float]]]:
    """(label, [x, y, w, h]) of a sample's prediction file ([] when there is no file)."""
    folder = root / ".lightly" / "predictions" / task
    names = {c["id"]: c["name"] for c in json.loads((folder / "schema.json").read_text())["categories"]}
    path = folder / (name.rsplit(".", 1)[0] + ".json")
    if not path.exists():
        return []
    return [(names[p["category_id"]], [float(v) for v in p["bbox"]]) for p in json.loads(path.read_text())["predictions"]]


def label_studio_boxes(task: dict, imputed: bool) -> list[tuple[str, list[float]]]:
    """(label, [x, y, w, h] in pixels) of a Label Studio task's predicted or imputed regions."""
    found = []
    for r in task["predictions"][0]["result"]:
        if r["meta"]["imputed"] == imputed:
            v, w, h = r["value"], r["original_width"], r["original_height"]
            found.append((v["rectanglelabels"][0], [v["x"] * w / 100, v["y"] * h / 100, v["width"] * w / 100, v["height"] * h / 100]))
    return found


def assert_same_boxes(got, expected):
    assert [label for label, _ in got] == [label for label, _ in expected]
    np.testing.assert_allclose(np.array([b for _, b in got]).reshape(-1, 4), np.array([b for _, b in expected]).reshape(-1, 4), atol=1e-6)


def document_root(result) -> Path:
    return Path(result.artifacts["label_studio_document_root"])


def assert_opens(path: Path, root: Path, name: str) -> None:
    """The exported image of sample `name` holds its pixels: the still's bytes, or the frame decoded."""
    from thresher.io.datasource import Datasource
    from thresher.io.video import VideoReader

    assert path.is_file(), path
    if name.startswith("data/bikes-"):
        with VideoReader(Datasource(root).input, "data/bikes.mp4") as reader, Image.open(path) as image:
            assert np.array_equal(np.asarray(image), reader[int(name.split("-")[1])])
    else:
        assert path.read_bytes() == (root / name).read_bytes()


@pytest.mark.parametrize("level", ["frames", "everything", "objects"])
def test_every_exported_image_opens_after_the_final_rename(handoff_runs, level):
    result, root = getattr(handoff_runs, level), handoff_runs.root
    folder = result.folder
    assert not folder.name.endswith(".partial") and not list(folder.parent.glob("*.partial"))
    picked = (folder / "filenames.txt").read_text().split("\n")[:-1]
    assert picked and len(set(picked)) == len(picked)
    for name in picked:
        assert_opens(folder / "images" / name, root, name)
    tasks = json.loads((folder / "label_studio_tasks.json").read_text())
    assert [t["data"]["thresher_id"] for t in tasks] == picked
    for task in tasks:
        url = task["data"]["image"]
        assert url.startswith("/data/local-files/?d=runs/") and " " not in url
        assert_opens(document_root(result) / path_of_url(url), root, task["data"]["thresher_id"])
    coco = json.loads((folder / "coco.json").read_text())
    assert [i["file_name"] for i in coco["images"]] == picked
    for image in coco["images"]:
        with Image.open(folder / "images" / image["file_name"]) as opened:
            assert opened.size == (image["width"], image["height"])
    assert Path(result.artifacts["label_studio_storage_path"]) == document_root(result) / "runs"
    for written in folder.rglob("*"):  # nothing names the folder the run was written in
        if written.suffix in (".json", ".txt", ".csv", ".xml", ".html"):
            assert ".partial" not in written.read_text(), written


@pytest.mark.parametrize("level", ["frames", "everything", "objects"])
def test_every_box_and_imputed_box_of_the_user_task_is_exported(handoff_runs, level):
    result, root = getattr(handoff_runs, level), handoff_runs.root
    tasks = json.loads((result.folder / "label_studio_tasks.json").read_text())
    coco = json.loads((result.folder / "coco.json").read_text())
    assert coco["categories"] == [{"id": 2, "name": "car"}, {"id": 15, "name": "cat"}]
    names = {c["id"]: c["name"] for c in coco["categories"]}
    imputed_seen = 0
    for image, task in zip(coco["images"], tasks):
        name = image["file_name"]
        own, imputed = prediction_boxes(root, TASK, name), prediction_boxes(root, f"{TASK}-imputed", name)
        imputed_seen += len(imputed)
        assert_same_boxes(label_studio_boxes(task, imputed=False), own)
        assert_same_boxes(label_studio_boxes(task, imputed=True), imputed)
        annotations = [a for a in coco["annotations"] if a["image_id"] == image["id"]]
        assert_same_boxes([(names[a["category_id"]], a["bbox"]) for a in annotations if not a["imputed"]], own)
        assert_same_boxes([(names[a["category_id"]], a["bbox"]) for a in annotations if a["imputed"]], imputed)
        assert task["data"]["thresher_task"] == TASK
    if level != "objects":
        assert imputed_seen > 0, "flicker imputes boxes on some selected frames of bikes.mp4"
    if level == "everything":
        assert {CAT_PHOTO, COFFEE} <= {t["data"]["thresher_id"] for t in tasks}
        assert [t["predictions"][0]["result"] for t in tasks if t["data"]["thresher_id"] == COFFEE] == [[]]
    config = (result.folder / "label_studio_config.xml").read_text()
    assert '<Label value="car"/>' in config and '<Label value="cat"/>' in config


def test_object_level_tasks_mark_each_selected_object(handoff_runs):
    result = handoff_runs.objects
    with open(result.folder / "selection.csv", newline="") as f:
        picks = [r["file_name"] for r in csv.DictReader(f)]
    tasks = json.loads((result.folder / "label_studio_tasks.json").read_text())
    marked = [o for t in tasks for o in t["meta"]["selected_objects"]]
    assert sorted(marked) == sorted(picks)
    assert CAT_PHOTO in [t["data"]["thresher_id"] for t in tasks]
    for task in tasks:
        frame = task["data"]["thresher_id"].rsplit(".", 1)[0]
        boxes = task["meta"]["selected_boxes"]
        assert [f"{frame}-{k}-{task['data']['thresher_id'].rsplit('.', 1)[1]}.png" for k in boxes] == task["meta"]["selected_objects"]
        flags = [r["meta"]["box"] for r in task["predictions"][0]["result"] if r["meta"].get("selected")]
        assert sorted(flags) == sorted(boxes)
    coco = json.loads((result.folder / "coco.json").read_text())
    assert sum(a["selected"] for a in coco["annotations"]) == len(picks)


def test_a_datapool_run_exports_its_new_picks_only(tmp_path, bikes_predicted):
    root = make_user_datasource(tmp_path / "ds", bikes_predicted)
    config = {**frames_config(4), "worker_config": {"use_datapool": True}}
    config["thresher"] = {**config["thresher"], "every": 50}
    first = run(root, config)
    again = run(root, config)  # no new file: nothing new to pick
    assert first.summary() == "selected 4 new (0 already in the datapool) of 7 samples"
    assert again.summary() == "selected 0 new (4 already in the datapool) of 4 samples"
    with open(again.folder / "datapool.csv") as f:
        assert sorted(r["file_name"] for r in csv.DictReader(f)) == sorted(first.selection.ids.tolist())
    with open(again.folder / "selection.csv") as f:
        assert list(csv.DictReader(f)) == []
    assert json.loads((again.folder / "label_studio_tasks.json").read_text()) == []
    assert json.loads((again.folder / "coco.json").read_text())["images"] == []
    assert (again.folder / "filenames.txt").read_text() == ""
    assert not (again.folder / "images").exists()
    assert again.counts["selected"] == 0 and again.counts["already in the datapool"] == 4


def test_several_tasks_read_need_exports_task(tmp_path, bikes_predicted, monkeypatch):
    root = make_user_datasource(tmp_path / "ds", bikes_predicted)
    shutil.copytree(root / ".lightly/predictions" / TASK, root / ".lightly/predictions/other")
    (root / ".lightly/predictions/tasks.json").write_text(json.dumps([TASK, "other"]))
    config = frames_config(2)
    config["thresher"] = {"every": 50}
    config["selection_config"]["strategies"].append({"input": {"type": "SCORES", "task": "other", "score": "objectness_least_confidence"}, "strategy": {"type": "WEIGHTS"}})
    del config["selection_config"]["strategies"][2]  # no flickering metadata here
    with pytest.raises(ConfigError, match=r"thresher.exports.task: the run reads several prediction tasks \(yolov8_detection, other\)"):
        run(root, config)
    assert not (root / ".thresher" / "runs").exists()  # stopped before any work
    chosen = run(root, {**config, "thresher": {"every": 50, "exports": {"task": "other"}}})
    assert {t["data"]["thresher_task"] for t in json.loads((chosen.folder / "label_studio_tasks.json").read_text())} == {"other"}
    with monkeypatch.context() as patched, pytest.raises(ConfigError, match=r"thresher.exports.task: expected a prediction task of .*, got 'othr' \(did you mean"):
        patched.setattr(Datasource, "frames", lambda *args, **kwargs: pytest.fail("enumerated before the config check refused the task"))
        run(root, {**config, "thresher": {"every": 50, "exports": {"task": "othr"}}})


def test_local_files_root_must_hold_the_run(tmp_path, bikes_predicted):
    root = make_user_datasource(tmp_path / "ds", bikes_predicted)
    config = frames_config(2)
    config["thresher"] = {**config["thresher"], "every": 50, "exports": {"local_files_root": str(tmp_path / "elsewhere")}}
    with pytest.raises(ConfigError, match="thresher.exports.local_files_root: expected a folder that holds the run folder"):
        run(root, config)
    config["thresher"]["exports"] = {"local_files_root": str(tmp_path), "images": True}
    result = run(root, config)
    task = json.loads((result.folder / "label_studio_tasks.json").read_text())[0]
    assert task["data"]["image"].startswith(f"/data/local-files/?d=ds/.thresher/runs/{result.run_id}/images/")
    assert (tmp_path / path_of_url(task["data"]["image"])).is_file()
    config["thresher"]["exports"] = {"image_root": "http://127.0.0.1:8000/r"}
    served = run(root, config)
    task = json.loads((served.folder / "label_studio_tasks.json").read_text())[0]
    assert task["data"]["image"] == f"http://127.0.0.1:8000/r/{task['data']['thresher_id'].replace(' ', '%20')}"
