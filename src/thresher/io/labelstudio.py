"""Label Studio tasks with pre-annotations, for the selected samples.

One task per sample: `data.image` is where Label Studio reads the image, and one prediction
holds all of the sample's boxes (`rectanglelabels`, coordinates in percent of the image, with
`original_width` / `original_height`). The prediction's `score` is the selection priority
(higher = picked earlier), so Label Studio's Data Manager can sort tasks by it. Boxes imputed by
model assertions (e.g. flicker) are added to the same prediction, marked in `meta.text`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from thresher.detections import Detections
from thresher.frames import Frames

FROM_NAME = "label"  # the <RectangleLabels name="label" toName="image"> of the labeling config
TO_NAME = "image"


def label_studio_tasks(
    frames: Frames,
    rows: Sequence[int],
    image_urls: Sequence[str],
    detections: Detections,
    names: Mapping[int, str],
    *,
    priority: Sequence[float] | None = None,
    imputed: Detections | None = None,
    model_version: str = "thresher",
) -> list[dict]:
    """Tasks for the given rows of `frames`, in that order.

    Args:
        rows: the samples to export (rows of `frames`), e.g. the selection in pick order.
        image_urls: what Label Studio loads for each of `rows` (a URL or a local-files path).
        detections, imputed: boxes whose `frame` indexes `frames`.
        names: category id → label name.
        priority: one number per row, higher = more worth labeling; defaults to the pick order.
    """
    rows = np.asarray(rows, dtype=np.int64)
    priority = np.linspace(1, 0, len(rows), endpoint=False) if priority is None else np.asarray(priority, float)
    by_frame = _boxes_by_frame(detections)
    imputed_by_frame = _boxes_by_frame(imputed) if imputed is not None else {}
    tasks = []
    for k, (row, url) in enumerate(zip(rows.tolist(), image_urls)):
        width, height = int(frames.width[row]), int(frames.height[row])
        results = [_result(f"{row}-{j}", box, score, names, width, height) for j, (box, score) in enumerate(by_frame.get(row, []))]
        results += [
            _result(f"{row}-imputed-{j}", box, score, names, width, height, note="imputed by a model assertion")
            for j, (box, score) in enumerate(imputed_by_frame.get(row, []))
        ]
        tasks.append({
            "data": {"image": url, "thresher_id": str(frames.id[row])},
            "predictions": [{"model_version": model_version, "score": float(priority[k]), "result": results}],
        })
    return tasks


def _boxes_by_frame(detections: Detections) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for frame, box, score, class_id in zip(
        detections.frame.tolist(), detections.xyxy.tolist(), detections.score.tolist(), detections.class_id.tolist()
    ):
        grouped.setdefault(frame, []).append(((box, class_id), score))
    return grouped


def _result(result_id: str, box_and_class: tuple, score: float, names: Mapping[int, str], width: int, height: int, note: str | None = None) -> dict:
    (x0, y0, x1, y1), class_id = box_and_class
    result = {
        "id": result_id,
        "from_name": FROM_NAME,
        "to_name": TO_NAME,
        "type": "rectanglelabels",
        "original_width": width,
        "original_height": height,
        "image_rotation": 0,
        "value": {
            "x": 100.0 * x0 / width,
            "y": 100.0 * y0 / height,
            "width": 100.0 * (x1 - x0) / width,
            "height": 100.0 * (y1 - y0) / height,
            "rotation": 0,
            "rectanglelabels": [names.get(class_id, str(class_id))],
        },
        "score": float(score),
    }
    if note:
        result["meta"] = {"text": [note]}
    return result
