import numpy as np
import pytest

from thresher import Frames
from thresher.errors import SchemaError
from thresher.scorers.keypoints import keypoint_scores
from thresher.scorers.segmentation import segmentation_scores


def test_segmentation_scores_are_pixel_means():
    sure = np.zeros((2, 3, 4))
    sure[..., 1] = 1
    unsure = np.full((2, 3, 4), 0.25)
    scores = segmentation_scores(np.stack([sure, unsure]), ["sure.png", "unsure.png"])
    for name in scores.names:
        assert scores[name].tolist() == [0.0, 1.0], name


def test_segmentation_needs_three_dimensions():
    with pytest.raises(SchemaError, match="H x W x C"):
        segmentation_scores([np.zeros((4, 4))], ["a"])


def test_keypoint_mean_uncertainty_by_hand():
    confidences = [[0.5, 0.7, np.nan], [0.9, np.nan, np.nan], [np.nan, np.nan, np.nan], [0.2, 0.4, 0.6]]
    scores = keypoint_scores([0, 0, 1, 2], confidences, Frames.build(["a", "b", "c", "d"]))
    assert scores["mean_uncertainty"] == pytest.approx([1 - (0.6 + 0.9) / 2, 0.0, 1 - 0.4, 0.0])


def test_keypoint_confidences_are_checked():
    with pytest.raises(SchemaError, match=r"\[0, 1\]"):
        keypoint_scores([0], [[1.5]], ["a"])
    with pytest.raises(SchemaError, match="frame"):
        keypoint_scores([0, 1], [[0.5]], ["a"])
