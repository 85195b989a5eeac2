"""Detectors and embedders that run offline on a CPU.

- `SSDMobileNetV2`: the built-in COCO detector and 1280-d embedder (extra `detect`);
- `YOLOOnnx`: a user's Ultralytics YOLOv8/v11 ONNX export (extra `onnx`);
- `CallableDetector`: any function `image -> Detections` as a `Detector`;
- `load_detector(name_or_path)`: one of the above by name;
- embedders (`Embedder` protocol, `make_embedder(name)`): `mobilenetv2-imagenet` (extra
  `torch`, or onnxruntime on a cached export), `onnx` (any ONNX image model by path),
  `simclr` (trained on your data with `train_simclr`), and `ssd-mobilenet-v2-coco` (the
  detector's backbone features, from the same forward pass as its boxes).
Heavy libraries (OpenCV, onnxruntime, torch) are imported on first use, not here.
"""

from thresher.models.coco import COCO80_NAMES, COCO_TF_OD_NAMES
from thresher.models.detector import CallableDetector, Detector, load_detector
from thresher.models.embedder import Embedder, embedder_names, make_embedder, register_embedder
from thresher.models.ssd import SSDMobileNetV2
from thresher.models.yolo_onnx import YOLOOnnx

__all__ = [
    "COCO80_NAMES",
    "COCO_TF_OD_NAMES",
    "CallableDetector",
    "Detector",
    "Embedder",
    "SSDMobileNetV2",
    "YOLOOnnx",
    "embedder_names",
    "load_detector",
    "make_embedder",
    "register_embedder",
]
