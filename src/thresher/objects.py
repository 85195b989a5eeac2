"""Object crops: one sample per predicted box, cut from its frame with padding (seed 001).

`padding` is relative to the box: 0.1 adds 10 % to the width and to the height, around the
box's centre; the padded box is clipped to the image and rounded outward to whole pixels.
Crop names follow the frames' convention (thresher's, Lightly publishes none):
`<parent name without extension>-<index of the box in the parent's predictions>-<parent extension>.png`,
e.g. `img/a-3-jpg.png`, `clips/bikes-012-mp4-0-png.png`.
"""

from __future__ import annotations

import posixpath

import numpy as np

from thresher.boxes import pad, pixel_boxes, wh
from thresher.detections import Detections
from thresher.errors import UsageError
from thresher.frames import Frames


def crop_name(parent: str, index: int) -> str:
    stem, ext = posixpath.splitext(parent)
    return f"{stem}-{index}-{ext[1:]}.png"


def box_index_in_frame(detections: Detections) -> np.ndarray:
    """Position of each box among the boxes of its frame, in table order."""
    order = np.argsort(detections.frame, kind="stable")
    sorted_frames = detections.frame[order]
    starts = np.searchsorted(sorted_frames, sorted_frames, side="left")
    index = np.empty(len(order), dtype=np.int64)
    index[order] = np.arange(len(order)) - starts
    return index


OBJECT_COLUMNS = ("x1", "y1", "x2", "y2", "class", "score")


def object_columns(detections: Detections, names: dict[int, str]) -> dict[str, np.ndarray]:
    """What each box is, one value per box in row order: `x1 y1 x2 y2` (pixels of its frame, the
    predicted box before any padding), `class` (its name in `names`, else its id) and `score`
    (the detector's confidence). The columns `selection.csv` and `thresher score --objects`
    write for each object.

    Corners and scores are float32, the precision detectors compute them in: a CSV shows a
    corner of 12.3 as `12.3`, and x + w of a Lightly [x, y, w, h] box without float64's last
    digit (`12.3 + 100.1` is `112.4`, not `112.39999999999999`; `thresher.io.csv_cells`).

    >>> boxes = Detections(frame=[0], xyxy=[[10, 20, 60, 90]], score=[0.75], class_id=[3])
    >>> {k: v.tolist() for k, v in object_columns(boxes, {3: "car"}).items()}
    {'x1': [10.0], 'y1': [20.0], 'x2': [60.0], 'y2': [90.0], 'class': ['car'], 'score': [0.75]}
    """
    xyxy = np.asarray(detections.xyxy, dtype=np.float32).reshape(-1, 4)
    labels = np.array([names.get(c, str(c)) for c in detections.class_id.tolist()], dtype=str)
    columns = {name: xyxy[:, k] for k, name in enumerate(OBJECT_COLUMNS[:4])}
    return {**columns, "class": labels, "score": np.asarray(detections.score, dtype=np.float32)}


def crop_boxes(frames: Frames, detections: Detections, padding: float = 0.0) -> np.ndarray:
    """(M, 4) int64 pixel boxes x0, y0, x1, y1 of the crops: padded, clipped, at least 1 px."""
    if padding < 0:
        raise UsageError(f"padding: expected a fraction >= 0 of the box size, got {padding}")
    width = frames.width[detections.frame].astype(np.float64)
    height = frames.height[detections.frame].astype(np.float64)
    if len(detections) and ((width <= 0) | (height <= 0)).any():
        raise UsageError("crop_boxes: the frames' width and height must be known (enumerate the datasource)")
    return pixel_boxes(pad(detections.xyxy, padding), width, height)


def crop_frames(frames: Frames, detections: Detections, padding: float = 0.0) -> tuple[Frames, np.ndarray]:
    """The crops as samples (kind "crop", parent_id = the frame's id) and their pixel boxes."""
    boxes = crop_boxes(frames, detections, padding)
    index = box_index_in_frame(detections)
    parents = frames.id[detections.frame]
    names = [crop_name(p, i) for p, i in zip(parents.tolist(), index.tolist())]
    size = wh(boxes)  # whole pixels
    crops = Frames.build(
        names,
        kind="crop",
        video=frames.video[detections.frame],
        frame_index=frames.frame_index[detections.frame],
        parent_id=parents,
        width=size[:, 0],
        height=size[:, 1],
    )
    return crops, boxes


def cut(image: np.ndarray, boxes: np.ndarray) -> list[np.ndarray]:
    """The pixels of each integer box of one image."""
    return [image[y0:y1, x0:x1] for x0, y0, x1, y1 in boxes.tolist()]
