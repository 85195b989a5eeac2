"""Fuse the detections of T stochastic passes (MC dropout, test-time augmentation) into one set.

Each pass is a `Detections` table over the same frames, its boxes in the original frame's
pixels (undo the flips and resizes of test-time augmentation first). In every frame, boxes of all passes are
taken by descending score; a box joins the existing cluster (of the same class, unless
`same_class=False`) whose running mean box overlaps it most with IoU >= `iou_threshold` and
that holds no box of the same pass yet; otherwise it starts a new cluster. A cluster becomes
one fused detection:

- xyxy: mean of its boxes; score: sum of its scores / T (a pass that missed it counts 0);
  class_id: the class of its best box; probs and box_std: means over its boxes.
- `box_spread` (mcbox, pixels): standard deviation (ddof 0) of each corner over its boxes.
- `class_spread` (mcclass): mean over classes of the standard deviation of the class
  probabilities over its boxes (NaN without probs).
- `support`: how many passes found it. A box found by one pass has no spread; its low
  support (and fused score) is then the signal.

The clustering runs rank by rank over all frames at once (one numpy step per rank, frames in
chunks to bound memory), not one Python loop per frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from thresher.detections import Detections
from thresher.errors import SchemaError
from thresher.scorers.matching import iou_rows

_FRAMES_PER_CHUNK = 2048


@dataclass(frozen=True, eq=False)
class FusedPasses:
    """The fused detections of T passes and the spread of each over the passes."""

    detections: Detections
    box_spread: np.ndarray
    class_spread: np.ndarray
    support: np.ndarray
    n_passes: int


def fuse_passes(passes: Sequence[Detections], iou_threshold: float = 0.5, same_class: bool = True) -> FusedPasses:
    """Fuse T passes over the same frames into one set of boxes with per-box spread."""
    if len(passes) == 0:
        raise SchemaError("passes: expected the Detections of at least one pass, got none")
    if not 0.0 < iou_threshold <= 1.0:
        raise SchemaError(f"iou_threshold: expected a number in (0, 1], got {iou_threshold}")
    boxes = Detections.concat([p.replace(track_id=None) for p in passes])  # a pass's track ids mean nothing to another
    pass_id = np.repeat(np.arange(len(passes)), [len(p) for p in passes])
    order = np.lexsort((pass_id, -boxes.score, boxes.frame))
    boxes, pass_id = boxes[order], pass_id[order]
    cluster = _cluster(boxes, pass_id, len(passes), iou_threshold, same_class)
    return _summarize(boxes, cluster, len(passes))


def _cluster(boxes: Detections, pass_id: np.ndarray, n_passes: int, iou_threshold: float, same_class: bool) -> np.ndarray:
    """Global cluster id of every box (boxes sorted by frame, then descending score)."""
    frames, first, counts = np.unique(boxes.frame, return_index=True, return_counts=True)
    local = np.empty(len(boxes), dtype=np.int64)
    n_clusters = np.zeros(len(frames), dtype=np.int64)
    for lo in range(0, len(frames), _FRAMES_PER_CHUNK):
        chunk = slice(lo, lo + _FRAMES_PER_CHUNK)
        n_clusters[chunk] = _cluster_chunk(boxes, pass_id, first[chunk], counts[chunk], n_passes, iou_threshold, same_class, local)
    offset = np.repeat(np.cumsum(n_clusters) - n_clusters, counts)
    return offset + local


def _cluster_chunk(boxes, pass_id, first, counts, n_passes, iou_threshold, same_class, local) -> np.ndarray:
    """Greedy clustering of the frames of one chunk, one rank (k-th box of each frame) per step."""
    n, depth = len(first), int(counts.max())
    box_sum = np.zeros((n, depth, 4))
    members = np.zeros((n, depth), dtype=np.int64)
    label = np.full((n, depth), -1, dtype=np.int64)
    used = np.zeros((n, depth, n_passes), dtype=bool)
    n_clusters = np.zeros(n, dtype=np.int64)
    for rank in range(depth):
        frames = np.flatnonzero(counts > rank)
        rows = first[frames] + rank
        width = int(n_clusters[frames].max()) + 1
        means = box_sum[frames, :width] / np.maximum(members[frames, :width], 1)[..., None]
        overlap = iou_rows(boxes.xyxy[rows], means)
        valid = np.arange(width) < n_clusters[frames, None]
        valid &= ~used[frames, :width, pass_id[rows]]
        if same_class:
            valid &= label[frames, :width] == boxes.class_id[rows, None]
        overlap = np.where(valid, overlap, -1.0)
        best = overlap.argmax(axis=1)
        joins = overlap[np.arange(len(frames)), best] >= iou_threshold
        target = np.where(joins, best, n_clusters[frames])
        new = ~joins
        label[frames[new], target[new]] = boxes.class_id[rows[new]]
        n_clusters[frames[new]] += 1
        box_sum[frames, target] += boxes.xyxy[rows]
        members[frames, target] += 1
        used[frames, target, pass_id[rows]] = True
        local[rows] = target
    return n_clusters


def _summarize(boxes: Detections, cluster: np.ndarray, n_passes: int) -> FusedPasses:
    n = int(cluster.max(initial=-1)) + 1
    if n == 0:
        return FusedPasses(boxes, np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64), n_passes)
    by_cluster = np.argsort(cluster, kind="stable")  # members in descending score
    starts = np.searchsorted(cluster[by_cluster], np.arange(n))
    support = np.bincount(cluster, minlength=n)

    def mean(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values[by_cluster], starts, axis=0) / support.reshape((-1,) + (1,) * (values.ndim - 1))

    def spread(values: np.ndarray, centre: np.ndarray) -> np.ndarray:
        return np.sqrt(mean((values - centre[cluster]) ** 2))

    best = by_cluster[starts]
    xyxy = mean(boxes.xyxy)
    box_spread = spread(boxes.xyxy, xyxy)
    probs: np.ndarray | None = None
    class_spread: np.ndarray | None = None
    if boxes.probs is not None:
        probs = mean(boxes.probs)
        class_spread = spread(boxes.probs, probs).mean(axis=1)
    fused = Detections(
        frame=boxes.frame[best],
        xyxy=xyxy,
        score=np.bincount(cluster, weights=boxes.score, minlength=n) / n_passes,
        class_id=boxes.class_id[best],
        probs=probs,
        box_std=None if boxes.box_std is None else mean(boxes.box_std),
        box_spread=box_spread,  # the spreads travel with the boxes (written to prediction files)
        class_spread=class_spread,
    )
    return FusedPasses(fused, box_spread, np.full(n, np.nan) if class_spread is None else class_spread, support, n_passes)
