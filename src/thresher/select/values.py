"""One strategy's input as arrays over the samples: scalars, class masses or vectors.

`input_values` turns a config input (SCORES, METADATA, …) and the resolved
`SelectionInputs` into an `InputValues` aligned to a given id order; a missing task, score
or key is a `ConfigError` naming the config path and the nearest available name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from thresher.errors import ConfigError, did_you_mean
from thresher.select.inputs import SelectionInputs, query_key

if TYPE_CHECKING:
    from thresher.stored_embeddings import ShardedVectors


@dataclass(frozen=True, eq=False)
class InputValues:
    """A strategy input over the samples (rows in the selector's id order).

    kind "scalar": `values` float64 (N,), NaN = no value.
    kind "classes": `values` float64 (N, K) class mass (objects, probabilities, or one-hot
        categories), columns named by `class_names`.
    kind "vectors": `values` float32 (N, D) L2-normalized embeddings; `query` the
        L2-normalized query set (Q, D) of a tag, or None. With `scale` set, both are stored
        compressed by a `thresher.select.approximate.Approximation` (float16, int8, PCA) and
        their distances are `scale` x the distances of the unit vectors.
    `label` names the input in outputs, e.g. "metadata:weather.temperature".
    """

    kind: Literal["scalar", "classes", "vectors"]
    values: np.ndarray
    label: str
    class_names: np.ndarray | None = None
    query: np.ndarray | None = None
    scale: float | None = None

    def take(self, rows: np.ndarray) -> "InputValues":
        """The same input over a subset of rows (the query set is kept); no copy for all rows."""
        if len(rows) == len(self.values) and (len(rows) == 0 or rows[-1] == len(rows) - 1):
            return self  # `rows` are sorted unique indices: all of them
        return InputValues(self.kind, self.values[rows], self.label, self.class_names, self.query, self.scale)


def _missing(path: str, what: str, name: str, available) -> ConfigError:
    available = sorted(available)
    return ConfigError(f"{path}: no {what} {name!r}{did_you_mean(name, available)}; available: {available or 'none'}")


def _normalized(vectors, *, in_place: bool = False, block: int = 1 << 16) -> np.ndarray:
    """Rows at unit L2 norm (zero rows stay zero), float32, block by block: no (N, D)
    temporaries; `in_place` overwrites `vectors` (a float32 array the caller owns). `vectors`
    may be a `thresher.stored_embeddings.ShardedVectors` (read from disk block by block)."""
    own = in_place and isinstance(vectors, np.ndarray) and vectors.dtype == np.float32 and vectors.flags.writeable
    out = vectors if own else np.empty(vectors.shape, np.float32)
    for lo in range(0, len(vectors), block):
        rows = vectors[lo : lo + block]
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        out[lo : lo + block] = rows / np.where(norms > 0, norms, 1)
    return out


class _UnitRows:
    """The L2-normalized rows `rows` of `vectors`, made block by block when indexed: what a
    `Compressor` reads to fit and transform without a float32 (N, D) copy. `vectors`: in memory
    (`Embeddings.vectors`) or on disk (`StoredEmbeddings.vectors`)."""

    def __init__(self, vectors: np.ndarray | ShardedVectors, rows: np.ndarray):
        self.vectors, self.rows = vectors, rows
        self.shape = (len(rows), vectors.shape[1])

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index) -> np.ndarray:
        return _normalized(self.vectors[self.rows[index]], in_place=True)


def _aligned_rows(table, ids: np.ndarray) -> np.ndarray:
    from thresher.table import lookup
    from thresher.errors import SchemaError

    rows, found = lookup(table.ids, ids)
    if not found.all():
        raise SchemaError(f"Embeddings: no vector for sample {str(ids[~found][0])!r}")
    return rows


def _check_fits(n: int, dim: int, table, path: str) -> None:
    """A ConfigError, before any allocation, when the float32 (n, dim) matrix of embeddings kept
    on disk (`StoredEmbeddings`) would not fit in the memory available now."""
    from thresher.embeddings import Embeddings

    if isinstance(table, Embeddings):
        return
    need, available = 4 * n * dim, _available_bytes()
    if available is not None and need > available:
        raise ConfigError(
            f"{path}.input: {n:,} embeddings of {dim} dimensions need {need / 2**30:.1f} GiB as float32, more than the "
            f"{available / 2**30:.1f} GiB of memory available; for DIVERSITY set thresher.diversity.pca_dims "
            '(e.g. 128: docs/selection.md, "Ten million embeddings")'
        )


def _available_bytes() -> int | None:
    """MemAvailable of /proc/meminfo in bytes (None where there is no such file)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _embeddings(inp, inputs: SelectionInputs, ids: np.ndarray, path: str, approximation=None) -> InputValues:
    task = inp.task or ""
    if task not in inputs.embeddings:
        raise _missing(f"{path}.input.task", "embeddings for task", task, inputs.embeddings)
    table = inputs.embeddings[task]
    compressor = None
    if approximation is not None and not approximation.exact:
        from thresher.select.approximate import Compressor

        unit_rows = _UnitRows(table.vectors, _aligned_rows(table, ids))
        compressor = Compressor(approximation).fit(unit_rows)
        vectors = compressor.transform(unit_rows)
    else:
        _check_fits(len(ids), table.dim, table, path)
        vectors = _normalized(table.align(ids).vectors, in_place=True)  # align made a copy, or reads from disk
    query = None
    label = f"embeddings:{task}" if task else "embeddings"
    if inp.tag_name:
        key = query_key(inp.dataset_id, inp.tag_name)
        if key not in inputs.query_embeddings:
            raise _missing(f"{path}.input.tag_name", "query embeddings for tag", key, inputs.query_embeddings)
        query = _normalized(inputs.query_embeddings[key].vectors)
        if query.shape[1] != table.vectors.shape[1]:
            raise ConfigError(f"{path}.input.tag_name: query embeddings have {query.shape[1]} dimensions, the samples' {table.vectors.shape[1]}")
        query = query if compressor is None else compressor.transform(query)
        label += f"@{key}"
    return InputValues("vectors", vectors, label, query=query, scale=None if compressor is None else compressor.scale)


def _scores(inp, inputs: SelectionInputs, ids: np.ndarray, path: str, part: str = "input") -> InputValues:
    if inp.task not in inputs.scores:
        raise _missing(f"{path}.{part}.task", "scores for task", inp.task, inputs.scores)
    table = inputs.scores[inp.task]
    if inp.score not in table.columns:
        raise _missing(f"{path}.{part}.score", f"score of task {inp.task!r} named", inp.score, table.columns)
    return InputValues("scalar", table.align(ids)[inp.score], f"scores:{inp.task}/{inp.score}")


def score_weights(entry, inputs: SelectionInputs, ids: np.ndarray, path: str) -> InputValues | None:
    """The SCORES weights of a WEIGHTED_KMEANS entry over `ids` (None for TYPICALITY weights,
    which the strategy computes from the embeddings); a missing task or score is a
    ConfigError at `<path>.strategy.weights`."""
    weights = getattr(entry.strategy, "weights", None)
    if weights is None or weights.type != "SCORES":
        return None
    return _scores(weights, inputs, ids, path, "strategy.weights")


def _category_names(values: np.ndarray) -> np.ndarray:
    """Numeric metadata used as categories: 3.0 -> "3", NaN -> "" (missing)."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = "" if np.isnan(v) else (str(int(v)) if float(v).is_integer() else repr(float(v)))
    return out.astype(str)


def one_hot(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, K) one-hot matrix of string labels ("" = no class) and the sorted class names."""
    names, inverse = np.unique(labels, return_inverse=True)
    matrix = np.zeros((len(labels), len(names)))
    matrix[np.arange(len(labels)), inverse] = 1.0
    keep = names != ""
    return matrix[:, keep], names[keep]


def _metadata(inp, inputs: SelectionInputs, ids: np.ndarray, path: str, as_classes: bool) -> InputValues:
    if inp.key not in inputs.metadata:
        raise _missing(f"{path}.input.key", "metadata key", inp.key, inputs.metadata)
    meta = inputs.metadata[inp.key]
    values = meta.align(ids)
    label = f"metadata:{inp.key}"
    if as_classes:
        labels = _category_names(values) if meta.is_numeric else values
        matrix, names = one_hot(labels)
        return InputValues("classes", matrix, label, class_names=names)
    if not meta.is_numeric:
        raise ConfigError(f"{path}.input.key: metadata {inp.key!r} is categorical (text); WEIGHTS and THRESHOLD need numbers, BALANCE takes categories")
    return InputValues("scalar", values, label)


def _predictions(inp, inputs: SelectionInputs, ids: np.ndarray, path: str) -> InputValues:
    if inp.task not in inputs.predictions:
        raise _missing(f"{path}.input.task", "predictions for task", inp.task, inputs.predictions)
    preds = inputs.predictions[inp.task].align(ids)
    names = preds.class_names
    columns = np.arange(len(names))
    if inp.categories:
        for name in inp.categories:
            if name not in names:
                raise _missing(f"{path}.input.categories", f"class of task {inp.task!r} named", name, names.tolist())
        columns = np.array([int(np.flatnonzero(names == c)[0]) for c in inp.categories])
    label = f"predictions:{inp.task}/{inp.name}"
    if inp.name == "CATEGORY_COUNT":
        return InputValues("scalar", preds.category_count[:, columns].sum(axis=1), label)
    return InputValues("classes", preds.class_distribution[:, columns], label, class_names=names[columns])


def random_values(ids: np.ndarray, seed: int) -> np.ndarray:
    """Uniform numbers in (0, 1], one per id, drawn in sorted-id order (independent of input order)."""
    order = np.argsort(ids, kind="stable")
    values = np.empty(len(ids))
    values[order] = 1.0 - np.random.default_rng(seed).random(len(ids))
    return values


def input_values(entry, inputs: SelectionInputs, ids: np.ndarray, seed: int, path: str, approximation=None) -> InputValues:
    """Resolve one config entry's input over `ids` (see `InputValues`); `approximation`: the
    storage / PCA in which a DIVERSITY strategy's embeddings are built, block by block."""
    inp = entry.input
    if inp.type == "EMBEDDINGS":
        return _embeddings(inp, inputs, ids, path, approximation if entry.strategy.type == "DIVERSITY" else None)
    if inp.type == "SCORES":
        return _scores(inp, inputs, ids, path)
    if inp.type == "METADATA":
        return _metadata(inp, inputs, ids, path, as_classes=entry.strategy.type == "BALANCE")
    if inp.type == "PREDICTIONS":
        return _predictions(inp, inputs, ids, path)
    seed = seed if inp.random_seed is None else inp.random_seed
    return InputValues("scalar", random_values(ids, seed), f"random:{seed}")
