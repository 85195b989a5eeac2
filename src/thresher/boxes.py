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
    cxcywh = np.asarray(cxcywh, dtype=np.float64).reshape(-1, 4)
    half = cxcywh[:, 2:] / 2
    return np.concatenate([cxcywh[:, :2] - half, cxcywh[:, :2] + half], axis=1)


def area(xyxy: np.ndarray) -> np.ndarray:
    """Area of each box in square pixels (0 for degenerate boxes)."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return np.clip(xyxy[:, 2] - xyxy[:, 0], 0, None) * np.clip(xyxy[:, 3] - xyxy[:, 1], 0, None)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) intersection over union of every box of `a` with every box of `b`.

    Pairs whose union is 0 (two empty boxes) get 0.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(bottom_right - top_left, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def clip(xyxy: np.ndarray, width: float, height: float) -> np.ndarray:
    """Boxes clipped to the image [0, width] x [0, height]."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return np.clip(xyxy, 0, [width, height, width, height])


def pad(xyxy: np.ndarray, padding: float) -> np.ndarray:
    """Boxes grown around their centre: padding 0.1 adds 10 % to width and to height."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    grow = (xyxy[:, 2:] - xyxy[:, :2]) * padding / 2
    return np.concatenate([xyxy[:, :2] - grow, xyxy[:, 2:] + grow], axis=1)
