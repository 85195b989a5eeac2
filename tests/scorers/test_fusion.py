import numpy as np
import pytest

from thresher import Detections
from thresher.errors import SchemaError
from thresher.scorers.fusion import fuse_passes

BOXES = np.array([[10.0, 10.0, 50.0, 50.0], [100.0, 100.0, 140.0, 160.0]])


def one_pass(xyxy, score=(0.8, 0.6), class_id=(1, 2), frame=(0, 0), probs=None):
    return Detections(frame=list(frame), xyxy=xyxy, score=list(score), class_id=list(class_id), probs=probs)


def test_identical_passes_fuse_to_the_same_boxes_with_no_spread():
    fused = fuse_passes([one_pass(BOXES)] * 5)
    assert fused.detections.xyxy.tolist() == BOXES.tolist()
    assert fused.box_spread.tolist() == [[0.0] * 4] * 2
    assert fused.support.tolist() == [5, 5]
    assert fused.detections.score == pytest.approx([0.8, 0.6])


def test_spread_is_the_standard_deviation_of_the_corners_over_the_passes():
    shifts = [0.0, 2.0, 4.0]
    fused = fuse_passes([one_pass(BOXES + s) for s in shifts])
    assert fused.box_spread == pytest.approx(np.full((2, 4), np.std(shifts)))
    assert fused.detections.xyxy == pytest.approx(BOXES + 2.0)


def test_a_box_seen_by_one_pass_of_four_keeps_a_quarter_of_its_score():
    lone = one_pass(BOXES[:1], score=[0.8], class_id=[1], frame=[0])
    empty = Detections.empty()
    fused = fuse_passes([lone, empty, empty, empty])
    assert fused.support.tolist() == [1] and fused.detections.score == pytest.approx([0.2])


def test_different_classes_do_not_fuse_unless_asked():
    a = one_pass(BOXES[:1], score=[0.9], class_id=[1], frame=[0])
    b = one_pass(BOXES[:1], score=[0.8], class_id=[2], frame=[0])
    assert len(fuse_passes([a, b]).detections) == 2
    merged = fuse_passes([a, b], same_class=False)
    assert len(merged.detections) == 1 and merged.detections.class_id.tolist() == [1]


def test_boxes_of_different_frames_never_fuse_and_class_spread_uses_probs():
    p1 = one_pass(BOXES, frame=(0, 1), class_id=(0, 0), probs=[[0.9, 0.1], [0.6, 0.4]])
    p2 = one_pass(BOXES, frame=(0, 1), class_id=(0, 0), probs=[[0.7, 0.3], [0.6, 0.4]])
    fused = fuse_passes([p1, p2])
    assert fused.detections.frame.tolist() == [0, 1]
    assert fused.class_spread == pytest.approx([0.1, 0.0])
    assert fused.detections.probs == pytest.approx(np.array([[0.8, 0.2], [0.6, 0.4]]))


def test_more_jitter_gives_more_spread():
    rng = np.random.default_rng(0)
    calm = fuse_passes([one_pass(BOXES + rng.normal(0, 0.5, BOXES.shape)) for _ in range(10)])
    wild = fuse_passes([one_pass(BOXES + rng.normal(0, 3.0, BOXES.shape)) for _ in range(10)])
    assert (wild.box_spread.mean(axis=1) > calm.box_spread.mean(axis=1)).all()
    assert wild.support.tolist() == [10, 10]


def test_errors_are_named():
    with pytest.raises(SchemaError, match="passes"):
        fuse_passes([])
    with pytest.raises(SchemaError, match="iou_threshold"):
        fuse_passes([one_pass(BOXES)], iou_threshold=0)
    assert len(fuse_passes([Detections.empty()]).detections) == 0
