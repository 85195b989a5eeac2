"""Directional properties: a more uncertain (or more worth labeling) input never scores lower."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from thresher import Detections
from thresher.scorers import uncertainty as u
from thresher.scorers.detection import detection_scores
from thresher.scorers.keypoints import keypoint_scores
from thresher.scorers.segmentation import segmentation_scores

labels = st.lists(st.integers(0, 5), min_size=0, max_size=10)
unit = st.floats(0.0, 1.0)


def boxes_of(frame, class_id, score=None):
    n = len(frame)
    return Detections(
        frame=frame,
        xyxy=np.tile([0.0, 0.0, 4.0, 4.0], (n, 1)),
        score=np.full(n, 0.5) if score is None else score,
        class_id=class_id,
    )


@settings(max_examples=100, deadline=None)
@given(labels, st.integers(0, 5), unit)
def test_one_more_object_never_lowers_object_frequency(classes, extra, penalty):
    # frame 0 has the boxes, frame 1 the same boxes and one more
    frame = [0] * len(classes) + [1] * (len(classes) + 1)
    table = boxes_of(frame, classes + classes + [extra])
    scores = detection_scores(table, ["a", "b"], frequency_penalty=penalty)["object_frequency"]
    assert scores[1] >= scores[0]


@settings(max_examples=100, deadline=None)
@given(st.lists(unit, min_size=1, max_size=8), st.integers(0, 7), unit)
def test_a_less_confident_box_never_lowers_objectness_least_confidence(scores, which, lower):
    which %= len(scores)
    weaker = list(scores)
    weaker[which] = min(weaker[which], lower)
    before = detection_scores(boxes_of([0] * len(scores), [0] * len(scores), scores), ["a"])
    after = detection_scores(boxes_of([0] * len(scores), [0] * len(scores), weaker), ["a"])
    assert after["objectness_least_confidence"][0] >= before["objectness_least_confidence"][0] - 1e-12


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.0, 5.0), min_size=3, max_size=6), st.integers(0, 5), st.floats(0.0, 5.0))
def test_raising_one_frames_input_never_lowers_its_combination(values, which, rise):
    which %= len(values)
    base = {k: np.array(values) for k in ("entropy", "albox", "mcbox", "mcclass")}
    for name in ("ental", "epuncert", "alluncert"):
        raised = {k: v.copy() for k, v in base.items()}
        for key in u.COMBINATIONS[name][0]:
            raised[key][which] += rise
        assert u.combine(name, raised)[which] >= u.combine(name, base)[which] - 1e-9


@settings(max_examples=50, deadline=None)
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_a_less_certain_pixel_never_lowers_a_segmentation_score(t1, t2):
    low, high = sorted((t1, t2))
    sure = np.zeros((2, 2, 3))
    sure[..., 0] = 1
    uniform = np.full(3, 1 / 3)
    images = []
    for t in (low, high):
        image = sure.copy()
        image[0, 0] = (1 - t) * image[0, 0] + t * uniform
        images.append(image)
    scores = segmentation_scores(images, ["less", "more"])
    for name in scores.names:
        assert scores[name][1] >= scores[name][0] - 1e-12


@settings(max_examples=100, deadline=None)
@given(st.lists(unit, min_size=1, max_size=6), st.integers(0, 5), unit)
def test_a_less_confident_keypoint_never_lowers_mean_uncertainty(confidences, which, lower):
    which %= len(confidences)
    weaker = list(confidences)
    weaker[which] = min(weaker[which], lower)
    scores = keypoint_scores([0, 1], [confidences, weaker], ["a", "b"])["mean_uncertainty"]
    assert scores[1] >= scores[0] - 1e-12


def test_a_rarer_class_weighs_more_in_class_balancing():
    table = boxes_of([0, 1, 2, 3], [0, 0, 0, 1])
    weights = u.class_balance_weights(table, ["a", "b", "c", "d"])
    assert weights[3] > weights[0]


@settings(max_examples=100, deadline=None)
@given(st.floats(0.1, 5.0), st.floats(0.0, 5.0))
def test_a_larger_sigma_never_lowers_the_relative_box_uncertainty(sigma, more):
    box = [[0.0, 0.0, 10.0, 20.0]]
    less = u.box_uncertainty_per_detection(box, [[sigma] * 4])[0]
    assert u.box_uncertainty_per_detection(box, [[sigma + more] * 4])[0] >= less
