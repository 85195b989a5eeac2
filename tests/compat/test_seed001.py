"""Seed 001's object-level runs, as its scripts are written, on real images in a local S3 bucket.

The images are real frames of bikes.mp4; the user's predictions (`vehicles_object_detections`:
car, truck, motorbike) are the built-in detector's real boxes of those classes on them, with
their class probabilities restricted to the three classes. The second script lets the worker
pretag the images itself (`lightly_pretagging`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.compat.helpers import empty, run_seed, upload
from thresher.compat.lightly import ApiWorkflowClient
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import read_predictions
from thresher.io.storage import Location
from thresher.io.video import VideoReader

VEHICLES = {3: 0, 8: 1, 4: 2}  # COCO car, truck, motorcycle -> the seed's car, truck, motorbike
MIN_SCORE = 0.3


def vehicle_images(bikes_predicted: Path, folder: Path, n_images: int = 4) -> dict[str, list[list[int]]]:
    """input/image_<k>.png (the `n_images` frames with the most vehicles) and output/.lightly/predictions.

    Returns each image's boxes [x, y, w, h] in the order of its prediction file.
    """
    task = read_predictions(Datasource(bikes_predicted).lightly, "ssd")
    dets = task.detections
    keep = np.isin(dets.class_id, list(VEHICLES)) & (dets.score >= MIN_SCORE)
    counts = np.bincount(dets.frame[keep], minlength=len(task.frames))
    rows = sorted(np.argsort(-counts, kind="stable")[:n_images].tolist(), key=lambda r: int(task.frames.frame_index[r]))
    columns = [list(task.schema.ids).index(c) for c in VEHICLES]
    predictions = folder / "output" / ".lightly" / "predictions"
    (predictions / "vehicles_object_detections").mkdir(parents=True)
    (predictions / "tasks.json").write_text(json.dumps(["vehicles_object_detections"]))
    schema = {"task_type": "object-detection", "categories": [{"id": 0, "name": "car"}, {"id": 1, "name": "truck"}, {"id": 2, "name": "motorbike"}]}
    (predictions / "vehicles_object_detections" / "schema.json").write_text(json.dumps(schema))
    (folder / "input").mkdir(parents=True)
    boxes = {}
    with VideoReader(Location(bikes_predicted), "bikes.mp4") as reader:
        for k, row in enumerate(rows):
            name = f"image_{k}.png"
            Image.fromarray(reader[int(task.frames.frame_index[row])]).save(folder / "input" / name)
            mine = np.flatnonzero(keep & (dets.frame == row))
            entries = []
            for j in mine.tolist():
                x0, y0, x1, y1 = (int(v) for v in dets.xyxy[j])
                probs = dets.probs[j, columns]
                entries.append(
                    {
                        "category_id": VEHICLES[int(dets.class_id[j])],
                        "bbox": [x0, y0, x1 - x0, y1 - y0],
                        "score": float(dets.score[j]),
                        "probabilities": (probs / probs.sum()).tolist(),
                    }
                )
            (predictions / "vehicles_object_detections" / f"image_{k}.json").write_text(json.dumps({"file_name": name, "predictions": entries}))
            boxes[name] = [e["bbox"] for e in entries]
    return boxes


@pytest.fixture
def bucket(s3):
    empty(s3, "bucket")
    yield s3
    empty(s3, "bucket")


def crops_client() -> ApiWorkflowClient:
    client = ApiWorkflowClient()
    client.set_dataset_id_by_name("dataset-name-crops")
    return client


def test_seed001_object_level_run_with_the_users_predictions(bucket, bikes_predicted, tmp_path, monkeypatch):
    boxes = vehicle_images(bikes_predicted, tmp_path / "data")
    upload(bucket, tmp_path / "data" / "input", "bucket/input")
    upload(bucket, tmp_path / "data" / "output", "bucket/output")
    monkeypatch.chdir(tmp_path)
    namespace = run_seed("seed001_object_level.py")

    client = namespace["client"]
    [run] = client.get_compute_worker_runs()
    assert run.status == "done"
    assert client.get_filenames() == sorted(boxes)  # the images of the selected objects
    n_objects = sum(len(b) for b in boxes.values())
    assert 0 < n_objects <= 100 and run.counts["selected"] == n_objects  # n_samples=100: every object

    crops = crops_client()
    exported = crops.export_filenames_and_read_urls_by_tag_name("initial-tag")
    assert len(exported) == n_objects
    for entry in exported:  # e.g. "image_2-3-png.png": box 3 of image_2.png, padding 0
        stem, index, _ = entry["fileName"].rsplit("-", 2)
        x, y, w, h = boxes[f"{stem}.png"][int(index)]
        crop = np.asarray(Image.open(entry["readUrl"].removeprefix("file://")).convert("RGB"))
        image = np.asarray(Image.open(tmp_path / "data" / "input" / f"{stem}.png").convert("RGB"))
        assert np.array_equal(crop, image[y : y + h, x : x + w])

    tasks = client.export_label_studio_tasks_by_tag_name("initial-tag")
    assert [t["data"]["lightlyFileName"] for t in tasks] == client.tag_filenames("initial-tag")
    for task in tasks:
        name = task["data"]["lightlyFileName"]
        results = task["predictions"][0]["result"]
        assert len(results) == len(boxes[name])
        x, y, w, h = boxes[name][0]
        assert results[0]["value"]["x"] == pytest.approx(100 * x / 640) and results[0]["value"]["width"] == pytest.approx(100 * w / 640)
        assert results[0]["value"]["y"] == pytest.approx(100 * y / 272) and results[0]["value"]["height"] == pytest.approx(100 * h / 272)


def test_seed001_object_level_run_with_lightly_pretagging(bucket, bikes_predicted, tmp_path, monkeypatch):
    boxes = vehicle_images(bikes_predicted, tmp_path / "data", n_images=2)  # pretagging at 0.1 finds ~20 objects an image
    upload(bucket, tmp_path / "data" / "input", "bucket/input")  # no predictions: the worker pretags
    monkeypatch.chdir(tmp_path)
    namespace = run_seed("seed001_pretagging.py")

    client = namespace["client"]
    [run] = client.get_compute_worker_runs()
    assert run.status == "done"
    bucket.invalidate_cache()  # the worker wrote through its own file system object
    written = bucket.find("bucket/output/.lightly/predictions/lightly_pretagging")
    assert sorted(Path(p).name for p in written) == sorted([f"{Path(n).stem}.json" for n in boxes] + ["schema.json"])
    assert bucket.find("bucket/input") == [f"bucket/input/{n}" for n in sorted(boxes)]  # inputs untouched
    crops = crops_client().get_filenames()
    assert len(crops) == min(100, run.counts["embedded"])
    assert {c.rsplit("-", 2)[0] + ".png" for c in crops} <= set(client.get_filenames())
