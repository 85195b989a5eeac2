"""NMS and candidate selection, against values derived by hand from the definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thresher.boxes import iou_matrix
from thresher.errors import UsageError
from thresher.models.postprocess import greedy_nms, select_boxes

# Boxes 10 high, shifted along x: IoU(A, B) = 70/130 = 0.538, IoU(B, C) = 0.538, IoU(A, C) = 40/160 = 0.25.
A, B, C = [0, 0, 10, 10], [3, 0, 13, 10], [6, 0, 16, 10]


@pytest.mark.parametrize(
    "boxes, scores, groups, threshold, expected",
    [
        ([A, B, C], [0.9, 0.8, 0.7], [0, 0, 0], 0.5, [0, 2]),  # greedy: B goes, so C stays (A-C 0.25)
        ([A, B, C], [0.9, 0.8, 0.7], [0, 0, 0], 0.6, [0, 1, 2]),  # 0.538 <= 0.6: nothing suppressed
        ([A, B, C], [0.9, 0.8, 0.7], [0, 0, 0], 0.2, [0]),  # A-C 0.25 > 0.2
        ([A, B, C], [0.7, 0.9, 0.8], [0, 0, 0], 0.5, [1]),  # B first suppresses A and C
        ([A, B, C], [0.9, 0.8, 0.7], [0, 1, 0], 0.2, [0, 1]),  # other group: B never suppressed by A
        ([A, A], [0.5, 0.5], [0, 0], 0.5, [0]),  # tie: the lower index is kept
        ([A, [20, 20, 20, 20]], [0.5, 0.4], [0, 0], 0.0, [0, 1]),  # empty box: IoU 0, kept
    ],
)
def test_greedy_nms_by_hand(boxes, scores, groups, threshold, expected):
    boxes = np.array(boxes, float)
    kept = greedy_nms(boxes, np.array(scores), np.array(groups), np.arange(len(boxes)), threshold)
    assert kept.tolist() == expected


def test_iou_exactly_at_threshold_is_kept():
    # IoU(A, [5,0,15,10]) = 50/150 = 1/3; suppression needs IoU strictly above the threshold
    boxes = np.array([A, [5, 0, 15, 10]], float)
    assert greedy_nms(boxes, np.array([0.9, 0.8]), np.zeros(2, int), np.arange(2), 1 / 3).tolist() == [0, 1]


def _batch(boxes, scores):
    return np.array(boxes, np.float32)[None], np.array(scores, np.float32)[None]


def test_single_label_takes_the_best_class_of_each_box():
    boxes, scores = _batch([A, C], [[0.2, 0.7, 0.1], [0.6, 0.05, 0.3]])
    kept = select_boxes(boxes, scores, confidence=0.1, iou_threshold=0.5)
    assert kept.box.tolist() == [0, 1] and kept.column.tolist() == [1, 0]
    assert kept.score.tolist() == pytest.approx([0.7, 0.6])


def test_multi_label_keeps_every_class_above_confidence():
    boxes, scores = _batch([A, C], [[0.2, 0.7, 0.1], [0.6, 0.05, 0.3]])
    kept = select_boxes(boxes, scores, confidence=0.1, iou_threshold=0.5, multi_label=True)
    # (box, class) above 0.1: (0,0) .2, (0,1) .7, (1,0) .6, (1,2) .3; 0.1 itself is not above 0.1
    assert list(zip(kept.box.tolist(), kept.column.tolist())) == [(0, 1), (1, 0), (1, 2), (0, 0)]


def test_allowed_classes_drop_boxes_whose_best_class_is_filtered_out():
    boxes, scores = _batch([A, C], [[0.2, 0.7, 0.1], [0.6, 0.05, 0.3]])
    kept = select_boxes(boxes, scores, confidence=0.1, iou_threshold=0.5, allowed=np.array([True, False, True]))
    assert kept.box.tolist() == [1] and kept.column.tolist() == [0]  # box 0 (best: class 1) is not relabeled


def test_top_k_per_class_applies_before_nms_and_cap_after():
    far = [[100 * i, 0, 100 * i + 10, 10] for i in range(4)]  # no overlaps
    boxes, scores = _batch(far, [[0.9, 0.0], [0.8, 0.0], [0.7, 0.0], [0.0, 0.6]])
    kept = select_boxes(boxes, scores, confidence=0.1, iou_threshold=0.5, top_k_per_class=2)
    assert kept.box.tolist() == [0, 1, 3]
    kept = select_boxes(boxes, scores, confidence=0.1, iou_threshold=0.5, max_per_image=2)
    assert kept.box.tolist() == [0, 1]


def test_images_of_a_batch_never_suppress_each_other():
    boxes = np.array([[A], [A]], np.float32)
    scores = np.array([[[0.9]], [[0.8]]], np.float32)
    kept = select_boxes(boxes, scores, confidence=0.1, iou_threshold=0.5)
    assert kept.image.tolist() == [0, 1]


def test_no_candidates_gives_empty_arrays():
    boxes, scores = _batch([A], [[0.05, 0.02]])
    kept = select_boxes(boxes, scores, confidence=0.1, iou_threshold=0.5)
    assert kept.image.size == 0 and kept.score.size == 0


def test_bad_iou_threshold_is_named():
    boxes, scores = _batch([A], [[0.5]])
    with pytest.raises(UsageError, match="nms_iou"):
        select_boxes(boxes, scores, confidence=0.1, iou_threshold=1.5)


box_strategy = st.tuples(*[st.integers(0, 40)] * 2, *[st.integers(1, 30)] * 2).map(lambda b: [b[0], b[1], b[0] + b[2], b[1] + b[3]])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(box_strategy, st.floats(0.0, 1.0), st.integers(0, 2)), min_size=1, max_size=25),
    st.floats(0.05, 0.95),
)
def test_nms_properties(rows, threshold):
    """Kept boxes of a group overlap at most `threshold`; each dropped box is covered by a better kept one."""
    boxes = np.array([r[0] for r in rows], float)
    scores = np.array([r[1] for r in rows])
    groups = np.array([r[2] for r in rows])
    kept = greedy_nms(boxes, scores, groups, np.arange(len(rows)), threshold)
    iou = iou_matrix(boxes, boxes)
    same = groups[:, None] == groups[None, :]
    sub = (iou * same)[np.ix_(kept, kept)]
    assert (sub[~np.eye(len(kept), dtype=bool)] <= threshold).all()
    for dropped in np.setdiff1d(np.arange(len(rows)), kept):
        covers = (iou[dropped, kept] > threshold) & same[dropped, kept] & (scores[kept] >= scores[dropped])
        assert covers.any()
    assert np.all(np.diff(scores[kept]) <= 0)
