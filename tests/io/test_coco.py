"""COCO results → Lightly: the bbox is top-left x, y, w, h pixels in both, so boxes are copied, then clipped."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.convert_fixtures import frames, media  # noqa: F401 - fixtures
from tests.io.test_yolo import boxes_of
from thresher.errors import SchemaError
from thresher.io.coco import coco_to_task
from thresher.io.conversion import save_task
from thresher.io.lightly_predictions import read_predictions
from thresher.io.problems import Problems
from thresher.io.storage import Location

CATEGORIES = [{"id": 1, "name": "person", "supercategory": "person"}, {"id": 3, "name": "car", "supercategory": "vehicle"}]
IMAGES = [
    {"id": 10, "file_name": "img/a.jpg", "width": 640, "height": 480},
    {"id": 11, "file_name": "img/rot.jpg", "width": 480, "height": 640},
    {"id": 12, "file_name": "img/sub/b.png"},
]
GT = {"images": IMAGES, "annotations": [], "categories": CATEGORIES}


def result(image_id=10, category_id=3, bbox=(10.5, 20, 100, 50.25), score=0.9, **extra):
    return {"image_id": image_id, "category_id": category_id, "bbox": list(bbox), "score": score, **extra}


def convert(results, gt=GT, **options):
    return coco_to_task(results, gt, options.pop("frames"), task="coco", results_file="res.json", annotations_file="gt.json", **options)


# (results, sample, [x, y, w, h, score, category]) — worked out by hand
CASES = [
    ("copied as is", [result()], "img/a.jpg", [[10.5, 20, 100, 50.25, 0.9, 3]]),
    ("clipped to 640x480", [result(bbox=[600, 400, 100, 100])], "img/a.jpg", [[600, 400, 40, 80, 0.9, 3]]),
    ("starting left of the image", [result(bbox=[-5, -2, 20, 10])], "img/a.jpg", [[0, 0, 15, 8, 0.9, 3]]),
    ("rotated image: 480 wide", [result(image_id=11, bbox=[400, 600, 200, 100], category_id=1, score=1)], "img/rot.jpg", [[400, 600, 80, 40, 1.0, 1]]),
    ("zero width grown to 1 pixel", [result(bbox=[100, 100, 0, 10])], "img/a.jpg", [[99.5, 100, 1, 10, 0.9, 3]]),
    ("extra keys ignored", [result(id=5, area=5025.0, iscrowd=0)], "img/a.jpg", [[10.5, 20, 100, 50.25, 0.9, 3]]),
    ("two boxes, order kept", [result(score=0.5), result(bbox=[1, 2, 3, 4], score=0.25)], "img/a.jpg", [[10.5, 20, 100, 50.25, 0.5, 3], [1, 2, 3, 4, 0.25, 3]]),
]


@pytest.mark.parametrize("name, results, sample, expected", CASES, ids=[c[0] for c in CASES])
def test_box_by_hand(frames, name, results, sample, expected):  # noqa: F811
    task = convert(results, frames=frames)
    assert boxes_of(task, sample) == expected


def test_images_without_results_get_an_empty_file_and_others_none(frames):  # noqa: F811
    task = convert([result()], frames=frames)
    assert sorted(task.frames.file_name.tolist()) == ["img/a.jpg", "img/rot.jpg", "img/sub/b.png"]
    assert boxes_of(task, "img/sub/b.png") == []
    assert len(task.missing) == 120  # the video's frames are not in the annotations
    assert [c.name for c in task.schema.categories] == ["person", "car"]


def test_strip_and_prefix(frames):  # noqa: F811
    gt = {**GT, "images": [{"id": 10, "file_name": "val2017/a.jpg"}]}
    task = convert([result()], gt, frames=frames, strip="val2017/", prefix="img/")
    assert boxes_of(task, "img/a.jpg") == [[10.5, 20, 100, 50.25, 0.9, 3]]


def test_frames_named_as_lightly_frames(frames):  # noqa: F811
    gt = {**GT, "images": [{"id": 1, "file_name": "clips/car-005-mp4.png", "width": 176, "height": 144}]}
    task = convert([result(image_id=1, bbox=[170, 140, 20, 20])], gt, frames=frames)
    assert boxes_of(task, "clips/car-005-mp4.png") == [[170, 140, 6, 4, 0.9, 3]]


def test_round_trip_through_the_lightly_files(media, frames):  # noqa: F811
    results = [result(), result(image_id=11, bbox=[0.1234, 5.6789, 300.5, 400.25], score=0.123456789), result(bbox=[600, 400, 100, 100])]
    task = convert(results, frames=frames)
    lightly = Location(media)
    save_task(lightly, task)
    loaded = read_predictions(lightly, "coco", frames)
    assert loaded.invalid == ()
    assert sorted(set(loaded.frames.file_name.tolist()) - set(loaded.missing)) == ["img/a.jpg", "img/rot.jpg", "img/sub/b.png"]
    np.testing.assert_array_equal(loaded.frames.file_name[loaded.detections.frame], task.frames.file_name[task.detections.frame])
    np.testing.assert_allclose(loaded.detections.xyxy, task.detections.xyxy, atol=1e-3)
    np.testing.assert_array_equal(loaded.detections.score, task.detections.score)
    data = json.loads((media / ".lightly/predictions/coco/img/sub/b.json").read_text())
    assert data == {"file_name": "img/sub/b.png", "predictions": []}


BAD = [
    ("unknown image_id", [result(), result(image_id=99)], GT, "res.json: [1].image_id: expected an image id of gt.json's images, got 99"),
    ("category missing from categories", [result(category_id=2)], GT, "res.json: [0].category_id (of img/a.jpg): expected one of gt.json's category ids [1, 3], got 2"),
    ("negative width", [result(bbox=[1, 2, -3, 4])], GT, "res.json: [0].bbox (of img/a.jpg): expected [x, y, w, h] with finite numbers, w >= 0 and h >= 0, got [1, 2, -3, 4]"),
    (
        "box outside the image",
        [result(bbox=[700, 10, 5, 5])],
        GT,
        "res.json: [0].bbox (of img/a.jpg): expected a box overlapping its image, got [700, 10, 5, 5] in an image of 640x480",
    ),
    ("bbox of 3 numbers", [result(bbox=[1, 2, 3])], GT, "res.json: [0].bbox: expected [x, y, w, h], four numbers in pixels, got [1, 2, 3]"),
    ("bbox missing", [{"image_id": 10, "category_id": 3, "score": 0.5}], GT, "res.json: [0].bbox: expected [x, y, w, h], four numbers in pixels, got nothing"),
    ("score above 1", [result(score=1.5)], GT, "res.json: [0].score (of img/a.jpg): expected a number in [0, 1], got 1.5"),
    ("score as a string", [result(score="0.9")], GT, "res.json: [0].score: expected a number in [0, 1], got '0.9'"),
    ("image_id as a string", [result(image_id="10")], GT, "res.json: [0].image_id: expected an integer image id, got '10'"),
    ("result not an object", [result(), [1, 2]], GT, "res.json: [1]: expected an object {image_id, category_id, bbox, score}, got [1, 2]"),
    ("results not a list", {"annotations": []}, GT, "res.json: expected a JSON list of {image_id, category_id, bbox, score}, got {'annotations': []}"),
    (
        "file name not in the datasource",
        [result()],
        {**GT, "images": [{"id": 10, "file_name": "zzz.jpg"}]},
        "gt.json: images[0].file_name: expected the name of an image of the datasource, got 'zzz.jpg'",
    ),
    (
        "file name with a folder the datasource lacks",
        [result()],
        {**GT, "images": [{"id": 10, "file_name": "val2017/img/a.jpg"}]},
        "got 'val2017/img/a.jpg' (the datasource has 'img/a.jpg': try --strip 'val2017/')",
    ),
    (
        "file name without the datasource's folder",
        [result()],
        {**GT, "images": [{"id": 10, "file_name": "b.png"}]},
        "got 'b.png' (the datasource has 'img/sub/b.png': try --prefix 'img/sub/')",
    ),
    (
        "a video instead of its frames",
        [result()],
        {**GT, "images": [{"id": 10, "file_name": "clips/car.mp4"}]},
        "gt.json: images[0].file_name: expected the name of an image of the datasource, got 'clips/car.mp4' (a video: its frames are named clips/car-000-mp4.png, …)",
    ),
    (
        "file name escaping the datasource",
        [result()],
        {**GT, "images": [{"id": 10, "file_name": "../a.jpg"}]},
        "gt.json: images[0].file_name: expected a name relative to the datasource (see --strip, --prefix), got file name '../a.jpg' escapes the datasource",
    ),
    (
        "absolute file name",
        [result()],
        {**GT, "images": [{"id": 10, "file_name": "/data/raw/img/a.jpg"}]},
        "got file name '/data/raw/img/a.jpg' is not a relative '/'-separated path inside the datasource (the datasource has 'img/a.jpg': try --strip '/data/raw/')",
    ),
    (
        "frame past the end of its video",
        [result()],
        {**GT, "images": [{"id": 10, "file_name": "clips/car-120-mp4.png"}]},
        "gt.json: images[0].file_name: expected a frame of clips/car.mp4 (120 frames), clips/car-000-mp4.png to clips/car-119-mp4.png, "
        "got 'clips/car-120-mp4.png' (frame 120 is past its last frame, 119)",
    ),
    (
        "frame number not padded",
        [result()],
        {**GT, "images": [{"id": 10, "file_name": "clips/car-5-mp4.png"}]},
        "gt.json: images[0].file_name: expected a frame of clips/car.mp4 (120 frames), clips/car-000-mp4.png to clips/car-119-mp4.png, "
        "got 'clips/car-5-mp4.png' (frame numbers are zero-padded to 3 digits: 'clips/car-005-mp4.png')",
    ),
    (
        "size of the unrotated image",
        [result(image_id=11)],
        {**GT, "images": [{"id": 11, "file_name": "img/rot.jpg", "width": 640, "height": 480}]},
        "gt.json: images[0].width, height: expected the size of img/rot.jpg after EXIF rotation, 480x640, got 640x480",
    ),
    ("duplicate image id", [result()], {**GT, "images": [IMAGES[0], {**IMAGES[1], "id": 10}]}, "gt.json: images[1].id: expected unique image ids, got 10 again"),
    (
        "one sample twice",
        [result()],
        {**GT, "images": [IMAGES[0], {**IMAGES[0], "id": 20}]},
        "gt.json: images[1].file_name: expected one image entry per datasource sample, got 'img/a.jpg' again (as images[0])",
    ),
    ("image without file_name", [result()], {**GT, "images": [{"id": 10}]}, "gt.json: images[0]: expected {id: integer, file_name: string, width, height}, got {'id': 10}"),
    ("no categories", [result()], {"images": IMAGES}, "gt.json: categories: expected a non-empty list of {id, name}, got None"),
    ("category without a name", [result()], {**GT, "categories": [{"id": 1}]}, "gt.json: categories[0]: expected {id: integer >= 0, name: non-empty string}, got {'id': 1}"),
    ("duplicate category id", [result()], {**GT, "categories": CATEGORIES + [{"id": 3, "name": "bus"}]}, "gt.json: categories[2].id: expected unique category ids, got 3 again"),
]


@pytest.mark.parametrize("name, results, gt, message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_its_precise_problem(frames, name, results, gt, message):  # noqa: F811
    with pytest.raises(SchemaError) as error:
        convert(results, gt, frames=frames)
    assert message in str(error.value)


@pytest.mark.parametrize("name, results, gt, message", BAD, ids=[b[0] for b in BAD])
def test_collecting_problems_records_the_same_message(frames, name, results, gt, message):  # noqa: F811
    problems = Problems()
    try:
        convert(results, gt, frames=frames, problems=problems)
    except SchemaError:
        pass  # inputs unusable as a whole still raise, after recording their problem
    assert any(message in str(p) for p in problems), problems


def test_a_bad_result_leaves_its_image_out_and_keeps_the_others(frames):  # noqa: F811
    problems = Problems()
    task = convert([result(), result(score=2.0), result(image_id=11, bbox=[1, 2, 3, 4])], frames=frames, problems=problems)
    assert len(problems) == 1
    assert task.invalid == ("img/a.jpg",)
    assert "img/a.jpg" not in task.frames.file_name.tolist()
    assert boxes_of(task, "img/rot.jpg") == [[1, 2, 3, 4, 0.9, 3]]
