"""Which frames a prediction task has predictions for, when some have no prediction file.

LightlyOne's format, and seed 000's script, write no prediction file for a frame where the
model found nothing (thresher writes an empty one). So inside a video that a task predicted, a
frame without a file means "predicted, no object". The one exception is a video predicted on
every N-th frame only (`thresher predict --every N` writes frames 0, N, 2N, ..., each with a
file, empty or not): its other frames were never predicted. The rule, per video:

- no prediction file at all: the task has no prediction for any of its frames;
- files on exactly the frames 0, N, 2N, ..., kN for some N >= 2 and k >= 2 (at least three
  files, every multiple of N up to the last file, nothing else): the task predicted those
  frames only, every N-th frame;
- otherwise: the task predicted every frame of the video; frames without a file have no
  object.

An image or a crop has a prediction only when it has a file.

    >>> import numpy as np
    >>> from thresher.frames import Frames
    >>> frames = Frames.build([f"v-{i}" for i in range(7)], kind="frame", video="v", frame_index=range(7))
    >>> covered_frames(frames, np.array([1, 1, 0, 1, 0, 0, 1], bool)).astype(int).tolist()  # seed layout
    [1, 1, 1, 1, 1, 1, 1]
    >>> covered_frames(frames, np.array([1, 0, 0, 1, 0, 0, 1], bool)).astype(int).tolist()  # every 3rd frame
    [1, 0, 0, 1, 0, 0, 1]
"""

from __future__ import annotations

import numpy as np

from thresher.frames import Frames

#: Files a video needs before "every N-th frame" is read from them (0, N and 2N at least).
MIN_FILES_FOR_STRIDE = 3


def covered_frames(frames: Frames, has_file: np.ndarray) -> np.ndarray:
    """Boolean per row: the task has a prediction for it (see the module docstring).

    has_file: boolean per row, the sample has a prediction file (valid or not).
    """
    has_file = np.asarray(has_file, dtype=bool)
    covered = has_file & (frames.kind != "frame")
    rows = np.flatnonzero(frames.kind == "frame")
    stride = video_strides(frames.video[rows], frames.frame_index[rows], has_file[rows])
    covered[rows] = (stride > 0) & (frames.frame_index[rows] % np.maximum(stride, 1) == 0)
    return covered


def video_strides(video: np.ndarray, frame_index: np.ndarray, has_file: np.ndarray) -> np.ndarray:
    """Per frame, the prediction stride of its video: 0 = no file, 1 = every frame, N = every N-th."""
    stride = np.zeros(len(video), dtype=np.int64)
    if not has_file.any():
        return stride
    names, which = np.unique(video, return_inverse=True)
    rows = np.flatnonzero(has_file)
    rows = rows[np.lexsort((frame_index[rows], which[rows]))]
    groups, starts, counts = np.unique(which[rows], return_index=True, return_counts=True)
    index = frame_index[rows]
    divisor = np.gcd.reduceat(index, starts)
    last = index[starts + counts - 1]
    # files on 0, N, ..., kN exactly: as many files as multiples of N up to the last one
    complete = (counts >= MIN_FILES_FOR_STRIDE) & (divisor >= 2) & (last // np.maximum(divisor, 1) + 1 == counts)
    per_video = np.zeros(len(names), dtype=np.int64)
    per_video[groups] = np.where(complete, divisor, 1)
    return per_video[which]
