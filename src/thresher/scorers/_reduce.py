"""Per-frame reductions of per-box values, vectorized over the frame column of `Detections`.

Boxes are grouped by frame once (`FrameGroups`); every reduction then works on the sorted
values with one numpy pass per step, never one Python call per frame. `segment_sum` gives
the same bits as calling `np.sum` on each frame's values (numpy's pairwise summation is
reproduced), so means computed here equal Lightly's per-image `np.mean` exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from thresher.table import as_str_array
from thresher.detections import Detections
from thresher.errors import SchemaError
from thresher.frames import Frames

# numpy sums blocks of up to 128 values with 8 accumulators, longer ones recursively.
_PAIRWISE_BLOCK = 128
_UNROLL = 8


def frame_ids(frames: Frames | ArrayLike) -> np.ndarray:
    """The sample ids of a `Frames` table, or of a sequence of ids given directly."""
    if isinstance(frames, Frames):
        return frames.id
    return as_str_array(frames, "frames")


@dataclass(frozen=True)
class FrameGroups:
    """The rows of each frame: `order` sorts boxes by frame (stable; None when they already
    are), frame f owns the sorted rows `starts[f] : starts[f] + counts[f]`."""

    order: np.ndarray | None
    starts: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, frame: np.ndarray, n_frames: int, name: str = "detections.frame") -> "FrameGroups":
        frame = np.asarray(frame, dtype=np.int64)
        if len(frame) and (frame.min() < 0 or frame.max() >= n_frames):
            bad = frame[(frame < 0) | (frame >= n_frames)][0]
            raise SchemaError(f"{name}: expected rows of the {n_frames} frames given, got row {bad}")
        sorted_already = len(frame) < 2 or bool((frame[1:] >= frame[:-1]).all())
        order = None if sorted_already else np.argsort(frame, kind="stable")
        counts = np.bincount(frame, minlength=n_frames).astype(np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        return cls(order, starts[:n_frames], counts)

    @classmethod
    def of_detections(cls, detections: Detections, n_frames: int) -> "FrameGroups":
        return cls.of(detections.frame, n_frames)

    def sort(self, values: np.ndarray) -> np.ndarray:
        """Per-box values in frame order."""
        values = np.asarray(values)
        return values if self.order is None else values[self.order]


def segment_sum(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Sum of `values[s : s + n]` for each segment, bit-identical to `np.sum` of that slice.

    Empty segments sum to 0.0.
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.zeros(len(counts))
    short = counts < _UNROLL
    out[short] = _sequential_sum(values, starts[short], counts[short])
    block = (counts >= _UNROLL) & (counts <= _PAIRWISE_BLOCK)
    out[block] = _unrolled_sum(values, starts[block], counts[block])
    for i in np.flatnonzero(counts > _PAIRWISE_BLOCK):  # rare: frames with > 128 boxes
        out[i] = np.sum(values[starts[i] : starts[i] + counts[i]])
    return out


def _sequential_sum(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    total = np.zeros(len(starts))
    for k in range(int(counts.max(initial=0))):
        has = counts > k
        total[has] += values[starts[has] + k]
    return total


def _unrolled_sum(values: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """numpy's pairwise_sum for 8 <= n <= 128: 8 running sums, a fixed tree, then the tail."""
    lanes = np.arange(_UNROLL)
    acc = values[starts[:, None] + lanes]
    full = counts - counts % _UNROLL
    for offset in range(_UNROLL, _PAIRWISE_BLOCK, _UNROLL):
        has = full > offset
        acc[has] += values[starts[has, None] + offset + lanes]
    total = ((acc[:, 0] + acc[:, 1]) + (acc[:, 2] + acc[:, 3])) + ((acc[:, 4] + acc[:, 5]) + (acc[:, 6] + acc[:, 7]))
    for k in range(_UNROLL - 1):
        has = counts % _UNROLL > k
        total[has] += values[starts[has] + full[has] + k]
    return total


def segment_mean(values: np.ndarray, starts: np.ndarray, counts: np.ndarray, empty: float) -> np.ndarray:
    """Mean of each segment exactly as `np.mean` computes it; `empty` for empty segments."""
    sums = segment_sum(values, starts, counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    return np.where(counts > 0, means, empty)


def segment_max(values: np.ndarray, starts: np.ndarray, counts: np.ndarray, empty: float) -> np.ndarray:
    """Maximum of each segment (NaN propagates like `np.max`); `empty` for empty segments."""
    out = np.full(len(counts), empty, dtype=np.float64)
    has = counts > 0
    if has.any():
        out[has] = np.maximum.reduceat(np.asarray(values, dtype=np.float64), starts[has])
    return out


def per_frame(values: np.ndarray, groups: FrameGroups, how: str, empty: float) -> np.ndarray:
    """Reduce per-box `values` (in detection row order) to one value per frame.

    how: "max" or "mean"; frames with no box get `empty`.
    """
    reducers = {"max": segment_max, "mean": segment_mean}
    if how not in reducers:
        raise SchemaError(f"how: expected one of {sorted(reducers)}, got {how!r}")
    return reducers[how](groups.sort(values), groups.starts, groups.counts, empty)
