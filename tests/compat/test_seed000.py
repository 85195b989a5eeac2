"""Seed 000 end to end, as its scripts are written, against a local S3 bucket.

The seed's YOLOv8 part needs ultralytics and a download; the built-in detector's real boxes
on bikes.mp4 (the `bikes_predicted` fixture) stand in for them, written the way that part
writes them (class car, a file per frame with boxes, `all_predictions` for every frame).
The seed's own code then computes the flicker metadata, schedules the run on the bucket and
exports the selected frames.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from tests.compat.helpers import run_seed, upload
from thresher.compat.lightly import ApiWorkflowClient
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import read_predictions

COCO_CAR = 3  # the built-in detector's category id of "car"
YOLO_CAR = 2  # the seed's `important_classes = {"car": 2}`


def write_predictions_part(bikes_predicted: Path, workdir: Path) -> dict:
    """What the seed's YOLOv8 part leaves: data/, predictions/, `all_predictions` and `fname`."""
    (workdir / "data").mkdir(parents=True)
    shutil.copyfile(bikes_predicted / "bikes.mp4", workdir / "data" / "bikes.mp4")
    task = read_predictions(Datasource(bikes_predicted).lightly, "ssd")
    fname = Path("data/bikes.mp4")
    predictions_path = workdir / "predictions" / "yolov8_detection"
    predictions_path.mkdir(parents=True)
    (workdir / "predictions" / "tasks.json").write_text(json.dumps(["yolov8_detection"]))
    (predictions_path / "schema.json").write_text(json.dumps({"task_type": "object-detection", "categories": [{"id": YOLO_CAR, "name": "car"}]}))
    dets = task.detections
    all_predictions = []
    for row in np.argsort(task.frames.frame_index):
        idx = int(task.frames.frame_index[row])
        prediction = {"file_name": f"data/bikes-{idx:03d}-mp4.png", "predictions": []}
        for box, score in zip(dets.xyxy[(dets.frame == row) & (dets.class_id == COCO_CAR)].tolist(), dets.score[(dets.frame == row) & (dets.class_id == COCO_CAR)].tolist()):
            x0, y0, x1, y1 = box
            prediction["predictions"].append({"category_id": YOLO_CAR, "bbox": [int(x0), int(y0), int(x1 - x0), int(y1 - y0)], "score": float(score)})
        all_predictions.append(prediction)
        if prediction["predictions"]:
            path = predictions_path / f"data/bikes-{idx:03d}-mp4.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(prediction))
    return {"all_predictions": all_predictions, "fname": fname}


def test_seed000_scripts_select_flickering_frames_on_a_bucket_and_export_them(s3, bikes_predicted, tmp_path, monkeypatch):
    workdir = tmp_path / "work"
    namespace = write_predictions_part(bikes_predicted, workdir)
    monkeypatch.chdir(workdir)
    run_seed("seed000_metadata.py", namespace)
    # "aws s3 cp" of the seed
    upload(s3, workdir / "data", "yourInputBucket/model_assertion_input/data")
    upload(s3, workdir / "predictions", "yourInputBucket/model_assertion_lightly/.lightly/predictions")
    upload(s3, workdir / "metadata", "yourInputBucket/model_assertion_lightly/.lightly/metadata")
    inputs_before = {p: s3.info(p)["ETag"] for p in s3.find("yourInputBucket/model_assertion_input")}

    run_seed("seed000_schedule.py", namespace)
    run_seed("seed000_export.py", namespace, replace={'dataset_id="MY_DATASET_ID"': "dataset_id=dataset_id"})

    client = ApiWorkflowClient(dataset_id=namespace["dataset_id"])
    run = client.get_compute_worker_runs()[-1]
    assert run.id == namespace["scheduled_run_id"] and run.status == "done"
    [info] = client.compute_worker_run_info_generator(namespace["scheduled_run_id"])
    assert info.ended_successfully()
    selected = client.tag_filenames(f"run-{run.id}")
    assert len(selected) == 100 and sorted(selected) == client.get_filenames()

    exported = json.loads((workdir / "filenames-and-readurls-of-initial-tag.json").read_text())
    assert sorted(e["fileName"] for e in exported) == sorted(selected)
    first = exported[0]
    index = int(first["fileName"].split("-")[1])
    png = np.asarray(Image.open(first["readUrl"].removeprefix("file://")).convert("RGB"))
    from thresher.io.video import VideoReader
    from thresher.io.storage import Location

    with VideoReader(Location(workdir / "data"), "bikes.mp4") as reader:
        assert np.array_equal(png, reader[index])

    # the flicker metadata steers the selection toward flickering frames
    flagged = {f"data/bikes-{i:03d}-mp4.png" for i, flag in enumerate(namespace["flickering_assertions"]) if flag}
    assert flagged, "bikes.mp4 has real flicker at these thresholds"
    assert len(flagged & set(selected)) / len(selected) > len(flagged) / 250
    assert {p: s3.info(p)["ETag"] for p in s3.find("yourInputBucket/model_assertion_input")} == inputs_before
