"""Box math over (N, 4) arrays: format conversion, IoU matrices, clipping, padding.

Corners are `xyxy` = x0, y0, x1, y1 in pixels; `xywh` is top-left x, y, width, height (COCO
and Lightly); `cxcywh` is the centre and size (YOLO, usually normalized to [0, 1]).
"""

from __future__ import annotations

import numpy as np


def xywh_to_xyxy(xywh: np.ndarray) -> np.ndarray:
    xywh = np.asarray(xywh, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)


def xyxy_to_xywh(xyxy: np.ndarray) -> np.ndarray:
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)


def cxcywh_to_xyxy(cxcywh: np.ndarray) -> np.ndarray:
    """Corners of centre-size boxes, over the last axis (..., 4); float arrays keep their dtype
    (float32 model outputs stay float32), others become float64.

    >>> cxcywh_to_xyxy(np.array([[5, 5, 4, 2.0]]))
    array([[3., 4., 7., 6.]])
    """
    cxcywh = np.asarray(cxcywh)
    cxcywh = cxcywh if cxcywh.dtype.kind == "f" else cxcywh.astype(np.float64)
    half = cxcywh[..., 2:] / 2
    return np.concatenate([cxcywh[..., :2] - half, cxcywh[..., :2] + half], axis=-1)


def area(xyxy: np.ndarray) -> np.ndarray:
    """Area of each box in square pixels (0 for degenerate boxes)."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return np.clip(xyxy[:, 2] - xyxy[:, 0], 0, None) * np.clip(xyxy[:, 3] - xyxy[:, 1], 0, None)


def intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Area of the overlap of boxes a and b (pixels²), broadcast over their leading axes (..., 4).

    >>> intersection(np.array([0, 0, 2, 2.0]), np.array([[1, 1, 3, 3.0], [5, 5, 6, 6.0]]))
    array([1., 0.])
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    return w * h


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of boxes a and b, broadcast over their leading axes (..., 4):
    `iou(a, b)` pairs a[k] with b[k], `iou(a[:, None], b[None])` is the (N, M) matrix. Pairs whose
    union is 0 (two empty boxes) get 0. The one IoU of thresher (seed 000's exact int32/float32
    flicker arithmetic in `assertions/_exact.py` aside).

    >>> iou(np.array([0, 0, 2, 2.0]), np.array([1, 1, 3, 3.0]))
    array(0.14285714)
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    inter = intersection(a, b)
    union = _areas(a) + _areas(b) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _areas(xyxy: np.ndarray) -> np.ndarray:
    return np.clip(xyxy[..., 2] - xyxy[..., 0], 0, None) * np.clip(xyxy[..., 3] - xyxy[..., 1], 0, None)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection over union of every box of `a` with every box of `b` (0 for an empty union)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    return iou(a[:, None, :], b[None, :, :])


def clip(xyxy: np.ndarray, width: float, height: float) -> np.ndarray:
    """Boxes clipped to the image [0, width] x [0, height]."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return np.clip(xyxy, 0, [width, height, width, height])


def pad(xyxy: np.ndarray, padding: float) -> np.ndarray:
    """Boxes grown around their centre: padding 0.1 adds 10 % to width and to height."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    grow = (xyxy[:, 2:] - xyxy[:, :2]) * padding / 2
    return np.concatenate([xyxy[:, :2] - grow, xyxy[:, 2:] + grow], axis=1)
