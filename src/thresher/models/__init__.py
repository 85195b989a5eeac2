"""Detectors and embedders that run offline on a CPU.

- `SSDMobileNetV2`: the built-in COCO detector and 1280-d embedder (extra `detect`);
- `YOLOOnnx`: a user's Ultralytics YOLOv8/v11 ONNX export (extra `onnx`);
- `CallableDetector`: any function `image -> Detections` as a `Detector`;
- `load_detector(name_or_path)`: one of the above by name.
Heavy libraries (OpenCV, onnxruntime) are imported on first use, not here.
"""

from thresher.models.coco import COCO80_NAMES, COCO_TF_OD_NAMES
from thresher.models.detector import CallableDetector, Detector, load_detector
from thresher.models.ssd import SSDMobileNetV2
from thresher.models.yolo_onnx import YOLOOnnx

__all__ = ["COCO80_NAMES", "COCO_TF_OD_NAMES", "CallableDetector", "Detector", "SSDMobileNetV2", "YOLOOnnx", "load_detector"]
