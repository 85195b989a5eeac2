"""Lightly's detection scores over `Detections`: hand-derived values and directions."""

import math

import numpy as np
import pytest

from thresher import Detections, Frames
from thresher.compat.lightly import BoundingBox, ObjectDetectionOutput, ScorerObjectDetection
from thresher.errors import ConfigError, SchemaError
from thresher.scorers.detection import SCORE_NAMES, default_object_ids, detection_scores, object_scores


def boxes(n):
    return np.tile([10.0, 10.0, 20.0, 30.0], (n, 1))


def dets(frame, score, class_id, probs=None):
    return Detections(frame=frame, xyxy=boxes(len(frame)), score=score, class_id=class_id, probs=probs)


FRAMES = Frames.build(["a.jpg", "b.jpg", "c.jpg"])
PROBS = np.array([[0.1, 0.9, 0.0], [0.2, 0.6, 0.2], [0.5, 0.0, 0.5]])
THREE = dets([0, 0, 2], [0.9, 0.6, 0.5], [1, 1, 0], PROBS)


def test_objectness_least_confidence_is_1_minus_the_mean_score():
    got = detection_scores(THREE, FRAMES)["objectness_least_confidence"]
    assert got == pytest.approx([1 - (0.9 + 0.6) / 2, 0.0, 1 - 0.5])


def test_object_frequency_by_hand():
    # a: two boxes of class 1 -> 1 + 0.25 = 1.25; b: none -> 0; c: one box -> 1
    # mapped from [0, 1.25] to [0.9, 1]
    got = detection_scores(THREE, FRAMES)["object_frequency"]
    assert got == pytest.approx([1.0, 0.9, 0.9 + 0.1 * 1 / 1.25])


def test_object_frequency_penalty_and_minimum_are_applied():
    got = detection_scores(THREE, FRAMES, frequency_penalty=1.0, min_score=0.0)["object_frequency"]
    assert got == pytest.approx([1.0, 0.0, 0.5])  # n = 2, 0, 1


def test_object_frequency_of_equal_frames_is_1():
    two = dets([0, 1], [0.5, 0.5], [3, 4])
    assert detection_scores(two, ["x", "y"])["object_frequency"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("name, value", [("frequency_penalty", 1.5), ("min_score", -0.1)])
def test_object_frequency_settings_must_lie_in_0_1(name, value):
    with pytest.raises(ConfigError, match=name):
        detection_scores(THREE, FRAMES, **{name: value})


def hand_uncertainty(p):
    c = len(p)
    top, second = sorted(p, reverse=True)[:2]
    entropy = -sum(x * math.log2(x) for x in p if x > 0)
    return [(1 - top) / (1 - 1 / c), 1 - (top - second), entropy / math.log2(c)]


def test_uncertainty_is_the_maximum_over_the_boxes_of_a_frame():
    got = detection_scores(THREE, FRAMES)
    frame_a = np.max([hand_uncertainty(PROBS[0]), hand_uncertainty(PROBS[1])], axis=0)
    frame_c = hand_uncertainty(PROBS[2])
    for k, name in enumerate(["uncertainty_least_confidence", "uncertainty_margin", "uncertainty_entropy"]):
        assert got[name] == pytest.approx([frame_a[k], 0.0, frame_c[k]]), name


def test_a_frame_with_no_box_scores_0_on_every_lightly_score_but_object_frequency_minimum():
    got = detection_scores(THREE, FRAMES)
    for name in SCORE_NAMES:
        expected = 0.9 if name == "object_frequency" else 0.0
        assert got[name][1] == expected, name


def test_no_detection_at_all():
    got = detection_scores(Detections.empty(3), ["x", "y"])
    assert all(got[name].tolist() == [0.0, 0.0] or name == "object_frequency" for name in SCORE_NAMES)
    assert got["object_frequency"].tolist() == [1.0, 1.0]


def test_rows_in_any_order_give_the_same_scores():
    order = np.array([2, 0, 1])
    shuffled = THREE[order]
    a, b = detection_scores(THREE, FRAMES), detection_scores(shuffled, FRAMES)
    assert all(a[n].tobytes() == b[n].tobytes() for n in SCORE_NAMES)


def test_detections_pointing_outside_the_frames_are_an_error():
    with pytest.raises(SchemaError, match="frame"):
        detection_scores(THREE, ["only.jpg"])


def test_lower_box_score_raises_objectness_least_confidence():
    confident = detection_scores(dets([0], [0.9], [1]), ["x"])["objectness_least_confidence"][0]
    unsure = detection_scores(dets([0], [0.4], [1]), ["x"])["objectness_least_confidence"][0]
    assert unsure > confident


def test_a_more_uncertain_box_raises_the_frame_score():
    sure = dets([0, 0], [0.9, 0.9], [0, 1], [[0.95, 0.05], [0.1, 0.9]])
    unsure = dets([0, 0], [0.9, 0.9], [0, 1], [[0.95, 0.05], [0.45, 0.55]])
    a, b = detection_scores(sure, ["x"]), detection_scores(unsure, ["x"])
    for name in ("uncertainty_least_confidence", "uncertainty_margin", "uncertainty_entropy"):
        assert b[name][0] > a[name][0]


def test_without_probs_the_class_vectors_are_made_up_like_from_scores():
    # one frame, labels 0 and 2 -> K = 2, vectors of 3 entries: s at the label, (1 - s) / 2 elsewhere
    no_probs = dets([0, 0], [0.8, 0.3], [0, 2])
    made_up = dets([0, 0], [0.8, 0.3], [0, 2], [[0.8, 0.1, 0.1], [0.35, 0.35, 0.3]])
    a, b = detection_scores(no_probs, ["x"]), detection_scores(made_up, ["x"])
    assert all(a[n].tobytes() == b[n].tobytes() for n in SCORE_NAMES)


def random_case(seed, n_frames=300, n_classes=6):
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, n_frames, 2000)
    probs = rng.dirichlet(np.full(n_classes, 0.3), size=len(frame))
    objectness = rng.random(len(frame))
    return frame, probs, objectness


@pytest.mark.parametrize("seed", [0, 1])
def test_detections_path_equals_the_seed_003_api_bit_for_bit(seed):
    frame, probs, objectness = random_case(seed)
    outputs = []
    for f in range(300):
        rows = np.flatnonzero(frame == f)
        outputs.append(ObjectDetectionOutput([BoundingBox(0.1, 0.1, 0.2, 0.2)] * len(rows), objectness[rows].tolist(), probs[rows].tolist()))
    lightly_like = ScorerObjectDetection(outputs, {"frequency_penalty": 0.1}).calculate_scores()
    score = np.array([o * max(c) for o, c in zip(objectness.tolist(), probs.tolist())])
    table = Detections(frame=frame, xyxy=boxes(len(frame)), score=score, class_id=probs.argmax(1), probs=probs)
    ours = detection_scores(table, [str(i) for i in range(300)], frequency_penalty=0.1)
    for name in SCORE_NAMES:
        assert ours[name].tobytes() == lightly_like[name].tobytes(), name


def test_object_scores_have_one_row_per_box():
    ids = default_object_ids(THREE, FRAMES)
    assert ids.tolist() == ["a-0-jpg.png", "a-1-jpg.png", "c-0-jpg.png"]
    scores = object_scores(THREE, ids)
    assert scores["objectness_least_confidence"] == pytest.approx([0.1, 0.4, 0.5])
    assert scores["uncertainty_margin"][2] == pytest.approx(1.0)
