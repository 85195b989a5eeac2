"""What the converters share: fitting boxes, finding samples by name, saving a task whole."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.convert_fixtures import frames, media  # noqa: F401 - fixtures
from thresher.errors import SchemaError, UsageError
from thresher.io import lightly_predictions
from thresher.io.conversion import MediaIndex, check_task_name, fit_boxes, save_task
from thresher.io.lightly_predictions import read_predictions
from thresher.io.number_lines import _slow, parse_number_lines
from thresher.io.storage import Location
from thresher.io.yolo import yolo_to_task


@pytest.mark.parametrize(
    "box, size, expected",
    [
        ([10, 20, 30, 40], (640, 480), [10, 20, 30, 40]),  # inside: unchanged
        ([-5, -5, 30, 500], (640, 480), [0, 0, 30, 480]),  # clipped
        ([100, 100, 100, 100.5], (640, 480), [99.5, 99.75, 100.5, 100.75]),  # grown around the centre
        ([640, 10, 640, 20], (640, 480), [639, 10, 640, 20]),  # zero width on the right edge: grown inwards
        ([0, 0, 0, 0], (1, 1), [0, 0, 1, 1]),  # a 1-pixel image
    ],
)
def test_fit_boxes_by_hand(box, size, expected):
    np.testing.assert_allclose(fit_boxes(np.array([box], float), np.array([size[0]]), np.array([size[1]])), [expected])


coordinate = st.floats(-100, 800, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(coordinate, coordinate, st.floats(0, 300), st.floats(0, 300)), min_size=1, max_size=20), st.integers(1, 700), st.integers(1, 700))
@example([(0.0, 0.5, 0.0, 2.220446049250313e-16)], 1, 2)  # grown around a centre that is not exact in floats
def test_fitted_boxes_are_inside_and_at_least_one_pixel(boxes, width, height):
    xywh = np.array(boxes)
    xyxy = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
    fitted = fit_boxes(xyxy, np.full(len(xyxy), width), np.full(len(xyxy), height))
    assert (fitted[:, :2] >= 0).all() and (fitted[:, 2] <= width).all() and (fitted[:, 3] <= height).all()
    assert (fitted[:, 2:] - fitted[:, :2] >= 1 - 1e-9).all()
    np.testing.assert_allclose(fit_boxes(fitted, np.full(len(xyxy), width), np.full(len(xyxy), height)), fitted)


def test_media_index(frames):  # noqa: F811
    index = MediaIndex(frames)
    assert index.by_path("/home/me/data/ds/img/sub/b.png") == "img/sub/b.png"
    assert index.by_path("C:\\data\\img\\a.jpg") == "img/a.jpg"
    assert index.by_path("/elsewhere/a.jpg") is None  # 'a.jpg' alone is not a datasource file
    assert index.by_path("clips/car.mp4") == "clips/car.mp4"
    assert index.by_stem("b") == ["img/sub/b.png"] and index.by_stem("sub/b") == ["img/sub/b.png"]
    assert index.by_stem("car") == ["clips/car.mp4"]
    assert frames.file_name[index.frame_row("clips/car.mp4", 119)] == "clips/car-119-mp4.png"
    assert index.frame_row("clips/car.mp4", 120) is None and index.frame_row("clips/car.mp4", -1) is None


@pytest.mark.parametrize("name", ["../x", "a/../../b", "/abs", ".hidden", "a/.b", "tasks.json", "", "a\\b"])
def test_bad_task_names(name):
    with pytest.raises(UsageError, match="task: expected a task name"):
        check_task_name(name)


def labels():
    return {"a.txt": "0 0.5 0.5 0.25 0.5 0.9", "car_2.txt": "1 0.5 0.5 0.5 0.5 0.5"}


def test_save_to_a_bucket_and_overwrite(frames):  # noqa: F811
    bucket = Location(f"memory://bucket-{uuid.uuid4().hex}/ds")
    save_task(bucket, yolo_to_task(labels(), frames, ["person", "car"], task="t", all_frames=False))
    loaded = read_predictions(bucket, "t", frames)
    assert len(loaded.detections) == 2 and len(loaded.frames) - len(loaded.missing) == 121
    with pytest.raises(UsageError, match="task 't' exists"):
        save_task(bucket, yolo_to_task(labels(), frames, ["person", "car"], task="t"))
    save_task(bucket, yolo_to_task({"a.txt": "0 0.5 0.5 0.25 0.5"}, frames, ["person", "car"], task="t", all_frames=False), overwrite=True)
    files = bucket.files(".lightly/predictions")
    assert files == [".lightly/predictions/t/img/a.json", ".lightly/predictions/t/schema.json", ".lightly/predictions/tasks.json"]
    assert not bucket.files(".thresher")


def test_an_interrupted_overwrite_keeps_the_old_task(media, frames, monkeypatch):  # noqa: F811
    lightly = Location(media)
    save_task(lightly, yolo_to_task(labels(), frames, ["person", "car"], task="t"))
    before = {p: p.read_bytes() for p in (media / ".lightly").rglob("*") if p.is_file()}
    calls = {"n": 0}
    real_write = Location.write_bytes

    def failing_write(self, name, data):
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError("disk full")
        real_write(self, name, data)

    monkeypatch.setattr(Location, "write_bytes", failing_write)
    with pytest.raises(OSError, match="disk full"):
        save_task(lightly, yolo_to_task({"a.txt": "1 0.5 0.5 0.5 0.5"}, frames, ["person", "car"], task="t"), overwrite=True)
    after = {p: p.read_bytes() for p in (media / ".lightly").rglob("*") if p.is_file()}
    assert after == before
    assert not any((media / ".thresher/tmp").iterdir())


def test_a_broken_tasks_json_stops_before_writing(media, frames):  # noqa: F811
    (media / ".lightly/predictions").mkdir(parents=True)
    (media / ".lightly/predictions/tasks.json").write_text("{")
    with pytest.raises(SchemaError, match="tasks.json: expected valid JSON"):
        save_task(Location(media), yolo_to_task(labels(), frames, ["person", "car"], task="t"))
    assert sorted(p.name for p in (media / ".lightly/predictions").iterdir()) == ["tasks.json"]


def test_a_bad_frame_leaves_its_video_out_whole(media, frames):  # noqa: F811
    """A missing frame file of a predicted video reads as "no object": the video goes out whole."""
    from thresher.io.conversion import videos_left_out
    from thresher.io.lightly_predictions import predicted_part
    from thresher.io.problems import Problems

    problems = Problems()
    task = yolo_to_task({**labels(), "car_5.txt": "1 0.5 0.5 0.5"}, frames, ["person", "car"], task="t", problems=problems)
    assert len(problems) == 1
    assert len(task.invalid) == 120 and not any(name.startswith("clips/") for name in task.frames.file_name.tolist())
    assert videos_left_out(frames, task.invalid) == {"clips/car.mp4": 120}
    save_task(Location(media), task)
    loaded = read_predictions(Location(media), "t", frames)
    predicted, _ = predicted_part(loaded)
    assert sorted(predicted.file_name.tolist()) == ["img/a.jpg", "img/rot.jpg", "img/sub/b.png"]  # no frame read as "no object"


def test_written_file_is_the_lightly_format(media, frames):  # noqa: F811
    save_task(Location(media), yolo_to_task(labels(), frames, ["person", "car"], task="t"))
    data = json.loads((media / ".lightly/predictions/t/img/a.json").read_text())
    assert data == {"file_name": "img/a.jpg", "predictions": [{"category_id": 0, "bbox": [240, 120, 160, 240], "score": 0.9}]}
    assert lightly_predictions.prediction_file("t", "clips/car-001-mp4.png") == ".lightly/predictions/t/clips/car-001-mp4.json"
    assert (media / ".lightly/predictions/t/clips/car-001-mp4.json").exists()


@pytest.mark.parametrize(
    "texts",
    [
        ["0 0.5 0.5 0.25 0.5\n1 0.1 0.2 0.3 0.4 0.9\n"],
        ["0 0.5 0.5 0.25 0.5", "", "\n\n1 1 1 1 1 1 7\n"],
        ["0  0.5\t0.5 0.25 0.5 \n", " 1 2 3 4 5"],  # irregular whitespace
        ["0 0.5 abc 0.25 0.5\n1 2 3 4 5 6 7 8 9"],  # a word, a long line
        ["0 nan inf -1e-3 +2\r\n3 4 5 6 7\r\n"],
        ["1 2 3 4 5\u00a06"],  # a non-ASCII space
    ],
)
def test_number_lines_fast_and_slow_paths_agree(texts):
    parsed = parse_number_lines(texts, 7)
    lines = [line for text in texts for line in text.splitlines() if line.strip()]
    n_fields, values, bad = _slow(lines, 7)
    np.testing.assert_array_equal(parsed.n_fields, n_fields)
    np.testing.assert_array_equal(parsed.values, values)
    assert parsed.bad_tokens == bad
    assert parsed.text == lines


def test_number_lines_keep_file_and_line_numbers():
    parsed = parse_number_lines(["\n1 2\n", "", "3\n\n4 5 6"], 3)
    assert parsed.file.tolist() == [0, 2, 2] and parsed.line.tolist() == [2, 1, 3]
    np.testing.assert_array_equal(parsed.values, [[1, 2, np.nan], [3, np.nan, np.nan], [4, 5, 6]])
