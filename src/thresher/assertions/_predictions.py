"""Seed 000's `predictions_list` (Lightly prediction dicts, one per frame) as columnar types."""

from __future__ import annotations

from itertools import chain

import numpy as np

from thresher.detections import Detections
from thresher.errors import SchemaError
from thresher.frames import Frames


def from_predictions_list(predictions_list: list) -> tuple[Detections, Frames]:
    """(Detections, Frames) of one video whose frames are the list's entries, in order.

    Frame ids are the list positions ("0", "1", ...) and frame_index the same, so entry i
    and i + 1 are consecutive, as in the seed. Only `bbox` ([x, y, w, h] pixels) is read;
    score and class are set to 0 (the seed ignores them).
    """
    try:
        per_frame = [entry["predictions"] for entry in predictions_list]
        counts = np.fromiter(map(len, per_frame), dtype=np.int64, count=len(per_frame))
        bboxes = [p["bbox"] for p in chain.from_iterable(per_frame)]
    except (KeyError, TypeError):
        raise SchemaError(_describe_problem(predictions_list)) from None
    if any(len(b) != 4 for b in bboxes):
        raise SchemaError(_describe_problem(predictions_list))
    xywh = np.fromiter(chain.from_iterable(bboxes), dtype=np.float64, count=4 * len(bboxes)).reshape(-1, 4)
    if not np.isfinite(xywh).all():
        raise SchemaError("predictions_list: bbox values must be finite numbers, got NaN or inf")
    if (xywh[:, 2:] < 0).any():
        raise SchemaError("predictions_list: bbox is [x, y, w, h] with w, h >= 0, got a negative width or height")
    n_frames = len(per_frame)
    frame = np.repeat(np.arange(n_frames), counts)
    zeros = np.zeros(len(frame))
    detections = Detections.from_xywh(frame, xywh, zeros, zeros.astype(np.int64))
    positions = np.arange(n_frames)
    frames = Frames.build(positions.astype(str), kind="frame", video="predictions_list", frame_index=positions)
    return detections, frames


def _describe_problem(predictions_list: object) -> str:
    """Name the first entry that is not {"predictions": [{"bbox": [x, y, w, h]}, ...]}."""
    if not isinstance(predictions_list, (list, tuple)):
        return f"predictions_list: expected a list of dicts, got {type(predictions_list).__name__}"
    for i, entry in enumerate(predictions_list):
        if not isinstance(entry, dict) or not isinstance(entry.get("predictions"), (list, tuple)):
            return f"predictions_list[{i}]: expected a dict with a 'predictions' list, got {entry!r:.80}"
        for j, prediction in enumerate(entry["predictions"]):
            bbox = prediction.get("bbox") if isinstance(prediction, dict) else None
            if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
                return f"predictions_list[{i}]['predictions'][{j}]: expected a 'bbox' [x, y, w, h], got {prediction!r:.80}"
    return "predictions_list: expected dicts with 'predictions' lists of {'bbox': [x, y, w, h]}"


def to_predictions_list(detections: Detections, frames: Frames) -> list[dict]:
    """Seed 000's `predictions_list` for `frames` in table order: integer [x, y, w, h] bboxes."""
    detections = detections.sorted_by_frame()
    xywh = np.trunc(detections.xywh).astype(np.int64).tolist()
    score = detections.score.tolist()
    class_id = detections.class_id.tolist()
    ends = np.cumsum(detections.counts_per_frame(len(frames))).tolist()
    result, start = [], 0
    for file_name, end in zip(frames.file_name.tolist(), ends):
        predictions = [{"category_id": class_id[k], "bbox": xywh[k], "score": score[k]} for k in range(start, end)]
        result.append({"file_name": file_name, "predictions": predictions})
        start = end
    return result
