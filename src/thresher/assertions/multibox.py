"""Multibox: three or more boxes piled on one object in one frame.

Non-maximum suppression should leave one box per object; several heavily overlapping boxes
mean the detector is unsure what (or how many) it sees. Boxes of a frame are grouped by
their overlaps (single linkage: IoU >= `iou` between any two members chains them), and
groups of at least `min_boxes` boxes are flagged.
"""

from __future__ import annotations

import numpy as np

from thresher.assertions._neighbours import BoxIndex, check_rows, group_sum, pair_iou
from thresher.assertions._tracks import majority
from thresher.assertions.result import AssertionResult, make_result
from thresher.detections import Detections
from thresher.errors import UsageError
from thresher.frames import Frames


def multibox(
    detections: Detections,
    frames: Frames,
    *,
    iou: float = 0.5,
    min_boxes: int = 3,
    class_aware: bool = False,
) -> AssertionResult:
    """Frames with groups of >= `min_boxes` boxes that overlap with IoU >= `iou`.

    Class-agnostic by default: boxes of different classes on one object are the same
    confusion. With `class_aware`, only boxes of one class group together.

    Returns:
        `AssertionResult` named "multibox": severity per frame = sum of the scores of the
        surplus boxes (every box of a group but its most confident one; 0 = no group).
        Weak labels: one box per group, the most confident one's corners, with the group's
        majority class and score = the share of the group's boxes that have that class.

    Example (three nearly equal boxes on one object)::

        >>> from thresher import Detections, Frames
        >>> frames = Frames.build(["a.jpg"], width=640, height=480)
        >>> boxes = Detections(frame=[0, 0, 0], xyxy=[[10, 10, 60, 60], [12, 10, 62, 60], [10, 12, 60, 62]], score=[0.9, 0.5, 0.25], class_id=[0, 0, 1])
        >>> multibox(boxes, frames).severity["multibox"].tolist()
        [0.75]
    """
    if not 0 < iou <= 1:
        raise UsageError(f"iou: expected an IoU in (0, 1], got {iou!r}")
    if not isinstance(min_boxes, (int, np.integer)) or min_boxes < 2:
        raise UsageError(f"min_boxes: expected an integer >= 2, got {min_boxes!r}")
    check_rows(detections, frames)
    group = _overlap_groups(detections, BoxIndex.build(detections.frame, detections.xyxy, len(frames)), iou, class_aware)
    size = np.bincount(group, minlength=len(detections))
    member = np.flatnonzero(size[group] >= min_boxes)
    member = member[np.lexsort((-detections.score[member], group[member]))]  # best box first
    leader = np.r_[True, group[member][1:] != group[member][:-1]] if len(member) else np.zeros(0, bool)
    surplus = member[~leader]
    severity = group_sum(detections.frame[surplus], detections.score[surplus], len(frames))
    best = member[leader]
    winner, share = majority(group[member], detections.class_id[member], detections.score[member], len(detections))
    labels = Detections(
        frame=detections.frame[best],
        xyxy=detections.xyxy[best],
        score=share[group[best]],
        class_id=winner[group[best]],
    )
    return make_result("multibox", frames, severity, labels)


def _overlap_groups(detections: Detections, index: BoxIndex, iou: float, class_aware: bool) -> np.ndarray:
    """Per box, a group id: connected components of the same-frame overlap graph."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    firsts, seconds = [], []
    for rows in index.blocks():
        for q, row in index.candidates(detections.frame[rows], detections.xyxy[rows], iou):
            first = rows[q]
            ok = (first < row) & (pair_iou(detections.xyxy[first], detections.xyxy[row]) >= iou)
            if class_aware:
                ok &= detections.class_id[first] == detections.class_id[row]
            firsts.append(first[ok])
            seconds.append(row[ok])
    n = len(detections)
    first = np.concatenate(firsts) if firsts else np.zeros(0, dtype=np.int64)
    second = np.concatenate(seconds) if seconds else np.zeros(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(first)), (first, second)), shape=(n, n))
    return connected_components(graph, directed=False)[1].astype(np.int64)
