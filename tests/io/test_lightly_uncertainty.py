"""thresher's per-box uncertainty in Lightly prediction files: box_std, box_spread, class_spread."""

from __future__ import annotations

import json

import numpy as np
import pytest

from thresher.detections import Detections
from thresher.frames import Frames
from thresher.io.coco import coco_to_task
from thresher.io.coco_export import coco_dataset
from thresher.io.lightly_predictions import PredictionTask, read_predictions, write_predictions
from thresher.io.lightly_schema import PredictionSchema
from thresher.io.problems import Problems
from thresher.io.storage import Location

FRAMES = Frames.build(np.array(["a.png", "b.png"]), width=[100, 100], height=[80, 80])
SCHEMA = PredictionSchema.detection({1: "car", 2: "bus"})


def boxes(**extras) -> Detections:
    return Detections(frame=[0, 0, 1], xyxy=[[1, 2, 30, 40], [5, 5, 20, 20], [0, 0, 10, 10]], score=[0.9, 0.5, 0.3], class_id=[1, 2, 1], **extras)


UNCERTAIN = {"box_std": np.full((3, 4), 1.5), "box_spread": [[2, 0.5, 1, 3]] * 3, "class_spread": [0.1, 0.2, 0.3]}


def test_the_fields_are_written_read_back_and_cached(tmp_path):
    write_predictions(Location(tmp_path), PredictionTask("t", SCHEMA, FRAMES, boxes(**UNCERTAIN)))
    first = json.loads((tmp_path / ".lightly/predictions/t/a.json").read_text())["predictions"][0]
    assert first["box_std"] == [1.5] * 4 and first["box_spread"] == [2, 0.5, 1, 3] and first["class_spread"] == 0.1
    for _ in range(2):  # parsed, then from the columnar cache
        task = read_predictions(Location(tmp_path), "t", FRAMES, Problems(), cache=tmp_path / "cache")
        for key, values in UNCERTAIN.items():
            assert np.array_equal(getattr(task.detections, key), np.asarray(values, dtype=np.float64))
    assert any((tmp_path / "cache").iterdir())


def test_a_task_without_them_has_none(tmp_path):
    write_predictions(Location(tmp_path), PredictionTask("t", SCHEMA, FRAMES, boxes()))
    task = read_predictions(Location(tmp_path), "t", FRAMES)
    assert task.detections.box_std is None and task.detections.box_spread is None and task.detections.class_spread is None


@pytest.mark.parametrize(
    "change, field, expected",
    [
        (lambda p: p.pop("box_spread"), "box_spread", "a value on every box of the task, as other boxes have"),
        (lambda p: p.update(box_spread=[1, 2, 3]), "box_spread", "a list of 4 numbers (x0, y0, x1, y1 in pixels)"),
        (lambda p: p.update(class_spread="high"), "class_spread", "a number"),
        (lambda p: p.update(box_std=[1, -2, 1, 1]), "box_std", "finite numbers >= 0 (a standard deviation)"),
    ],
)
def test_bad_values_are_named_and_the_file_is_invalid(tmp_path, change, field, expected):
    write_predictions(Location(tmp_path), PredictionTask("t", SCHEMA, FRAMES, boxes(**UNCERTAIN)))
    path = tmp_path / ".lightly/predictions/t/a.json"
    data = json.loads(path.read_text())
    change(data["predictions"][1])
    path.write_text(json.dumps(data))
    problems = Problems()
    task = read_predictions(Location(tmp_path), "t", FRAMES, problems)
    assert task.invalid == ("a.png",)
    assert [(p.field, p.expected) for p in problems] == [(f"predictions[1].{field}", expected)]


def test_coco_export_and_import_keep_them():
    dataset = json.loads(json.dumps(coco_dataset(FRAMES, np.arange(2), boxes(**UNCERTAIN), SCHEMA.names)))
    task = coco_to_task(dataset["annotations"], dataset, FRAMES, task="back")
    for key, values in UNCERTAIN.items():
        assert np.allclose(getattr(task.detections, key), np.asarray(values, dtype=np.float64))
