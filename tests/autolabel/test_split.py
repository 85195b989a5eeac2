"""Labeled / examine: every considered detection of a labeled frame is below the threshold."""

from __future__ import annotations

import numpy as np
import pytest

from thresher import Detections
from thresher.autolabel import split_frames
from thresher.errors import ConfigError

BOX = [0.0, 0.0, 10.0, 10.0]
# frame 0: two confident boxes, both certain; frame 1: one uncertain; frame 2: an uncertain box
# that scores below the score threshold (dropped, so the frame is labeled); frame 3: no box.
DETECTIONS = Detections(frame=[0, 0, 1, 1, 2], xyxy=[BOX] * 5, score=[0.9, 0.8, 0.9, 0.7, 0.3], class_id=[1, 2, 1, 1, 1])
FUSED = np.array([0.1, 0.2, 0.9, 0.1, 0.95])


def test_split_by_hand():
    split = split_frames(DETECTIONS, FUSED, 4, score_threshold=0.5, uncertainty_threshold=0.5)
    assert split.labeled.tolist() == [True, False, True, True]
    assert split.considered.tolist() == [True, True, True, True, False]
    assert split.uncertain.tolist() == [False, False, True, False, False]
    assert split.frame_uncertainty[:3] == pytest.approx([0.2, 0.9, np.nan], nan_ok=True)
    assert np.isnan(split.frame_uncertainty[3])
    assert split.labels(DETECTIONS).frame.tolist() == [0, 0]
    assert split.review(DETECTIONS).frame.tolist() == [1, 1]
    assert split.summary() == {"frames": 4, "labeled": 3, "examine": 1, "detections_considered": 4, "detections_uncertain": 1}


def test_empty_frames_can_be_sent_to_a_human():
    split = split_frames(DETECTIONS, FUSED, 4, score_threshold=0.5, uncertainty_threshold=0.5, empty="examine")
    assert split.labeled.tolist() == [True, False, False, False]


@pytest.mark.parametrize("threshold", [0.05, 0.15, 0.5, 0.92, 1.0])
def test_a_higher_threshold_never_labels_fewer_frames(threshold):
    low = split_frames(DETECTIONS, FUSED, 4, score_threshold=0.5, uncertainty_threshold=threshold)
    high = split_frames(DETECTIONS, FUSED, 4, score_threshold=0.5, uncertainty_threshold=threshold + 0.1)
    assert (high.labeled >= low.labeled).all()


def test_unknown_empty_policy():
    with pytest.raises(ConfigError, match="empty"):
        split_frames(DETECTIONS, FUSED, 4, score_threshold=0.5, uncertainty_threshold=0.5, empty="skip")
