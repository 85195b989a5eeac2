"""Outputs of an auto-labeling split: final labels and review tasks.

- `labels_task`: the labeled frames and their final labels as a Lightly prediction task (write
  it with `thresher.io.conversion.save_task`); `labels_coco`: the same as a COCO dataset.
- `review_tasks`: Label Studio tasks for the frames to examine, most uncertain first, the
  considered detections as pre-annotations; a box above the uncertainty threshold says so in
  its `meta.text`, so the reviewer knows which box made the frame uncertain.
- `split_rows`: one row per frame (id, status, frame uncertainty, boxes) for a CSV.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from thresher.autolabel.split import AutoLabelSplit
from thresher.detections import Detections
from thresher.frames import Frames
from thresher.io.coco_export import coco_dataset
from thresher.io.labelstudio import label_studio_tasks
from thresher.io.lightly_predictions import PredictionTask
from thresher.io.lightly_schema import PredictionSchema


def labels_task(name: str, schema: PredictionSchema, frames: Frames, detections: Detections, split: AutoLabelSplit) -> PredictionTask:
    """A prediction task over the labeled frames only, holding their final labels."""
    rows = np.flatnonzero(split.labeled)
    new_row = np.full(len(frames), -1, dtype=np.int64)
    new_row[rows] = np.arange(len(rows))
    labels = split.labels(detections)
    moved = labels.replace(frame=new_row[labels.frame])
    return PredictionTask(name, schema, frames[rows], moved)


def labels_coco(frames: Frames, detections: Detections, split: AutoLabelSplit, names: Mapping[int, str]) -> dict:
    """A COCO dataset of the labeled frames (in frame order) with their final labels."""
    return coco_dataset(frames, np.flatnonzero(split.labeled).tolist(), split.labels(detections), names)


def review_order(split: AutoLabelSplit) -> np.ndarray:
    """Rows of the frames to examine, most uncertain first (frames without boxes last)."""
    rows = np.flatnonzero(split.examine)
    priority = np.nan_to_num(split.frame_uncertainty[rows], nan=-np.inf)
    return rows[np.argsort(-priority, kind="stable")]


def review_tasks(
    frames: Frames,
    detections: Detections,
    split: AutoLabelSplit,
    names: Mapping[int, str],
    image_urls: Sequence[str] | None = None,
    *,
    model_version: str = "thresher-autolabel",
    rows: np.ndarray | None = None,
) -> list[dict]:
    """Label Studio tasks of the frames to examine (module docstring).

    image_urls: what Label Studio loads, one per row of `frames` (default: the file names;
    `thresher.autolabel.handoff` gives URLs Label Studio opens).
    rows: the frames to examine that get a task, in review order (default: `review_order(split)`,
    all of them; the hand-off leaves out those whose image could not be written).
    The prediction score of a task is its review priority in [0, 1]: 1 for the first task
    (the most uncertain frame), then 1 - k/n for the k-th of n (Label Studio shows scores as
    percentages and sorts by them); the frame uncertainty itself (unbounded, higher = more
    likely wrong; null for a frame without boxes) is `data.thresher_uncertainty`.
    """
    rows = review_order(split) if rows is None else np.asarray(rows, dtype=np.int64)
    urls = np.asarray(frames.file_name if image_urls is None else list(image_urls), dtype=object)
    keep = split.considered & split.examine[detections.frame]
    order = np.flatnonzero(keep)
    order = order[np.argsort(detections.frame[order], kind="stable")]
    shown = detections[order]
    tasks = label_studio_tasks(frames, rows.tolist(), urls[rows], shown, names, model_version=model_version, mark_boxes=False)
    for task, uncertainty in zip(tasks, split.frame_uncertainty[rows].tolist()):
        task["data"]["thresher_uncertainty"] = None if np.isnan(uncertainty) else uncertainty
    _mark_uncertain(tasks, rows, shown.frame, split.uncertain[order], split.fused[order])
    return tasks


def _mark_uncertain(tasks: list[dict], rows: np.ndarray, frame: np.ndarray, uncertain: np.ndarray, fused: np.ndarray) -> None:
    """Add a note to each result of an uncertain box (results follow the boxes' order per frame)."""
    starts = np.searchsorted(frame, rows)
    for task, start in zip(tasks, starts.tolist()):
        for j, result in enumerate(task["predictions"][0]["result"]):
            if uncertain[start + j]:
                result["meta"] = {"text": [f"uncertain: fused uncertainty {fused[start + j]:.3f} above the threshold"]}


def split_rows(frames: Frames, detections: Detections, split: AutoLabelSplit) -> list[dict]:
    """One dict per frame: id, status (labeled | examine), frame_uncertainty, boxes, uncertain_boxes."""
    n = len(frames)
    boxes = np.bincount(detections.frame[split.considered], minlength=n)
    uncertain = np.bincount(detections.frame[split.uncertain], minlength=n)
    return [
        {"id": str(frames.id[i]), "status": "labeled" if split.labeled[i] else "examine",
         "frame_uncertainty": float(split.frame_uncertainty[i]), "boxes": int(boxes[i]), "uncertain_boxes": int(uncertain[i])}
        for i in range(n)
    ]  # fmt: skip
