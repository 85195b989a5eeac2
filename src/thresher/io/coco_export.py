"""COCO json of chosen samples with their predicted boxes as annotations (pre-labels).

Image ids are 1, 2, … in the order of `rows` (the selection's pick order); `file_name` is the
sample's Lightly name (video frames are the extracted `.png` files); each box becomes an
annotation with `bbox` [x, y, w, h] in pixels, `area`, `iscrowd` 0 and the detector's `score`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from thresher.detections import Detections
from thresher.frames import Frames


def coco_dataset(frames: Frames, rows: Sequence[int], detections: Detections, names: Mapping[int, str]) -> dict:
    """A COCO dataset dict over `rows` of `frames` with the boxes of `detections` (frame = row)."""
    rows = np.asarray(rows, dtype=np.int64)
    image_id = np.zeros(len(frames), dtype=np.int64)
    image_id[rows] = np.arange(1, len(rows) + 1)
    images = [
        {"id": int(image_id[r]), "file_name": str(frames.file_name[r]), "width": int(frames.width[r]), "height": int(frames.height[r])}
        for r in rows.tolist()
    ]
    chosen = detections[image_id[detections.frame] > 0] if len(detections) else detections
    chosen = chosen[np.argsort(image_id[chosen.frame], kind="stable")]
    xywh = chosen.xywh
    annotations = [
        {
            "id": k + 1,
            "image_id": int(image_id[frame]),
            "category_id": int(category),
            "bbox": box,
            "area": float(box[2] * box[3]),
            "iscrowd": 0,
            "score": float(score),
        }
        for k, (frame, category, box, score) in enumerate(zip(chosen.frame.tolist(), chosen.class_id.tolist(), xywh.tolist(), chosen.score.tolist()))
    ]
    categories = [{"id": int(i), "name": n} for i, n in sorted(names.items())]
    return {"images": images, "annotations": annotations, "categories": categories}
