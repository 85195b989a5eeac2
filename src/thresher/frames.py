"""`Frames`: the sample identity table, one row per image, video frame or object crop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from thresher.errors import SchemaError
from thresher.table import Table, as_str_array, column

if TYPE_CHECKING:
    from thresher.table import Column

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

    Rows, `concat`, `empty`, `replace`, `index_of` and `align` (by id) as every
    `thresher.table.Table`.

    >>> frames = Frames.build(["a.jpg", "b.jpg"], width=[640, 1280], height=480)
    >>> frames[frames.width > 1000].id.tolist(), frames.index_of(["b.jpg"]).tolist()
    (['b.jpg'], [1])
    """

    _key = "id"

    id: Column = column(str)
    kind: Column = column(str)
    file_name: Column = column(str)
    video: Column = column(str)
    frame_index: Column = column(np.int64)
    parent_id: Column = column(str)
    width: Column = column(np.int64)
    height: Column = column(np.int64)

    def _check(self) -> None:
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
        id: ArrayLike,
        *,
        kind: ArrayLike = "image",
        file_name: ArrayLike | None = None,
        video: ArrayLike | None = None,
        frame_index: ArrayLike = 0,
        parent_id: ArrayLike = "",
        width: ArrayLike = 0,
        height: ArrayLike = 0,
    ) -> "Frames":
        """Build from columns, broadcasting scalars; file_name and video default to the id."""
        ids = as_str_array(id, "Frames.id")
        n = len(ids)

        def full(value: ArrayLike | None, default: ArrayLike) -> np.ndarray:
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
