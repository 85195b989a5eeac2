"""Pixels of one catalog sample for the app: an image, a video frame, or a crop of one."""

from __future__ import annotations

import numpy as np

from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.images import load_rgb
from thresher.report.thumbs import jpeg_thumbnail


def frame_pixels(source: Datasource, row: Frames) -> np.ndarray:
    """RGB pixels of the one image or frame in `row` (video indexes are kept by the datasource
    while the video is unchanged)."""
    name = str(row.video[0])
    if row.kind[0] == "image":
        return load_rgb(source.input.read_bytes(name), name)
    from thresher.io.video import VideoReader

    with VideoReader(source.input, name, info=source.video_infos.get(name)) as reader:
        return reader[int(row.frame_index[0])]


def _crop_box(view, sample_id: str) -> np.ndarray | None:
    row = view.row_of.get(sample_id) if view is not None else None
    return view.data.sample_box[row] if row is not None and view.data.sample_box is not None else None


def sample_jpeg(state, row: Frames, parent: Frames | None, side: int, view=None) -> bytes:
    """JPEG of the sample (longer side `side`) from the datasource of `view`, the run it is
    shown for (`view_holding`); a crop is cut from its parent frame by that run's box."""
    from thresher.app.state import NotFound, datasource_of

    if parent is None and side == 200:
        thumbs = view.data.thumbnails if view is not None else None
        if thumbs is not None and str(row.id[0]) in thumbs.frame_id:
            return thumbs.jpeg(int(np.flatnonzero(thumbs.frame_id == str(row.id[0]))[0]))
    source = datasource_of(state, view)
    if parent is None:
        return jpeg_thumbnail(frame_pixels(source, row), side, quality=80)
    box = _crop_box(view, str(row.id[0]))
    if box is None:
        raise NotFound(f"crop {str(row.id[0])!r}: no run bundle holds its box")
    pixels = frame_pixels(source, parent)
    x0, y0, x1, y1 = np.round(box).astype(int).tolist()
    return jpeg_thumbnail(pixels[max(y0, 0) : y1, max(x0, 0) : x1], side, quality=80)
