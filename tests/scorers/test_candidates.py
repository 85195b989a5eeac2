import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thresher import Detections
from thresher.errors import ConfigError
from thresher.scorers.candidates import weak_candidates
from thresher.scorers.detection import detection_scores


def dets(frame, score):
    return Detections(frame=frame, xyxy=np.tile([0.0, 0.0, 5.0, 5.0], (len(frame), 1)), score=score, class_id=np.zeros(len(frame)))


def test_a_frame_of_weak_candidates_outranks_a_frame_of_confident_detections():
    # frame 0: only boxes the detector did not report (0.3, 0.2); frame 1: confident boxes
    table = dets([0, 0, 1, 1], [0.3, 0.2, 0.95, 0.9])
    ids = ["missed.jpg", "confident.jpg"]
    scores = weak_candidates(table, ids, threshold=0.5)
    assert scores["weak_candidates"][0] > scores["weak_candidates"][1]
    assert scores["weak_candidates"] == pytest.approx([1 - 0.7 * 0.8, 0.0])
    assert scores["expected_missed_objects"] == pytest.approx([0.5, 0.0])
    # Lightly's scores only see the reported boxes: the first frame is invisible to them
    reported = table[table.score >= 0.5]
    lightly = detection_scores(reported, ids)
    assert lightly["objectness_least_confidence"][0] == 0.0 < lightly["objectness_least_confidence"][1]


def test_frames_without_any_box_score_0_and_floor_drops_noise():
    scores = weak_candidates(dets([0, 1], [0.01, 0.4]), ["a", "b", "c"], threshold=0.5, floor=0.05)
    assert scores["weak_candidates"] == pytest.approx([0.0, 0.4, 0.0])


@pytest.mark.parametrize("floor, threshold", [(0.6, 0.5), (-0.1, 0.5), (0.0, 1.5)])
def test_bad_thresholds_are_named(floor, threshold):
    with pytest.raises(ConfigError, match="threshold"):
        weak_candidates(dets([0], [0.1]), ["a"], threshold=threshold, floor=floor)


candidate_scores = st.lists(st.floats(0.0, 0.49), min_size=0, max_size=8)


@settings(max_examples=100, deadline=None)
@given(candidate_scores, st.floats(0.0, 0.49))
def test_another_candidate_never_lowers_the_score(scores, extra):
    before = weak_candidates(dets([0] * len(scores), scores), ["a"])["weak_candidates"][0]
    after = weak_candidates(dets([0] * (len(scores) + 1), scores + [extra]), ["a"])["weak_candidates"][0]
    assert after >= before
    assert 0.0 <= before < 1.0


@settings(max_examples=100, deadline=None)
@given(candidate_scores.filter(len), st.floats(0.0, 0.49))
def test_a_stronger_candidate_never_lowers_the_score(scores, raised):
    stronger = list(scores)
    stronger[0] = max(stronger[0], raised)
    a = weak_candidates(dets([0] * len(scores), scores), ["a"])["weak_candidates"][0]
    b = weak_candidates(dets([0] * len(scores), stronger), ["a"])["weak_candidates"][0]
    assert b >= a
