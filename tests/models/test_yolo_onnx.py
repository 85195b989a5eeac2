"""ONNX YOLO (Ultralytics v8/v11 layout) on tiny graphs, with boxes and scores derived by hand."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from tests.models.onnx_graphs import channel_mean_yolo, constant_yolo
from thresher.errors import SchemaError, UsageError
from thresher.models.detector import Detector
from thresher.models.yolo_onnx import YOLOOnnx, letterbox, parse_names, unletterbox

NAMES = "{0: 'person', 1: 'car', 2: 'truck'}"
# Candidates as columns: cx, cy, w, h in 64x64 input pixels, then person, car, truck scores.
CANDIDATES = [
    (32, 32, 20, 20, 0.9, 0.05, 0.05),  # 0: person, box (22, 22, 42, 42)
    (33, 32, 20, 20, 0.8, 0.1, 0.1),  # 1: person, IoU with 0 = 380/420 = 0.905: suppressed
    (33, 32, 20, 20, 0.1, 0.6, 0.3),  # 2: car, box (23, 22, 43, 42): another class, kept
    (10, 10, 4, 4, 0.05, 0.05, 0.08),  # 3: nothing above 0.1
    (50, 50, 8, 8, 0.2, 0.1, 0.5),  # 4: truck, box (46, 46, 54, 54)
]
# Images: 200x100 (w x h) -> gain 0.32, pad y 16; 64x64 -> identity; 16x32 -> gain 2, pad x 16.
IMAGES = [np.zeros((100, 200, 3), np.uint8), np.zeros((64, 64, 3), np.uint8), np.zeros((32, 16, 3), np.uint8)]
EXPECTED = {  # frame -> (class ids, scores, boxes) in decreasing score order
    0: ([0, 1, 2], [0.9, 0.6, 0.5], [[68.75, 18.75, 131.25, 81.25], [71.875, 18.75, 134.375, 81.25], [143.75, 93.75, 168.75, 100]]),  # truck: y1 118.75 clipped at the height 100
    1: ([0, 1, 2], [0.9, 0.6, 0.5], [[22, 22, 42, 42], [23, 22, 43, 42], [46, 46, 54, 54]]),
    2: ([0, 1, 2], [0.9, 0.6, 0.5], [[3, 11, 13, 21], [3.5, 11, 13.5, 21], [15, 23, 16, 27]]),  # truck clipped at x = 16
}


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    prediction = np.array(CANDIDATES, np.float32).T[None]  # (1, 7, 5)
    return constant_yolo(tmp_path_factory.mktemp("onnx") / "yolo.onnx", prediction, metadata={"names": NAMES, "task": "detect"})


def test_decode_nms_and_letterbox_inverse_by_hand(model_path):
    detector = YOLOOnnx(model_path, batch_size=2)  # 3 images: two runs of a dynamic batch
    assert isinstance(detector, Detector)
    assert detector.categories == {0: "person", 1: "car", 2: "truck"} and detector.input_size == (64, 64)
    dets = detector.predict(IMAGES)
    for frame, (classes, scores, boxes) in EXPECTED.items():
        rows = dets[dets.frame == frame]
        assert rows.class_id.tolist() == classes
        np.testing.assert_allclose(rows.score, scores, rtol=1e-6)
        np.testing.assert_allclose(rows.xyxy, boxes, atol=1e-4)
    np.testing.assert_allclose(dets.probs[:3], [[0.9 / 1.0, 0.05, 0.05], [0.1, 0.6, 0.3], [0.25, 0.125, 0.625]], rtol=1e-6)
    assert (dets.probs.argmax(axis=1) == dets.class_id).all()


@pytest.mark.parametrize(
    "classes, categories, expected_probs",
    [
        (["truck"], {2: "truck"}, [[1.0]]),
        (["truck", "car"], {1: "car", 2: "truck"}, [[0.6 / 0.9, 0.3 / 0.9], [0.1 / 0.6, 0.5 / 0.6]]),
        (["person"], {0: "person"}, [[1.0]]),
    ],
)
def test_class_filter(model_path, classes, categories, expected_probs):
    detector = YOLOOnnx(model_path, classes=classes)
    dets = detector.predict(IMAGES[1:2])
    assert detector.categories == categories
    assert dets.class_id.tolist() == sorted(categories, key=lambda c: -max(CANDIDATES[[0, 2, 4][c]][4:]))
    np.testing.assert_allclose(dets.probs, expected_probs, rtol=1e-6)


def test_multi_label_keeps_a_box_once_per_class(model_path):
    dets = YOLOOnnx(model_path, multi_label=True).predict(IMAGES[1:2])
    # above 0.1: (0, person .9), (2, car .6), (2, truck .3), (4, person .2), (4, truck .5); 0.1 itself is not above 0.1
    assert list(zip(dets.class_id.tolist(), dets.score.round(6).tolist())) == [(0, 0.9), (1, 0.6), (2, 0.5), (2, 0.3), (0, 0.2)]


@pytest.mark.parametrize(
    "kwargs, n_boxes",
    [({"confidence": 0.55}, 2), ({"max_det": 1}, 1), ({"nms_iou": 0.95}, 4), ({"confidence": 0.95}, 0)],
)
def test_confidence_max_det_and_iou(model_path, kwargs, n_boxes):
    dets = YOLOOnnx(model_path, **kwargs).predict(IMAGES[1:2])
    assert len(dets) == n_boxes and dets.probs.shape == (n_boxes, 3)


def test_preprocessing_is_rgb_over_255_letterboxed_with_gray_114(tmp_path):
    path = channel_mean_yolo(tmp_path / "means.onnx", (32, 32, 10, 10), metadata={"names": "{0: 'red', 1: 'blue'}"})
    red = np.zeros((32, 64, 3), np.uint8)
    red[..., 0] = 255  # 64 wide, 32 high: no resize, 16 rows of gray above and below
    dets = YOLOOnnx(path, confidence=0.0).predict([red])
    red_mean, blue_mean = 0.5 + 0.5 * 114 / 255, 0.5 * 114 / 255
    np.testing.assert_allclose(dets.score, [red_mean], rtol=1e-5)
    np.testing.assert_allclose(dets.probs, [[red_mean / (red_mean + blue_mean), blue_mean / (red_mean + blue_mean)]], rtol=1e-5)
    np.testing.assert_allclose(dets.xyxy, [[27, 11, 37, 21]], atol=1e-4)  # y shifted up by the 16-row pad


def test_letterbox_by_hand():
    image = np.full((100, 200, 3), 7, np.uint8)
    boxed = letterbox(image, (64, 64))  # gain 0.32 -> 64 x 32, 16 rows of pad above and below
    assert boxed.shape == (64, 64, 3)
    assert (boxed[:16] == 114).all() and (boxed[48:] == 114).all() and (boxed[16:48] == 7).all()
    assert letterbox(np.zeros((64, 64, 3), np.uint8), (64, 64)).shape == (64, 64, 3)


@pytest.mark.parametrize(
    "input_size, image_size, box, expected",
    [
        ((64, 64), (100, 200), [22, 22, 42, 42], [68.75, 18.75, 131.25, 81.25]),
        ((640, 640), (480, 640), [0, 80, 640, 560], [0, 0, 640, 480]),  # gain 1, pad y 80
        ((64, 64), (32, 16), [46, 46, 54, 54], [15, 23, 16, 27]),  # clipped to the image
    ],
)
def test_unletterbox_by_hand(input_size, image_size, box, expected):
    np.testing.assert_allclose(unletterbox(np.array([box], float), input_size, image_size), [expected])


def test_names_from_parameter_or_fallback(tmp_path):
    prediction = np.array(CANDIDATES, np.float32).T[None]
    bare = constant_yolo(tmp_path / "bare.onnx", prediction)
    assert YOLOOnnx(bare).categories == {0: "class_0", 1: "class_1", 2: "class_2"}
    assert YOLOOnnx(bare, names={2: "lorry", 0: "human", 1: "auto"}).categories == {0: "human", 1: "auto", 2: "lorry"}
    assert parse_names("['a', 'b']") == {0: "a", 1: "b"}


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: constant_yolo(p, np.zeros((1, 7, 5), np.float32), metadata={"names": NAMES, "task": "classify"}), "'classify' model"),
        (lambda p: constant_yolo(p, np.zeros((1, 5, 5), np.float32), metadata={"names": NAMES}), r"expected shape \(1, 4 \+ 3 classes, N\)"),
        (lambda p: constant_yolo(p, np.zeros((1, 7, 5), np.float32), metadata={"names": "person"}), "'names'"),
        (lambda p: p.write_bytes(b"not onnx") and p, "not a loadable ONNX model"),
        (lambda p: constant_yolo(p, np.zeros((1, 300, 6), np.float32), metadata={"names": NAMES, "end2end": "True"}), "without nms=True"),
    ],
)
def test_bad_models_are_reported_with_their_path(tmp_path, make, match):
    path = make(tmp_path / "bad.onnx")
    with pytest.raises(SchemaError, match=match) as info:
        YOLOOnnx(path).predict(IMAGES[1:2])
    assert "bad.onnx" in str(info.value) or "names" in str(info.value)


def test_bad_arguments_are_named(tmp_path, model_path):
    with pytest.raises(UsageError, match="path: expected an ONNX model file"):
        YOLOOnnx(tmp_path / "missing.onnx")
    with pytest.raises(UsageError, match="max_det"):
        YOLOOnnx(model_path, max_det=0)
    with pytest.raises(UsageError, match='did you mean "truck"'):
        YOLOOnnx(model_path, classes=["trucks"]).categories


def test_pickles_without_its_session(model_path):
    detector = YOLOOnnx(model_path)
    detector.predict(IMAGES[1:2])
    copy = pickle.loads(pickle.dumps(detector))
    assert copy._session is None and len(copy.predict(IMAGES[1:2])) == 3
