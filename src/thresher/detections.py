"""`Detections`: the boxes of any number of frames as one columnar table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from thresher.boxes import ordered, xywh_to_xyxy, xyxy_to_xywh
from thresher.errors import SchemaError
from thresher.table import Table, column

if TYPE_CHECKING:
    from thresher.table import Column, OptionalColumn


@dataclass(frozen=True, eq=False)
class Detections(Table):
    """One row per predicted box, over any number of frames.

    Columns:
        frame: int64 row of the `Frames` table the box belongs to.
        xyxy: float64 (M, 4) corners x0, y0, x1, y1 in pixels (x0 <= x1, y0 <= y1).
        score: float64 detector confidence, higher = more confident.
        class_id: int64 category id as in the task's schema.
        probs: optional float64 (M, K) class probabilities, one column per category of the
            task's schema in ascending id order.
        box_std: optional float64 (M, 4) predicted aleatoric std of each corner, in pixels.
        track_id: optional int64 identity of the object across frames (-1 = none).
        box_spread: optional float64 (M, 4) epistemic spread of each corner over several passes
            (MC dropout, test-time augmentation), in pixels (`thresher.scorers.fuse_passes`).
        class_spread: optional float64 (M,) epistemic spread of the class probabilities over the
            passes (mean over classes of their standard deviation).

    Rows, `concat`, `empty` and `replace` as every `thresher.table.Table` (boxes have no
    sample id: select them by mask, e.g. `detections[np.isin(detections.frame, rows)]`).

    >>> boxes = Detections(frame=[0, 0, 1], xyxy=[[0, 0, 2, 2], [1, 1, 3, 3], [0, 0, 1, 1]], score=[0.9, 0.2, 0.7], class_id=[1, 1, 2])
    >>> boxes[boxes.score > 0.5].replace(frame=[7, 8]).frame
    array([7, 8])
    """

    frame: Column = column(np.int64)
    xyxy: Column = column(np.float64, width=4)
    score: Column = column(np.float64)
    class_id: Column = column(np.int64)
    probs: OptionalColumn = column(np.float64, ndim=2, optional=True)
    box_std: OptionalColumn = column(np.float64, width=4, optional=True)
    track_id: OptionalColumn = column(np.int64, optional=True)
    box_spread: OptionalColumn = column(np.float64, width=4, optional=True)
    class_spread: OptionalColumn = column(np.float64, optional=True)

    def _check(self) -> None:
        if not np.isfinite(self.xyxy).all():
            raise SchemaError("Detections.xyxy: expected finite coordinates, got NaN or inf")
        if not ordered(self.xyxy).all():
            raise SchemaError("Detections.xyxy: expected x0 <= x1 and y0 <= y1")
        if np.isnan(self.score).any():
            raise SchemaError("Detections.score: expected numbers, got NaN")
        if (self.frame < 0).any():
            raise SchemaError("Detections.frame: expected rows >= 0")

    @classmethod
    def empty(cls, n_classes: int | None = None) -> "Detections":
        """Zero boxes; with `n_classes`, an empty (0, n_classes) probs column too."""
        empty = super().empty()
        return empty if n_classes is None else empty.replace(probs=np.zeros((0, n_classes)))

    @classmethod
    def from_xywh(cls, frame: ArrayLike, xywh: ArrayLike, score: ArrayLike, class_id: ArrayLike, **optional: ArrayLike | None) -> "Detections":
        """Build from top-left x, y, width, height boxes (the COCO and Lightly bbox)."""
        return cls(frame=frame, xyxy=xywh_to_xyxy(xywh), score=score, class_id=class_id, **optional)

    @property
    def xywh(self) -> np.ndarray:
        """(M, 4) top-left x, y, width, height in pixels."""
        return xyxy_to_xywh(self.xyxy)

    def counts_per_frame(self, n_frames: int) -> np.ndarray:
        """Number of boxes of each of the `n_frames` frames (int64, length n_frames)."""
        return np.bincount(self.frame, minlength=n_frames)[:n_frames]

    def sorted_by_frame(self) -> "Detections":
        """The same boxes, stably sorted by frame (the order within a frame is kept)."""
        return self[np.argsort(self.frame, kind="stable")]
