"""Flicker: an object seen before and after a short gap but not during it.

The default `flicker` is built to point at real misses (docs/assertions.md has the audit that
chose its defaults); `seed_flicker` and `compute_flickering_assertion` are seed 000's exact
algorithm (`thresher.assertions.seed000`), re-exported here.

How `flicker` decides, in order:

1. Boxes that may carry a track: not larger than `max_box_share` of the frame, not a
   duplicate (`duplicate_coverage` of their area inside a higher-score box of the frame).
2. Tracks: those boxes are linked one to one between consecutive frames of a video (most
   links, then the largest total IoU, among pairs with IoU >= `match_iou`), whatever their
   class.
3. Gaps: for g = 1..`max_gap`, a track that ends in frame t is joined one to one, by the
   same rule, to a track that starts in frame t + g + 1.
4. Presence: the object is missing from a frame of the gap when no box of that frame (any
   box) overlaps the box interpolated there, by `presence` ("coverage": the smaller box lies
   `present_overlap` inside the other and has `present_min_ratio` of its area; "iou": IoU
   >= `present_overlap`). A joined pair is a flicker when the object is missing from every
   frame of its gap.
5. Each frame of a flicker's gap gets an imputed box: the interpolated box, with the
   majority class of the joined track and score = the smaller of the two end scores.

A class change along a track is not a flicker (it is what `class_switch` reports). With
`class_aware=True`, links, joins and presence only count boxes of the same class.

    >>> from thresher import Detections, Frames
    >>> frames = Frames.build(["v-0", "v-1", "v-2"], kind="frame", video="v", frame_index=[0, 1, 2])
    >>> car = Detections(frame=[0, 2], xyxy=[[10, 10, 60, 40], [14, 10, 64, 40]], score=[0.8, 0.6], class_id=[3, 3])
    >>> result = flicker(car, frames)
    >>> result.values.tolist(), result.weak_labels.xyxy.tolist()
    ([0.0, 0.6, 0.0], [[12.0, 10.0, 62.0, 40.0]])
"""

from __future__ import annotations

import numpy as np

from thresher.assertions._neighbours import BoxIndex, check_rows, group_sum, later_rows, video_order
from thresher.assertions._presence import MEASURES, present, track_boxes
from thresher.assertions._tracks import bridge, link_next, majority, open_ends, track_ids
from thresher.assertions.result import AssertionResult, make_result
from thresher.assertions.seed000 import compute_flickering_assertion, seed_flicker
from thresher.detections import Detections
from thresher.errors import UsageError, did_you_mean
from thresher.frames import Frames

__all__ = ["compute_flickering_assertion", "flicker", "seed_flicker"]


def flicker(
    detections: Detections,
    frames: Frames,
    *,
    max_gap: int = 1,
    match_iou: float = 0.5,
    presence: str = "coverage",
    present_overlap: float = 0.7,
    present_min_ratio: float = 0.1,
    duplicate_coverage: float = 0.8,
    max_box_share: float = 0.6,
    class_aware: bool = False,
) -> AssertionResult:
    """Frames where a tracked object is missing between two frames that show it.

    Args (see the module docstring for how they combine):
        max_gap: longest run of frames an object may be missing for (>= 1).
        match_iou: IoU linking boxes of consecutive frames, and across a gap, in (0, 1].
        presence: "coverage" or "iou", how a box of the gap frame counts as the object.
        present_overlap: the share of the smaller box inside the other ("coverage") or the
            IoU ("iou") a box needs to count as the object, in (0, 1].
        present_min_ratio: "coverage" only: the smaller box's area over the larger's, in [0, 1].
        duplicate_coverage: a box with this share of its area inside a higher-score box of
            its frame is a duplicate and carries no track, in [0, 1] (0 keeps duplicates).
        max_box_share: boxes larger than this share of the frame carry no track, in (0, 1]
            (1 keeps all; frames of unknown size keep all).
        class_aware: only boxes of one class link and count as present (off by default).

    Returns:
        `AssertionResult` named "flicker": severity per frame = sum of the scores of its
        imputed boxes (0 = nothing missing; higher = more, or more confident, missing boxes).

    Example (a box in frames 0, 1, 3 and 4 of a video, nothing in frame 2)::

        >>> from thresher import Detections, Frames
        >>> frames = Frames.build([f"v-{i}-mp4.png" for i in range(5)], kind="frame", video="v.mp4", frame_index=range(5), width=640, height=480)
        >>> boxes = Detections(frame=[0, 1, 3, 4], xyxy=[[100, 100, 200, 200]] * 4, score=[0.9, 0.8, 0.85, 0.9], class_id=[0] * 4)
        >>> result = flicker(boxes, frames)
        >>> result.flagged.tolist(), result.weak_labels.xyxy.tolist()
        ([False, False, True, False, False], [[100.0, 100.0, 200.0, 200.0]])
    """
    check_flicker_args(max_gap, match_iou, presence, present_overlap, present_min_ratio, duplicate_coverage, max_box_share)
    if not isinstance(class_aware, (bool, np.bool_)):
        raise UsageError(f"class_aware: expected true or false, got {class_aware!r}")
    check_rows(detections, frames)
    order = video_order(frames)
    step = [later_rows(frames, k, order) for k in range(max_gap + 2)]
    every_box = BoxIndex.build(detections.frame, detections.xyxy, len(frames))
    carries = track_boxes(detections, frames, every_box, duplicate_coverage, max_box_share, class_aware)
    tracked = detections[carries] if not carries.all() else detections
    index = BoxIndex.build(tracked.frame, tracked.xyxy, len(frames)) if not carries.all() else every_box
    successor = link_next(tracked, index, step[1], match_iou, class_aware)
    end, start = open_ends(successor, step[1][tracked.frame])
    joined = successor.copy()
    gaps = []
    for gap in range(1, max_gap + 1):
        first, last = bridge(tracked, index, end, start, step[gap + 1], match_iou, class_aware)
        end[first], start[last], joined[first] = False, False, last
        missing = np.ones(len(first), dtype=bool)
        for k in range(1, gap + 1):  # stop looking at a pair once the object is found
            todo = np.flatnonzero(missing)
            frame = step[k][tracked.frame[first[todo]]]
            box = _between(tracked, first[todo], last[todo], k / (gap + 1))
            class_id = tracked.class_id[first[todo]] if class_aware else None
            found = present(detections, every_box, frame, box, class_id, presence, present_overlap, present_min_ratio)
            missing[todo[found]] = False
        gaps.append((gap, first[missing], last[missing]))
    track_class = _majority_class(joined, tracked, np.concatenate([first for _, first, _ in gaps]))
    parts = [_interpolated(tracked, step, gap, first, last, track_class[first]) for gap, first, last in gaps]
    imputed = Detections.concat(parts).sorted_by_frame() if parts else Detections.empty()
    severity = group_sum(imputed.frame, imputed.score, len(frames))
    return make_result("flicker", frames, severity, imputed)


def check_flicker_args(
    max_gap: object,
    match_iou: float,
    presence: str,
    present_overlap: float,
    present_min_ratio: float,
    duplicate_coverage: float,
    max_box_share: float,
) -> None:
    """UsageError naming the first argument of `flicker` out of its range."""
    if not isinstance(max_gap, (int, np.integer)) or isinstance(max_gap, bool) or max_gap < 1:
        raise UsageError(f"max_gap: expected an integer >= 1 (frames missing in a row), got {max_gap!r}")
    if presence not in MEASURES:
        raise UsageError(f"presence: expected one of {', '.join(MEASURES)}, got {presence!r}{did_you_mean(str(presence), MEASURES)}")
    ranges = (
        ("match_iou", match_iou, False, "an IoU in (0, 1]"),
        ("present_overlap", present_overlap, False, "a share in (0, 1]"),
        ("present_min_ratio", present_min_ratio, True, "a ratio in [0, 1]"),
        ("duplicate_coverage", duplicate_coverage, True, "a share in [0, 1] (0 keeps duplicates)"),
        ("max_box_share", max_box_share, False, "a share of the frame in (0, 1]"),
    )
    for name, value, zero_ok, expected in ranges:
        if not isinstance(value, (int, float, np.number)) or isinstance(value, bool) or not (0 <= value <= 1) or (value == 0 and not zero_ok):
            raise UsageError(f"{name}: expected {expected}, got {value!r}")


def _majority_class(joined: np.ndarray, detections: Detections, rows: np.ndarray) -> np.ndarray:
    """Per detection row, the majority class of its track (computed for the tracks of `rows` only)."""
    track = track_ids(joined)
    involved = np.zeros(len(detections), dtype=bool)
    involved[track[rows]] = True
    members = np.flatnonzero(involved[track])
    winner, _ = majority(track[members], detections.class_id[members], detections.score[members], len(detections))
    return winner[track]


def _between(detections: Detections, first: np.ndarray, last: np.ndarray, fraction: float) -> np.ndarray:
    """Boxes linearly interpolated `fraction` of the way from `first` to `last`."""
    start = detections.xyxy[first]
    return start + (detections.xyxy[last] - start) * fraction


def _interpolated(detections: Detections, step: list[np.ndarray], gap: int, first: np.ndarray, last: np.ndarray, class_id: np.ndarray) -> Detections:
    """The `gap` imputed boxes of each (first, last) pair, one per frame between."""
    score = np.minimum(detections.score[first], detections.score[last])
    ks = range(1, gap + 1)
    return Detections(
        frame=np.concatenate([step[k][detections.frame[first]] for k in ks]),
        xyxy=np.concatenate([_between(detections, first, last, k / (gap + 1)) for k in ks]).reshape(-1, 4),
        score=np.tile(score, gap),
        class_id=np.tile(class_id, gap),
    )
