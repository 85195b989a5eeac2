"""What the selector reads: resolved inputs, already in memory.

The selector never opens a file. A caller (the CLI, a run, a test) builds a `SelectionInputs`
directly, or lets `resolve_inputs` ask an `InputResolver` (the datasource, the catalog) for
exactly what a config names. `Metadata` and `Predictions` are the two small columnar types
this package adds; embeddings and scores are the central `Embeddings` and `Scores`.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import ArrayLike

from thresher.table import as_array, as_str_array, lookup
from thresher.detections import Detections
from thresher.embeddings import Embeddings
from thresher.errors import ConfigError, SchemaError
from thresher.frames import Frames
from thresher.score_table import Scores
from thresher.select.config import SelectionConfig, SelectionInput

if TYPE_CHECKING:
    from thresher.stored_embeddings import StoredEmbeddings  # on disk; the selector reads it block by block


@dataclass(frozen=True, eq=False, init=False)
class Metadata:
    """The values of one metadata key over sample ids.

    `values` is float64 for numeric metadata (NaN = missing) or a str array for categorical
    metadata ("" = missing); booleans and integers count as numeric.
    """

    ids: np.ndarray
    values: np.ndarray

    def __init__(self, ids: ArrayLike, values: ArrayLike) -> None:
        object.__setattr__(self, "ids", as_str_array(ids, "Metadata.ids"))
        values = np.asarray(values)
        if values.dtype.kind in "biuf":
            values = values.astype(np.float64)
        else:
            values = np.array(["" if v is None else str(v) for v in values.ravel()], dtype=str)
            values = values if len(values) else np.zeros(0, "<U1")
        if values.shape != self.ids.shape:
            raise SchemaError(f"Metadata: {len(self.ids)} ids but values of shape {values.shape}")
        object.__setattr__(self, "values", values)

    @property
    def is_numeric(self) -> bool:
        return self.values.dtype == np.float64

    def align(self, ids: ArrayLike) -> np.ndarray:
        """Values in the order of `ids`; ids without a value get NaN (numeric) or ""."""
        ids = as_str_array(ids, "ids")
        rows, found = lookup(self.ids, ids)
        missing = np.nan if self.is_numeric else ""
        taken = self.values[rows] if len(self.values) else np.full(len(ids), missing, self.values.dtype)
        return np.where(found, taken, missing)


@dataclass(frozen=True, eq=False, init=False)
class Predictions:
    """Per-sample class summaries of one prediction task, columns in `class_names` order.

    class_distribution: float64 (N, K), the sum of the class-probability vectors of the
        sample's objects (one object per crop at object level; a one-hot vector where a
        detection has no probabilities). A classification sample has one vector.
    category_count: float64 (N, K), the number of objects of each predicted class.
    """

    ids: np.ndarray
    class_names: np.ndarray
    class_distribution: np.ndarray
    category_count: np.ndarray

    def __init__(self, ids: ArrayLike, class_names: ArrayLike, class_distribution: ArrayLike, category_count: ArrayLike) -> None:
        object.__setattr__(self, "ids", as_str_array(ids, "Predictions.ids"))
        object.__setattr__(self, "class_names", as_str_array(class_names, "Predictions.class_names"))
        n, k = len(self.ids), len(self.class_names)
        for name, given in (("class_distribution", class_distribution), ("category_count", category_count)):
            values = as_array(given, f"Predictions.{name}", np.float64, 2)
            if values.shape != (n, k):
                raise SchemaError(f"Predictions.{name}: expected shape ({n}, {k}), got {values.shape}")
            if (values < 0).any() or not np.isfinite(values).all():
                raise SchemaError(f"Predictions.{name}: expected finite values >= 0")
            object.__setattr__(self, name, values)

    @classmethod
    def from_detections(cls, frames: Frames, detections: Detections, class_names: ArrayLike) -> "Predictions":
        """Summaries over the rows of `frames` (a frame with no detection gets zero rows)."""
        names = as_str_array(class_names, "class_names")
        n, k = len(frames), len(names)
        if len(detections) and (detections.class_id.min() < 0 or detections.class_id.max() >= k):
            raise SchemaError(f"Detections.class_id: expected ids in [0, {k}) for {k} class names")
        flat = detections.frame * k + detections.class_id
        counts = np.bincount(flat, minlength=n * k)[: n * k].reshape(n, k).astype(np.float64)
        if detections.probs is None:
            dist = counts.copy()
        else:
            if detections.probs.shape[1] != k:
                raise SchemaError(f"Detections.probs: {detections.probs.shape[1]} columns for {k} class names")
            dist = np.zeros((n, k))
            np.add.at(dist, detections.frame, detections.probs)
        return cls(frames.id, names, dist, counts)

    def align(self, ids: ArrayLike) -> "Predictions":
        """Rows in the order of `ids`; ids without predictions get zero rows."""
        ids = as_str_array(ids, "ids")
        rows, found = lookup(self.ids, ids)
        k = len(self.class_names)

        def take(matrix: np.ndarray) -> np.ndarray:
            out = np.zeros((len(ids), k))
            out[found] = matrix[rows[found]]
            return out

        return Predictions(ids, self.class_names, take(self.class_distribution), take(self.category_count))


def query_key(dataset_id: str | None, tag_name: str) -> str:
    """Key of a query set in `SelectionInputs.query_embeddings`: "tag" or "dataset_id/tag"."""
    return f"{dataset_id}/{tag_name}" if dataset_id else tag_name


@dataclass(frozen=True, eq=False, init=False)
class SelectionInputs:
    """Everything a selection reads, resolved and in memory.

    Attributes:
        frames: the input samples (images, frames or crops); ids are the sample ids.
        embeddings: by task, "" for the samples' own embeddings (EMBEDDINGS without task).
        query_embeddings: query sets of EMBEDDINGS inputs with tag_name, by `query_key`.
        scores: by task; columns are the score names (higher = more worth labeling).
        metadata: by dotted key (`weather.temperature`, `lightly.sharpness`).
        predictions: by task.
        preselected: ids already selected (a tag, the datapool, earlier runs); they must be
            rows of `frames`, are never picked again, count toward n_samples and toward
            every strategy's state (distances, class balance, sums).
    """

    frames: Frames
    embeddings: Mapping[str, Embeddings | StoredEmbeddings]
    query_embeddings: Mapping[str, Embeddings | StoredEmbeddings]
    scores: Mapping[str, Scores]
    metadata: Mapping[str, Metadata]
    predictions: Mapping[str, Predictions]
    preselected: np.ndarray

    def __init__(
        self,
        frames: Frames,
        embeddings: Mapping[str, Embeddings | StoredEmbeddings] | None = None,
        query_embeddings: Mapping[str, Embeddings | StoredEmbeddings] | None = None,
        scores: Mapping[str, Scores] | None = None,
        metadata: Mapping[str, Metadata] | None = None,
        predictions: Mapping[str, Predictions] | None = None,
        preselected: ArrayLike = (),
    ) -> None:
        given = {"embeddings": embeddings, "query_embeddings": query_embeddings, "scores": scores, "metadata": metadata, "predictions": predictions}
        object.__setattr__(self, "frames", frames)
        for name, value in given.items():
            object.__setattr__(self, name, {} if value is None else value)
        for name, kind in (("scores", Scores), ("metadata", Metadata), ("predictions", Predictions)):
            _check_values(name, getattr(self, name), kind)
        object.__setattr__(self, "preselected", as_str_array(preselected, "SelectionInputs.preselected"))
        if len(self.preselected):
            _, found = lookup(self.frames.id, self.preselected)
            if not found.all():
                bad = str(self.preselected[~found][0])
                raise SchemaError(f"SelectionInputs.preselected: sample {bad!r} is not a row of frames")


_EXPECTED = {  # what each mapping of SelectionInputs holds, and how to build it
    "Scores": ("thresher.Scores", "Scores(ids, {score name: values})"),
    "Metadata": ("thresher.select.Metadata", "Metadata(frames.id, values), values in the order of frames"),
    "Predictions": ("thresher.select.Predictions", "Predictions.from_detections(frames, detections, class_names)"),
}


def _check_values(name: str, values: Mapping, kind: type) -> None:
    """SchemaError naming the key when a value of `SelectionInputs.<name>` is not a `kind`."""
    for key, value in values.items():
        if not isinstance(value, kind):
            got = f"{type(value).__module__}.{type(value).__qualname__}".removeprefix("builtins.")
            expected, built = _EXPECTED[kind.__name__]
            raise SchemaError(f"SelectionInputs.{name}[{key!r}]: expected a {expected}, got {got}; build it with {built}")


class InputResolver(Protocol):
    """Where `resolve_inputs` gets what a config names (implemented by datasource / catalog)."""

    def embeddings(self, task: str | None) -> Embeddings | StoredEmbeddings: ...

    def query_embeddings(self, dataset_id: str | None, tag_name: str) -> Embeddings | StoredEmbeddings: ...

    def scores(self, task: str) -> Scores: ...

    def metadata(self, key: str) -> Metadata: ...

    def predictions(self, task: str) -> Predictions: ...


def resolve_inputs(config: SelectionConfig, resolver: InputResolver, frames: Frames, preselected: ArrayLike = ()) -> SelectionInputs:
    """Ask `resolver` for exactly the inputs `config` names; `preselected` are sample ids."""
    embedding_tasks: dict[str, int] = {}  # the tasks in config order, "" for the samples' own -> first entry naming it
    queries: dict[str, Embeddings | StoredEmbeddings] = {}
    scores: dict[str, Scores] = {}
    metadata: dict[str, Metadata] = {}
    predictions: dict[str, Predictions] = {}
    for index, entry in enumerate(config.strategies):
        with _named_input(index):
            _resolve_one(entry.input, resolver, queries, scores, metadata, predictions)
        if entry.input.type == "EMBEDDINGS":
            embedding_tasks.setdefault(entry.input.task or "", index)
        weights = getattr(entry.strategy, "weights", None)  # WEIGHTED_KMEANS reads a second input
        if weights is not None and weights.type == "SCORES" and weights.task not in scores:
            with _named_input(index, "strategy.weights"):
                scores[weights.task] = resolver.scores(weights.task)
    embeddings: dict[str, Embeddings | StoredEmbeddings] = {}
    for task, index in embedding_tasks.items():
        with _named_input(index):
            embeddings[task] = resolver.embeddings(task or None)
    return SelectionInputs(frames, embeddings, queries, scores, metadata, predictions, as_str_array(preselected, "SelectionInputs.preselected"))


@contextmanager
def _named_input(index: int, part: str = "input"):
    """Prefix a resolver's ConfigError with the config path of the input that asked for it."""
    try:
        yield
    except ConfigError as exc:
        raise ConfigError(f"strategies[{index}].{part}: {exc}") from None


def _resolve_one(
    inp: SelectionInput,
    resolver: InputResolver,
    queries: dict[str, Embeddings | StoredEmbeddings],
    scores: dict[str, Scores],
    metadata: dict[str, Metadata],
    predictions: dict[str, Predictions],
) -> None:
    """Ask `resolver` for one input (a config entry's `input` model) into the dicts of
    `resolve_inputs` (each name once; the samples' embeddings are asked for by the caller)."""
    if inp.type == "EMBEDDINGS":
        if inp.tag_name:
            key = query_key(inp.dataset_id, inp.tag_name)
            if key not in queries:
                queries[key] = resolver.query_embeddings(inp.dataset_id, inp.tag_name)
    elif inp.type == "SCORES" and inp.task not in scores:
        scores[inp.task] = resolver.scores(inp.task)
    elif inp.type == "METADATA" and inp.key not in metadata:
        metadata[inp.key] = resolver.metadata(inp.key)
    elif inp.type == "PREDICTIONS" and inp.task not in predictions:
        predictions[inp.task] = resolver.predictions(inp.task)
