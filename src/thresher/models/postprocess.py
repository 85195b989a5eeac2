"""From a detector's dense outputs to kept boxes: candidates, per-class top-k, NMS, per-image cap.

Both built-in detectors end in the same shape of data: for a batch of N images, A candidate
boxes per image (anchors for SSD, grid cells for YOLO) and C class scores per box.
`select_boxes` keeps, vectorized over the whole batch, the (image, box, class) triples a
detection postprocessor keeps:

1. candidates: every (box, class) whose score is above `confidence` (`multi_label=True`, as
   TF-OD and Caffe's DetectionOutput do), or one per box, its best class (`multi_label=False`,
   as Ultralytics does by default); classes outside `allowed` never become candidates;
2. at most `max_candidates` per image and `top_k_per_class` per (image, class), best first;
3. greedy non-maximum suppression within each (image, class): a box is dropped when its IoU
   with a kept box of higher score exceeds `iou_threshold` (ties in score: lower box index first,
   as OpenCV's stable sort);
4. at most `max_per_image` kept boxes per image, best first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresher.boxes import iou
from thresher.errors import UsageError


@dataclass(frozen=True)
class Kept:
    """The kept triples, ordered by image then by decreasing score."""

    image: np.ndarray  # int64 (M,) position of the image in the batch
    box: np.ndarray  # int64 (M,) index of the candidate box (anchor) in its image
    column: np.ndarray  # int64 (M,) class column of the score matrix
    score: np.ndarray  # (M,) the class score that made the box a candidate


def select_boxes(
    boxes: np.ndarray,
    scores: np.ndarray,
    *,
    confidence: float,
    iou_threshold: float,
    allowed: np.ndarray | None = None,
    multi_label: bool = False,
    top_k_per_class: int | None = None,
    max_candidates: int | None = None,
    max_per_image: int | None = None,
) -> Kept:
    """Keep boxes from `boxes` (N, A, 4) xyxy and `scores` (N, A, C); see the module docstring.

    A candidate needs a score strictly above `confidence` (compared in the scores' dtype).
    IoU is invariant to scaling each axis, so boxes may be normalized or in pixels.
    """
    if not 0 <= iou_threshold <= 1:
        raise UsageError(f"nms_iou: expected a number in [0, 1], got {iou_threshold}")
    n_images, n_boxes, n_classes = scores.shape
    allowed = np.ones(n_classes, bool) if allowed is None else np.asarray(allowed, bool)
    image, box, column, score = _candidates(scores, np.asarray(confidence, scores.dtype), allowed, multi_label)
    if max_candidates is not None:
        keep = _rank_within(image, score, box) < max_candidates
        image, box, column, score = image[keep], box[keep], column[keep], score[keep]
    group = image * n_classes + column
    if top_k_per_class is not None:
        keep = _rank_within(group, score, box) < top_k_per_class
        image, box, column, score, group = image[keep], box[keep], column[keep], score[keep], group[keep]
    flat_boxes = boxes.reshape(-1, 4)[image * n_boxes + box].astype(np.float64)
    keep = greedy_nms(flat_boxes, score, group, box, iou_threshold)
    image, box, column, score = image[keep], box[keep], column[keep], score[keep]
    if max_per_image is not None:
        keep = _rank_within(image, score, box) < max_per_image
        image, box, column, score = image[keep], box[keep], column[keep], score[keep]
    order = np.lexsort((box, -score, image))
    return Kept(image=image[order], box=box[order], column=column[order], score=score[order])


def _candidates(scores: np.ndarray, confidence: np.ndarray, allowed: np.ndarray, multi_label: bool) -> tuple[np.ndarray, ...]:
    if multi_label:
        image, box, column = np.nonzero((scores > confidence) & allowed)
        return image, box, column, scores[image, box, column]
    image, box = np.nonzero(scores.max(axis=2) > confidence)  # max is far cheaper than argmax; few boxes pass
    best = scores[image, box].argmax(axis=1)
    best_score = scores[image, box, best]
    keep = allowed[best]
    return image[keep], box[keep], best[keep], best_score[keep]


def _rank_within(group: np.ndarray, score: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """0-based rank of each row within its group, by decreasing score then increasing `tie`."""
    order = np.lexsort((tie, -score, group))
    sorted_group = group[order]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order)) - first
    return rank


def greedy_nms(boxes: np.ndarray, score: np.ndarray, group: np.ndarray, tie: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices of the boxes kept by greedy NMS within each group, in decreasing score order.

    Boxes of different groups never suppress each other; a box is suppressed when its IoU
    with an already kept box of its group is strictly above `iou_threshold`.
    One iteration per kept box, each over the boxes still in play.
    """
    order = np.lexsort((tie, -score))
    kept = []
    while order.size:
        best, rest = order[0], order[1:]
        kept.append(best)
        same = np.flatnonzero(group[rest] == group[best])
        if same.size == 0:
            order = rest
            continue
        rival = rest[same]
        overlap = iou(boxes[best], boxes[rival])
        alive = np.ones(rest.size, bool)
        alive[same[overlap > iou_threshold]] = False
        order = rest[alive]
    return np.asarray(kept, dtype=np.int64)
