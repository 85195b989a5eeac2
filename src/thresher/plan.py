"""What the models still have to compute: the one plan and resume rule both engines follow.

The local engine (`thresher.infer`) and the Ray engine (`thresher.engines.ray`) call
`plan_models` and `plan_crops` and nothing else to decide what to do, so a run selects the
same samples on either engine:

- rows: every image and every `every`-th frame of each video (`sample_rows`), unless the
  caller gives its own rows;
- with `resume` (the default), a row whose prediction file for the task exists and is valid
  is not predicted again (`predicted_rows`); a sample is not embedded again when its embedding
  is stored with the same key, the store keeping with each vector what it was computed from:
  a frame's key is the size and modification time of its media file (`frame_keys`), a crop's
  also its pixel box (`crop_keys`), so a changed media file embeds its frames again, and
  another `padding`, another task or a moved box embeds the crops whose pixels changed (a
  vector stored without a key, by a version before keys were kept, is computed once more);
- rows in `redo` (their file changed since it was computed) are computed again whatever is
  stored;
- a detector comes with a task to write, an embedder with a store; an existing task must have
  the detector's categories (`write_task_schema`).

>>> from thresher import Frames
>>> frames = Frames.build(["v-0-mp4.png", "v-1-mp4.png", "v-2-mp4.png", "a.jpg"], kind=["frame"] * 3 + ["image"], frame_index=[0, 1, 2, 0])
>>> sample_rows(frames, every=2).tolist()
[0, 2, 3]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from thresher.errors import UsageError
from thresher.frames import Frames
from thresher.io.lightly_predictions import read_predictions
from thresher.io.lightly_schema import PredictionSchema, read_schema, schema_file, write_schema
from thresher.io.problems import Problems

if TYPE_CHECKING:
    from thresher.embedding_store import EmbeddingStore
    from thresher.io.datasource import Datasource
    from thresher.models.detector import Detector
    from thresher.models.embedder import Embedder

NO_ROWS = np.zeros(0, np.int64)
FRAME_KEY_WIDTH = 2  # media file size (bytes), modification time (s)
CROP_KEY_WIDTH = 6  # x0, y0, x1, y1 (pixels), then the frame key


@dataclass(frozen=True)
class ModelsPlan:
    """What `run_models` computes over `frames`: the sampled `rows`, the rows still to predict
    (`todo_pred`) and to embed (`todo_emb`), all int64 rows of `frames` in ascending order.

    `predicting` says whether a detector runs (then `predictions_reused` counts the sampled
    rows whose prediction file is kept). With an embedder, `keys` holds the `frame_keys` of
    every frame (the rows of `todo_emb` are stored with theirs).
    """

    frames: Frames
    rows: np.ndarray
    todo_pred: np.ndarray
    todo_emb: np.ndarray
    predicting: bool
    keys: np.ndarray

    @property
    def work(self) -> np.ndarray:
        """Rows to decode: predicted, embedded or both."""
        return np.union1d(self.todo_pred, self.todo_emb)

    @property
    def reused(self) -> int:
        """Sampled rows that need no work at all."""
        return len(self.rows) - len(self.work)

    @property
    def predictions_reused(self) -> int:
        """Sampled rows whose prediction file is kept (0 when no detector runs)."""
        return len(self.rows) - len(self.todo_pred) if self.predicting else 0


def sample_rows(frames: Frames, every: int = 1) -> np.ndarray:
    """Rows to process: every image, and every `every`-th frame of each video (from frame 0)."""
    if every < 1:
        raise UsageError(f"every: expected an integer >= 1, got {every}")
    return np.flatnonzero((frames.kind != "frame") | (frames.frame_index % every == 0))


def predicted_rows(source: Datasource, task: str, frames: Frames, cache: Path | None = None) -> np.ndarray:
    """Rows whose prediction file for `task` exists and is valid."""
    if not source.lightly.exists(schema_file(task)):
        return NO_ROWS
    existing = read_predictions(source.lightly, task, frames, Problems(), cache=cache)
    done = np.ones(len(frames), bool)
    for names in (existing.missing, existing.invalid):
        done[np.isin(frames.file_name, np.asarray(names, dtype=str))] = False
    return np.flatnonzero(done)


def check_models(detector: Detector | None, task: str | None, embedder: Embedder | None, store: EmbeddingStore | None) -> None:
    """A detector needs a task to write, an embedder a store, and one of them must be given."""
    if (detector is None) != (task is None) or (embedder is None) != (store is None) or (detector is None and embedder is None):
        raise UsageError("run_models: give a detector with a task, and/or an embedder with a store")


def plan_models(
    source: Datasource,
    *,
    detector: Detector | None = None,
    task: str | None = None,
    embedder: Embedder | None = None,
    store: EmbeddingStore | None = None,
    every: int = 1,
    resume: bool = True,
    frames: Frames | None = None,
    rows: np.ndarray | None = None,
    redo: np.ndarray | None = None,
    cache: Path | None = None,
    problems: Problems | None = None,
) -> ModelsPlan:
    """What `run_models` computes (see the module docstring); the arguments are `run_models`'.

    The models are checked first; `frames` are enumerated when None (their problems go to
    `problems`). Nothing is written.
    """
    check_models(detector, task, embedder, store)
    frames = source.frames(Problems() if problems is None else problems) if frames is None else frames
    rows = sample_rows(frames, every) if rows is None else np.asarray(rows, dtype=np.int64)
    redo = np.intersect1d(rows, NO_ROWS if redo is None else np.asarray(redo, dtype=np.int64))
    todo_pred = todo_emb = NO_ROWS
    keys = np.zeros((0, FRAME_KEY_WIDTH))
    if detector is not None and task is not None:
        done = predicted_rows(source, task, frames, cache) if resume else NO_ROWS
        todo_pred = np.union1d(np.setdiff1d(rows, done), redo).astype(np.int64)
    if embedder is not None and store is not None:  # check_models: both or neither
        keys = frame_keys(source, frames, rows)
        done = rows[(store.keys(frames.id[rows], FRAME_KEY_WIDTH) == keys[rows]).all(axis=1)] if resume else NO_ROWS
        todo_emb = np.union1d(np.setdiff1d(rows, done), redo).astype(np.int64)
    return ModelsPlan(frames, rows, todo_pred, todo_emb, detector is not None, keys)


def frame_keys(source: Datasource, frames: Frames, rows: np.ndarray | None = None) -> np.ndarray:
    """What each frame's pixels come from, one float64 row per frame of `frames`: the size
    (bytes) and modification time (s) of its media file, for the frames of `rows` (default:
    all); NaN for the other frames and for a file that cannot be read (NaN equals nothing, so
    such a frame is embedded again). A stored embedding whose key equals the frame's is of
    the same pixels; its id alone (file name and frame index) does not say so.

    >>> import tempfile
    >>> from thresher import Datasource
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.jpg").write_bytes(b"0123")
    >>> frame_keys(Datasource(folder), Frames.build(["a.jpg"], kind="image"))[:, 0].tolist()
    [4.0]
    """
    keys = np.full((len(frames), FRAME_KEY_WIDTH), np.nan)
    rows = np.arange(len(frames)) if rows is None else np.asarray(rows, dtype=np.int64)
    keys[rows] = _media_keys(source, frames.video[rows])
    return keys


def _media_keys(source: Datasource, media: np.ndarray) -> np.ndarray:
    """(size, modification time) of each media file named in `media`, one stat per distinct file."""
    names, inverse = np.unique(media, return_inverse=True)
    stats = np.array([_stat_or_nan(source, name) for name in names.tolist()], dtype=np.float64).reshape(len(names), FRAME_KEY_WIDTH)
    return stats[inverse.reshape(-1)]


def crop_keys(source: Datasource, crops: Frames, boxes: np.ndarray) -> np.ndarray:
    """What each crop's pixels come from, one float64 row per crop: its integer pixel box (after
    padding and clipping) and the size and modification time of its media file (NaN when the
    file cannot be read). Two crops with equal rows show the same pixels; the crop id alone
    (frame and box position) does not say so."""
    keys = np.full((len(crops), CROP_KEY_WIDTH), np.nan)
    keys[:, :4] = np.asarray(boxes, dtype=np.float64).reshape(len(crops), 4)
    keys[:, 4:] = _media_keys(source, crops.video)
    return keys


def _stat_or_nan(source: Datasource, name: str) -> tuple[float, float]:
    """(size, modification time) of a media file; NaNs when it cannot be read (never equal)."""
    try:
        size, mtime = source.input.stat(name)
    except OSError:
        return (np.nan, np.nan)
    return (float(size), float(mtime))


def plan_crops(crops: Frames, store: EmbeddingStore, resume: bool = True, keys: np.ndarray | None = None) -> np.ndarray:
    """Rows of `crops` still to embed (all when not `resume`): those whose id the store lacks
    and, with `keys` (`crop_keys`), those stored with another key or with none (a store written
    before keys were kept embeds its crops once more)."""
    if not resume:
        return np.arange(len(crops))
    if keys is None:
        return np.flatnonzero(~np.isin(crops.id, store.ids()))
    stored = store.keys(crops.id, keys.shape[1])
    return np.flatnonzero(~(stored == keys).all(axis=1))


def write_task_schema(source: Datasource, task: str, detector: Detector) -> None:
    """The task's schema.json with the detector's categories, written when the task has none;
    an existing task must have the same (else UsageError, before any prediction is computed)
    and its schema.json is left as it is (a rerun writes nothing there)."""
    schema = PredictionSchema.detection(detector.categories)
    if _checked_schema(source, task, schema) is None:
        write_schema(source.lightly, task, schema)


def check_task_schema(source: Datasource, task: str, detector: Detector) -> PredictionSchema:
    """The detector's schema; UsageError when the task exists with other categories."""
    schema = PredictionSchema.detection(detector.categories)
    _checked_schema(source, task, schema)
    return schema


def _checked_schema(source: Datasource, task: str, schema: PredictionSchema) -> PredictionSchema | None:
    """The task's existing schema (None when it has none); UsageError when it is not `schema`."""
    old = read_schema(source.lightly, task) if source.lightly.exists(schema_file(task)) else None
    if old is not None and old != schema:
        raise UsageError(
            f"{source.lightly.url.rstrip('/')}/{schema_file(task)}: task {task!r} holds {_categories(old)}, the detector now predicts {_categories(schema)}; "
            f"to predict it again with these, remove the folder {source.lightly.url.rstrip('/')}/{schema_file(task).rsplit('/', 1)[0]} "
            f"(all of its predictions are made again), or keep the classes it was predicted with, or (thresher predict) pass another --task"
        )
    return old


def _categories(schema: PredictionSchema) -> str:
    """'object-detection [car, truck]' (type and names in id order; at most 8 names)."""
    names = [c.name for c in schema.categories]
    listed = ", ".join(names[:8]) + (f", … {len(names) - 8} more" if len(names) > 8 else "")
    return f"{schema.task_type} [{listed}]"
