"""Run a detector and/or an embedder over a datasource, resumably, on every core.

Each frame is decoded once: when the detector is also the embedder (the built-in SSD), both
outputs come from one forward pass. Prediction files are written per batch, each file whole;
embeddings are stored in shards. With `resume` (the default), frames whose prediction file
exists and is valid, and samples whose embedding is stored, are not recomputed, so an
interrupted run loses nothing it finished (the rule is `thresher.plan`'s, which the Ray engine
follows too). Unreadable files are reported and skipped.

The stages overlap on threads (`thresher.parallel`): decoding runs ahead on one thread per
core, each batch's forward pass, pre- and post-processing (resize, box decoding, NMS) runs on
one of `workers` model replicas, and this thread writes the results in reading order. For
models that can be replicated (`replica()`: the built-in SSD) the default is one replica per
core, each computing on one thread: on 2 cores that beats one net on two threads
(bench/predict.py). Other models run as one worker with their own threads. Results and files
are the same, bit for bit, whatever the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from thresher.detections import Detections
from thresher.embedding_store import EmbeddingStore
from thresher.embeddings import Embeddings
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import write_prediction_files
from thresher.io.lightly_schema import add_task_name
from thresher.io.pixels import batches, iter_pixels
from thresher.parallel import prefetch
from thresher.io.problems import Problem, Problems
from thresher.models.replicas import compute_threads, replicas
from thresher.parallel import ordered_map
from thresher.plan import crop_keys, plan_crops, plan_models, predicted_rows, sample_rows, write_task_schema

if TYPE_CHECKING:
    from thresher.models.detector import Detector
    from thresher.models.embedder import Embedder

FLUSH_EVERY = 512  # embeddings kept in memory before a shard is written

# sample_rows and predicted_rows live in thresher.plan; importing them from here keeps working
__all__ = ["FLUSH_EVERY", "InferenceResult", "embed_crops", "forward", "predicted_rows", "run_models", "sample_rows"]


@dataclass
class InferenceResult:
    frames: Frames
    predicted: int = 0
    embedded: int = 0
    reused: int = 0  # frames (or crops) that needed no work at all
    skipped: list[Problem] = field(default_factory=list)
    predictions_reused: int = 0  # frames whose prediction file was kept (some may have been embedded)


def run_models(
    source: Datasource,
    *,
    detector: Detector | None = None,
    task: str | None = None,
    embedder: Embedder | None = None,
    store: EmbeddingStore | None = None,
    every: int = 1,
    batch_size: int = 8,
    resume: bool = True,
    progress: Callable[[int, int], None] | None = None,
    frames: Frames | None = None,
    rows: np.ndarray | None = None,
    redo: np.ndarray | None = None,
    cache: Path | None = None,
    workers: int | None = None,
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
        workers: model replicas computing at once (default: one per core when the models
            have `replica()`, else 1).

    Example (the built-in detector on every 100th frame of a real sample video)::

        >>> import shutil, tempfile
        >>> from thresher import Datasource
        >>> from thresher.models import load_detector
        >>> from thresher.samples import sample_video
        >>> folder = tempfile.mkdtemp()
        >>> _ = shutil.copy(sample_video("bikes.mp4"), folder)
        >>> result = run_models(Datasource(folder), detector=load_detector("ssd-mobilenet-v2-coco"), task="det", every=100)
        >>> result.predicted
        3
    """
    problems = Problems()
    plan = plan_models(source, detector=detector, task=task, embedder=embedder, store=store, every=every, resume=resume,
                       frames=frames, rows=rows, redo=redo, cache=cache, problems=problems)  # fmt: skip
    frames, todo_pred, todo_emb, work = plan.frames, plan.todo_pred, plan.todo_emb, plan.work
    if detector is not None and task is not None:
        write_task_schema(source, task, detector)
    result = InferenceResult(frames, reused=plan.reused, predictions_reused=plan.predictions_reused)
    runner = _BatchRunner(source, frames, detector, task, embedder, store, set(todo_pred.tolist()), set(todo_emb.tolist()), plan.keys)
    models = replicas((detector, embedder), workers) if len(work) else [(detector, embedder)]
    done = 0
    try:
        with compute_threads(1 if len(models) > 1 else None):
            pixels = batches(iter_pixels(source, frames, work, problems, readers=max(1, len(models))), batch_size)
            for computed in ordered_map(runner.compute, pixels, models):
                runner.write(computed, result)
                done += len(computed.rows)
                if progress:
                    progress(done, len(work))
    finally:
        runner.flush(result)
    if detector is not None and task is not None:
        add_task_name(source.lightly, task)
    result.skipped = list(problems)
    return result


@dataclass
class _Computed:
    """What the models gave for one batch: its rows, which were predicted / embedded, and the outputs."""

    rows: np.ndarray
    pred: np.ndarray
    emb: np.ndarray
    detections: Detections | None
    vectors: np.ndarray | None


def forward(detector, embedder, images: list, pred: np.ndarray, emb: np.ndarray) -> tuple[Detections | None, np.ndarray | None]:
    """Detections of the `pred` images and vectors of the `emb` images, one pass when possible."""
    both = detector is not None and detector is embedder and hasattr(detector, "predict_and_embed")
    if both and pred.all() and emb.all():
        return detector.predict_and_embed(images)
    detections = detector.predict([i for i, p in zip(images, pred) if p]) if pred.any() else None
    vectors = embedder.embed([i for i, e in zip(images, emb) if e]) if emb.any() else None
    return detections, vectors


class _BatchRunner:
    """Runs the models on one batch of decoded frames (`compute`, on any thread with its own
    models) and writes what they give (`write`, in batch order on one thread)."""

    def __init__(self, source, frames, detector, task, embedder, store, todo_pred: set, todo_emb: set, keys: np.ndarray):
        self.source, self.frames, self.task = source, frames, task
        self.detector, self.embedder, self.store = detector, embedder, store
        self.todo_pred, self.todo_emb, self.keys = todo_pred, todo_emb, keys
        self.pending: list[tuple[Embeddings, np.ndarray]] = []  # vectors with their frames' keys

    def compute(self, models: tuple[Detector | None, Embedder | None], batch: list[tuple[int, np.ndarray]]) -> _Computed:
        rows = np.array([r for r, _ in batch], dtype=np.int64)
        images = [image for _, image in batch]
        pred = np.array([r in self.todo_pred for r in rows.tolist()], bool)
        emb = np.array([r in self.todo_emb for r in rows.tolist()], bool)
        detector, embedder = models
        return _Computed(rows, pred, emb, *forward(detector, embedder, images, pred, emb))

    def write(self, computed: _Computed, result: InferenceResult) -> None:
        if computed.detections is not None:
            self._write_predictions(computed.rows[computed.pred], computed.detections)
            result.predicted += int(computed.pred.sum())
        if computed.vectors is not None:
            embedded = computed.rows[computed.emb]
            self.pending.append((Embeddings(self.frames.id[embedded], computed.vectors), self.keys[embedded]))
            result.embedded += int(computed.emb.sum())
            if sum(len(e) for e, _ in self.pending) >= FLUSH_EVERY:
                self.flush(result)

    def run(self, batch: list[tuple[int, np.ndarray]], result: InferenceResult) -> None:
        """`compute` with this runner's own models, then `write`."""
        self.write(self.compute((self.detector, self.embedder), batch), result)

    def _forward(self, images: list, pred: np.ndarray, emb: np.ndarray) -> tuple[Detections | None, np.ndarray | None]:
        return forward(self.detector, self.embedder, images, pred, emb)

    def _write_predictions(self, rows: np.ndarray, detections: Detections) -> None:
        frame_rows = rows[detections.frame] if len(detections) else np.zeros(0, np.int64)
        mapped = detections.replace(frame=frame_rows)
        write_prediction_files(self.source.lightly, self.task, self.frames, mapped, rows=rows)

    def flush(self, result: InferenceResult) -> None:
        if self.pending:
            self.store.append(Embeddings.concat([e for e, _ in self.pending]), np.concatenate([k for _, k in self.pending]))
            self.pending = []


def embed_crops(
    source: Datasource,
    frames: Frames,
    crops: Frames,
    boxes: np.ndarray,
    embedder: Embedder,
    store: EmbeddingStore,
    *,
    batch_size: int = 32,
    resume: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> InferenceResult:
    """Store an embedding for each crop (`boxes`: its integer pixel box in its parent frame).

    Each parent frame is decoded once; with `resume`, a crop already stored with the same key
    (`crop_keys`: the same box in the same, unchanged media file) is not embedded again.
    Every vector is stored with its key. `progress`: called with (crops embedded, crops to
    embed) after each batch.
    """
    from thresher.objects import cut

    keys = crop_keys(source, crops, boxes)
    todo = plan_crops(crops, store, resume, keys)
    result = InferenceResult(crops, reused=len(crops) - len(todo))
    if len(todo) == 0:
        return result
    problems = Problems()
    parent_rows = frames.index_of(crops.parent_id[todo])
    by_parent: dict[int, list[int]] = {}
    for crop, parent in zip(todo.tolist(), parent_rows.tolist()):
        by_parent.setdefault(parent, []).append(crop)
    pending_rows: list[int] = []
    pending_images: list[np.ndarray] = []
    stored: list[tuple[Embeddings, np.ndarray]] = []

    def flush() -> None:
        if pending_rows:
            stored.append((Embeddings(crops.id[pending_rows], embedder.embed(pending_images)), keys[pending_rows]))
            result.embedded += len(pending_rows)
            pending_rows.clear()
            pending_images.clear()
            if progress:
                progress(result.embedded, len(todo))

    def store_all() -> None:
        store.append(Embeddings.concat([e for e, _ in stored]), np.concatenate([k for _, k in stored]))
        stored.clear()

    for parent, image in prefetch(iter_pixels(source, frames, np.array(sorted(by_parent)), problems)):
        members = by_parent[parent]
        pending_rows.extend(members)
        pending_images.extend(cut(image, boxes[members]))
        if len(pending_rows) >= batch_size:
            flush()
        if sum(len(e) for e, _ in stored) >= FLUSH_EVERY:
            store_all()
    flush()
    if stored:
        store_all()
    result.skipped = list(problems)
    return result
