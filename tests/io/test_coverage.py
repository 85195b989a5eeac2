"""Which frames a task has predictions for when some have no file (thresher.io.coverage)."""

import doctest

import numpy as np
import pytest

import thresher.io.coverage
from thresher import Frames
from thresher.io.coverage import covered_frames


def one_video(n: int, with_file: list[int]) -> tuple[Frames, np.ndarray]:
    frames = Frames.build([f"v-{i:03d}-mp4.png" for i in range(n)], kind="frame", video="v.mp4", frame_index=range(n))
    return frames, np.isin(np.arange(n), with_file)


@pytest.mark.parametrize(
    "n, with_file, covered",
    [
        (10, [], []),  # no file: the task never saw this video
        (10, [4], list(range(10))),  # one file: every frame predicted, 9 of them empty
        (10, [3, 5], list(range(10))),
        (3, [0, 2], [0, 1, 2]),  # the canonical flicker: an object in 0 and 2, no file for 1
        (5, [0, 2, 4], [0, 2, 4]),  # every 2nd frame from 0: thresher predict --every 2
        (11, [0, 5, 10], [0, 5, 10]),
        (12, [0, 5, 10], [0, 5, 10]),
        (11, [0, 5], list(range(11))),  # two files are not evidence of a stride
        (11, [0, 10], list(range(11))),
        (13, [0, 4, 12], list(range(13))),  # 8 has no file: not every 4th frame, so every frame
        (9, [2, 4, 6], list(range(9))),  # every 2nd frame but not from 0: not thresher's --every
        (9, [0, 2, 3, 4], list(range(9))),
    ],
)
def test_one_video(n, with_file, covered):
    frames, has_file = one_video(n, with_file)
    assert np.flatnonzero(covered_frames(frames, has_file)).tolist() == covered


def test_each_video_on_its_own_images_and_crops_need_their_file():
    frames = Frames.build(
        ["a-0", "a-1", "a-2", "b-0", "b-1", "b-2", "b-3", "b-4", "c-0", "c-1", "img.jpg", "other.jpg", "crop"],
        kind=["frame"] * 10 + ["image", "image", "crop"],
        video=["a"] * 3 + ["b"] * 5 + ["c"] * 2 + ["img.jpg", "other.jpg", "img.jpg"],
        frame_index=[0, 1, 2, 0, 1, 2, 3, 4, 0, 1, 0, 0, 0],
        parent_id=[""] * 12 + ["img.jpg"],
    )
    has_file = np.array([1, 0, 1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0], bool)
    assert covered_frames(frames, has_file).astype(int).tolist() == [1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0]


def test_the_module_examples():
    assert doctest.testmod(thresher.io.coverage).failed == 0
