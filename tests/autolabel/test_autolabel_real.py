"""Auto-labeling on real detections of the built-in SSD against hand-checked ground truth (issue 9 c).

The measured numbers, with a cross-validated estimate, are in bench/results/autolabel.md.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from thresher.autolabel import correct_detections, fit_autolabeler
from thresher.models.coco import COCO_TF_OD_NAMES
from tests.autolabel.real_detections import GROUND_TRUTH, ground_truth, ssd_detections

pytestmark = pytest.mark.slow
SCORE_THRESHOLD = 0.3


@pytest.fixture(scope="session")
def real_set(ssd):
    images, truth, names = ground_truth()
    return images, truth, names, ssd_detections(images, ssd)


def test_ground_truth_file_is_consistent():
    doc = json.loads(GROUND_TRUTH.read_text())
    names = set(COCO_TF_OD_NAMES.values())
    assert len(doc["images"]) >= 24 and "description" in doc
    for item in doc["images"]:
        for box in item["boxes"]:
            x0, y0, x1, y1 = box["xyxy"]
            assert box["category"] in names and x0 < x1 and y0 < y1


def test_boxes_lie_inside_their_images(real_set):
    images, truth, _, _ = real_set
    sizes = np.array([[image.shape[1], image.shape[0]] for image in images])[truth.frame]
    assert (truth.xyxy >= 0).all() and (truth.xyxy[:, 2] <= sizes[:, 0]).all() and (truth.xyxy[:, 3] <= sizes[:, 1]).all()


def test_the_detector_makes_both_correct_and_false_detections(real_set):
    _, truth, _, runs = real_set
    plain = runs["plain"]
    correct = correct_detections(plain[plain.score > SCORE_THRESHOLD], truth)
    assert 20 <= correct[:, 0].sum() and 10 <= (~correct[:, 0]).sum()
    assert (correct.sum(axis=0)[:-1] >= correct.sum(axis=0)[1:]).all()  # stricter IoU, fewer CDs


def test_fd_removed_at_95_percent_of_correct_detections_kept(real_set):
    _, truth, _, runs = real_set
    fused = runs["flip"]
    passes = {"box_spread": fused.box_spread, "class_spread": fused.class_spread}
    model, report = fit_autolabeler(fused.detections, truth, score_threshold=SCORE_THRESHOLD, passes=passes)
    singles = [report.mean(n) for n in model.names]
    assert report.mean("fused") >= max(singles) - 1e-12
    assert report.mean("fused") > 0.3  # measured 0.77 on the labeled set itself (bench: held-out too)
    assert np.nanmean(report.cd_kept) >= 0.9
    images = real_set[0]
    split = model.split(fused.detections, len(images), **passes)
    assert 0 < split.labeled.sum() < len(images)
