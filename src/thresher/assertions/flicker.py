"""Flicker: an object seen before and after a short gap but not during it.

Three entry points over one engine:

- `flicker`: the better assertion. Gaps of 1..`max_gap` frames, class-aware or agnostic,
  one-to-one (Hungarian) matching of the track ends before and track starts after the gap,
  linear interpolation across it, severity = sum of the confidences of the missing boxes.
- `seed_flicker`: seed 000's algorithm (window 3, all pairs above the IoU threshold, int32
  arithmetic) over `Detections`, bit for bit, with its per-frame counter defect fixed.
- `compute_flickering_assertion`: seed 000's function signature and return values, on its
  `predictions_list`.

Frames are only compared when truly consecutive in their video (same `Frames.video`,
`frame_index` differing by exactly 1).
"""

from __future__ import annotations

import numpy as np

from thresher.assertions._engine import BoxIndex, check_rows, group_sum, later_rows, video_order
from thresher.assertions._exact import seed_pairs
from thresher.assertions._tracks import bridge, link_next, open_ends, present
from thresher.assertions._predictions import from_predictions_list
from thresher.assertions.result import AssertionResult, make_result
from thresher.detections import Detections
from thresher.errors import UsageError
from thresher.frames import Frames


def flicker(
    detections: Detections,
    frames: Frames,
    *,
    max_gap: int = 1,
    match_iou: float = 0.5,
    present_iou: float = 0.5,
    class_aware: bool = True,
) -> AssertionResult:
    """Frames where an object is missing between two frames that both show it.

    Boxes of consecutive frames are linked one to one (maximum number of links, then
    maximum total IoU, among pairs with IoU >= `match_iou` and, when `class_aware`, the same
    class). A box with no link forward ends a track, one with no link backward starts one.
    For gap lengths g = 1..`max_gap` in turn, track ends in frame t are matched one to one
    with track starts in frame t + g + 1 (same video, all frames between present) by the
    same rule. A matched pair is a flicker when, in every frame between, no box (of the same
    class when `class_aware`) has IoU >= `present_iou` with the box linearly interpolated
    between the two ends; each end joins at most one flicker. Every interpolated box of a
    flicker is a weak label, with score = the smaller of the two end scores and the class of
    the more confident end.

    Returns:
        `AssertionResult` named "flicker": severity per frame = sum of the scores of its
        imputed boxes (0 = no missing box; higher = more, or more confident, missing boxes).
    """
    _check_flicker_args(max_gap, match_iou, present_iou)
    check_rows(detections, frames)
    order = video_order(frames)
    step = [later_rows(frames, k, order) for k in range(max_gap + 2)]
    index = BoxIndex.build(detections.frame, detections.xyxy, len(frames))
    successor = link_next(detections, index, step[1], match_iou, class_aware)
    end, start = open_ends(successor, step[1][detections.frame])
    parts = []
    for gap in range(1, max_gap + 1):
        first, last = _gap_ends(detections, index, step, gap, end, start, match_iou, present_iou, class_aware)
        end[first] = False
        start[last] = False
        parts.append(_interpolated(detections, step, gap, first, last))
    imputed = Detections.concat(parts).sorted_by_frame()
    severity = group_sum(imputed.frame, imputed.score, len(frames))
    return make_result("flicker", frames, severity, imputed)


def seed_flicker(
    detections: Detections,
    frames: Frames,
    iou_thresh_tracking: float = 0.9,
    iou_thresh_assertion: float = 0.6,
) -> AssertionResult:
    """Seed 000's flicker over `Detections`: the same flags and imputed boxes, in its order.

    Class and score are ignored, as in the seed. Severity per frame = number of asserting
    (prev, next) pairs, so `result.flagged` is the seed's boolean list (with the seed's
    counter defect fixed: a frame is flagged only by its own pairs). Weak labels: the
    truncated integer mean boxes, score = the smaller end score, class of the previous box.
    """
    middle, prev, nxt, mean = seed_pairs(detections, frames, iou_thresh_tracking, iou_thresh_assertion)
    imputed = Detections(
        frame=middle,
        xyxy=mean.astype(np.float64),
        score=np.minimum(detections.score[prev], detections.score[nxt]),
        class_id=detections.class_id[prev],
    )
    severity = np.bincount(middle, minlength=len(frames)).astype(np.float64)
    return make_result("flicker", frames, severity, imputed)


def compute_flickering_assertion(
    predictions_list: list,
    iou_thresh_tracking: float = 0.9,
    iou_thresh_assertion: float = 0.6,
) -> tuple[list[bool], list[list]]:
    """Seed 000's `compute_flickering_assertion`, same arguments, same results, vectorized.

    Args:
        predictions_list: one dict per frame of one video, in order, each with
            `predictions`: a list of `{"bbox": [x, y, w, h], ...}` in pixels
            (`category_id` and `score` are ignored, as in the seed).
        iou_thresh_tracking: a previous and a next box are the same object when their IoU
            is > this.
        iou_thresh_assertion: the object is missing in the middle frame when every box
            there has IoU < this with the mean of the two.

    Returns:
        (flags, imputed): a bool per frame (True = flickering), and per frame the list of
        imputed boxes, each exactly as the seed appends it: `[[x0, y0, x1, y1]]` (ints, the
        truncated mean box, wrapped in a list as the seed's `tolist()` of a 1x4 tensor does),
        one per asserting (prev, next) pair in the seed's order.
    """
    detections, frames = from_predictions_list(predictions_list)
    middle, _, _, mean = seed_pairs(detections, frames, iou_thresh_tracking, iou_thresh_assertion)
    n_frames = len(frames)
    flags = np.zeros(n_frames, dtype=bool)
    flags[middle] = True
    boxes = mean[:, None, :].tolist()
    ends = np.cumsum(np.bincount(middle, minlength=n_frames)).tolist()
    starts = [0, *ends[:-1]]
    return flags.tolist(), [boxes[s:e] for s, e in zip(starts, ends)]


def _check_flicker_args(max_gap: int, match_iou: float, present_iou: float) -> None:
    if not isinstance(max_gap, (int, np.integer)) or isinstance(max_gap, bool) or max_gap < 1:
        raise UsageError(f"max_gap: expected an integer >= 1 (frames missing in a row), got {max_gap!r}")
    for name, value in (("match_iou", match_iou), ("present_iou", present_iou)):
        if not 0 < value <= 1:
            raise UsageError(f"{name}: expected an IoU in (0, 1], got {value!r}")


def _gap_ends(
    detections: Detections,
    index: BoxIndex,
    step: list[np.ndarray],
    gap: int,
    end: np.ndarray,
    start: np.ndarray,
    match_iou: float,
    present_iou: float,
    class_aware: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) rows of the track ends and starts `gap` + 1 frames apart that match,
    with the object absent from every frame between."""
    first, last = bridge(detections, index, end, start, step[gap + 1], match_iou, class_aware)
    missing = np.ones(len(first), dtype=bool)
    class_id = detections.class_id[first] if class_aware else None
    for k in range(1, gap + 1):  # stop looking at a pair once the object is found
        todo = np.flatnonzero(missing)
        frame = step[k][detections.frame[first[todo]]]
        box = _between(detections, first[todo], last[todo], k / (gap + 1))
        found = present(detections, index, frame, box, None if class_id is None else class_id[todo], present_iou)
        missing[todo[found]] = False
    return first[missing], last[missing]


def _between(detections: Detections, first: np.ndarray, last: np.ndarray, fraction: float) -> np.ndarray:
    """Boxes linearly interpolated `fraction` of the way from `first` to `last`."""
    start = detections.xyxy[first]
    return start + (detections.xyxy[last] - start) * fraction


def _interpolated(detections: Detections, step: list[np.ndarray], gap: int, first: np.ndarray, last: np.ndarray) -> Detections:
    """The `gap` imputed boxes of each (first, last) pair, one per frame between."""
    score = np.minimum(detections.score[first], detections.score[last])
    surer = np.where(detections.score[first] >= detections.score[last], first, last)
    ks = range(1, gap + 1)
    return Detections(
        frame=np.concatenate([step[k][detections.frame[first]] for k in ks]),
        xyxy=np.concatenate([_between(detections, first, last, k / (gap + 1)) for k in ks]).reshape(-1, 4),
        score=np.tile(score, gap),
        class_id=np.tile(detections.class_id[surer], gap),
    )
