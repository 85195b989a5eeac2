"""Exports: final labels (Lightly task, COCO) of labeled frames, Label Studio review tasks of the others."""

from __future__ import annotations

import numpy as np
import pytest

from thresher import Frames
from thresher.autolabel import labels_coco, labels_task, review_order, review_tasks, split_frames, split_rows
from thresher.io.lightly_schema import PredictionSchema
from tests.autolabel.test_split import DETECTIONS, FUSED

FRAMES = Frames.build(["a.jpg", "b.jpg", "c.jpg", "d.jpg"], width=100, height=50)
NAMES = {1: "person", 2: "car"}


@pytest.fixture
def split():
    return split_frames(DETECTIONS, FUSED, 4, score_threshold=0.5, uncertainty_threshold=0.5)


def test_labels_task_holds_the_labeled_frames_and_their_labels(split):
    task = labels_task("auto", PredictionSchema.detection(NAMES), FRAMES, DETECTIONS, split)
    assert task.frames.id.tolist() == ["a.jpg", "c.jpg", "d.jpg"]
    assert task.detections.frame.tolist() == [0, 0] and task.detections.class_id.tolist() == [1, 2]


def test_labels_coco(split):
    coco = labels_coco(FRAMES, DETECTIONS, split, NAMES)
    assert [i["file_name"] for i in coco["images"]] == ["a.jpg", "c.jpg", "d.jpg"]
    assert [a["category_id"] for a in coco["annotations"]] == [1, 2]
    assert coco["annotations"][0]["bbox"] == [0.0, 0.0, 10.0, 10.0]


def test_review_tasks_most_uncertain_first_with_the_uncertain_box_marked():
    fused = np.array([0.6, 0.2, 0.9, 0.1, 0.95])  # frames 0 and 1 to examine, frame 1 first
    split = split_frames(DETECTIONS, fused, 4, score_threshold=0.5, uncertainty_threshold=0.5)
    assert review_order(split).tolist() == [1, 0]
    tasks = review_tasks(FRAMES, DETECTIONS, split, NAMES, ["u/" + n for n in FRAMES.file_name])
    assert [t["data"]["image"] for t in tasks] == ["u/b.jpg", "u/a.jpg"]
    assert [t["predictions"][0]["score"] for t in tasks] == [1.0, 0.5]  # the review priority
    assert [t["data"]["thresher_uncertainty"] for t in tasks] == pytest.approx([0.9, 0.6])
    first = tasks[0]["predictions"][0]["result"]
    assert ["meta" in r for r in first] == [True, False]
    second = tasks[1]["predictions"][0]["result"]
    assert ["meta" in r for r in second] == [True, False]
    assert second[0]["value"]["rectanglelabels"] == ["person"] and second[1]["value"]["rectanglelabels"] == ["car"]


def test_review_scores_stay_in_0_1_when_the_fused_uncertainty_does_not():
    fused = np.array([1.64, 0.2, 3.5, 0.1, 0.95])  # new data beyond the fit's min-max scaling
    split = split_frames(DETECTIONS, fused, 4, score_threshold=0.5, uncertainty_threshold=0.5, empty="examine")
    tasks = review_tasks(FRAMES, DETECTIONS, split, NAMES)
    assert [t["data"]["thresher_id"] for t in tasks] == ["b.jpg", "a.jpg", "c.jpg", "d.jpg"]  # frames without boxes last
    assert [t["predictions"][0]["score"] for t in tasks] == [1.0, 0.75, 0.5, 0.25]
    assert [t["data"]["thresher_uncertainty"] for t in tasks] == [3.5, 1.64, None, None]


def test_split_rows(split):
    rows = split_rows(FRAMES, DETECTIONS, split)
    assert [r["status"] for r in rows] == ["labeled", "examine", "labeled", "labeled"]
    assert [r["boxes"] for r in rows] == [2, 2, 0, 0] and [r["uncertain_boxes"] for r in rows] == [0, 1, 0, 0]
