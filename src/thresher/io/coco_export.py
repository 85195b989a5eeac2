"""COCO json of chosen samples with their predicted boxes as annotations (pre-labels).

Image ids are 1, 2, … in the order of `rows` (the selection's pick order); `file_name` is the
sample's Lightly name, relative to the folder that holds the images (a run's `images/`, where
video frames are the extracted `.png` files); each box becomes an annotation with `bbox`
[x, y, w, h] in pixels, `area`, `iscrowd` 0, the detector's `score` and `imputed` (false for
the task's own boxes, true for boxes a model assertion imputed, listed after them); at object
level each also has `selected` (true for the box of a selected object). Categories are the
task's schema, ids kept (`{"id": 3, "name": "car"}`).

Example annotation: `{"id": 1, "image_id": 1, "category_id": 3, "bbox": [10.0, 20.0, 30.0, 15.0],
"area": 450.0, "iscrowd": 0, "score": 0.8, "imputed": false}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from thresher.detections import Detections
from thresher.frames import Frames


def coco_dataset(
    frames: Frames,
    rows: Sequence[int],
    detections: Detections,
    names: Mapping[int, str],
    *,
    imputed: Detections | None = None,
    selected: np.ndarray | None = None,
) -> dict:
    """A COCO dataset dict over `rows` of `frames` with the boxes of `detections` (frame = row).

    Args:
        imputed: boxes a model assertion imputed (frame = row), marked `imputed: true`.
        selected: object level: one bool per box of `detections`, True for a selected object.
    """
    row_array = np.asarray(rows, dtype=np.int64)
    image_id = np.zeros(len(frames), dtype=np.int64)
    image_id[row_array] = np.arange(1, len(row_array) + 1)
    images = [{"id": int(image_id[r]), "file_name": str(frames.file_name[r]), "width": int(frames.width[r]), "height": int(frames.height[r])} for r in row_array.tolist()]
    annotations = _annotations(detections, image_id, False, selected)
    if imputed is not None:
        annotations += _annotations(imputed, image_id, True, None if selected is None else np.zeros(len(imputed), bool))
    annotations.sort(key=lambda a: a["image_id"])  # stable: the task's boxes, then the imputed ones
    for k, annotation in enumerate(annotations):
        annotation["id"] = k + 1
    categories = [{"id": int(i), "name": n} for i, n in sorted(names.items())]
    return {"images": images, "annotations": annotations, "categories": categories}


def _annotations(detections: Detections, image_id: np.ndarray, imputed: bool, selected: np.ndarray | None) -> list[dict]:
    keep = image_id[detections.frame] > 0 if len(detections) else np.zeros(0, bool)
    chosen = detections[keep]
    marks = None if selected is None else np.asarray(selected, bool)[keep]
    order = np.argsort(image_id[chosen.frame], kind="stable")
    chosen = chosen[order]
    marks = None if marks is None else marks[order]
    found = []
    extras = {key: getattr(chosen, key).tolist() for key in ("box_std", "box_spread", "class_spread") if getattr(chosen, key) is not None}
    for j, (frame, category, box, score) in enumerate(zip(chosen.frame.tolist(), chosen.class_id.tolist(), chosen.xywh.tolist(), chosen.score.tolist())):
        annotation = {
            "id": 0,
            "image_id": int(image_id[frame]),
            "category_id": int(category),
            "bbox": box,
            "area": float(box[2] * box[3]),
            "iscrowd": 0,
            "score": float(score),
            "imputed": imputed,
        }
        if marks is not None:
            annotation["selected"] = bool(marks[j])
        annotation.update({key: values[j] for key, values in extras.items()})  # thresher's per-box uncertainty, when the task has it
        found.append(annotation)
    return found
