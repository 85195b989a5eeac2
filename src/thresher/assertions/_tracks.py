"""Linking boxes across frames: one-to-one matches between frames, tracks from links.

A track is a chain of boxes in consecutive frames of one video, each linked to the next by
the one-to-one matching of their two frames (maximum number of links, then maximum total
IoU, among pairs above the IoU threshold). Used by flicker (track ends and starts), appear
(short tracks) and class switch (a track whose class changes).
"""

from __future__ import annotations

import numpy as np

from thresher.assertions._neighbours import BoxIndex, pair_iou
from thresher.assertions._matching import one_to_one
from thresher.detections import Detections

_EMPTY = np.zeros(0, dtype=np.int64)
#: (group, class) cells counted in a dense table by `majority` (beyond: sorted pairs).
DENSE_CELLS = 1 << 22


def match_across(
    detections: Detections,
    index: BoxIndex,
    rows: np.ndarray,
    target_of_frame: np.ndarray,
    min_iou: float,
    class_aware: bool,
    allowed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-to-one matched (first, last, IoU) between the boxes `rows` and their target frames.

    Args:
        rows: detection rows of whole frames (all boxes of each frame they touch).
        target_of_frame: per frame row, the frame row to match against (-1 = none).
        min_iou: pairs need IoU >= this (and the same class when `class_aware`).
        allowed: optional boolean per detection row; only these may be matched as `last`.
    """
    target = target_of_frame[detections.frame[rows]]
    query = rows[target >= 0]
    target = target[target >= 0]
    firsts, lasts, ious = [], [], []
    for q, row in index.candidates(target, detections.xyxy[query], min_iou):
        first = query[q]
        iou = pair_iou(detections.xyxy[first], detections.xyxy[row])
        ok = iou >= min_iou
        if class_aware:
            ok &= detections.class_id[first] == detections.class_id[row]
        if allowed is not None:
            ok &= allowed[row]
        firsts.append(first[ok])
        lasts.append(row[ok])
        ious.append(iou[ok])
    if not firsts:
        return _EMPTY, _EMPTY, np.zeros(0)
    first, last, iou = np.concatenate(firsts), np.concatenate(lasts), np.concatenate(ious)
    keep = one_to_one(first, last, iou)
    return first[keep], last[keep], iou[keep]


def link_next(detections: Detections, index: BoxIndex, next_frame: np.ndarray, min_iou: float, class_aware: bool) -> np.ndarray:
    """Per detection row, the row of its linked box in the next frame, or -1."""
    successor = np.full(len(detections), -1, dtype=np.int64)
    for rows in index.blocks():
        first, last, _ = match_across(detections, index, rows, next_frame, min_iou, class_aware)
        successor[first] = last
    return successor


def track_ids(successor: np.ndarray) -> np.ndarray:
    """Per detection row, the row of the first box of its track (chains of `successor`)."""
    root = np.arange(len(successor))
    has = successor >= 0
    root[successor[has]] = np.flatnonzero(has)  # predecessor of each linked box
    while True:  # pointer jumping: log2(longest track) rounds
        jumped = root[root]
        if np.array_equal(jumped, root):
            return root
        root = jumped


def present(
    detections: Detections,
    index: BoxIndex,
    frame: np.ndarray,
    box: np.ndarray,
    class_id: np.ndarray | None,
    min_iou: float,
) -> np.ndarray:
    """Per query box: its frame has a box with IoU >= min_iou (of class `class_id` if given)."""
    found = np.zeros(len(frame), dtype=bool)
    for q, row in index.candidates(frame, box, min_iou):
        ok = pair_iou(box[q], detections.xyxy[row]) >= min_iou
        if class_id is not None:
            ok &= detections.class_id[row] == class_id[q]
        found[q[ok]] = True
    return found


def open_ends(successor: np.ndarray, next_frame_of_box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(end, start) masks: boxes with no link forward (though a next frame exists), and
    boxes with no link backward."""
    start = np.ones(len(successor), dtype=bool)
    start[successor[successor >= 0]] = False
    return (successor < 0) & (next_frame_of_box >= 0), start


def bridge(
    detections: Detections,
    index: BoxIndex,
    end: np.ndarray,
    start: np.ndarray,
    target_of_frame: np.ndarray,
    min_iou: float,
    class_aware: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matched (end, start) rows across a gap: track ends and the track starts
    of their target frames (IoU >= min_iou, same class when `class_aware`)."""
    ends = index.order[end[index.order]]  # in index order, so the window searches run in order
    first, last, _ = match_across(detections, index, ends, target_of_frame, min_iou, class_aware, allowed=start)
    return first, last


def majority(group: np.ndarray, class_id: np.ndarray, score: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group: the most frequent class (ties: the larger summed score, then the smaller
    id) and the share of the group's members that have it. Groups without members get -1, 0."""
    winner = np.full(n_groups, -1, dtype=np.int64)
    share = np.zeros(n_groups)
    if len(group) == 0:
        return winner, share
    classes, rank = _ranks(class_id)
    present = np.zeros(n_groups, dtype=bool)
    present[group] = True
    if int(present.sum()) * len(classes) <= DENSE_CELLS:
        return _dense_majority(group, present, classes, rank, score, winner, share)
    keys, inverse = np.unique(group * len(classes) + rank, return_inverse=True)
    pairs = np.stack([keys // len(classes), classes[keys % len(classes)]])
    count = np.bincount(inverse)
    total = np.bincount(inverse, weights=score)
    # sort (group, class) pairs so the best class of each group comes last, then take it
    order = np.lexsort((-pairs[1], total, count, pairs[0]))
    last = np.r_[pairs[0][order][1:] != pairs[0][order][:-1], True]
    best = order[last]
    winner[pairs[0][best]] = pairs[1][best]
    share[pairs[0][best]] = count[best] / np.bincount(group, minlength=n_groups)[pairs[0][best]]
    return winner, share


def _ranks(class_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct classes, rank of each value among them); a lookup for small ids."""
    if len(class_id) and class_id.min() >= 0 and class_id.max() < 1 << 16:
        seen = np.zeros(int(class_id.max()) + 1, dtype=bool)
        seen[class_id] = True
        classes = np.flatnonzero(seen)
        return classes, (np.cumsum(seen) - 1)[class_id]
    return np.unique(class_id, return_inverse=True)


def _dense_majority(group, present, classes, rank, score, winner, share):
    """`majority` with a (groups present) x (classes) table of counts and summed scores."""
    n_classes = len(classes)
    compact = (np.cumsum(present) - 1)[group]
    n_present = int(present.sum())
    cell = compact * n_classes + rank
    count = np.bincount(cell, minlength=n_present * n_classes).reshape(n_present, n_classes)
    total = np.bincount(cell, weights=score, minlength=n_present * n_classes).reshape(n_present, n_classes)
    # most members first, then the larger summed score; argmax takes the smaller id on a tie
    best = np.argmax(np.where(count == count.max(axis=1, keepdims=True), total, -np.inf), axis=1)
    rows = np.flatnonzero(present)
    winner[rows] = classes[best]
    share[rows] = count[np.arange(n_present), best] / count.sum(axis=1)
    return winner, share
