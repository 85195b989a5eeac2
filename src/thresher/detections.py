"""`Detections`: the boxes of any number of frames as one columnar table."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from thresher._table import Table, as_array, column
from thresher.boxes import xywh_to_xyxy, xyxy_to_xywh
from thresher.errors import SchemaError


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
    """

    frame: np.ndarray = column()
    xyxy: np.ndarray = column()
    score: np.ndarray = column()
    class_id: np.ndarray = column()
    probs: np.ndarray | None = column(optional=True)
    box_std: np.ndarray | None = column(optional=True)
    track_id: np.ndarray | None = column(optional=True)
    box_spread: np.ndarray | None = column(optional=True)
    class_spread: np.ndarray | None = column(optional=True)

    def __post_init__(self) -> None:
        self._coerce("frame", np.int64, 1)
        self._coerce("xyxy", np.float64, 2)
        self._coerce("score", np.float64, 1)
        self._coerce("class_id", np.int64, 1)
        optional = (("probs", np.float64, 2), ("box_std", np.float64, 2), ("track_id", np.int64, 1), ("box_spread", np.float64, 2), ("class_spread", np.float64, 1))
        for name, dtype, ndim in optional:
            if getattr(self, name) is not None:
                self._coerce(name, dtype, ndim)
        self._check_lengths()
        self._check_values()

    def _coerce(self, name: str, dtype: type, ndim: int) -> None:
        value = getattr(self, name)
        if name in ("xyxy", "box_std", "box_spread") and np.size(value) == 0:
            value = np.zeros((0, 4))  # [] has no second dimension to check
        object.__setattr__(self, name, as_array(value, f"Detections.{name}", dtype, ndim))

    def _check_values(self) -> None:
        for name in ("xyxy", "box_std", "box_spread"):
            value = getattr(self, name)
            if value is not None and value.shape[1] != 4:
                raise SchemaError(f"Detections.{name}: expected shape (M, 4), got {value.shape}")
        if not np.isfinite(self.xyxy).all():
            raise SchemaError("Detections.xyxy: expected finite coordinates, got NaN or inf")
        if (self.xyxy[:, 2] < self.xyxy[:, 0]).any() or (self.xyxy[:, 3] < self.xyxy[:, 1]).any():
            raise SchemaError("Detections.xyxy: expected x0 <= x1 and y0 <= y1")
        if np.isnan(self.score).any():
            raise SchemaError("Detections.score: expected numbers, got NaN")
        if (self.frame < 0).any():
            raise SchemaError("Detections.frame: expected rows >= 0")

    @classmethod
    def empty(cls, n_classes: int | None = None) -> "Detections":
        """Zero boxes; with `n_classes`, an empty (0, n_classes) probs column too."""
        probs = None if n_classes is None else np.zeros((0, n_classes))
        return cls(frame=np.zeros(0), xyxy=np.zeros((0, 4)), score=np.zeros(0), class_id=np.zeros(0), probs=probs)

    def replace(self, **columns: object) -> "Detections":
        """The same boxes with some columns replaced (every other column kept, optional ones
        included), checked again.

        >>> Detections(frame=[0], xyxy=[[0, 0, 2, 2]], score=[0.5], class_id=[1]).replace(frame=[7]).frame
        array([7])
        """
        return dataclasses.replace(self, **columns)

    @classmethod
    def from_xywh(cls, frame: object, xywh: object, score: object, class_id: object, **optional: object) -> "Detections":
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
