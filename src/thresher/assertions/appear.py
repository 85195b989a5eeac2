"""Appear: an object that shows up for only a few frames inside a video.

Real objects enter, stay and leave; a detection that lives for one or two frames in the
middle of a video is most likely a false positive (or a false negative around it). The
assertion links boxes into tracks and flags the boxes of short tracks that both start and
end inside the video (a track cut by the first or last frame says nothing).

Objects that vanish for a few frames and come back are flicker's (`flicker(max_gap=...)`):
appear bridges such gaps before measuring track lengths, so a flickering object does not
also count as a string of short tracks.
"""

from __future__ import annotations

import numpy as np

from thresher.assertions._neighbours import BoxIndex, check_rows, group_sum, later_rows, video_order
from thresher.assertions._tracks import bridge, link_next, open_ends, track_ids
from thresher.assertions.result import AssertionResult, make_result
from thresher.detections import Detections
from thresher.errors import UsageError
from thresher.frames import Frames


def appear(
    detections: Detections,
    frames: Frames,
    *,
    min_length: int = 3,
    link_iou: float = 0.5,
    max_gap: int = 1,
    class_aware: bool = True,
) -> AssertionResult:
    """Frames with boxes on tracks shorter than `min_length` boxes, inside the video.

    Boxes of consecutive frames are linked one to one (IoU >= `link_iou`, same class when
    `class_aware`); track ends are then joined to track starts up to `max_gap` missing frames
    later by the same rule (0 = no bridging). A track is short when it has fewer than
    `min_length` boxes, and judged only when the frames just before its first box and just
    after its last box exist in the video.

    Returns:
        `AssertionResult` named "appear": severity per frame = sum of the scores of its boxes
        on short tracks (0 = none; higher = more, or more confident, fleeting boxes). No weak
        labels: the suspected boxes are the model's own.

    Example (a box seen in frame 2 only, inside a five-frame video)::

        >>> from thresher import Detections, Frames
        >>> frames = Frames.build([f"v-{i}-mp4.png" for i in range(5)], kind="frame", video="v.mp4", frame_index=range(5), width=640, height=480)
        >>> boxes = Detections(frame=[2], xyxy=[[10, 10, 60, 60]], score=[0.7], class_id=[0])
        >>> appear(boxes, frames).severity["appear"].tolist()
        [0.0, 0.0, 0.7, 0.0, 0.0]
    """
    if not isinstance(min_length, (int, np.integer)) or min_length < 2:
        raise UsageError(f"min_length: expected an integer >= 2 (boxes in a track), got {min_length!r}")
    if not isinstance(max_gap, (int, np.integer)) or max_gap < 0:
        raise UsageError(f"max_gap: expected an integer >= 0 (missing frames bridged), got {max_gap!r}")
    if not 0 < link_iou <= 1:
        raise UsageError(f"link_iou: expected an IoU in (0, 1], got {link_iou!r}")
    check_rows(detections, frames)
    order = video_order(frames)
    step = [later_rows(frames, k, order) for k in range(max_gap + 2)]
    index = BoxIndex.build(detections.frame, detections.xyxy, len(frames))
    successor = link_next(detections, index, step[1], link_iou, class_aware)
    end, start = open_ends(successor, step[1][detections.frame])
    for gap in range(1, max_gap + 1):
        first, last = bridge(detections, index, end, start, step[gap + 1], link_iou, class_aware)
        successor[first] = last
        end[first] = False
        start[last] = False
    short = _short_inside(detections, frames, successor, step[1], min_length)
    severity = group_sum(detections.frame[short], detections.score[short], len(frames))
    return make_result("appear", frames, severity)


def _short_inside(detections: Detections, frames: Frames, successor: np.ndarray, next_frame: np.ndarray, min_length: int) -> np.ndarray:
    """Per box: its track has < min_length boxes and a frame before and after it in the video."""
    track = track_ids(successor)
    length = np.bincount(track, minlength=len(detections))
    last = np.zeros(len(detections), dtype=np.int64)
    tail = np.flatnonzero(successor < 0)
    last[track[tail]] = tail
    has_previous = np.zeros(len(frames) + 1, dtype=bool)
    has_previous[next_frame[next_frame >= 0]] = True
    inside = has_previous[detections.frame[track]] & (next_frame[detections.frame[last[track]]] >= 0)
    return (length[track] < min_length) & inside
