"""Label Studio tasks with pre-annotations, for the selected samples.

One task per sample: `data.image` is the URL Label Studio loads the image from
(`thresher.io.labelstudio_urls`), `data.thresher_id` the sample's Lightly name and
`data.thresher_task` the prediction task the boxes come from. One prediction holds all of the
sample's boxes (`rectanglelabels`, coordinates in percent of the image, with `original_width` /
`original_height`); its `score` is the selection priority (higher = picked earlier), so Label
Studio's Data Manager can sort tasks by it. Each box's region `meta` says where it comes from:
`{"box": k, "imputed": false}` for the k-th box (0-based) of the sample's prediction file,
`{"imputed": true, "text": [...]}` for a box a model assertion imputed (flicker), and, at object
level, `"selected": true` (with a `text` Label Studio shows) on the box of each selected object;
the task's own `meta` then lists `selected_objects` (crop ids) and `selected_boxes` (their k).
A box of a task with per-box uncertainty (`box_std`, `box_spread`, `class_spread`) carries it in
its meta too, so a reviewer sees in Label Studio how unsure the model was of it.

Example (one box, percent of a 640x272 frame):
`{"data": {"image": "/data/local-files/?d=runs/r1/images/v-007-mp4.png", "thresher_id": "v-007-mp4.png",
"thresher_task": "det"}, "predictions": [{"model_version": "thresher", "score": 1.0, "result": [{"id": "box-0",
"from_name": "label", "to_name": "image", "type": "rectanglelabels", "value": {"x": 10.0, ...,
"rectanglelabels": ["car"]}, "score": 0.8, "meta": {"box": 0, "imputed": false}}]}]}`
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from thresher.detections import Detections
from thresher.frames import Frames
from thresher.io.lightly_checks import UNCERTAINTY_KEYS

FROM_NAME = "label"  # the <RectangleLabels name="label" toName="image"> of the labeling config
TO_NAME = "image"


def label_studio_tasks(
    frames: Frames,
    rows: Sequence[int] | np.ndarray,
    image_urls: Sequence[str],
    detections: Detections,
    names: Mapping[int, str],
    *,
    priority: Sequence[float] | None = None,
    imputed: Detections | None = None,
    model_version: str = "thresher",
    task_name: str | None = None,
    selected: Mapping[int, Sequence[tuple[str, int | None]]] | None = None,
    mark_boxes: bool = True,
) -> list[dict]:
    """Tasks for the given rows of `frames`, in that order.

    Args:
        rows: the samples to export (rows of `frames`), e.g. the selection in pick order.
        image_urls: what Label Studio loads for each of `rows` (a URL it serves).
        detections, imputed: boxes whose `frame` indexes `frames`, each frame's boxes in the
            order of its prediction file.
        names: category id → label name.
        priority: one number per row, higher = more worth labeling; defaults to the pick order.
        task_name: the prediction task of `detections`, kept as `data.thresher_task`.
        selected: object level: row → the selected objects of that frame, as (object id, k)
            with k the object's box among `detections` of the frame (None when the object is
            not one of these boxes).
        mark_boxes: give each box of `detections` its region meta `{"box": k, "imputed": false}`
            (False when `detections` is not the whole prediction file of each frame).
    """
    row_array = np.asarray(rows, dtype=np.int64)
    priority_array = np.linspace(1, 0, len(row_array), endpoint=False) if priority is None else np.asarray(priority, float)
    by_frame = _boxes_by_frame(detections, row_array)
    imputed_by_frame = _boxes_by_frame(imputed, row_array) if imputed is not None else {}
    tasks = []
    for k, (row, url) in enumerate(zip(row_array.tolist(), image_urls)):
        width, height = int(frames.width[row]), int(frames.height[row])
        objects = None if selected is None else list(selected.get(row, []))
        chosen = {box for _, box in objects or [] if box is not None}
        results = [
            _result(f"box-{j}", box, score, names, width, height, {**_box_meta(j, objects is not None, j in chosen), **extra} if mark_boxes else None)
            for j, (box, score, extra) in enumerate(by_frame.get(row, []))
        ]
        results += [
            _result(f"imputed-{j}", box, score, names, width, height, {"imputed": True, "text": [IMPUTED_NOTE]}) for j, (box, score, _) in enumerate(imputed_by_frame.get(row, []))
        ]
        data = {"image": url, "thresher_id": str(frames.id[row])}
        if task_name is not None:
            data["thresher_task"] = task_name
        task = {"data": data, "predictions": [{"model_version": model_version, "score": float(priority_array[k]), "result": results}]}
        if objects is not None:
            task["meta"] = {"selected_objects": [o for o, _ in objects], "selected_boxes": [b for _, b in objects if b is not None]}
        tasks.append(task)
    return tasks


IMPUTED_NOTE = "imputed by a model assertion"
SELECTED_NOTE = "selected object"


def _box_meta(index: int, object_level: bool, chosen: bool) -> dict:
    meta: dict = {"box": index, "imputed": False}
    if object_level:
        meta["selected"] = chosen
        if chosen:
            meta["text"] = [SELECTED_NOTE]
    return meta


def _boxes_by_frame(detections: Detections, rows: np.ndarray) -> dict[int, list]:
    """frame → [((xywh, class id), score, per-box uncertainty for the region meta)] in file order,
    for the frames `rows` (a task's other boxes are not looked at)."""
    if len(detections):
        detections = detections[np.isin(detections.frame, rows)]
    columns = {key: getattr(detections, key).tolist() for key in UNCERTAINTY_KEYS if getattr(detections, key) is not None}
    grouped: dict[int, list] = {}
    for j, (frame, box, score, class_id) in enumerate(zip(detections.frame.tolist(), detections.xywh.tolist(), detections.score.tolist(), detections.class_id.tolist())):
        grouped.setdefault(frame, []).append(((box, class_id), score, {key: values[j] for key, values in columns.items()}))
    return grouped


def _result(result_id: str, box_and_class: tuple, score: float, names: Mapping[int, str], width: int, height: int, meta: dict | None = None) -> dict:
    (x0, y0, box_width, box_height), class_id = box_and_class  # xywh in pixels
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
            "width": 100.0 * box_width / width,
            "height": 100.0 * box_height / height,
            "rotation": 0,
            "rectanglelabels": [names.get(class_id, str(class_id))],
        },
        "score": float(score),
    }
    if meta:
        result["meta"] = meta
    return result
