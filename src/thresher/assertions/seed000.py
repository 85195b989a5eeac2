"""Seed 000's flicker assertion, exactly: the same flags and imputed boxes as the seed's code.

- `seed_flicker`: seed 000's algorithm (window 3, every pair above the IoU threshold, the
  seed's int32 arithmetic) over `Detections`, bit for bit, with its per-frame counter defect
  fixed (`thresher.assertions._exact` holds the arithmetic).
- `compute_flickering_assertion`: seed 000's function signature and return values, on its
  `predictions_list`.

Frames are only compared when truly consecutive in their video (same `Frames.video`,
`frame_index` differing by exactly 1). A frame of the video with no box takes part as an
empty list, as in the seed's list of every frame.
"""

from __future__ import annotations

import numpy as np

from thresher.assertions._exact import seed_pairs
from thresher.assertions._predictions import from_predictions_list
from thresher.assertions.result import AssertionResult, make_result
from thresher.detections import Detections
from thresher.frames import Frames


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

    Example (the box is missing in frame 2)::

        >>> from thresher import Detections, Frames
        >>> frames = Frames.build([f"v-{i}-mp4.png" for i in range(5)], kind="frame", video="v.mp4", frame_index=range(5), width=640, height=480)
        >>> boxes = Detections(frame=[0, 1, 3, 4], xyxy=[[100, 100, 200, 200]] * 4, score=[0.9, 0.8, 0.85, 0.9], class_id=[0] * 4)
        >>> seed_flicker(boxes, frames).flagged.tolist()
        [False, False, True, False, False]
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

    Example (seed 000's input: a list of per-frame dicts; the middle frame lost its box)::

        >>> box = {"bbox": [100, 100, 50, 50], "category_id": 0, "score": 0.9}
        >>> flags, imputed = compute_flickering_assertion([{"predictions": [box]}, {"predictions": []}, {"predictions": [box]}])
        >>> flags, imputed
        ([False, True, False], [[], [[[100, 100, 150, 150]]], []])
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
