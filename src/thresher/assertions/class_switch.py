"""Class switch: an object whose class changes from one frame to the next.

A car does not become a truck between two frames. Boxes of consecutive frames that overlap
with IoU > `link_iou` (0.8 in the paper) are linked one to one regardless of class; along
each resulting track the majority class is the weak label, and the boxes that disagree with
it are the likely mistakes.
"""

from __future__ import annotations

import numpy as np

from thresher.assertions._neighbours import BoxIndex, check_rows, group_sum, later_rows
from thresher.assertions._tracks import link_next, majority, track_ids
from thresher.assertions.result import AssertionResult, make_result
from thresher.detections import Detections
from thresher.errors import UsageError
from thresher.frames import Frames


def class_switch(detections: Detections, frames: Frames, *, link_iou: float = 0.8) -> AssertionResult:
    """Frames with boxes whose class differs from the majority class of their track.

    Tracks link boxes of consecutive frames (same video) with IoU > `link_iou`, one to one,
    class-agnostic. The majority class of a track is its most frequent class (ties: larger
    summed score, then smaller id).

    Returns:
        `AssertionResult` named "class_switch": severity per frame = sum, over its boxes whose
        class differs from their track's majority, of the majority's share of the track
        (0 = no switch; 2 against 1 gives 0.67, 9 against 1 gives 0.9). Weak labels: those
        boxes with the majority class, score = the majority's share.

    Example (one object: car, car, bus, car)::

        >>> from thresher import Detections, Frames
        >>> frames = Frames.build([f"v-{i}-mp4.png" for i in range(4)], kind="frame", video="v.mp4", frame_index=range(4), width=640, height=480)
        >>> boxes = Detections(frame=[0, 1, 2, 3], xyxy=[[10, 10, 60, 60]] * 4, score=[0.9] * 4, class_id=[2, 2, 5, 2])
        >>> class_switch(boxes, frames).severity["class_switch"].tolist()
        [0.0, 0.0, 0.75, 0.0]
    """
    if not 0 <= link_iou < 1:
        raise UsageError(f"link_iou: expected an IoU in [0, 1), got {link_iou!r}")
    check_rows(detections, frames)
    index = BoxIndex.build(detections.frame, detections.xyxy, len(frames))
    strictly_above = float(np.nextafter(link_iou, 2.0))  # IoU > t, as IoU >= the next float
    successor = link_next(detections, index, later_rows(frames, 1), strictly_above, class_aware=False)
    track = track_ids(successor)
    winner, share = majority(track, detections.class_id, detections.score, len(detections))
    wrong = np.flatnonzero(detections.class_id != winner[track])
    severity = group_sum(detections.frame[wrong], share[track[wrong]], len(frames))
    labels = Detections(
        frame=detections.frame[wrong],
        xyxy=detections.xyxy[wrong],
        score=share[track[wrong]],
        class_id=winner[track[wrong]],
    )
    return make_result("class_switch", frames, severity, labels)
