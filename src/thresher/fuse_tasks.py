"""Fuse several prediction tasks of one model (MC-dropout or TTA passes) into one task.

Seed 002 estimates epistemic uncertainty from T stochastic passes of one detector over the same
images. A user whose passes were written as T Lightly prediction tasks (one per pass, the same
schema) fuses them here into one task whose boxes carry `box_spread` (mcbox, pixels) and
`class_spread` (mcclass), the extension `thresher score` and the seed-002 strategy names read.
The clustering is `thresher.scorers.fuse_passes`: boxes of different passes whose running mean
box overlaps with IoU >= `iou_threshold` (of the same class unless `same_class=False`) become one
box; its score is the sum of its scores / T, so a pass that missed it counts 0.

Only frames every pass predicted are fused (a frame some pass never saw would read as "missed by
that pass"); a video frame without a file in a task that predicted its video counts as predicted
with no box, as LightlyOne reads it. The fused task is written file by file (temporary name,
then rename), its name added to tasks.json last; an existing task is never overwritten.

>>> fuse_tasks(Datasource("data/"), ["pass0", "pass1", "pass2"], "mc")  # doctest: +SKIP
FusedTask(task='mc', passes=3, frames=500, boxes=1204, left_out=0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from thresher.errors import SchemaError, UsageError
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import PredictionTask, predicted_frames, read_predictions, write_predictions
from thresher.io.lightly_schema import read_task_names
from thresher.io.problems import Problems
from thresher.scorers.fusion import fuse_passes

FUSE_IOU = 0.5


@dataclass(frozen=True)
class FusedTask:
    """What `fuse_tasks` wrote: the task's name, T, its frames and boxes, frames left out."""

    task: str
    passes: int
    frames: int
    boxes: int
    left_out: int


def fuse_tasks(
    source: Datasource,
    tasks: Sequence[str],
    into: str,
    *,
    iou_threshold: float = FUSE_IOU,
    same_class: bool = True,
) -> FusedTask:
    """Read the passes `tasks` of `source`, fuse them (module docstring) and write task `into`."""
    _check_names(source, tasks, into)
    frames = source.frames(Problems())
    passes = [read_predictions(source.lightly, task, frames, Problems()) for task in tasks]
    _check_schemas(passes)
    predicted = [predicted_frames(p) for p in passes]
    common = np.logical_and.reduce(predicted)
    if not common.any():
        raise UsageError(f"fuse: no frame is predicted by every one of the tasks {', '.join(tasks)}; fuse passes over the same frames")
    rows = np.flatnonzero(common)
    fused = fuse_passes([_on_rows(p, rows) for p in passes], iou_threshold=iou_threshold, same_class=same_class)
    out = PredictionTask(into, passes[0].schema, frames[rows], fused.detections)
    write_predictions(source.lightly, out)
    left_out = int(np.logical_or.reduce(predicted).sum()) - len(rows)
    return FusedTask(into, len(passes), len(rows), len(fused.detections), left_out)


def _check_names(source: Datasource, tasks: Sequence[str], into: str) -> None:
    if len(tasks) < 2:
        raise UsageError(f"fuse: expected at least two tasks (the passes), got {len(tasks)}: {', '.join(tasks) or 'none'}")
    if len(set(tasks)) != len(tasks):
        raise UsageError(f"fuse: a task is named twice in {', '.join(tasks)}; name each pass once")
    existing = read_task_names(source.lightly)
    unknown = [t for t in tasks if t not in existing]
    if unknown:
        raise UsageError(f"fuse: no task {', '.join(map(repr, unknown))} in {source.lightly.url}/.lightly/predictions/tasks.json; tasks there: {', '.join(existing) or 'none'}")
    if into in existing:
        raise UsageError(f"fuse: task {into!r} exists already; choose another name with --into (thresher never overwrites a task)")


def _check_schemas(passes: list[PredictionTask]) -> None:
    first = passes[0]
    for other in passes[1:]:
        if other.schema != first.schema:
            raise SchemaError(f"fuse: task {other.name!r} has categories {other.schema.names} but {first.name!r} has {first.schema.names}; passes of one model share one schema")


def _on_rows(task: PredictionTask, rows: np.ndarray):
    """The task's boxes on `rows` of its frames, re-indexed to positions in `rows`."""
    dets = task.detections
    kept = dets[np.isin(dets.frame, rows)]
    return kept.replace(frame=np.searchsorted(rows, kept.frame))
