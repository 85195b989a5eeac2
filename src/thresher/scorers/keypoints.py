"""Lightly's keypoint score: `mean_uncertainty` = 1 - mean over instances of the mean keypoint
confidence, per frame; 0 for a frame with no keypoint (lightly 1.4.6, same bits).

Higher = less confident keypoints = more worth labeling. The input is columnar: one row per
instance (a detected person, say), its frame and the confidences of its keypoints, NaN where
an instance has fewer keypoints than the widest one. An instance with no keypoint is skipped.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from thresher.errors import SchemaError
from thresher.frames import Frames
from thresher.scorers._reduce import FrameGroups, frame_ids, segment_mean
from thresher.score_table import Scores

MEAN_UNCERTAINTY = "mean_uncertainty"


def instance_confidence(confidences: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Mean confidence of each instance (as `np.mean` of its keypoints) and whether it has any."""
    conf = np.asarray(confidences, dtype=np.float64)
    if conf.ndim != 2:
        raise SchemaError(f"confidences: expected (instances, keypoints) with NaN padding, got shape {conf.shape}")
    present = ~np.isnan(conf)
    if ((conf[present] < 0) | (conf[present] > 1)).any():
        raise SchemaError("confidences: expected values in [0, 1]")
    counts = present.sum(axis=1)
    starts = np.cumsum(counts) - counts
    means = segment_mean(conf[present], starts, counts, empty=np.nan)
    return means, counts > 0


def mean_uncertainty(frame: ArrayLike, confidences: ArrayLike, n_frames: int) -> np.ndarray:
    """1 - mean instance confidence of each of `n_frames` frames; 0 for frames without keypoints."""
    means, has_keypoints = instance_confidence(confidences)
    frame = np.asarray(frame, dtype=np.int64)
    if len(frame) != len(means):
        raise SchemaError(f"frame: expected one frame row per instance ({len(means)}), got {len(frame)}")
    groups = FrameGroups.of(frame[has_keypoints], n_frames, "frame")
    per_frame = segment_mean(groups.sort(means[has_keypoints]), groups.starts, groups.counts, empty=np.nan)
    return np.where(groups.counts > 0, 1.0 - per_frame, 0.0)


def keypoint_scores(frame: ArrayLike, confidences: ArrayLike, frames: Frames | ArrayLike) -> Scores:
    """`Scores` with `mean_uncertainty` over the frames' ids (`frames`: a Frames table or ids)."""
    ids = frame_ids(frames)
    return Scores(ids, {MEAN_UNCERTAINTY: mean_uncertainty(frame, confidences, len(ids))})
