"""The Detector protocol's shared checks and CallableDetector."""

from __future__ import annotations

import numpy as np
import pytest

from thresher.detections import Detections
from thresher.errors import SchemaError, UsageError
from thresher.models.detector import CallableDetector, Detector, check_images, normalize_rows, resolve_classes

CATEGORIES = {3: "car", 1: "person"}
IMAGES = [np.zeros((20, 30, 3), np.uint8), np.zeros((10, 10, 3), np.uint8)]


def one_box(image: np.ndarray) -> Detections:
    h, w = image.shape[:2]
    return Detections(frame=[0], xyxy=[[0, 0, w, h]], score=[0.9], class_id=[3], probs=[[0.25, 0.75]])


def test_callable_detector_sets_frames_and_sorts_categories():
    detector = CallableDetector(one_box, CATEGORIES)
    assert isinstance(detector, Detector)
    assert list(detector.categories.items()) == [(1, "person"), (3, "car")]
    dets = detector.predict(IMAGES)
    assert dets.frame.tolist() == [0, 1]
    assert dets.xyxy.tolist() == [[0, 0, 30, 20], [0, 0, 10, 10]]
    assert dets.probs.tolist() == [[0.25, 0.75]] * 2


def test_callable_detector_in_batch_mode_passes_the_list():
    def batch(images):
        return Detections(frame=[1], xyxy=[[1, 1, 2, 2]], score=[0.5], class_id=[1])

    dets = CallableDetector(batch, CATEGORIES, batch=True).predict(IMAGES)
    assert dets.frame.tolist() == [1] and dets.probs is None


def test_empty_results_join_with_results_that_have_probs():
    results = iter([one_box(IMAGES[0]), Detections.empty()])
    dets = CallableDetector(lambda image: next(results), CATEGORIES).predict(IMAGES)
    assert len(dets) == 1 and dets.probs.shape == (1, 2)


def test_probs_off_by_rounding_are_renormalized():
    def rounded(image):
        return Detections(frame=[0], xyxy=[[0, 0, 1, 1]], score=[0.9], class_id=[3], probs=[[0.3333, 0.6666]])

    probs = CallableDetector(rounded, CATEGORIES).predict(IMAGES[:1]).probs
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    assert probs[0, 0] == pytest.approx(0.3333 / 0.9999)


@pytest.mark.parametrize(
    "result, match",
    [
        (Detections(frame=[0], xyxy=[[0, 0, 1, 1]], score=[0.9], class_id=[2]), r"class_id \[2\] not among"),
        (Detections(frame=[0], xyxy=[[0, 0, 1, 1]], score=[0.9], class_id=[3], probs=[[1.0]]), "expected 2 columns"),
        (Detections(frame=[0], xyxy=[[0, 0, 1, 1]], score=[0.9], class_id=[3], probs=[[0.5, 0.6]]), "sum to 1"),
        ([[0, 0, 1, 1]], "expected a thresher.Detections, got list"),
    ],
)
def test_bad_results_name_the_function_and_the_problem(result, match):
    def my_model(image):
        return result

    with pytest.raises(SchemaError, match=match) as info:
        CallableDetector(my_model, CATEGORIES).predict(IMAGES[:1])
    assert "my_model(images[0])" in str(info.value)


def test_batch_result_with_a_frame_out_of_range_is_refused():
    def batch(images):
        return Detections(frame=[2], xyxy=[[0, 0, 1, 1]], score=[0.5], class_id=[1])

    with pytest.raises(SchemaError, match="must be < 2"):
        CallableDetector(batch, CATEGORIES, batch=True).predict(IMAGES)


@pytest.mark.parametrize(
    "images, match",
    [
        ([np.zeros((4, 4), np.uint8)], r"images\[0\]: expected an \(H, W, 3\) uint8"),
        ([np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 3), np.float32)], r"images\[1\].*float32"),
        ([np.zeros((0, 4, 3), np.uint8)], "non-empty"),
        (np.zeros((4, 4, 3), np.uint8), "wrap it in a list"),
    ],
)
def test_check_images_names_the_bad_image(images, match):
    with pytest.raises(UsageError, match=match):
        check_images(images)


def test_resolve_classes_keeps_id_order_and_suggests_names():
    names = {3: "car", 1: "person", 8: "truck"}
    assert resolve_classes(names, None) == {1: "person", 3: "car", 8: "truck"}
    assert list(resolve_classes(names, ["truck", "car"])) == [3, 8]
    with pytest.raises(UsageError, match='unknown class "cars" \\(did you mean "car"\\?\\)'):
        resolve_classes(names, ["cars"])
    with pytest.raises(UsageError, match="a list of class names"):
        resolve_classes(names, "car")
    with pytest.raises(UsageError, match="at least one"):
        resolve_classes(names, [])


def test_normalize_rows():
    probs = normalize_rows(np.array([[0.5, 0.3], [0.0, 0.0], [2.0, 2.0]]))
    assert probs == pytest.approx(np.array([[0.625, 0.375], [0.5, 0.5], [0.5, 0.5]]), abs=1e-15)


def test_callable_detector_refuses_a_non_callable():
    with pytest.raises(UsageError, match="function: expected a callable"):
        CallableDetector("model.onnx", CATEGORIES)  # type: ignore[arg-type]


def test_load_detector_by_name_or_path(tmp_path):
    from thresher.models import SSDMobileNetV2, YOLOOnnx, load_detector

    ssd = load_detector("ssd-mobilenet-v2-coco", confidence=0.3, classes=["car"])
    assert isinstance(ssd, SSDMobileNetV2) and ssd.confidence == 0.3 and ssd.categories == {3: "car"}
    (tmp_path / "m.onnx").write_bytes(b"")
    assert isinstance(load_detector(str(tmp_path / "m.onnx")), YOLOOnnx)
    with pytest.raises(UsageError, match='did you mean "ssd-mobilenet-v2-coco"'):
        load_detector("ssd-mobilenet-v2")


def test_importing_models_does_not_import_heavy_libraries():
    import subprocess
    import sys

    code = "import sys, thresher.models; print(sorted({'cv2', 'onnxruntime', 'onnx'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
