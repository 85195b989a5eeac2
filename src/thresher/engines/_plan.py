"""Work plans of a distributed engine: what to compute, in the local engine's batches, in shards.

Batches are formed exactly as `thresher.infer` forms them (frames in reading order, cut every
`batch_size`; crops accumulated parent by parent until a batch holds `batch_size` or more), so
a model whose output would depend on the batch composition still gives the same vectors
(except when frames fail to decode: the local engine forms its batches after decoding, the
plan before; docs/run.md). A
shard is a run of consecutive batches (about `shard_frames` frames): the unit a reading task
decodes and the unit that is retried.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresher.errors import UsageError
from thresher.frames import Frames
from thresher.infer import _check_schema, predicted_rows, sample_rows
from thresher.io.pixels import reading_order


@dataclass(frozen=True)
class ModelsPlan:
    """Rows still to predict (`todo_pred`) and to embed (`todo_emb`), and how many are reused."""

    rows: np.ndarray
    todo_pred: np.ndarray
    todo_emb: np.ndarray

    @property
    def work(self) -> np.ndarray:
        return np.union1d(self.todo_pred, self.todo_emb)

    @property
    def reused(self) -> int:
        return len(self.rows) - len(self.work)


def plan_models(source, frames: Frames, *, detector, task, embedder, store, every=1, resume=True, rows=None, redo=None, cache=None) -> ModelsPlan:
    """What `run_models` would compute (same rules: valid prediction files and stored ids are
    reused unless their file is in `redo`); writes the task's schema like it does."""
    if (detector is None) != (task is None) or (embedder is None) != (store is None) or (detector is None and embedder is None):
        raise UsageError("run_models: give a detector with a task, and/or an embedder with a store")
    rows = sample_rows(frames, every) if rows is None else np.asarray(rows, dtype=np.int64)
    redo = np.intersect1d(rows, np.zeros(0, np.int64) if redo is None else np.asarray(redo, dtype=np.int64))
    empty = np.zeros(0, np.int64)
    todo_pred = todo_emb = empty
    if detector is not None:
        done = predicted_rows(source, task, frames, cache) if resume else empty
        todo_pred = np.union1d(np.setdiff1d(rows, done), redo)
    if embedder is not None:
        done = np.flatnonzero(np.isin(frames.id, store.ids())) if resume else empty
        todo_emb = np.union1d(np.setdiff1d(rows, done), redo)
    return ModelsPlan(rows, todo_pred.astype(np.int64), todo_emb.astype(np.int64))


def write_task_schema(source, task: str, detector) -> None:
    """The task's schema.json, checked against an existing one (as `run_models` does)."""
    from thresher.io.lightly_schema import PredictionSchema, write_schema

    schema = PredictionSchema.detection(detector.categories)
    _check_schema(source, task, schema)
    write_schema(source.lightly, task, schema)


def frame_batches(frames: Frames, work: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Rows of `work` in reading order, cut every `batch_size` (the local engine's batches)."""
    ordered = reading_order(frames, work)
    return [ordered[start : start + batch_size] for start in range(0, len(ordered), batch_size)]


def crop_batches(frames: Frames, parent_rows: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Crop indices grouped as `embed_crops` groups them.

    `parent_rows[i]` is the frame row of crop i. Parents are visited in reading order; a
    parent's crops join the open batch whole, and the batch closes once it holds
    `batch_size` or more crops.
    """
    parent_rows = np.asarray(parent_rows, dtype=np.int64)
    if len(parent_rows) == 0:
        return []
    parents = reading_order(frames, np.unique(parent_rows))
    rank = np.empty(len(frames), np.int64)
    rank[parents] = np.arange(len(parents))
    order = np.argsort(rank[parent_rows], kind="stable")  # crops of one parent keep their order
    counts = np.bincount(rank[parent_rows], minlength=len(parents))
    batches, members, size = [], [], 0
    start = 0
    for count in counts.tolist():
        members.append(order[start : start + count])
        start += count
        size += count
        if size >= batch_size:
            batches.append(np.concatenate(members))
            members, size = [], 0
    if members:
        batches.append(np.concatenate(members))
    return batches


def shards(sizes: list[int], shard_frames: int) -> list[range]:
    """Consecutive batch indices grouped so each group holds about `shard_frames` items
    (at least one batch; a group closes once it reaches `shard_frames`)."""
    if shard_frames < 1:
        raise UsageError(f"shard_frames: expected an integer >= 1, got {shard_frames}")
    groups, start, total = [], 0, 0
    for index, size in enumerate(sizes):
        total += size
        if total >= shard_frames:
            groups.append(range(start, index + 1))
            start, total = index + 1, 0
    if start < len(sizes):
        groups.append(range(start, len(sizes)))
    return groups
