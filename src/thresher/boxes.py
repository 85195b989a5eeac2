"""Box math over (..., 4) arrays, the one place thresher computes it: format conversions, sizes
and areas, intersection, IoU and containment, clipping, flipping, padding.

Corners are `xyxy` = x0, y0, x1, y1 in pixels; `xywh` is top-left x, y, width, height (COCO
and Lightly); `cxcywh` is the centre and size (YOLO, usually normalized to [0, 1]). Functions
broadcast over leading axes unless they say otherwise; the box is always the last axis.

The one exception is seed 000's flicker, which truncates boxes to int32 and computes its IoU
in int32/float32 exactly as the seed did (`thresher.assertions._exact.seed_iou`); everything
else goes through here.

>>> a, b = np.array([0, 0, 4, 2.0]), np.array([2, 0, 6, 2.0])
>>> float(iou(a, b)), xyxy_to_cxcywh(a).tolist(), wh(a).tolist()
(0.3333333333333333, [2.0, 1.0, 4.0, 2.0], [4.0, 2.0])
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def xywh_to_xyxy(xywh: ArrayLike) -> np.ndarray:
    """(N, 4) corners of top-left x, y, width, height boxes, float64.

    >>> xywh_to_xyxy([[1, 2, 3, 4]])
    array([[1., 2., 4., 6.]])
    """
    xywh = np.asarray(xywh, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)


def xyxy_to_xywh(xyxy: ArrayLike) -> np.ndarray:
    """(N, 4) top-left x, y, width, height of corner boxes, float64.

    >>> xyxy_to_xywh([[1, 2, 4, 6]])
    array([[1., 2., 3., 4.]])
    """
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)


def _float(boxes: ArrayLike) -> np.ndarray:
    """Float arrays keep their dtype (float32 model outputs stay float32), others become float64."""
    boxes = np.asarray(boxes)
    return boxes if boxes.dtype.kind == "f" else boxes.astype(np.float64)


def cxcywh_to_xyxy(cxcywh: ArrayLike) -> np.ndarray:
    """Corners of centre-size boxes, over the last axis (..., 4); float arrays keep their dtype
    (float32 model outputs stay float32), others become float64.

    >>> cxcywh_to_xyxy(np.array([[5, 5, 4, 2.0]]))
    array([[3., 4., 7., 6.]])
    """
    cxcywh = _float(cxcywh)
    return corners(cxcywh[..., :2], cxcywh[..., 2:])


def corners(centre: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Corners (..., 4) of boxes given as centre (..., 2) and size (..., 2) arrays, the same
    as `cxcywh_to_xyxy` of their concatenation without building it (SSD decoding).

    >>> corners(np.array([[5, 5.0]]), np.array([[4, 2.0]]))
    array([[3., 4., 7., 6.]])
    """
    half = size / 2
    return np.stack([centre[..., 0] - half[..., 0], centre[..., 1] - half[..., 1], centre[..., 0] + half[..., 0], centre[..., 1] + half[..., 1]], axis=-1)


def xyxy_to_cxcywh(xyxy: ArrayLike) -> np.ndarray:
    """Centre and size of corner boxes, over the last axis (..., 4); centre = x0 + w / 2 (float
    arrays keep their dtype).

    >>> xyxy_to_cxcywh(np.array([[3, 4, 7, 6.0]]))
    array([[5., 5., 4., 2.]])
    """
    xyxy = _float(xyxy)
    w, h = xyxy[..., 2] - xyxy[..., 0], xyxy[..., 3] - xyxy[..., 1]  # column by column: numpy is slow on a last axis of 2
    return np.stack([xyxy[..., 0] + w / 2, xyxy[..., 1] + h / 2, w, h], axis=-1)


def wh(xyxy: ArrayLike) -> np.ndarray:
    """Width and height of each box (..., 2), in the boxes' units (negative when x1 < x0).

    >>> wh(np.array([[1, 2, 4, 6.0]]))
    array([[3., 4.]])
    """
    xyxy = _float(xyxy)
    return np.stack([xyxy[..., 2] - xyxy[..., 0], xyxy[..., 3] - xyxy[..., 1]], axis=-1)


def widths(xyxy: ArrayLike) -> np.ndarray:
    """x1 - x0 of each box (...,), without computing the heights (hot loops of the assertions).

    >>> widths(np.array([[1, 2, 4, 6.0]]))
    array([3.])
    """
    xyxy = _float(xyxy)
    return xyxy[..., 2] - xyxy[..., 0]


def scale(boxes: ArrayLike, sx: ArrayLike, sy: ArrayLike) -> np.ndarray:
    """Boxes of any format (..., 4) with x values times `sx` and y values times `sy`, float64;
    `sx`, `sy` broadcast over the leading axes (one factor per box: shape (N,)). Normalized
    boxes times the image size give pixels.

    >>> scale(np.array([[0.5, 0.5, 0.25, 1.0]]), np.array([640]), np.array([480]))
    array([[320., 240., 160., 480.]])
    """
    factors = np.stack(np.broadcast_arrays(sx, sy, sx, sy), axis=-1).astype(np.float64)
    return np.asarray(boxes, dtype=np.float64) * factors


def ordered(xyxy: ArrayLike) -> np.ndarray:
    """Whether each box has x0 <= x1 and y0 <= y1 (False for NaN corners).

    >>> ordered(np.array([[0, 0, 1, 1], [2, 0, 1, 1.0]]))
    array([ True, False])
    """
    xyxy = np.asarray(xyxy)
    return (xyxy[..., 2] >= xyxy[..., 0]) & (xyxy[..., 3] >= xyxy[..., 1])


def area(xyxy: ArrayLike) -> np.ndarray:
    """Area of each box in square pixels (0 for degenerate boxes), over the leading axes.

    >>> area(np.array([[0, 0, 2, 3], [5, 5, 4, 4.0]]))
    array([6., 0.])
    """
    xyxy = np.asarray(xyxy, dtype=np.float64)
    return np.clip(xyxy[..., 2] - xyxy[..., 0], 0, None) * np.clip(xyxy[..., 3] - xyxy[..., 1], 0, None)


def intersection(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Area of the overlap of boxes a and b (pixels²), broadcast over their leading axes (..., 4).

    >>> intersection(np.array([0, 0, 2, 2.0]), np.array([[1, 1, 3, 3.0], [5, 5, 6, 6.0]]))
    array([1., 0.])
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    return w * h


def iou(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """Intersection over union of boxes a and b, broadcast over their leading axes (..., 4):
    `iou(a, b)` pairs a[k] with b[k], `iou(a[:, None], b[None])` is the (N, M) matrix. Pairs whose
    union is 0 (two empty boxes) get 0. The one IoU of thresher (seed 000's exact int32/float32
    flicker arithmetic in `assertions/_exact.py` aside).

    >>> iou(np.array([0, 0, 2, 2.0]), np.array([1, 1, 3, 3.0]))
    array(0.14285714)
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    inter = intersection(a, b)
    union = area(a) + area(b) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def iou_matrix(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """(N, M) intersection over union of every box of `a` with every box of `b` (0 for an empty union).

    >>> iou_matrix([[0, 0, 2, 2]], [[0, 0, 2, 2], [1, 1, 3, 3]]).round(3)
    array([[1.   , 0.143]])
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    return iou(a[:, None, :], b[None, :, :])


def contained(a: ArrayLike, b: ArrayLike, share: float = 1.0) -> np.ndarray:
    """Whether at least `share` of the area of box a lies inside box b (a box of zero area is
    never contained), broadcast over the leading axes: intersection(a, b) >= share * area(a).

    >>> contained(np.array([[1, 1, 2, 2], [0, 0, 4, 4.0]]), np.array([0, 0, 3, 3.0]), 0.5)
    array([ True,  True])
    """
    own = area(a)
    return (intersection(a, b) >= share * own) & (own > 0)


def outside(xyxy: ArrayLike, width: np.ndarray | float, height: np.ndarray | float) -> np.ndarray:
    """Boxes that neither overlap nor touch their [0, width] x [0, height] image (x0 > W,
    y0 > H, x1 < 0 or y1 < 0); `width`, `height` broadcast over the leading axes.

    >>> outside(np.array([[5, 5, 8, 8], [11, 0, 12, 1.0]]), 10, 10)
    array([False,  True])
    """
    xyxy = np.asarray(xyxy, dtype=np.float64)
    return (xyxy[..., 0] > width) | (xyxy[..., 1] > height) | (xyxy[..., 2] < 0) | (xyxy[..., 3] < 0)


def clip(xyxy: ArrayLike, width: ArrayLike, height: ArrayLike) -> np.ndarray:
    """Boxes clipped to their image [0, width] x [0, height], float64; `width`, `height` are
    one size for all boxes or one per box (shape (N,)).

    >>> clip(np.array([[-1, 2, 12, 5.0]]), 10, 4)
    array([[ 0.,  2., 10.,  4.]])
    """
    xyxy = np.asarray(xyxy, dtype=np.float64)
    limits = np.stack(np.broadcast_arrays(width, height, width, height), axis=-1)
    return np.clip(xyxy, 0, limits)


def pixel_boxes(xyxy: ArrayLike, width: ArrayLike, height: ArrayLike) -> np.ndarray:
    """(N, 4) int64 pixel rectangles covering the boxes: clipped to the image, corners rounded
    outwards (floor, ceil), at least 1 px wide and high; `image[y0:y1, x0:x1]` cuts one.

    >>> pixel_boxes(np.array([[1.5, 2.2, 3.1, 2.4], [-2, 0, 12, 4.0]]), 10, 4)
    array([[ 1,  2,  4,  3],
           [ 0,  0, 10,  4]])
    """
    clipped = clip(np.asarray(xyxy, dtype=np.float64).reshape(-1, 4), width, height)
    boxes = np.column_stack([np.floor(clipped[:, :2]), np.ceil(clipped[:, 2:])]).astype(np.int64)
    limits = np.stack(np.broadcast_arrays(width, height), axis=-1).astype(np.int64).reshape(-1, 2)
    boxes[:, 2:] = np.minimum(np.maximum(boxes[:, 2:], boxes[:, :2] + 1), limits)
    boxes[:, :2] = np.minimum(boxes[:, :2], boxes[:, 2:] - 1)
    return boxes


def flip_x(xyxy: ArrayLike, width: ArrayLike) -> np.ndarray:
    """Boxes of an image mirrored left-right ([0, width] wide; one width or one per box).

    >>> flip_x(np.array([[1, 2, 3, 4.0]]), 10)
    array([[7., 2., 9., 4.]])
    """
    xyxy = np.asarray(xyxy, dtype=np.float64)
    width = np.asarray(width, dtype=np.float64)
    return np.stack([width - xyxy[..., 2], xyxy[..., 1], width - xyxy[..., 0], xyxy[..., 3]], axis=-1)


def pad(xyxy: ArrayLike, padding: float) -> np.ndarray:
    """Boxes grown around their centre: padding 0.1 adds 10 % to width and to height.

    >>> pad(np.array([[0, 0, 10, 20.0]]), 0.1)
    array([[-0.5, -1. , 10.5, 21. ]])
    """
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    grow = wh(xyxy) * padding / 2
    return np.concatenate([xyxy[:, :2] - grow, xyxy[:, 2:] + grow], axis=1)


def fit(xyxy: ArrayLike, width: np.ndarray, height: np.ndarray, min_size: float, tolerance: float = 1e-9) -> np.ndarray:
    """(N, 4) boxes clipped to their image and grown to at least `min_size` x `min_size` around
    their centre (kept inside the image); `width`, `height` (N,) the image of each box, in the
    boxes' units and >= `min_size`. A box smaller by no more than `tolerance` stays as it is (a
    box fitted once is not moved again by float rounding).

    >>> fit(np.array([[5, 5, 5.2, 9], [-3, 1, 4, 4]]), np.array([10, 10]), np.array([10, 10]), 1.0)
    array([[4.6, 5. , 5.6, 9. ],
           [0. , 1. , 4. , 4. ]])
    """
    clipped = clip(np.asarray(xyxy, dtype=np.float64).reshape(-1, 4), width, height)
    size = np.stack([width, height], axis=1).astype(np.float64)
    low, high = clipped[:, :2], clipped[:, 2:]
    small = high - low < min_size - tolerance
    start = np.clip((low + high) / 2 - min_size / 2, 0, size - min_size)
    return np.concatenate([np.where(small, start, low), np.where(small, start + min_size, high)], axis=1)
