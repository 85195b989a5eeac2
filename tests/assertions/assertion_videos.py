"""Tiny videos for assertion tests: one list of boxes per frame."""

import numpy as np

from thresher import Detections, Frames


def video(*frames, name="v.mp4"):
    """(Detections, Frames) of one video; each frame is a list of (x0, y0, x1, y1[, score[, class]])."""
    rows, boxes, scores, classes = [], [], [], []
    for t, frame in enumerate(frames):
        for box in frame:
            x0, y0, x1, y1, score, class_id = (*box, 0.9, 1)[:6] if len(box) == 4 else (*box, 1)[:6]
            rows.append(t)
            boxes.append([x0, y0, x1, y1])
            scores.append(score)
            classes.append(class_id)
    ids = [f"{name}-{t:03d}" for t in range(len(frames))]
    frames_table = Frames.build(ids, kind="frame", video=name, frame_index=np.arange(len(frames)))
    detections = Detections(frame=rows, xyxy=np.reshape(boxes, (-1, 4)), score=scores, class_id=classes)
    return detections, frames_table


def moving(n, start=(100, 100), size=(50, 40), speed=(2, 1), score=0.9, class_id=1):
    """Boxes of one object moving linearly over n frames."""
    return [(start[0] + speed[0] * t, start[1] + speed[1] * t, start[0] + speed[0] * t + size[0], start[1] + speed[1] * t + size[1], score, class_id) for t in range(n)]
