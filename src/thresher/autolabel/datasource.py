"""Read what auto-labeling needs from a datasource: predictions and ground truth on one frame table.

Every table returned indexes the same `Frames` (the datasource's), so predictions and ground
truth of a frame meet in `match_detections`. Ground truth is a prediction task (scores are
ignored; write 1.0) or a COCO annotations file (its `annotations` are the boxes); its categories
meet the predictions' by name (`truth_on_schema`).
"""

from __future__ import annotations

import numpy as np

from thresher.detections import Detections
from thresher.errors import SchemaError
from thresher.frames import Frames
from thresher.io.coco import coco_to_task
from thresher.io.conversion import parse_json_input, read_input
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import PredictionTask, read_predictions
from thresher.io.lightly_schema import PredictionSchema


def task_on_frames(task: PredictionTask, frames: Frames) -> tuple[Detections, np.ndarray]:
    """The task's boxes re-indexed onto `frames`, and the rows of `frames` the task covers
    (a covered frame may have no box: it was predicted, or labeled, empty)."""
    rows = frames.index_of(task.frames.id)
    skipped = set(task.missing) | set(task.invalid)
    covered = rows[~np.isin(task.frames.file_name, list(skipped))] if skipped else rows
    boxes = task.detections
    return boxes.replace(frame=rows[boxes.frame]), np.sort(covered)


def load_task(source: Datasource, task: str, frames: Frames) -> tuple[Detections, np.ndarray, PredictionSchema]:
    """Predictions of `task` on `frames`, the rows that have a prediction file, the schema."""
    read = read_predictions(source.lightly, task, frames)
    detections, rows = task_on_frames(read, frames)
    return detections, rows, read.schema


def load_truth_coco(path: str, frames: Frames, *, strip: str = "", prefix: str = "") -> tuple[Detections, np.ndarray, PredictionSchema]:
    """Ground-truth boxes of a COCO annotations file on `frames`, the rows it covers, and its
    categories as a schema."""
    annotations = parse_json_input(read_input(path), path)
    if not isinstance(annotations, dict) or not isinstance(annotations.get("annotations"), list):
        raise SchemaError(f"{path}: expected a COCO dataset with an 'annotations' list")
    boxes = [dict(a, score=1.0) if isinstance(a, dict) else a for a in annotations["annotations"]]
    task = coco_to_task(boxes, annotations, frames, task="ground-truth", strip=strip, prefix=prefix,
                        results_file=path, annotations_file=path)  # fmt: skip
    return (*task_on_frames(task, frames), task.schema)


def truth_on_schema(truth: Detections, truth_schema: PredictionSchema, schema: PredictionSchema, where: str) -> Detections:
    """`truth` with its class ids replaced by the ids that `schema` (the predictions') gives the
    same category names: ground truth and predictions are matched by name, not by id. SchemaError
    (naming both lists of names) when a ground-truth box's category name is not in `schema`.
    `where` names the ground truth in the error (a file, or "--truth TASK")."""
    by_name = {name: category for category, name in schema.names.items()}
    truth_names = truth_schema.names
    used = np.unique(truth.class_id)
    unknown = [truth_names.get(int(c), str(int(c))) for c in used if truth_names.get(int(c)) not in by_name]
    if unknown:
        raise SchemaError(
            f"{where}: categories: expected the prediction task's category names {sorted(by_name)}, got boxes of "
            f"{unknown} (ground-truth categories {sorted(set(truth_names.values()))}): rename them to the task's names"
        )
    lookup = np.array([by_name[truth_names[int(c)]] for c in used], dtype=np.int64)
    return truth.replace(class_id=lookup[np.searchsorted(used, truth.class_id)])
