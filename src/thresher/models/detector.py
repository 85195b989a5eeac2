"""The `Detector` protocol, the checks every detector shares, and `CallableDetector`.

A detector maps a batch of RGB images to one `Detections` table:

- `images`: a sequence of (H, W, 3) uint8 RGB arrays, EXIF orientation already applied;
- `Detections.frame` = position of the image in `images`; `xyxy` in pixels of that image;
- `score` = the detector's confidence for the box's class (higher = more confident);
- `class_id` = a key of `detector.categories` (ids as written to a Lightly schema);
- `probs` (M, K) over `categories` in ascending id order, each row summing to 1 (Lightly
  requires it); how a detector turns its raw scores into such a vector is said in its class.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from thresher.detections import Detections
from thresher.errors import SchemaError, UsageError, did_you_mean

PROBABILITY_SUM_TOLERANCE = 1e-3  # Lightly's exact tolerance is unknown: we write rows that sum to 1


@runtime_checkable
class Detector(Protocol):
    """Anything with `categories` and `predict(images) -> Detections` (see the module docstring)."""

    @property
    def categories(self) -> dict[int, str]: ...  # an attribute or a read-only property

    def predict(self, images: Sequence[np.ndarray]) -> Detections: ...


def check_images(images: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The images as a list of C-contiguous (H, W, 3) uint8 arrays, or a `UsageError` naming the bad one."""
    if isinstance(images, np.ndarray) and images.ndim == 3:
        raise UsageError("images: expected a sequence of (H, W, 3) arrays, got one array of 3 dimensions; wrap it in a list")
    checked = []
    for position, image in enumerate(images):
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise UsageError(f"images[{position}]: expected an (H, W, 3) uint8 RGB array, got shape {image.shape} dtype {image.dtype}")
        if image.shape[0] == 0 or image.shape[1] == 0:
            raise UsageError(f"images[{position}]: expected a non-empty image, got shape {image.shape}")
        checked.append(np.ascontiguousarray(image))
    return checked


def resolve_classes(names: Mapping[int, str], classes: Sequence[str] | None) -> dict[int, str]:
    """The categories kept by a class filter, in ascending id order.

    `names` maps every category id of the model to its name; `classes` lists names to keep
    (None keeps all). An unknown name is a `UsageError` that suggests the nearest one.
    """
    ordered = dict(sorted(names.items()))
    if classes is None:
        return ordered
    if isinstance(classes, str):
        raise UsageError(f'classes: expected a list of class names, got the string "{classes}"; write ["{classes}"]')
    by_name = {name: category_id for category_id, name in ordered.items()}
    for name in classes:
        if name not in by_name:
            raise UsageError(f'classes: unknown class "{name}"{did_you_mean(name, by_name)}; the model knows {", ".join(by_name)}')
    if not classes:
        raise UsageError("classes: expected at least one class name, got an empty list")
    wanted = {by_name[name] for name in classes}
    return {category_id: name for category_id, name in ordered.items() if category_id in wanted}


def check_parameters(confidence: float, nms_iou: float, **counts: int) -> None:
    """`UsageError` naming the parameter unless confidence is in [0, 1), nms_iou in [0, 1] and counts >= 1."""
    if not 0 <= confidence < 1:
        raise UsageError(f"confidence: expected a number in [0, 1), got {confidence}")
    if not 0 <= nms_iou <= 1:
        raise UsageError(f"nms_iou: expected a number in [0, 1], got {nms_iou}")
    for name, value in counts.items():
        if int(value) != value or value < 1:
            raise UsageError(f"{name}: expected an integer >= 1, got {value}")


def normalize_rows(scores: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (float64); a row summing to 0 becomes uniform."""
    scores = np.asarray(scores, dtype=np.float64)
    sums = scores.sum(axis=1, keepdims=True)
    uniform = np.full_like(scores, 1.0 / max(scores.shape[1], 1))
    return np.divide(scores, sums, out=uniform, where=sums > 0)


def check_detections(detections: Detections, categories: Mapping[int, str], n_images: int | None, source: str) -> Detections:
    """Validate a detector's output against its categories; rows of `probs` renormalized to sum to 1.

    Raises `SchemaError` naming `source` when a frame is out of range, a class id is not a
    category, `probs` has the wrong width, or a row of `probs` is off 1 by more than
    `PROBABILITY_SUM_TOLERANCE`.
    """
    if not isinstance(detections, Detections):
        raise SchemaError(f"{source}: expected a thresher.Detections, got {type(detections).__name__}")
    if n_images is not None and len(detections) and detections.frame.max() >= n_images:
        raise SchemaError(f"{source}: Detections.frame must be < {n_images} (the number of images), got {detections.frame.max()}")
    known = np.fromiter(categories, dtype=np.int64)
    unknown = np.setdiff1d(detections.class_id, known)
    if unknown.size:
        raise SchemaError(f"{source}: class_id {unknown.tolist()} not among the categories {sorted(categories)}")
    if detections.probs is None:
        return detections
    if detections.probs.shape[1] != len(categories):
        raise SchemaError(f"{source}: probs expected {len(categories)} columns (one per category), got {detections.probs.shape[1]}")
    sums = detections.probs.sum(axis=1)
    if len(sums) and (np.abs(sums - 1).max() > PROBABILITY_SUM_TOLERANCE or (detections.probs < 0).any()):
        raise SchemaError(f"{source}: each row of probs must be >= 0 and sum to 1 (within {PROBABILITY_SUM_TOLERANCE}), got sums {sums.min():.6g}..{sums.max():.6g}")
    return dataclasses.replace(detections, probs=normalize_rows(detections.probs))


class CallableDetector:
    """Any function plugged in as a `Detector`.

    `function(image) -> Detections` for one image (its `frame` column is ignored and set to
    the image's position), or with `batch=True`, `function(images) -> Detections` for the
    whole batch (`frame` = position in the batch). `categories` maps the ids the function
    emits to names. `probs`, when the function gives them, must have one column per
    category in ascending id order and rows summing to 1 within 1e-3; they are then
    renormalized to sum to 1 exactly.
    """

    def __init__(self, function: Callable[..., Detections], categories: Mapping[int, str], *, batch: bool = False) -> None:
        if not callable(function):
            raise UsageError(f"function: expected a callable image -> Detections, got {type(function).__name__}")
        if not categories:
            raise UsageError("categories: expected a mapping of category id -> name, got an empty one")
        self.function = function
        self.categories = {int(category_id): str(name) for category_id, name in sorted(categories.items())}
        self.batch = batch

    def predict(self, images: Sequence[np.ndarray]) -> Detections:
        images = check_images(images)
        name = getattr(self.function, "__name__", type(self.function).__name__)
        if self.batch:
            return check_detections(self.function(images), self.categories, len(images), f"{name}(images)")
        parts = []
        for position, image in enumerate(images):
            result = check_detections(self.function(image), self.categories, None, f"{name}(images[{position}])")
            parts.append(dataclasses.replace(result, frame=np.full(len(result), position, dtype=np.int64)))
        return _concat(parts, len(self.categories))

    def __repr__(self) -> str:
        return f"CallableDetector({getattr(self.function, '__name__', self.function)!r}, {len(self.categories)} categories, batch={self.batch})"


def _concat(parts: list[Detections], n_categories: int) -> Detections:
    """Join per-image results; an empty result without probs gets an empty probs column when others have one."""
    if any(part.probs is not None for part in parts):
        parts = [part if part.probs is not None or len(part) else dataclasses.replace(part, probs=np.zeros((0, n_categories))) for part in parts]
    return Detections.concat(parts) if parts else Detections.empty()


BUILTIN_DETECTORS = ("ssd-mobilenet-v2-coco",)


def load_detector(model: str = "ssd-mobilenet-v2-coco", *, confidence: float = 0.1, classes: Sequence[str] | None = None) -> Detector:
    """A detector by name: "ssd-mobilenet-v2-coco" (built in, extra `detect`) or the path of an
    Ultralytics YOLO .onnx export (extra `onnx`)."""
    if model == "ssd-mobilenet-v2-coco":
        from thresher.models.ssd import SSDMobileNetV2

        return SSDMobileNetV2(confidence=confidence, classes=classes)
    if str(model).lower().endswith(".onnx"):
        from thresher.models.yolo_onnx import YOLOOnnx

        return YOLOOnnx(model, confidence=confidence, classes=classes)
    raise UsageError(f'model: expected one of {", ".join(BUILTIN_DETECTORS)} or the path of an .onnx file, got "{model}"{did_you_mean(str(model), BUILTIN_DETECTORS)}')
