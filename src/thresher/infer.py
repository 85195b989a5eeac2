"""Run a detector and/or an embedder over a datasource, resumably.

Each frame is decoded once: when the detector is also the embedder (the built-in SSD), both
outputs come from one forward pass. Prediction files are written per batch, each file whole;
embeddings are stored in shards. With `resume` (the default), frames whose prediction file
exists and is valid, and samples whose embedding is stored, are not recomputed, so an
interrupted run loses nothing it finished. Unreadable files are reported and skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from thresher.detections import Detections
from thresher.embedding_store import EmbeddingStore
from thresher.embeddings import Embeddings
from thresher.errors import UsageError
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import read_predictions, write_prediction_files
from thresher.io.lightly_schema import PredictionSchema, add_task_name, read_schema, schema_file, write_schema
from thresher.io.pixels import batches, iter_pixels, prefetch
from thresher.io.problems import Problem, Problems

FLUSH_EVERY = 512  # embeddings kept in memory before a shard is written


@dataclass
class InferenceResult:
    frames: Frames
    predicted: int = 0
    embedded: int = 0
    reused: int = 0  # frames (or crops) that needed no work at all
    skipped: list[Problem] = field(default_factory=list)
    predictions_reused: int = 0  # frames whose prediction file was kept (some may have been embedded)


def sample_rows(frames: Frames, every: int = 1) -> np.ndarray:
    """Rows to process: every image, and every `every`-th frame of each video (from frame 0)."""
    if every < 1:
        raise UsageError(f"every: expected an integer >= 1, got {every}")
    return np.flatnonzero((frames.kind != "frame") | (frames.frame_index % every == 0))


def predicted_rows(source: Datasource, task: str, frames: Frames, cache: Path | None = None) -> np.ndarray:
    """Rows whose prediction file for `task` exists and is valid."""
    if not source.lightly.exists(schema_file(task)):
        return np.zeros(0, np.int64)
    existing = read_predictions(source.lightly, task, frames, Problems(), cache=cache)
    done = np.ones(len(frames), bool)
    for names in (existing.missing, existing.invalid):
        done[np.isin(frames.file_name, np.asarray(names, dtype=str))] = False
    return np.flatnonzero(done)


def _check_schema(source: Datasource, task: str, schema: PredictionSchema) -> None:
    if not source.lightly.exists(schema_file(task)):
        return
    existing = read_schema(source.lightly, task)
    if existing != schema:
        raise UsageError(f"task {task!r} exists with other categories or type; choose another task name or remove it")


def run_models(
    source: Datasource,
    *,
    detector: object | None = None,
    task: str | None = None,
    embedder: object | None = None,
    store: EmbeddingStore | None = None,
    every: int = 1,
    batch_size: int = 8,
    resume: bool = True,
    progress: Callable[[int, int], None] | None = None,
    frames: Frames | None = None,
    rows: np.ndarray | None = None,
    redo: np.ndarray | None = None,
    cache: Path | None = None,
) -> InferenceResult:
    """Predict and/or embed every sampled frame; see the module docstring.

    Args:
        detector: has `categories` and `predict(images) -> Detections` (frame = batch position).
        task: the prediction task to write (required with a detector).
        embedder: has `embed(images) -> (N, D) float32`; with `store`, where vectors go.
        progress: called with (frames done, frames to do) after each batch.
        frames, rows: the datasource's frames (enumerated when None) and the rows to
            process (default: `sample_rows(frames, every)`).
        redo: rows to compute again even when their outputs exist (their file changed).
        cache: folder of the columnar cache of prediction tasks (faster resume checks).
    """
    if (detector is None) != (task is None) or (embedder is None) != (store is None) or (detector is None and embedder is None):
        raise UsageError("run_models: give a detector with a task, and/or an embedder with a store")
    problems = Problems()
    frames = source.frames(problems) if frames is None else frames
    rows = sample_rows(frames, every) if rows is None else np.asarray(rows, dtype=np.int64)
    redo = np.zeros(0, np.int64) if redo is None else np.asarray(redo, dtype=np.int64)
    todo_pred = np.union1d(_todo(rows, predicted_rows(source, task, frames, cache) if detector and resume else ()), np.intersect1d(rows, redo))
    todo_emb = np.union1d(_todo(rows, np.flatnonzero(np.isin(frames.id, store.ids())) if embedder and resume else ()), np.intersect1d(rows, redo))
    if detector is None:
        todo_pred = np.zeros(0, np.int64)
    if embedder is None:
        todo_emb = np.zeros(0, np.int64)
    if detector is not None:
        schema = PredictionSchema.detection(detector.categories)
        _check_schema(source, task, schema)
        write_schema(source.lightly, task, schema)
    work = np.union1d(todo_pred, todo_emb)
    result = InferenceResult(frames, reused=len(rows) - len(work), predictions_reused=len(rows) - len(todo_pred) if detector else 0)
    runner = _BatchRunner(source, frames, detector, task, embedder, store, set(todo_pred.tolist()), set(todo_emb.tolist()))
    done = 0
    try:
        for batch in prefetch(batches(iter_pixels(source, frames, work, problems), batch_size)):
            runner.run(batch, result)
            done += len(batch)
            if progress:
                progress(done, len(work))
    finally:
        runner.flush(result)
    if detector is not None:
        add_task_name(source.lightly, task)
    result.skipped = list(problems)
    return result


def _todo(rows: np.ndarray, done: object) -> np.ndarray:
    return np.setdiff1d(rows, np.asarray(done, dtype=np.int64))


class _BatchRunner:
    """Runs the models on one batch of decoded frames and writes what they give."""

    def __init__(self, source, frames, detector, task, embedder, store, todo_pred: set, todo_emb: set):
        self.source, self.frames, self.task = source, frames, task
        self.detector, self.embedder, self.store = detector, embedder, store
        self.todo_pred, self.todo_emb = todo_pred, todo_emb
        self.pending: list[Embeddings] = []

    def run(self, batch: list[tuple[int, np.ndarray]], result: InferenceResult) -> None:
        rows = np.array([r for r, _ in batch], dtype=np.int64)
        images = [image for _, image in batch]
        pred = np.array([r in self.todo_pred for r in rows.tolist()], bool)
        emb = np.array([r in self.todo_emb for r in rows.tolist()], bool)
        detections, vectors = self._forward(images, pred, emb)
        if detections is not None:
            self._write_predictions(rows[pred], detections)
            result.predicted += int(pred.sum())
        if vectors is not None:
            self.pending.append(Embeddings(self.frames.id[rows[emb]], vectors))
            result.embedded += int(emb.sum())
            if sum(len(e) for e in self.pending) >= FLUSH_EVERY:
                self.flush(result)

    def _forward(self, images: list, pred: np.ndarray, emb: np.ndarray) -> tuple[Detections | None, np.ndarray | None]:
        """Detections of the `pred` images and vectors of the `emb` images, one pass when possible."""
        both = self.detector is not None and self.detector is self.embedder and hasattr(self.detector, "predict_and_embed")
        if both and pred.all() and emb.all():
            return self.detector.predict_and_embed(images)
        detections = self.detector.predict([i for i, p in zip(images, pred) if p]) if pred.any() else None
        vectors = self.embedder.embed([i for i, e in zip(images, emb) if e]) if emb.any() else None
        return detections, vectors

    def _write_predictions(self, rows: np.ndarray, detections: Detections) -> None:
        frame_rows = rows[detections.frame] if len(detections) else np.zeros(0, np.int64)
        mapped = detections.replace(frame=frame_rows)
        write_prediction_files(self.source.lightly, self.task, self.frames, mapped, rows=rows)

    def flush(self, result: InferenceResult) -> None:
        if self.pending:
            self.store.append(Embeddings.concat(self.pending))
            self.pending = []


def embed_crops(
    source: Datasource,
    frames: Frames,
    crops: Frames,
    boxes: np.ndarray,
    embedder: object,
    store: EmbeddingStore,
    *,
    batch_size: int = 32,
    resume: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> InferenceResult:
    """Store an embedding for each crop (`boxes`: its integer pixel box in its parent frame).

    Each parent frame is decoded once; crops already stored are skipped when `resume`.
    `progress`: called with (crops embedded, crops to embed) after each batch.
    """
    from thresher.objects import cut

    todo = np.flatnonzero(~np.isin(crops.id, store.ids())) if resume else np.arange(len(crops))
    result = InferenceResult(crops, reused=len(crops) - len(todo))
    if len(todo) == 0:
        return result
    problems = Problems()
    parent_rows = frames.index_of(crops.parent_id[todo])
    by_parent: dict[int, list[int]] = {}
    for crop, parent in zip(todo.tolist(), parent_rows.tolist()):
        by_parent.setdefault(parent, []).append(crop)
    pending_ids, pending_images, stored = [], [], []

    def flush() -> None:
        if pending_ids:
            stored.append(Embeddings(np.array(pending_ids), embedder.embed(pending_images)))
            result.embedded += len(pending_ids)
            pending_ids.clear()
            pending_images.clear()
            if progress:
                progress(result.embedded, len(todo))

    for parent, image in prefetch(iter_pixels(source, frames, np.array(sorted(by_parent)), problems)):
        members = by_parent[parent]
        pending_ids.extend(crops.id[members].tolist())
        pending_images.extend(cut(image, boxes[members]))
        if len(pending_ids) >= batch_size:
            flush()
        if sum(len(e) for e in stored) >= FLUSH_EVERY:
            store.append(Embeddings.concat(stored))
            stored.clear()
    flush()
    if stored:
        store.append(Embeddings.concat(stored))
    result.skipped = list(problems)
    return result
