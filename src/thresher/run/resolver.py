"""Selection inputs of a run, read from the datasource, the embedding store and the catalog.

Implements the selector's `InputResolver` over the run's samples (frames, or crops
at object level): each input is computed once and aligned to the samples' ids.
"""

from __future__ import annotations

import functools

import numpy as np

from thresher.catalog import Catalog
from thresher.detections import Detections
from thresher.embedding_store import EmbeddingStore
from thresher.errors import ConfigError
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.lightly_metadata import read_metadata
from thresher.io.lightly_predictions import PredictionTask, read_predictions
from thresher.io.lightly_schema import require_task
from thresher.io.problems import Problems
from thresher.run.config_check import require_object_task
from thresher.scorers import default_object_ids, object_scores, score_frames
from thresher.score_table import Scores
from thresher.select import Metadata, Predictions
from thresher.stored_embeddings import StoredEmbeddings

SCORE_FAMILIES = ("lightly", "seed")


class RunResolver:
    """Inputs over `samples` (rows of the datasource's frames, or crops of `object_task`)."""

    def __init__(
        self,
        source: Datasource,
        frames: Frames,
        samples: Frames,
        store: EmbeddingStore,
        catalog: Catalog,
        object_task: str | None = None,
        cache=None,
        metadata_cache=None,
        known_tasks=None,
    ):
        self.source, self.frames, self.samples = source, frames, samples
        self.store, self.catalog, self.object_task = store, catalog, object_task
        self.cache, self.metadata_cache = cache, metadata_cache  # folders of the columnar caches (tasks, metadata)
        self.known_tasks = dict(known_tasks or {})  # tasks read already over `frames`, by name
        self.stacked: dict[str, list[str]] = {}  # task -> seed-002 stacked score names to compute (`stacked_score_names`)
        self.task = functools.cache(self._task)
        self._frame_scores = functools.cache(self._scores_of_frames)  # the selection and the report share them
        self._metadata = None
        self._embeddings: tuple[Frames, StoredEmbeddings] | None = None  # (samples, their embeddings)

    def _require_task(self, name: str) -> None:
        """ConfigError naming the tasks that exist when the datasource has no task `name`."""
        require_task(self.source.lightly, name)

    def _task(self, name: str) -> PredictionTask:
        self._require_task(name)
        if name in self.known_tasks:
            return self.known_tasks[name]
        return read_predictions(self.source.lightly, name, self.frames, Problems(), cache=self.cache)

    def embeddings(self, task: str | None) -> StoredEmbeddings:
        """The samples' own embeddings, left on disk (the selection reads them block by block),
        aligned once per samples table (the selection and the report ask for the same).

        `task` must be a prediction task of the datasource (ConfigError otherwise); at frame
        level it only names the input (the frames' own embeddings are used), at object level
        the samples are the crops of the object task, so it must be that task.
        """
        if task:
            self._require_task(task)
            require_object_task(task, self.object_task)
        if self._embeddings is None or self._embeddings[0] is not self.samples:
            self._embeddings = (self.samples, self.store.open().align(self.samples.id))
        return self._embeddings[1]

    def query_embeddings(self, dataset_id: str | None, tag_name: str) -> StoredEmbeddings:
        ids = self.catalog.tag(tag_name)
        return self.store.open().align(ids)

    def scores(self, task: str) -> Scores:
        """Every score of the task over the samples, with the seed-002 stacked names in `stacked`."""
        detections = self.task(task).detections
        if self.object_task is not None:
            boxes = _object_boxes(detections, self.frames, self.samples, task == self.object_task)
            return object_scores(boxes, self.samples.id)
        return self._frame_scores(task, tuple(self.stacked.get(task, []))).align(self.samples.id)

    def _scores_of_frames(self, task: str, stacked: tuple[str, ...]) -> Scores:
        """Every score of the task over every frame, with the seed-002 stacked names `stacked`."""
        detections = self.task(task).detections
        table = score_frames(detections, self.frames, SCORE_FAMILIES)
        if stacked:
            from thresher.scorers.seed_strategy import parse_seed_strategy, seed_strategy_scores

            extra = {name: seed_strategy_scores(parse_seed_strategy(name, table.names), detections, self.frames, table) for name in stacked}
            table = Scores(table.ids, {**{n: table[n] for n in table.names}, **extra})
        return table

    def object_columns(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """Object level: the box (pixels of its frame), class name and score of each crop of
        `ids` (`thresher.objects.object_columns`)."""
        from thresher.objects import object_columns

        from thresher.table import lookup

        assert self.object_task is not None, "crops exist at object level only"
        task = self.task(self.object_task)
        rows, found = lookup(default_object_ids(task.detections, self.frames), np.asarray(ids, dtype=str))
        columns = object_columns(task.detections[rows[found]], task.schema.names)
        return {name: _spread(column, found) for name, column in columns.items()}

    def all_metadata(self):
        """The datasource's metadata over every frame (`thresher.io.lightly_metadata.Metadata`), read once."""
        if self._metadata is None:
            self._metadata = read_metadata(self.source.lightly, self.frames, Problems(), cache=self.metadata_cache)
        return self._metadata

    def metadata(self, key: str) -> Metadata:
        if key.startswith("lightly."):
            raise ConfigError(f"METADATA key {key!r}: thresher does not compute LightlyOne's built-in lightly.* metadata yet")
        try:
            column = self.all_metadata()[key]
        except KeyError as exc:
            raise ConfigError(f"METADATA key {key!r}: {exc.args[0]}") from None
        rows = self.frames.index_of(_frame_ids(self.samples))
        return Metadata(self.samples.id, column[rows])

    def predictions(self, task: str) -> Predictions:
        loaded = self.task(task)
        detections = _with_columns(loaded.detections, loaded.schema.ids)
        names = [c.name for c in loaded.schema.categories]
        if self.object_task is not None:
            boxes = _object_boxes(detections, self.frames, self.samples, task == self.object_task)
            boxes = boxes.replace(frame=np.arange(len(boxes)))
            return Predictions.from_detections(self.samples, boxes, names)
        return Predictions.from_detections(self.frames, detections, names).align(self.samples.id)


def _frame_ids(samples: Frames) -> np.ndarray:
    """The frame each sample is or comes from."""
    return np.where(samples.parent_id != "", samples.parent_id, samples.id)


def _with_columns(detections: Detections, ids: np.ndarray) -> Detections:
    """Class ids replaced by their column in the schema (ascending ids), as Predictions wants."""
    return detections.replace(class_id=np.searchsorted(ids, detections.class_id))


def _object_boxes(detections: Detections, frames: Frames, crops: Frames, same_task: bool) -> Detections:
    """The box of each crop (crops are cut from `detections` in row order when `same_task`)."""
    if not same_task:
        raise ConfigError("at object level, SCORES and PREDICTIONS inputs must use the object_level task")
    return detections[_rows_of(default_object_ids(detections, frames), crops.id)]


def _spread(values: np.ndarray, found: np.ndarray) -> np.ndarray:
    """`values` at the places of `found`, NaN (or "") elsewhere (a crop its task no longer has);
    strings and floats keep their dtype (float32 corners stay float32)."""
    out = np.full(len(found), "" if values.dtype.kind == "U" else np.nan, dtype=values.dtype if values.dtype.kind in "Uf" else np.float64)
    out[found] = values
    return out


def _rows_of(keys: np.ndarray, ids: np.ndarray) -> np.ndarray:
    from thresher.table import lookup

    rows, found = lookup(keys, ids)
    if not found.all():
        raise ConfigError(f"object level: crop {str(ids[~found][0])!r} has no box in the task")
    return rows
