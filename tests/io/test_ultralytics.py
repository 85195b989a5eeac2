"""Ultralytics Results → Lightly, with small duck-typed stand-ins (ultralytics is never imported).

The stand-ins carry what `ultralytics.engine.results.Results` exposes: `path`, `names` ({id: name}),
`orig_shape` (height, width) and `boxes` with `xyxy` (corner pixels), `conf` and `cls` (floats).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tests.convert_fixtures import frames, media  # noqa: F401 - fixtures
from tests.io.test_yolo import boxes_of
from thresher.errors import SchemaError, UsageError
from thresher.io.conversion import save_task
from thresher.io.lightly_predictions import read_predictions
from thresher.io.problems import Problems
from thresher.io.storage import Location
from thresher.io.ultralytics import ultralytics_to_task

NAMES = {0: "person", 1: "bicycle", 2: "car"}


class DeviceTensor:
    """Like a CUDA torch tensor: numpy only after `.cpu()`."""

    def __init__(self, values):
        self._values = np.asarray(values, dtype=np.float32)

    def cpu(self):
        return self._values

    def __array__(self, *args, **kwargs):
        raise TypeError("can't convert cuda tensor to numpy; use .cpu() first")


def fake(path, xyxy=(), conf=(), cls=(), shape=(480, 640), names=NAMES, wrap=np.asarray):
    boxes = SimpleNamespace(xyxy=wrap(np.array(xyxy, dtype=np.float32).reshape(-1, 4)), conf=wrap(conf), cls=wrap(cls))
    return SimpleNamespace(path=path, names=dict(names) if isinstance(names, dict) else names, orig_shape=shape, boxes=boxes)


VIDEO = "/home/me/ds/clips/car.mp4"
CAR = (144, 176)


def test_image_boxes_by_hand(frames):  # noqa: F811
    result = fake("/home/me/ds/img/a.jpg", [[10, 20, 110, 70], [600, 400, 650, 500]], [0.9, 0.5], [2.0, 0.0])
    task = ultralytics_to_task([result], frames, task="yolo")
    # xyxy → x, y, x1 - x0, y1 - y0; the second box clipped to 640x480
    assert boxes_of(task, "img/a.jpg") == [[10, 20, 100, 50, pytest.approx(0.9), 2], [600, 400, 40, 80, 0.5, 0]]
    assert task.frames.file_name.tolist() == ["img/a.jpg"]
    assert [c.name for c in task.schema.categories] == ["person", "bicycle", "car"]


def test_device_tensors_are_moved_to_the_cpu(frames):  # noqa: F811
    result = fake("img/rot.jpg", [[1, 2, 3, 4]], [0.25], [1.0], shape=(640, 480), wrap=DeviceTensor)
    assert boxes_of(ultralytics_to_task([result], frames, task="t"), "img/rot.jpg") == [[1, 2, 2, 2, 0.25, 1]]


def test_video_results_are_frames_in_order(frames):  # noqa: F811
    results = [fake(VIDEO, [[0, 0, 10, 10]], [0.5], [0.0], shape=CAR), fake(VIDEO, shape=CAR), fake(VIDEO, [[5, 5, 6, 7]], [0.75], [2.0], shape=CAR)]
    task = ultralytics_to_task(results, frames, task="t")
    # 120 frames: indices padded to 3 digits
    assert task.frames.file_name.tolist() == ["clips/car-000-mp4.png", "clips/car-001-mp4.png", "clips/car-002-mp4.png"]
    assert boxes_of(task, "clips/car-000-mp4.png") == [[0, 0, 10, 10, 0.5, 0]]
    assert boxes_of(task, "clips/car-001-mp4.png") == []
    assert boxes_of(task, "clips/car-002-mp4.png") == [[5, 5, 1, 2, 0.75, 2]]


def test_vid_stride(frames):  # noqa: F811
    # vid_stride 3: Ultralytics grabs 3 frames and keeps the last: frames 2, 5, 8 (0-based)
    task = ultralytics_to_task((fake(VIDEO, shape=CAR) for _ in range(3)), frames, task="t", vid_stride=3)
    assert task.frames.file_name.tolist() == ["clips/car-002-mp4.png", "clips/car-005-mp4.png", "clips/car-008-mp4.png"]


def test_a_whole_video_round_trips(media, frames):  # noqa: F811
    rng = np.random.default_rng(1)
    results = []
    for _ in range(120):
        n = int(rng.integers(0, 4))
        corner = rng.uniform(0, 100, (n, 2))
        xyxy = np.concatenate([corner, corner + rng.uniform(1, 70, (n, 2))], axis=1)
        results.append(fake(VIDEO, xyxy, rng.uniform(0, 1, n), rng.integers(0, 3, n).astype(float), shape=CAR))
    task = ultralytics_to_task(results, frames, task="yolo_video")
    assert len(task.frames) == 120
    lightly = Location(media)
    save_task(lightly, task)
    loaded = read_predictions(lightly, "yolo_video", frames)
    assert loaded.invalid == () and len(loaded.missing) == 3  # the three images
    np.testing.assert_array_equal(loaded.frames.file_name[loaded.detections.frame], task.frames.file_name[task.detections.frame])
    np.testing.assert_allclose(loaded.detections.xyxy, task.detections.xyxy, atol=1e-3)
    np.testing.assert_array_equal(loaded.detections.score, task.detections.score)
    np.testing.assert_array_equal(loaded.detections.class_id, task.detections.class_id)


BAD = [
    ("path outside the datasource", [fake("/tmp/zzz.jpg")], "results[0]: path: expected the path of an image or video of the datasource, got '/tmp/zzz.jpg'"),
    (
        "size of the unrotated image",
        [fake("img/rot.jpg", shape=(480, 640))],
        "results[0] (img/rot.jpg): orig_shape: expected (height, width) of img/rot.jpg after EXIF rotation, (640, 480), got (480, 640)",
    ),
    (
        "no boxes",
        [SimpleNamespace(path="img/a.jpg", names=NAMES, orig_shape=(480, 640), boxes=None)],
        "results[0] (img/a.jpg): boxes: expected detection boxes (Results of a detection model), got None",
    ),
    ("conf above 1", [fake("img/a.jpg", [[1, 2, 3, 4]], [1.5], [0.0])], "results[0] (img/a.jpg): boxes.conf[0]: expected a confidence in [0, 1], got 1.5"),
    ("class not in names", [fake("img/a.jpg", [[1, 2, 3, 4]], [0.5], [7.0])], "results[0] (img/a.jpg): boxes.cls[0]: expected a class id of names [0, 1, 2], got 7"),
    (
        "corners swapped",
        [fake("img/a.jpg", [[10, 2, 3, 4]], [0.5], [0.0])],
        "results[0] (img/a.jpg): boxes.xyxy[0]: expected finite corners x0 <= x1, y0 <= y1 in pixels, got [10, 2, 3, 4]",
    ),
    (
        "lengths differ",
        [fake("img/a.jpg", [[1, 2, 3, 4]], [0.5, 0.6], [0.0])],
        "results[0] (img/a.jpg): boxes: expected xyxy of shape (N, 4), conf and cls of N values, got shapes (1, 4), (2,), (1,)",
    ),
    (
        "names change",
        [fake("img/a.jpg"), fake("img/rot.jpg", shape=(640, 480), names={0: "cat"})],
        "results[1] (img/rot.jpg): names: expected the same class names in every result, got {0: 'cat'}",
    ),
    ("names not a dict", [fake("img/a.jpg", names=["person"])], "results[0] (img/a.jpg): names: expected a dict {class id: name}, got ['person']"),
    ("an image twice", [fake("img/a.jpg"), fake("/x/img/a.jpg")], "results[1]: path: expected one result per image, got a second result for img/a.jpg"),
    (
        "more results than frames",
        [fake(VIDEO, shape=CAR)] * 121,
        "results[120]: path: expected at most 120 results for clips/car.mp4 (one per frame read, vid_stride 1), got result 121",
    ),
]


@pytest.mark.parametrize("name, results, message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_its_precise_problem(frames, name, results, message):  # noqa: F811
    with pytest.raises(SchemaError) as error:
        ultralytics_to_task(results, frames, task="t")
    assert message in str(error.value)


def test_collecting_problems_leaves_out_only_the_bad_samples(frames):  # noqa: F811
    problems = Problems()
    results = [fake("img/a.jpg", [[1, 2, 3, 4]], [1.5], [0.0]), fake("img/sub/b.png", [[1, 2, 3, 4]], [0.5], [1.0], shape=(50, 100))]
    task = ultralytics_to_task(results, frames, task="t", problems=problems)
    assert len(problems) == 1
    assert task.invalid == ("img/a.jpg",)
    assert boxes_of(task, "img/sub/b.png") == [[1, 2, 2, 2, 0.5, 1]]


def test_no_results(frames):  # noqa: F811
    with pytest.raises(SchemaError, match="results: expected at least one Results object with names, got none"):
        ultralytics_to_task([], frames, task="t")


def test_bad_vid_stride(frames):  # noqa: F811
    with pytest.raises(UsageError, match="vid_stride: expected an integer >= 1, got 0"):
        ultralytics_to_task([], frames, task="t", vid_stride=0)


@pytest.mark.parametrize("n_frames, first, last", [(9, "v-0-avi.png", "v-8-avi.png"), (10, "v-00-avi.png", "v-09-avi.png"), (1000, "v-0000-avi.png", "v-0999-avi.png")])
def test_frame_names_are_padded_to_the_frame_count(n_frames, first, last):
    from thresher.frames import Frames
    from thresher.io.names import frame_names

    video_frames = Frames.build(frame_names("v.avi", n_frames), kind="frame", video="v.avi", frame_index=np.arange(n_frames), width=32, height=24)
    task = ultralytics_to_task((fake("/videos/v.avi", shape=(24, 32)) for _ in range(n_frames)), video_frames, task="t")
    assert task.frames.file_name[0] == first and task.frames.file_name[-1] == last
