"""`Frames`: the sample identity table, one row per image, video frame or object crop."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresher._table import Table, as_array, as_str_array, column, lookup
from thresher.errors import SchemaError

KINDS = ("image", "frame", "crop")


@dataclass(frozen=True, eq=False)
class Frames(Table):
    """One row per sample. An image is a video of one frame, so both share one code path.

    Columns:
        id: unique sample id; for images and frames the Lightly file name
            (`img/a.jpg`, `clips/bikes-012-mp4.png`).
        kind: "image", "frame" or "crop".
        file_name: the Lightly name of the sample, relative to the datasource.
        video: the file the pixels come from, relative to the datasource: the video of a
            frame, the image itself for an image, the parent's file for a crop.
        frame_index: 0-based index of the frame in its video (0 for images).
        parent_id: the frame a crop was cut from ("" for images and frames).
        width, height: pixels after EXIF rotation (0 when unknown).
    """

    id: np.ndarray = column()
    kind: np.ndarray = column()
    file_name: np.ndarray = column()
    video: np.ndarray = column()
    frame_index: np.ndarray = column()
    parent_id: np.ndarray = column()
    width: np.ndarray = column()
    height: np.ndarray = column()

    def __post_init__(self) -> None:
        for name in ("id", "kind", "file_name", "video", "parent_id"):
            object.__setattr__(self, name, as_str_array(getattr(self, name), f"Frames.{name}"))
        for name in ("frame_index", "width", "height"):
            object.__setattr__(self, name, as_array(getattr(self, name), f"Frames.{name}", np.int64, 1))
        self._check_lengths()
        self._check_values()

    def _check_values(self) -> None:
        bad_kind = ~np.isin(self.kind, KINDS)
        if bad_kind.any():
            raise SchemaError(f"Frames.kind: expected one of {KINDS}, got {str(self.kind[bad_kind][0])!r}")
        if (self.frame_index < 0).any() or (self.width < 0).any() or (self.height < 0).any():
            raise SchemaError("Frames: frame_index, width and height must be >= 0")
        if len(np.unique(self.id)) != len(self.id):
            ids, counts = np.unique(self.id, return_counts=True)
            raise SchemaError(f"Frames.id: ids must be unique, {str(ids[counts > 1][0])!r} repeats")

    @classmethod
    def build(
        cls,
        id: object,
        *,
        kind: object = "image",
        file_name: object = None,
        video: object = None,
        frame_index: object = 0,
        parent_id: object = "",
        width: object = 0,
        height: object = 0,
    ) -> "Frames":
        """Build from columns, broadcasting scalars; file_name and video default to the id."""
        ids = as_str_array(id, "Frames.id")
        n = len(ids)

        def full(value: object, default: object) -> np.ndarray:
            value = default if value is None else value
            return np.broadcast_to(np.asarray(value), (n,)).copy()

        return cls(
            id=ids,
            kind=full(kind, "image"),
            file_name=full(file_name, ids),
            video=full(video, ids),
            frame_index=full(frame_index, 0),
            parent_id=full(parent_id, ""),
            width=full(width, 0),
            height=full(height, 0),
        )

    @classmethod
    def empty(cls) -> "Frames":
        return cls.build(np.zeros(0, dtype="<U1"))

    def index_of(self, ids: object) -> np.ndarray:
        """Row of each id (int64); raises SchemaError naming the first unknown id."""
        ids = as_str_array(ids, "ids")
        rows, found = lookup(self.id, ids)
        if not found.all():
            raise SchemaError(f"Frames: unknown sample id {str(ids[~found][0])!r}")
        return rows
