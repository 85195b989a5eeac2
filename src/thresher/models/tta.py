"""Test-time augmentation: a detector run on several views of each image, the passes fused.

`TTADetector(detector, ["flip", "scale:0.75"])` runs `detector` on each image as it is and on
each augmented view, maps the boxes of every view back to the image's pixels, and fuses the
passes (`thresher.scorers.fuse_passes`, boxes of one class matched at IoU ≥ 0.5): each fused box
is the mean of its matched boxes, its score the mean over the passes (a pass that missed the
object counts 0), its class probabilities the mean, and it carries `box_spread` (the standard
deviation of each corner over the passes, pixels) and `class_spread` (the standard deviation of
the class probabilities, averaged over the classes). These are the epistemic uncertainties of
seed 002 (`mcbox`, `mcclass`) with augmentations standing in for Monte-Carlo dropout, which a
frozen OpenCV graph cannot run. Higher spread = less stable = more worth labeling.

Views:
- `flip`: the image mirrored left to right;
- `scale:<f>` (0 < f < 1): the image shrunk by f and placed at the top-left of a canvas of its
  own size (grey elsewhere), so the detector sees every object smaller, at other anchors. A box
  found in the grey part is cut at the image's edge; one left under 1 pixel wide or high is dropped.

>>> TTADetector(load_detector(), ["flip"]).predict([image])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from thresher.boxes import clip, flip_x, wh
from thresher.detections import Detections
from thresher.errors import UsageError, did_you_mean
from thresher.models.detector import Detector

VIEWS = ("flip", "scale")
FUSE_IOU = 0.5
CANVAS_GREY = 114  # the letterbox grey of YOLO exports
MIN_BOX_SIZE = 1.0  # pixels: a prediction file's boxes are at least this wide and high (thresher.io.conversion)


def parse_views(spec: str | Sequence[str]) -> list[tuple[str, float]]:
    """[("flip", 0.0), ("scale", 0.75)] from "flip,scale:0.75" (UsageError naming a bad part).

    >>> parse_views("flip,scale:0.75")
    [('flip', 0.0), ('scale', 0.75)]
    """
    parts = [p.strip() for p in (spec.split(",") if isinstance(spec, str) else spec) if p.strip()]
    if not parts:
        raise UsageError("--tta: expected views such as flip,scale:0.75, got nothing")
    views = []
    for part in parts:
        name, _, value = part.partition(":")
        if name not in VIEWS:
            raise UsageError(f"--tta: unknown view {name!r}{did_you_mean(name, VIEWS)}; views: flip, scale:<f> with 0 < f < 1")
        if name == "flip":
            if value:
                raise UsageError(f"--tta: flip takes no value, got {part!r}")
            views.append(("flip", 0.0))
            continue
        try:
            factor = float(value)
        except ValueError:
            raise UsageError(f"--tta: scale needs a factor, e.g. scale:0.75, got {part!r}") from None
        if not 0.0 < factor < 1.0:
            raise UsageError(f"--tta: scale factor in (0, 1) expected, got {factor}")
        views.append(("scale", factor))
    return views


class TTADetector:
    """A detector whose boxes are the fusion of its passes over the views (module docstring).

    Its `name` says the views; `categories` are the base detector's.
    """

    def __init__(self, detector: Detector, views: str | Sequence[str]) -> None:
        self.detector = detector
        self.views = parse_views(views)
        self.categories = detector.categories
        label = ",".join("flip" if name == "flip" else f"scale:{factor:g}" for name, factor in self.views)
        self.name = f"{getattr(detector, 'name', 'detector')}+tta:{label}"

    def predict(self, images: Sequence[np.ndarray]) -> Detections:
        """Fused boxes with `box_spread` and `class_spread`; `frame` = the image's position."""
        from thresher.scorers import fuse_passes

        images = list(images)
        passes = [self.detector.predict(images)]
        for name, factor in self.views:
            view = [_flip(image) if name == "flip" else _shrink(image, factor) for image in images]
            found = self.detector.predict(view)
            passes.append(_unflip(found, images) if name == "flip" else _unshrink(found, factor, images))
        return fuse_passes(passes, iou_threshold=FUSE_IOU).detections


def _flip(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::-1])


def _unflip(found: Detections, images: list[np.ndarray]) -> Detections:
    width = np.array([image.shape[1] for image in images], dtype=np.float64)[found.frame]
    return _with_boxes(found, flip_x(found.xyxy, width))


def _shrink(image: np.ndarray, factor: float) -> np.ndarray:
    height, width = image.shape[:2]
    small = Image.fromarray(image).resize((max(1, round(width * factor)), max(1, round(height * factor))), Image.Resampling.BILINEAR)
    canvas = np.full_like(image, CANVAS_GREY)
    canvas[: small.height, : small.width] = np.asarray(small)
    return canvas


def _unshrink(found: Detections, factor: float, images: list[np.ndarray]) -> Detections:
    """Boxes back in the image's pixels; a box reaching into the grey canvas is cut at the image's
    edge, and one left under `MIN_BOX_SIZE` wide or high by the cut (found in the canvas) is dropped."""
    width = np.array([image.shape[1] for image in images], dtype=np.float64)[found.frame]
    height = np.array([image.shape[0] for image in images], dtype=np.float64)[found.frame]
    xyxy = clip(found.xyxy / factor, width, height)
    size = wh(xyxy)
    kept = (size >= MIN_BOX_SIZE).all(axis=1)
    return _with_boxes(found[kept], xyxy[kept])


def _with_boxes(found: Detections, xyxy: np.ndarray) -> Detections:
    return found.replace(xyxy=xyxy)
