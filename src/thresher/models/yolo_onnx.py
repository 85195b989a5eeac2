"""A user's YOLO detector in the Ultralytics v8/v11 ONNX export layout, through onnxruntime.

The layout (what `yolo export format=onnx` writes for detection, segmentation and pose models):

- input (B, 3, H, W) RGB scaled to [0, 1], each image letterboxed to H x W: resized by
  r = min(H / h, W / w) with bilinear interpolation, centred, padded with gray 114;
- output 0 (B, 4 + nc [+ extra], N): per candidate the box centre x, y, width, height in input
  pixels and nc class scores (sigmoid, no objectness); segmentation and pose exports append
  mask coefficients or keypoints, which are ignored here;
- class names in the model's metadata (`names`, a Python dict literal, as Ultralytics writes).

Postprocessing follows Ultralytics' `non_max_suppression`: a box's class is its best class
(`multi_label=False`), candidates need a score strictly above `confidence`, at most 30,000 per
image, per-class greedy NMS at `nms_iou` (default 0.7, Ultralytics' own), `max_det` boxes per
image; boxes are mapped back through the letterbox (`scale_boxes`) and clipped to the image.
Probabilities: the box's class scores over `categories` divided by their sum.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from thresher.boxes import clip, cxcywh_to_xyxy
from thresher.detections import Detections
from thresher.errors import SchemaError, UsageError, require
from thresher.models.detector import check_images, check_parameters, normalize_rows, resolve_classes
from thresher.models.postprocess import select_boxes

PAD_VALUE = 114
MAX_CANDIDATES = 30_000
DETECTION_TASKS = ("detect", "segment", "pose")


def letterbox(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The (height, width) = `size` letterboxed copy of an (h, w, 3) uint8 image (Ultralytics' `LetterBox`)."""
    cv2 = require("cv2", "onnx")
    height, width = image.shape[:2]
    ratio = min(size[0] / height, size[1] / width)
    new_w, new_h = int(round(width * ratio)), int(round(height * ratio))
    if (new_w, new_h) != (width, height):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    pad_w, pad_h = (size[1] - new_w) / 2, (size[0] - new_h) / 2
    top, bottom = int(round(pad_h - 0.1)), int(round(pad_h + 0.1))
    left, right = int(round(pad_w - 0.1)), int(round(pad_w + 0.1))
    return cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)


def unletterbox(xyxy: np.ndarray, input_size: tuple[int, int], image_size: tuple[int, int]) -> np.ndarray:
    """Boxes in letterboxed input pixels back to pixels of the (height, width) image, clipped (Ultralytics' `scale_boxes`)."""
    gain = min(input_size[0] / image_size[0], input_size[1] / image_size[1])
    pad_x = round((input_size[1] - image_size[1] * gain) / 2 - 0.1)
    pad_y = round((input_size[0] - image_size[0] * gain) / 2 - 0.1)
    boxes = (np.asarray(xyxy, dtype=np.float64) - [pad_x, pad_y, pad_x, pad_y]) / gain
    return clip(boxes, image_size[1], image_size[0])


def parse_names(text: str) -> dict[int, str]:
    """Class names from the metadata value Ultralytics writes: "{0: 'person', 1: 'bicycle'}"."""
    try:
        names = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise SchemaError(f"ONNX metadata 'names': expected a dict literal {{0: 'name', …}}, got {text[:80]!r}") from exc
    if isinstance(names, (list, tuple)):
        names = dict(enumerate(names))
    if not isinstance(names, dict) or not all(isinstance(k, int) for k in names):
        raise SchemaError(f"ONNX metadata 'names': expected a dict of int -> name, got {text[:80]!r}")
    return {int(k): str(v) for k, v in names.items()}


class YOLOOnnx:
    """Ultralytics YOLOv8/v11 detector exported to ONNX (extra `onnx`).

    Args:
        path: the .onnx file.
        confidence: keep boxes whose class score is strictly above this (default 0.1).
        classes: class names to keep (None = all); they become the `categories`.
        nms_iou: IoU above which a box of the same class and lower score is suppressed.
        max_det: boxes per image after NMS.
        names: category id -> name, when the model's metadata has none (or to override it).
        imgsz: (height, width) input size for models with a dynamic input shape (default: the
            metadata's `imgsz`, else 640 x 640).
        multi_label: True = a box may be kept once per class above `confidence`.
        batch_size: images per run when the model's batch dimension is dynamic.
    """

    def __init__(
        self,
        path: str | Path,
        confidence: float = 0.1,
        classes: Sequence[str] | None = None,
        *,
        nms_iou: float = 0.7,
        max_det: int = 300,
        names: Mapping[int, str] | None = None,
        imgsz: tuple[int, int] | None = None,
        multi_label: bool = False,
        batch_size: int = 8,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise UsageError(f"path: expected an ONNX model file, got {str(path)!r} (no such file)")
        check_parameters(confidence, nms_iou, max_det=max_det, batch_size=batch_size)
        self.confidence = confidence
        self.classes = None if classes is None else list(classes)
        self.nms_iou = nms_iou
        self.max_det = max_det
        self.names = None if names is None else {int(k): str(v) for k, v in names.items()}
        self.imgsz = imgsz
        self.multi_label = multi_label
        self.batch_size = batch_size
        self._session: Any = None

    @property
    def session(self) -> Any:
        """The onnxruntime session, created on first use (CPU)."""
        if self._session is None:
            ort = require("onnxruntime", "onnx")
            try:
                self._session = ort.InferenceSession(str(self.path), providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
                raise SchemaError(f"{self.path}: not a loadable ONNX model ({exc})") from exc
            self._check_task()
        return self._session

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_session": None}

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self.session.get_modelmeta().custom_metadata_map)

    @property
    def model_names(self) -> dict[int, str]:
        """Every class of the model: `names` if given, else the metadata's, else "class_<i>"."""
        if self.names is not None:
            return self.names
        if "names" in self.metadata:
            return parse_names(self.metadata["names"])
        n_classes = self.session.get_outputs()[0].shape[1]
        if not isinstance(n_classes, int):
            raise SchemaError(f"{self.path}: no 'names' in the metadata and a dynamic output shape; pass names=")
        return {i: f"class_{i}" for i in range(n_classes - 4)}

    @property
    def categories(self) -> dict[int, str]:
        return resolve_classes(self.model_names, self.classes)

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) of the model input."""
        shape = self.session.get_inputs()[0].shape
        if isinstance(shape[2], int) and isinstance(shape[3], int):
            return shape[2], shape[3]
        if self.imgsz is not None:
            return tuple(self.imgsz)  # type: ignore[return-value]
        if "imgsz" in self.metadata:
            return tuple(ast.literal_eval(self.metadata["imgsz"]))
        return 640, 640

    def _check_task(self) -> None:
        task = self.metadata.get("task", "detect")
        if task not in DETECTION_TASKS:
            raise SchemaError(f"{self.path}: a {task!r} model; expected one of {DETECTION_TASKS} (boxes in the (B, 4 + nc, N) layout)")
        if self.metadata.get("end2end", "False") == "True":
            raise SchemaError(
                f"{self.path}: exported with NMS inside (end2end: boxes without class scores); export it again without nms=True so that every box keeps its class scores"
            )

    def predict(self, images: Sequence[np.ndarray]) -> Detections:
        """Boxes of all `images`; `frame` = position in `images`."""
        images = check_images(images)
        model_names = self.model_names
        ids = np.array(sorted(model_names), dtype=np.int64)
        allowed = np.isin(ids, list(self.categories))
        batch = self.batch_size if not isinstance(self.session.get_inputs()[0].shape[0], int) else 1
        parts = [self._predict_batch(images[start : start + batch], start, ids, allowed) for start in range(0, len(images), batch)]
        return Detections.concat(parts) if parts else Detections.empty(int(allowed.sum()))

    def _predict_batch(self, images: list[np.ndarray], first_frame: int, ids: np.ndarray, allowed: np.ndarray) -> Detections:
        size = self.input_size
        tensor = np.stack([letterbox(image, size) for image in images]).transpose(0, 3, 1, 2)
        model_input = self.session.get_inputs()[0]
        dtype = np.float16 if model_input.type == "tensor(float16)" else np.float32
        output = self.session.run(None, {model_input.name: (tensor / np.float32(255)).astype(dtype)})[0]
        output = self._check_output(output, len(images), len(ids)).astype(np.float32)
        candidates = output.transpose(0, 2, 1)  # (B, N, 4 + nc)
        boxes = cxcywh_to_xyxy(candidates[..., :4])
        scores = candidates[..., 4 : 4 + len(ids)]
        kept = select_boxes(
            boxes, scores, confidence=self.confidence, iou_threshold=self.nms_iou, allowed=allowed,
            multi_label=self.multi_label, max_candidates=MAX_CANDIDATES, max_per_image=self.max_det,
        )  # fmt: skip
        xyxy = boxes[kept.image, kept.box].astype(np.float64)
        for position, image in enumerate(images):
            rows = kept.image == position
            xyxy[rows] = unletterbox(xyxy[rows], size, image.shape[:2])
        probs = normalize_rows(scores[kept.image, kept.box][:, allowed])
        return Detections(frame=kept.image + first_frame, xyxy=xyxy, score=kept.score, class_id=ids[kept.column], probs=probs)

    def _check_output(self, output: np.ndarray, n_images: int, n_classes: int) -> np.ndarray:
        if output.ndim != 3 or output.shape[0] != n_images or output.shape[1] < 4 + n_classes:
            raise SchemaError(f"{self.path}: output 0 expected shape ({n_images}, 4 + {n_classes} classes, N) (the Ultralytics v8/v11 layout), got {output.shape}")
        return output

    def __repr__(self) -> str:
        return f"YOLOOnnx({str(self.path)!r}, confidence={self.confidence}, classes={self.classes})"
