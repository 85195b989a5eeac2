"""Which boxes may carry a track, and when a frame shows an object: flicker's two box tests.

- `track_boxes`: boxes that may start, continue or end a track. A box larger than
  `max_box_share` of its frame (a box merged over several objects, or a frame-filling
  close-up) is left out, and so is a *duplicate*: a box whose area lies at least
  `duplicate_coverage` inside a box of the same frame with a higher score (the loose second
  box a detector often puts beside a tight one; `duplicate_coverage` = 0 keeps them). Duplicates
  are looked for among the boxes that are not too large, so a small object inside a
  frame-filling box keeps its track.
- `present`: per imputed box, some box of its frame (any box, too large or duplicate alike)
  overlaps it enough. With `measure="iou"`, IoU >= `overlap`. With `measure="coverage"`, the
  smaller of the two boxes lies at least `overlap` inside the other (intersection over the
  smaller area) and is at least `min_ratio` of the larger's area: a tight box inside a loose
  imputed box, or the reverse, is the same object; a person in front of a missed bus (a
  few per cent of its area) is not.

Both compare boxes regardless of class unless `class_aware`.
"""

from __future__ import annotations

import numpy as np

from thresher.assertions._neighbours import BoxIndex
from thresher.boxes import area, contained, intersection, iou
from thresher.detections import Detections
from thresher.frames import Frames

MEASURES = ("coverage", "iou")


def box_share(detections: Detections, frames: Frames) -> np.ndarray:
    """Area of each box over its frame's area (0 where the frame's size is unknown)."""
    width = frames.width[detections.frame].astype(np.float64)
    height = frames.height[detections.frame].astype(np.float64)
    size = width * height
    return np.divide(area(detections.xyxy), size, out=np.zeros(len(detections)), where=size > 0)


def track_boxes(
    detections: Detections,
    frames: Frames,
    index: BoxIndex,
    duplicate_coverage: float,
    max_box_share: float,
    class_aware: bool,
) -> np.ndarray:
    """Boolean per box: it may carry a track (not too large, not a duplicate); see the module.

    index: the `BoxIndex` of `detections`.
    """
    keep = box_share(detections, frames) <= max_box_share
    if duplicate_coverage > 0:  # 0 keeps duplicates
        keep &= ~_duplicates(detections, index, keep, duplicate_coverage, class_aware)
    return keep


def _duplicates(detections: Detections, index: BoxIndex, eligible: np.ndarray, coverage: float, class_aware: bool) -> np.ndarray:
    """Boolean per box: an eligible box with at least `coverage` of its area inside a better
    eligible box of its frame (higher score; on equal scores, the earlier row)."""
    duplicate = np.zeros(len(detections), dtype=bool)
    score = detections.score
    for rows in index.blocks():
        rows = rows[eligible[rows]]
        # `coverage` of the area inside another box needs that much of the width inside it
        for q, other in index.overlap_candidates(detections.frame[rows], detections.xyxy[rows], coverage):
            box = rows[q]
            better = eligible[other] & ((score[other] > score[box]) | ((score[other] == score[box]) & (other < box)))
            if class_aware:
                better &= detections.class_id[other] == detections.class_id[box]
            box, other = box[better], other[better]
            duplicate[box[contained(detections.xyxy[box], detections.xyxy[other], coverage)]] = True
    return duplicate


def present(
    detections: Detections,
    index: BoxIndex,
    frame: np.ndarray,
    box: np.ndarray,
    class_id: np.ndarray | None,
    measure: str,
    overlap: float,
    min_ratio: float,
) -> np.ndarray:
    """Per query box (row of `frames` in `frame`, xyxy in `box`): its frame shows the object.

    `index` indexes `detections` (every box of the frames); `class_id`, when given, limits
    the boxes that count to the query's class. See the module docstring for the measures.
    """
    found = np.zeros(len(frame), dtype=bool)
    pairs = index.candidates(frame, box, overlap) if measure == "iou" else index.overlap_candidates(frame, box)
    for q, row in pairs:
        other = detections.xyxy[row]
        if measure == "iou":
            ok = iou(box[q], other) >= overlap
        else:
            small = np.minimum(area(box[q]), area(other))
            large = np.maximum(area(box[q]), area(other))
            inter = intersection(box[q], other)
            ok = (small > 0) & (inter >= overlap * small) & (small >= min_ratio * large)
        if class_id is not None:
            ok &= detections.class_id[row] == class_id[q]
        found[q[ok]] = True
    return found
