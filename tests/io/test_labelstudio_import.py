"""Label Studio's JSON export → a Lightly task: which annotation, which sample, boxes in pixels, problems."""

from __future__ import annotations

import numpy as np
import pytest

from tests.convert_fixtures import media  # noqa: F401 - fixture
from thresher.errors import SchemaError
from thresher.io.datasource import Datasource
from thresher.io.labelstudio_import import export_tasks, labelstudio_to_task
from thresher.io.lightly_schema import PredictionSchema
from thresher.io.problems import Problems


def region(x, y, w, h, label="car", width=640, height=480, **extra):
    value = {"x": x, "y": y, "width": w, "height": h, "rotation": 0, "rectanglelabels": [label], **extra}
    return {"type": "rectanglelabels", "from_name": "label", "to_name": "image", "original_width": width, "original_height": height, "value": value}


def task(image, *annotations, **data):
    return {"data": {"image": image, **data}, "annotations": list(annotations), "predictions": []}


def annotation(*results, **fields):
    return {"id": fields.pop("id", 1), "result": list(results), "was_cancelled": False, "ground_truth": False, "updated_at": "2026-01-01T00:00:00Z", **fields}


def test_boxes_in_pixels_from_urls_and_thresher_ids(media):  # noqa: F811
    frames = Datasource(media).frames()
    tasks = [
        task("/data/local-files/?d=runs/r1/images/img/a.jpg", annotation(region(25, 25, 25, 50), {"type": "choices", "value": {"choices": ["ok"]}})),
        task("/whatever.png", annotation(region(0, 0, 50, 50, width=176, height=144, label="person")), thresher_id="clips/car-002-mp4.png"),
        task("http://host/imgs/img/sub/b.png", annotation()),  # labeled: nothing on it
        task("/data/local-files/?d=img/rot.jpg"),  # not labeled
    ]
    found = labelstudio_to_task(export_tasks(tasks, "e.json"), frames, task="gt")
    converted = found.task
    assert converted.frames.file_name.tolist() == ["clips/car-002-mp4.png", "img/a.jpg", "img/sub/b.png"]
    assert converted.schema == PredictionSchema.detection(["car", "person"])
    np.testing.assert_allclose(converted.detections.xyxy, [[0, 0, 88, 72], [160, 120, 320, 360]])
    assert converted.detections.class_id.tolist() == [1, 0] and converted.detections.score.tolist() == [1.0, 1.0]
    assert found.unlabeled == 1 and found.ignored == {"choices": 1}
    assert "img/rot.jpg" in converted.missing


def test_ground_truth_then_latest_annotation_counts_and_cancelled_ones_do_not(media):  # noqa: F811
    frames = Datasource(media).frames()
    old, new = annotation(region(0, 0, 10, 10), id=1), annotation(region(50, 50, 10, 10), id=2, updated_at="2026-02-01T00:00:00Z")
    cancelled = annotation(region(90, 90, 5, 5), id=3, was_cancelled=True, updated_at="2027-01-01T00:00:00Z")
    latest = labelstudio_to_task([task("img/a.jpg", old, new, cancelled)], frames, task="gt").task
    np.testing.assert_allclose(latest.detections.xyxy, [[320, 240, 384, 288]])
    truth = annotation(region(0, 0, 10, 10), id=1, ground_truth=True)
    chosen = labelstudio_to_task([task("img/a.jpg", truth, new)], frames, task="gt").task
    np.testing.assert_allclose(chosen.detections.xyxy, [[0, 0, 64, 48]])


def test_problems_name_the_task_and_the_fix(media):  # noqa: F811
    frames = Datasource(media).frames()
    schema = PredictionSchema.detection({3: "car"})
    tasks = [
        task("img/a.jpg", annotation(region(0, 0, 10, 10, rotation=30))),
        task("img/sub/b.png", annotation(region(0, 0, 10, 10, width=640, height=480))),
        task("img/rot.jpg", annotation(region(0, 0, 10, 10, label="bus", width=480, height=640))),
        task("nothere.jpg", annotation()),
        task("clips/car-001-mp4.png", annotation(region(0, 0, 10, 10, width=176, height=144))),
        task("/data/local-files/?d=x/clips/car-001-mp4.png", annotation()),
    ]
    problems = Problems()
    converted = labelstudio_to_task(tasks, frames, task="gt", schema=schema, file="e.json", problems=problems).task
    shown = [str(p) for p in problems]
    assert shown == [
        "e.json: [0].annotations[id=1].result[0].value.rotation: expected 0 (rotated boxes cannot be converted to Lightly boxes), got 30",
        "e.json: [1].annotations[id=1].result[0].original_width: expected the sample's size, 100 pixels, got 640",
        "e.json: [2].annotations[id=1].result[0].value.rectanglelabels: expected a class of the schema (car; --names sets them), got 'bus'",
        "e.json: [3].data.image: expected an image or video frame of the datasource (its path, or a URL ending with it), got 'nothere.jpg'",
        "e.json: [5].data: expected one task per sample (task [4] names it too), got 'clips/car-001-mp4.png'",
    ]
    assert sorted(converted.invalid) == ["clips/car-001-mp4.png", "img/a.jpg", "img/rot.jpg", "img/sub/b.png"]
    with pytest.raises(SchemaError, match="rotation"):
        labelstudio_to_task(tasks, frames, task="gt", schema=schema)


def test_other_export_formats_are_refused_with_the_fix():
    problems = Problems()
    assert export_tasks([{"image": "a.jpg", "label": []}], "min.json", problems) == []
    assert str(problems[0]).startswith("min.json: [0]: expected tasks with 'annotations' (export with the JSON format, not JSON-MIN or CSV)")
    with pytest.raises(SchemaError, match="a list of tasks"):
        export_tasks({"data": {}}, "one.json")
