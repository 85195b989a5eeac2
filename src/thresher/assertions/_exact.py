"""Seed 000's flicker assertion, bit for bit, vectorized over all frames at once.

The arithmetic is the seed's (torch int32 tensors and torchvision's `box_iou`): corners
truncated to int32; areas, intersection and union in int32 (wrapping like torch);
IoU = float32(intersection) / float32(union); thresholds compared in float32; the mean box
is float32(a) + float32(b), halved in float32 and truncated toward zero. A zero-area pair
gives 0/0 = NaN, which never tracks and, against a current box, suppresses the assertion.

This is the one box arithmetic outside `thresher.boxes`, on purpose: `boxes.iou` computes in
float64 over float corners, and would flag other frames than the seed on ties and on boxes
whose int32 products wrap.
"""

from __future__ import annotations

import numpy as np

from thresher.assertions._neighbours import BoxIndex, check_rows, later_rows
from thresher.detections import Detections
from thresher.errors import SchemaError, UsageError
from thresher.frames import Frames

#: Below this magnitude no int32 area, sum of areas or intersection can wrap around, so the
#: window bound on candidate pairs is exact; beyond it every pair of the two frames is checked.
_NO_WRAP = 16383


def seed_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """float32 IoU of a[k] with b[k] for int32 (n, 4) corners, as torchvision computes it."""
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    w = np.maximum(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0)
    h = np.maximum(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0)
    inter = w * h
    union = area_a + area_b - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return inter.astype(np.float32) / union.astype(np.float32)


def to_int32(xyxy: np.ndarray) -> np.ndarray:
    """Corners truncated toward zero to int32, as `torch.tensor(..., dtype=torch.int)` does."""
    if len(xyxy) and np.abs(xyxy).max() >= 2**31:
        raise SchemaError("bbox: expected coordinates within the int32 range of the seed, got a larger value")
    return np.trunc(xyxy).astype(np.int32)


def check_threshold(name: str, value: object) -> np.float32:
    """The threshold as the float32 the seed compares in; raise UsageError when not a number."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise UsageError(f"{name}: expected a number, got {value!r}") from None
    if np.isnan(number):
        raise UsageError(f"{name}: expected a number, got NaN")
    return np.float32(number)


def seed_pairs(
    detections: Detections,
    frames: Frames,
    iou_thresh_tracking: float = 0.9,
    iou_thresh_assertion: float = 0.6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The asserting (prev, next) pairs of seed 000's flicker, in the seed's order.

    Returns (frame, prev, next, mean): the row of the middle frame, the detection rows of the
    previous and next box, and the int32 (n, 4) mean box, sorted by middle frame, then prev
    and next box in the order of `detections` (the seed's row-major `nonzero` order).
    """
    track = check_threshold("iou_thresh_tracking", iou_thresh_tracking)
    assertion = check_threshold("iou_thresh_assertion", iou_thresh_assertion)
    check_rows(detections, frames)
    boxes = to_int32(detections.xyxy)
    wide = bool(len(boxes)) and int(np.abs(boxes).max()) > _NO_WRAP
    index = BoxIndex.build(detections.frame, boxes.astype(np.float64), len(frames))
    succ = np.append(later_rows(frames, 1), -1)  # succ[-1] == -1 keeps chains at -1
    parts = []
    for rows in index.blocks():  # whole previous frames, so each middle frame is in one block
        middle = succ[detections.frame[rows]]
        rows = rows[succ[middle] >= 0]
        prev, nxt = _tracked(index, boxes, rows, succ[succ[detections.frame[rows]]], track, wide)
        middle = succ[detections.frame[prev]]
        mean = ((boxes[prev].astype(np.float32) + boxes[nxt].astype(np.float32)) / np.float32(2)).astype(np.int32)
        keep = ~_suppressed(index, boxes, middle, mean, assertion, wide)
        parts.append((middle[keep], prev[keep], nxt[keep], mean[keep]))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros((0, 4), dtype=np.int32)
    middle, prev, nxt, mean = (np.concatenate(columns) for columns in zip(*parts))
    order = np.lexsort((nxt, prev, middle))
    return middle[order], prev[order], nxt[order], mean[order]


def _tracked(index: BoxIndex, boxes: np.ndarray, query: np.ndarray, target: np.ndarray, threshold: np.float32, wide: bool) -> tuple[np.ndarray, np.ndarray]:
    """All (prev, next) detection-row pairs with seed IoU > threshold (strict, float32).

    `query` are previous boxes (detection rows) and `target` the frame of their next boxes.
    """
    prevs, nexts = [], []
    for q, row in index.candidates(target, boxes[query].astype(np.float64), float(threshold), whole_frame=wide):
        prev = query[q]
        hit = seed_iou(boxes[prev], boxes[row]) > threshold
        prevs.append(prev[hit])
        nexts.append(row[hit])
    empty = np.zeros(0, dtype=np.int64)
    return (np.concatenate(prevs) if prevs else empty), (np.concatenate(nexts) if nexts else empty)


def _suppressed(index: BoxIndex, boxes: np.ndarray, middle: np.ndarray, mean: np.ndarray, threshold: np.float32, wide: bool) -> np.ndarray:
    """Per pair: some box of the middle frame has an IoU with the mean box that is not < threshold.

    A frame without boxes never suppresses (the seed asserts every pair then). NaN IoUs
    (zero-area mean box against a zero-area box) suppress, so zero-area mean boxes look at
    the whole frame.
    """
    suppressed = np.zeros(len(middle), dtype=bool)
    zero_area = (mean[:, 2] == mean[:, 0]) | (mean[:, 3] == mean[:, 1])
    whole = zero_area | wide
    for q, row in index.candidates(middle, mean.astype(np.float64), float(threshold), whole_frame=whole):
        iou = seed_iou(boxes[row], mean[q])
        suppressed[q[~(iou < threshold)]] = True
    return suppressed
