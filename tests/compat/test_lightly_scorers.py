"""The seed-003 scorer API: behaviour of lightly 1.4.6, values derived by hand."""

import math

import numpy as np
import pytest

from thresher.compat.lightly import (
    BoundingBox,
    KeypointPrediction,
    ObjectDetectionOutput,
    ScorerClassification,
    ScorerKeypointDetection,
    ScorerObjectDetection,
    ScorerSemanticSegmentation,
)

DETECTION_NAMES = [
    "object_frequency",
    "objectness_least_confidence",
    "uncertainty_least_confidence",
    "uncertainty_margin",
    "uncertainty_entropy",
]


def test_bounding_box_examples_of_the_seed():
    box = BoundingBox(0.1, 0.2, 0.3, 0.4)
    same = BoundingBox.from_x_y_w_h(0.1, 0.2, 0.2, 0.2)
    assert (same.x0, same.y0) == (0.1, 0.2)
    assert same.x1 == pytest.approx(0.3) and same.y1 == pytest.approx(0.4)
    assert box.width == pytest.approx(0.2) and box.height == pytest.approx(0.2)
    assert box.area == pytest.approx(0.04)
    pixels = BoundingBox(10 / 100, 20 / 100, 30 / 100, 40 / 100)
    assert pixels.x1 == 0.3


def test_bounding_box_clips_by_default_and_raises_otherwise():
    box = BoundingBox(-0.5, 0.2, 1.5, 0.4)
    assert (box.x0, box.x1) == (0, 1)
    with pytest.raises(ValueError, match="relative"):
        BoundingBox(-0.5, 0.2, 0.5, 0.4, clip_values=False)


@pytest.mark.parametrize("coords, word", [((0.3, 0.2, 0.3, 0.4), "x0"), ((0.1, 0.4, 0.3, 0.4), "y0"), ((0.5, 0.2, 0.3, 0.4), "x0")])
def test_bounding_box_needs_positive_extent(coords, word):
    with pytest.raises(ValueError, match=word):
        BoundingBox(*coords)


def test_yolo_labels_are_centre_and_size():
    box = BoundingBox.from_yolo_label(0.5, 0.4, 0.2, 0.3)
    assert (box.x0, box.y0, box.x1, box.y1) == pytest.approx((0.4, 0.25, 0.6, 0.55))


def test_detection_output_scores_and_labels():
    out = ObjectDetectionOutput([BoundingBox(0.1, 0.2, 0.3, 0.4)] * 2, [0.6, 0.5], [[0.1, 0.5, 0.4], [0.3, 0.3, 0.2]])
    assert out.scores == [0.6 * 0.5, 0.5 * 0.3]
    assert out.labels == [1, 0]  # the first of tied maxima


def test_detection_output_lengths_must_agree():
    with pytest.raises(ValueError, match="same length"):
        ObjectDetectionOutput([BoundingBox(0.1, 0.2, 0.3, 0.4)], [0.6], [0.1, 0.5])


def test_from_scores_makes_up_class_vectors():
    box = BoundingBox(0.1, 0.2, 0.3, 0.4)
    out = ObjectDetectionOutput.from_scores([box, box], [0.1234, 0.6], [1, 3])
    # K = max(3, 1) = 3: vectors of 4 entries, (1 - s) / 3 elsewhere
    assert out.class_probabilities[0] == pytest.approx([(1 - 0.1234) / 3, 0.1234, (1 - 0.1234) / 3, (1 - 0.1234) / 3])
    assert out.class_probabilities[1] == pytest.approx([0.4 / 3, 0.4 / 3, 0.4 / 3, 0.6])
    assert out.scores == [0.1234, 0.6] and out.labels == [1, 3] and out.object_probabilities == [0.1234, 0.6]


def test_from_scores_with_label_0_only_uses_two_entries():
    out = ObjectDetectionOutput.from_scores([BoundingBox(0.1, 0.2, 0.3, 0.4)], [0.7], [0])
    assert out.class_probabilities == [[0.7, pytest.approx(0.3)]]


@pytest.mark.parametrize("scores, labels, word", [([1.1], [0], "smaller"), ([-0.1], [0], "larger"), ([0.5], [0.5], "integers")])
def test_from_scores_rejects_what_lightly_rejects(scores, labels, word):
    with pytest.raises(ValueError, match=word):
        ObjectDetectionOutput.from_scores([BoundingBox(0.1, 0.2, 0.3, 0.4)], scores, labels)


def test_classification_scorer_example():
    scores = ScorerClassification(np.array([[0.7, 0.2, 0.1], [0.4, 0.5, 0.1]])).calculate_scores()
    assert list(scores) == ScorerClassification.score_names()
    assert scores["uncertainty_least_confidence"] == pytest.approx([(1 - 0.7) / (1 - 1 / 3), (1 - 0.5) / (1 - 1 / 3)])
    assert scores["uncertainty_margin"] == pytest.approx([1 - (0.7 - 0.2), 1 - (0.5 - 0.4)])
    entropy = [-sum(p * math.log2(p) for p in row) / math.log2(3) for row in ([0.7, 0.2, 0.1], [0.4, 0.5, 0.1])]
    assert scores["uncertainty_entropy"] == pytest.approx(entropy)


def test_classification_scorer_unnormalized():
    scores = ScorerClassification([[0.5, 0.5]]).calculate_scores(normalize_to_0_1=False)
    assert scores["uncertainty_least_confidence"][0] == 0.5 and scores["uncertainty_entropy"][0] == 1.0


@pytest.mark.parametrize("n_samples", range(5))
@pytest.mark.parametrize("n_classes", range(5))
def test_classification_scorer_shapes(n_samples, n_classes):
    output = [[1.0 / n_samples] * n_classes] * n_samples if n_samples else []
    if n_classes == 0 and n_samples > 0:
        with pytest.raises(ValueError):
            ScorerClassification(output)
        return
    scores = ScorerClassification(output).calculate_scores()
    assert list(scores) == ScorerClassification.score_names()
    assert all(len(v) == n_samples for v in scores.values())


@pytest.mark.parametrize("order", [1, 3, 4])
def test_classification_scorer_needs_a_matrix(order):
    with pytest.raises(ValueError, match="2-dimensional"):
        ScorerClassification(np.zeros((3,) * order))


def seed_example_outputs():
    box = BoundingBox(0.1, 0.2, 0.3, 0.4)
    return [ObjectDetectionOutput([box], [0.1024], [[0.5, 0.41, 0.09]])]


def test_detection_scorer_seed_example():
    scores = ScorerObjectDetection(seed_example_outputs()).calculate_scores()
    assert list(scores) == DETECTION_NAMES == ScorerObjectDetection.score_names()
    assert scores["objectness_least_confidence"][0] == pytest.approx(1 - 0.1024 * 0.5)
    assert scores["object_frequency"][0] == 1.0  # a single image: min n = max n
    assert scores["uncertainty_least_confidence"][0] == pytest.approx((1 - 0.5) / (1 - 1 / 3))
    assert scores["uncertainty_margin"][0] == pytest.approx(1 - (0.5 - 0.41))
    entropy = -(0.5 * math.log2(0.5) + 0.41 * math.log2(0.41) + 0.09 * math.log2(0.09))
    assert scores["uncertainty_entropy"][0] == pytest.approx(entropy / math.log2(3))


def test_detection_scorer_image_without_boxes():
    outputs = seed_example_outputs() + [ObjectDetectionOutput([], [], [])]
    scores = ScorerObjectDetection(outputs).calculate_scores()
    assert [scores[name][1] for name in DETECTION_NAMES] == [0.9, 0.0, 0.0, 0.0, 0.0]


def test_detection_scorer_images_of_different_class_counts():
    box = BoundingBox(0.1, 0.2, 0.3, 0.4)
    outputs = [
        ObjectDetectionOutput.from_scores([box], [0.8], [1]),
        ObjectDetectionOutput.from_scores([box], [0.8], [4]),
    ]
    scores = ScorerObjectDetection(outputs).calculate_scores()
    # image 0: vector [0.2, 0.8] (C = 2); image 1: [0.05]*4 + [0.8] at 4 (C = 5)
    assert scores["uncertainty_least_confidence"] == pytest.approx([0.2 / 0.5, 0.2 / 0.8])


def test_detection_scorer_config_is_checked_like_lightly():
    with pytest.raises(KeyError, match="frequency_penalty"):
        ScorerObjectDetection(seed_example_outputs(), {"frequency_penalt": 0.5})
    with pytest.raises(ValueError, match="numbers"):
        ScorerObjectDetection(seed_example_outputs(), {"min_score": "0.5"})
    with pytest.raises(ValueError, match="out of range"):
        ScorerObjectDetection(seed_example_outputs(), {"min_score": 2})
    config = {"min_score": 0.5}
    scorer = ScorerObjectDetection(seed_example_outputs(), config)
    assert scorer.config == {"frequency_penalty": 0.25, "min_score": 0.5} and config == {"min_score": 0.5}


def test_detection_scorer_frequency_by_hand():
    box = BoundingBox(0.1, 0.2, 0.3, 0.4)
    outputs = [
        ObjectDetectionOutput.from_scores([box] * 3, [0.5] * 3, [1, 1, 2]),  # 1.5 + 1 = 2.5
        ObjectDetectionOutput.from_scores([box], [0.5], [1]),  # 1
        ObjectDetectionOutput.from_scores([box] * 2, [0.5] * 2, [2, 2]),
    ]  # 1.5
    scores = ScorerObjectDetection(outputs, {"frequency_penalty": 0.5, "min_score": 0.0}).calculate_scores()
    assert scores["object_frequency"] == pytest.approx([1.0, 0.0, 0.5 / 1.5])


def test_segmentation_scorer_means_pixel_scores():
    sure = np.zeros((2, 2, 2))
    sure[..., 0] = 1
    half = sure.copy()
    half[0, 0] = [0.5, 0.5]  # one uncertain pixel of four
    scores = ScorerSemanticSegmentation([sure, half]).calculate_scores()
    assert scores["uncertainty_margin"].tolist() == [0.0, 0.25]
    assert ScorerSemanticSegmentation([]).calculate_scores() == {}
    with pytest.raises(ValueError, match="H x W x C"):
        ScorerSemanticSegmentation([np.zeros((2, 2))]).calculate_scores()


def test_keypoint_scorer_by_hand():
    image = KeypointPrediction.from_json_string(
        '[{"keypoints": [1, 2, 0.5, 3, 4, 0.7], "category_id": 1, "score": 0.9},'
        ' {"keypoints": [1, 2, 0.9], "category_id": 1, "score": 0.8},'
        ' {"keypoints": [], "category_id": 1, "score": 0.8}]'
    )
    scores = ScorerKeypointDetection([image, KeypointPrediction([])]).calculate_scores()
    assert scores["mean_uncertainty"] == pytest.approx([1 - (0.6 + 0.9) / 2, 0.0])
    assert ScorerKeypointDetection.score_names() == ["mean_uncertainty"]


@pytest.mark.parametrize(
    "instance, word",
    [
        ({"keypoints": [1, 2], "category_id": 1, "score": 0.5}, "format"),
        ({"keypoints": [1, 2, 1.5], "category_id": 1, "score": 0.5}, "> 1"),
        ({"keypoints": [], "category_id": "a", "score": 0.5}, "int"),
        ({"keypoints": [], "category_id": 1, "score": 1}, "float"),
    ],
)
def test_keypoint_instances_are_validated(instance, word):
    with pytest.raises(ValueError, match=word):
        KeypointPrediction.from_dicts([instance])
