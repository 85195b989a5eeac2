"""Match predicted boxes to ground-truth boxes: correct detections (CD) and false ones (FD).

In every frame, predictions are taken by descending score; each takes the ground-truth box it
overlaps most among those not taken yet (of the same class when `same_class`), and is a
correct detection when that IoU is >= `iou_threshold` (the COCO rule). The matching runs rank
by rank over all frames at once, frames in chunks, not one Python loop per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresher.boxes import iou
from thresher.detections import Detections
from thresher.errors import ConfigError

_FRAMES_PER_CHUNK = 4096


@dataclass(frozen=True, eq=False)
class Matches:
    """Per prediction (in the predictions' row order).

    correct: matched with IoU >= threshold. truth: row of the matched ground-truth box, -1
    if none. iou: IoU with that box (0 if none).
    """

    correct: np.ndarray
    truth: np.ndarray
    iou: np.ndarray


def match_detections(predictions: Detections, truth: Detections, iou_threshold: float = 0.5, same_class: bool = True) -> Matches:
    """Greedy one-to-one matching of predictions to ground truth (see the module docstring)."""
    if not 0.0 < iou_threshold <= 1.0:
        raise ConfigError(f"iou_threshold: expected a number in (0, 1], got {iou_threshold}")
    n = len(predictions)
    matched = np.full(n, -1, dtype=np.int64)
    best_iou = np.zeros(n)
    order = np.lexsort((-predictions.score, predictions.frame))
    truth_order = np.argsort(truth.frame, kind="stable")
    n_frames = int(max(predictions.frame.max(initial=-1), truth.frame.max(initial=-1))) + 1
    pred_counts = np.bincount(predictions.frame, minlength=n_frames)
    truth_counts = np.bincount(truth.frame, minlength=n_frames)
    pred_start = np.cumsum(pred_counts) - pred_counts
    truth_start = np.cumsum(truth_counts) - truth_counts
    frames = np.flatnonzero((pred_counts > 0) & (truth_counts > 0))
    for lo in range(0, len(frames), _FRAMES_PER_CHUNK):
        chunk = frames[lo : lo + _FRAMES_PER_CHUNK]
        rows = _padded(truth_order, truth_start[chunk], truth_counts[chunk])
        taken = rows < 0
        for rank in range(int(pred_counts[chunk].max())):
            active = np.flatnonzero(pred_counts[chunk] > rank)
            pred = order[pred_start[chunk[active]] + rank]
            gt = rows[active]
            overlap = iou_rows(predictions.xyxy[pred], truth.xyxy[np.maximum(gt, 0)])
            usable = ~taken[active]
            if same_class:
                usable &= truth.class_id[np.maximum(gt, 0)] == predictions.class_id[pred, None]
            overlap = np.where(usable, overlap, -1.0)
            best = overlap.argmax(axis=1)
            value = overlap[np.arange(len(active)), best]
            hit = value >= iou_threshold
            matched[pred[hit]] = gt[hit, best[hit]]
            best_iou[pred] = np.maximum(value, 0.0)
            taken[active[hit], best[hit]] = True
    best_iou[matched < 0] = 0.0
    return Matches(matched >= 0, matched, best_iou)


def _padded(order: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(frames, max count) rows of each frame's boxes, -1 where a frame has fewer."""
    width = int(counts.max(initial=0))
    offsets = np.arange(width)
    inside = offsets < counts[:, None]
    return np.where(inside, order[np.minimum(starts[:, None] + offsets, len(order) - 1)], -1)


def iou_rows(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """IoU of box i (n, 4) with each of others[i] (n, w, 4) -> (n, w); 0 when the union is 0."""
    return iou(box[:, None, :], others)
