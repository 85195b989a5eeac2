"""Which detections are correct: same class and IoU >= t with a ground-truth box, for several t.

Seed 002 calls a detection correct (CD) when it overlaps a ground-truth box of its class with
IoU >= t, t over 0.50:0.05:0.75, and false (FD) otherwise. The matching is the COCO rule of
`thresher.scorers.match_detections` (one ground-truth box per prediction, by descending
score), run once per threshold, so a duplicate box of an object already matched is an FD.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from thresher.detections import Detections
from thresher.errors import ConfigError
from thresher.scorers.matching import match_detections

IOU_THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75)


def check_iou_thresholds(iou_thresholds: Sequence[float]) -> tuple[float, ...]:
    """The thresholds as a tuple of floats in (0, 1], or a ConfigError naming the bad one."""
    values = tuple(float(t) for t in np.atleast_1d(np.asarray(iou_thresholds, dtype=np.float64)))
    if not values:
        raise ConfigError("iou_thresholds: expected at least one IoU threshold, got none")
    for t in values:
        if not 0.0 < t <= 1.0:
            raise ConfigError(f"iou_thresholds: expected numbers in (0, 1], got {t}")
    return values


def correct_detections(predictions: Detections, truth: Detections, iou_thresholds: Sequence[float] = IOU_THRESHOLDS) -> np.ndarray:
    """(M, T) bool: detection m is correct at IoU threshold t (same class, COCO matching).

    predictions, truth: `Detections` over the same frames (`frame` indexes the same table);
    truth scores are ignored.
    """
    thresholds = check_iou_thresholds(iou_thresholds)
    columns = [match_detections(predictions, truth, t, same_class=True).correct for t in thresholds]
    return np.stack(columns, axis=1) if columns else np.zeros((len(predictions), 0), dtype=bool)
