"""YOLO txt → Lightly: boxes derived by hand from x0 = (cx - w/2)·W, y0 = (cy - h/2)·H, w·W, h·H."""

from __future__ import annotations

import numpy as np
import pytest

from tests.convert_fixtures import frames, media  # noqa: F401 - fixtures
from thresher.errors import SchemaError, UsageError
from thresher.io.conversion import save_task
from thresher.io.lightly_predictions import read_predictions
from thresher.io.problems import Problems
from thresher.io.storage import Location
from thresher.io.yolo import read_class_names, yolo_to_task

NAMES = ["person", "car"]


def boxes_of(task, sample: str) -> list[list[float]]:
    row = int(np.flatnonzero(task.frames.file_name == sample)[0])
    dets = task.detections[task.detections.frame == row]
    return [[*np.round(b, 6).tolist(), s, c] for b, s, c in zip(dets.xywh, dets.score.tolist(), dets.class_id.tolist())]


# (txt name, line, sample, [x, y, w, h, score, class]) — expected values worked out by hand
CASES = [
    ("brief example: 640x480", "a.txt", "0 0.5 0.5 0.25 0.5", "img/a.jpg", [240, 120, 160, 240, 1.0, 0]),
    ("with conf", "a.txt", "1 0.25 0.75 0.5 0.5 0.9", "img/a.jpg", [0, 240, 320, 240, 0.9, 1]),
    ("conf and track id", "a.txt", "1 0.25 0.75 0.5 0.5 0.9 17", "img/a.jpg", [0, 240, 320, 240, 0.9, 1]),
    # cx = 576, w = 256: x1 = 704 is clipped to 640
    ("clipped at the right edge", "a.txt", "0 0.9 0.5 0.4 0.2", "img/a.jpg", [448, 192, 192, 96, 1.0, 0]),
    # EXIF orientation 6: the image is 480 wide and 640 high as Ultralytics reads it
    ("EXIF-rotated image", "rot.txt", "0 0.5 0.5 0.5 0.5", "img/rot.jpg", [120, 160, 240, 320, 1.0, 0]),
    ("image in a sub folder, flat labels", "b.txt", "1 0.5 0.5 0.2 0.4 0.5", "img/sub/b.png", [40, 15, 20, 20, 0.5, 1]),
    ("labels mirroring the images", "img/sub/b.txt", "1 0.5 0.5 0.2 0.4", "img/sub/b.png", [40, 15, 20, 20, 1.0, 1]),
    # a zero-size box is grown to 1 x 1 pixel around its centre (320, 240)
    ("zero-size box", "a.txt", "0 0.5 0.5 0 0", "img/a.jpg", [319.5, 239.5, 1, 1, 1.0, 0]),
    # Ultralytics names video frames <stem>_<n>.txt with n counted from 1
    ("first video frame", "car_1.txt", "1 0.5 0.5 0.5 0.5 0.25", "clips/car-000-mp4.png", [44, 36, 88, 72, 0.25, 1]),
    ("last video frame", "car_120.txt", "0 0.25 0.25 0.5 0.5", "clips/car-119-mp4.png", [0, 0, 88, 72, 1.0, 0]),
    ("whole-number tokens", "a.txt", "0 1 1 1 1 1", "img/a.jpg", [320, 240, 320, 240, 1.0, 0]),
]


@pytest.mark.parametrize("name, txt, line, sample, expected", CASES, ids=[c[0] for c in CASES])
def test_box_by_hand(frames, name, txt, line, sample, expected):  # noqa: F811
    task = yolo_to_task({txt: line + "\n"}, frames, NAMES, task="yolo")
    assert boxes_of(task, sample) == [expected]
    assert len(task.detections) == 1


def test_vid_stride_maps_frames_read_to_video_frames(frames):  # noqa: F811
    # with vid_stride 2, Ultralytics reads frames 1, 3, 5, … (0-based): file n is frame 2n - 1
    task = yolo_to_task({"car_3.txt": "0 0.5 0.5 0.5 0.5"}, frames, NAMES, task="yolo", vid_stride=2)
    assert boxes_of(task, "clips/car-005-mp4.png") == [[44, 36, 88, 72, 1.0, 0]]


def test_every_sample_gets_a_file_unless_matched_only(frames):  # noqa: F811
    labels = {"a.txt": "0 0.5 0.5 0.25 0.5", "car_2.txt": "0 0.5 0.5 0.5 0.5"}
    everything = yolo_to_task(labels, frames, NAMES, task="yolo")
    assert len(everything.frames) == len(frames) == 123
    assert everything.detections.counts_per_frame(123).sum() == 2
    matched = yolo_to_task(labels, frames, NAMES, task="yolo", all_frames=False)
    assert sorted(matched.frames.file_name[matched.frames.kind == "image"].tolist()) == ["img/a.jpg"]
    assert (matched.frames.kind == "frame").sum() == 120  # every frame of the video with a txt
    assert set(matched.missing) == {"img/rot.jpg", "img/sub/b.png"}


def test_blank_lines_and_empty_files(frames):  # noqa: F811
    task = yolo_to_task({"a.txt": "\n0 0.5 0.5 0.25 0.5\n\n", "b.txt": ""}, frames, NAMES, task="yolo")
    assert boxes_of(task, "img/a.jpg") == [[240, 120, 160, 240, 1.0, 0]]
    assert boxes_of(task, "img/sub/b.png") == []


def test_round_trip_through_the_lightly_files(media, frames):  # noqa: F811
    labels = {
        "a.txt": "0 0.5 0.5 0.25 0.5 0.9\n1 0.123457 0.654321 0.0123 0.0456 0.333333\n",
        "rot.txt": "1 0.5 0.5 0.5 0.5 0.5",
        "car_7.txt": "0 0.1 0.2 0.05 0.1 0.75\n0 0.99 0.99 0.5 0.5 0.1",
    }
    task = yolo_to_task(labels, frames, NAMES, task="yolo")
    lightly = Location(media)
    save_task(lightly, task)
    loaded = read_predictions(lightly, "yolo", frames)
    assert loaded.invalid == () and loaded.missing == ()
    assert loaded.schema == task.schema
    np.testing.assert_array_equal(loaded.frames.file_name[loaded.detections.frame], task.frames.file_name[task.detections.frame])
    np.testing.assert_allclose(loaded.detections.xyxy, task.detections.xyxy, atol=1e-3)  # written with 3 decimals
    np.testing.assert_array_equal(loaded.detections.score, task.detections.score)
    np.testing.assert_array_equal(loaded.detections.class_id, task.detections.class_id)


@pytest.mark.parametrize(
    "text, file, expected",
    [
        ("names:\n  - person\n  - car\nnc: 2\n", "data.yaml", {0: "person", 1: "car"}),
        ("names:\n  0: person\n  3: car\n", "data.yaml", {0: "person", 3: "car"}),
        ("path: ../datasets\nnames: {0: person, 1: car}\n", "data.yml", {0: "person", 1: "car"}),
        ("person\ncar\n\n", "classes.txt", {0: "person", 1: "car"}),
        ("person\r\ncar", "obj.names", {0: "person", 1: "car"}),
    ],
)
def test_class_names(text, file, expected):
    assert read_class_names(text.encode(), file) == expected


BAD_NAMES = [
    ("nc: 2\n", "data.yaml", "data.yaml: names: expected a list of class names or a mapping {id: name}, got None"),
    ("names: [person\n", "data.yaml", "data.yaml: expected valid YAML, got malformed YAML"),
    ("names:\n  -1: person\n", "data.yaml", "data.yaml: names[-1]: expected a class id >= 0 and a non-empty name, got -1: 'person'"),
    ("person\n\ncar\n", "classes.txt", "classes.txt: line 2: expected a class name on every line (line n is class n - 1), got an empty line"),
    ("", "classes.txt", "classes.txt: no usable class names: the file is empty"),
]


@pytest.mark.parametrize("text, file, message", BAD_NAMES, ids=[b[2][:40] for b in BAD_NAMES])
def test_bad_class_names(text, file, message):
    with pytest.raises(SchemaError) as error:
        read_class_names(text.encode(), file)
    assert message in str(error.value)


BAD = [
    ("line of 4 fields", {"a.txt": "0 0.5 0.5 0.25"}, "labels/a.txt: line 1: expected 5 to 7 numbers: class cx cy w h [conf [track_id]], got 4 fields: '0 0.5 0.5 0.25'"),
    ("segmentation polygon", {"a.txt": "0 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2"}, "labels/a.txt: line 1: expected 5 to 7 numbers: class cx cy w h [conf [track_id]], got 9 fields"),
    ("cx above 1", {"a.txt": "0 0.5 0.5 0.25 0.5\n0 1.2 0.5 0.25 0.5"}, "labels/a.txt: line 2: cx: expected a normalized value in [0, 1], got 1.2"),
    ("pixel coordinates", {"a.txt": "0 320 240 160 240"}, "labels/a.txt: line 1: cx: expected a normalized value in [0, 1], got 320"),
    ("negative height", {"a.txt": "0 0.5 0.5 0.25 -0.5"}, "labels/a.txt: line 1: h: expected a normalized value in [0, 1], got -0.5"),
    ("NaN width", {"a.txt": "0 0.5 0.5 nan 0.5"}, "labels/a.txt: line 1: w: expected a normalized value in [0, 1], got nan"),
    ("not a number", {"a.txt": "0 0.5 abc 0.25 0.5"}, "labels/a.txt: line 1: cy: expected a number, got 'abc'"),
    ("conf above 1", {"a.txt": "0 0.5 0.5 0.25 0.5 1.5"}, "labels/a.txt: line 1: conf: expected a confidence in [0, 1], got 1.5"),
    ("track id without conf", {"a.txt": "0 0.5 0.5 0.25 0.5 7"}, "got 7 (a track id? save tracks with save_conf=True so the 6th number is the confidence)"),
    ("class beyond the names", {"a.txt": "5 0.5 0.5 0.25 0.5"}, "labels/a.txt: line 1: class: expected a class id of names.txt [0, 1], got 5"),
    ("fractional class", {"a.txt": "0.5 0.5 0.5 0.25 0.5"}, "labels/a.txt: line 1: class: expected a class id of names.txt [0, 1], got 0.5"),
    (
        "txt with no matching image",
        {"zzz.txt": "0 0.5 0.5 0.25 0.5"},
        "labels/zzz.txt: expected an image named zzz.<ext> or a video frame <video stem>_<frame number>.txt of the datasource, got no such sample",
    ),
    ("frame number 0", {"car_0.txt": "0 0.5 0.5 0.25 0.5"}, "labels/car_0.txt: expected a frame number from 1 to 120 of clips/car.mp4 (vid_stride 1), got 0"),
    ("frame beyond the video", {"car_121.txt": "0 0.5 0.5 0.25 0.5"}, "labels/car_121.txt: expected a frame number from 1 to 120 of clips/car.mp4 (vid_stride 1), got 121"),
    (
        "two txt files for one image",
        {"img/a.txt": "0 0.5 0.5 0.25 0.5", "a.txt": "0 0.5 0.5 0.25 0.5"},
        "labels/a.txt: expected one txt file per image or video frame, got the same sample as labels/img/a.txt: img/a.jpg",
    ),
    ("not UTF-8", {"a.txt": b"\xff\xfe0 0.5"}, "labels/a.txt: expected a UTF-8 text file, got 'utf-8' codec can't decode"),
    ("unreadable file", {"a.txt": PermissionError("denied")}, "labels/a.txt: expected a readable file, got PermissionError: denied"),
]


@pytest.mark.parametrize("name, labels, message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_its_precise_problem(frames, name, labels, message):  # noqa: F811
    with pytest.raises(SchemaError) as error:
        yolo_to_task(labels, frames, NAMES, task="yolo", labels_dir="labels", names_file="names.txt")
    assert message in str(error.value)


@pytest.mark.parametrize("name, labels, message", BAD, ids=[b[0] for b in BAD])
def test_collecting_problems_leaves_out_only_the_bad_samples(frames, name, labels, message):  # noqa: F811
    problems = Problems()
    good = {"rot.txt": "0 0.5 0.5 0.5 0.5"}
    task = yolo_to_task({**labels, **good}, frames, NAMES, task="yolo", labels_dir="labels", names_file="names.txt", problems=problems)
    assert any(message in str(p) for p in problems), problems
    assert boxes_of(task, "img/rot.jpg") == [[120, 160, 240, 320, 1.0, 0]]
    if "a.txt" in labels:
        assert task.invalid == ("img/a.jpg",)
        assert "img/a.jpg" not in task.frames.file_name.tolist()  # no file claiming "no boxes"
    else:
        assert task.invalid == ()


def test_ambiguous_flat_name(tmp_path, carphone_mp4):
    from tests.convert_fixtures import make_media
    from thresher.io.datasource import Datasource

    root = make_media(tmp_path / "ds", carphone_mp4)
    (root / "other").mkdir()
    (root / "img/a.jpg").rename(root / "other/b.jpg")
    with pytest.raises(SchemaError, match=r"b.txt: expected a txt name that matches one image, got 2 images: img/sub/b.png, other/b.jpg"):
        yolo_to_task({"b.txt": "0 0.5 0.5 0.5 0.5"}, Datasource(root).frames(), NAMES, task="yolo")


def test_bad_vid_stride(frames):  # noqa: F811
    with pytest.raises(UsageError, match="vid_stride: expected an integer >= 1, got 0"):
        yolo_to_task({}, frames, NAMES, task="yolo", vid_stride=0)


def test_normalized_to_pixels_by_hand():
    from thresher.io.yolo import normalized_to_pixels

    # 640x480: cx 0.5·640 = 320 ± 0.25·640/2 = 80; cy 0.5·480 = 240 ± 0.5·480/2 = 120
    np.testing.assert_allclose(normalized_to_pixels([[0.5, 0.5, 0.25, 0.5]], np.array([640]), np.array([480])), [[240, 120, 400, 360]])
    # 176x144: cx 0.1·176 = 17.6 ± 0.05·176/2 = 4.4; cy 0.2·144 = 28.8 ± 0.1·144/2 = 7.2
    np.testing.assert_allclose(normalized_to_pixels([[0.1, 0.2, 0.05, 0.1]], np.array([176]), np.array([144])), [[13.2, 21.6, 22.0, 36.0]])


def test_no_names(frames):  # noqa: F811
    with pytest.raises(UsageError, match="names: expected at least one class name, got none"):
        yolo_to_task({}, frames, [], task="yolo")
