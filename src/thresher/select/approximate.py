"""Approximate k-center for very many embeddings: compact storage, PCA, partitions.

Exact `k_center_greedy` over N unit vectors of D float32 holds the matrix (4·N·D bytes), its
int8 sketch (N·D) and three length-N arrays, and each pick reads at most the whole sketch. At
10,000,000 × 128 that is 6.2 GB and about a third of a second per pick on 2 cores: it fits this
machine, and it stays the default. When memory or time is short, each option below trades a
measured amount of cover radius (the largest distance from any vector to its nearest pick,
in the exact space; bench/results/kcenter.md):

- `storage="float16"`: half the memory; distances computed in float32 from float16 values.
- `storage="int8"`: a quarter of the memory: round(127 · x / max|x|) per coordinate.
- `pca_dims=d`: project on the first d principal axes (fitted on a seeded sample of
  `pca_sample` vectors), D/d times less memory and work per pick.
- `partitions=p`: k-center within p contiguous parts (each picks ceil(oversample · k / p)),
  then k-center over the union of their picks. Each part's memory and passes are 1/p of the
  whole (the parts are independent: a cluster could run them in parallel); the final
  k-center never sees the other vectors, so the radius grows most with this one.

`approximate_k_center` applies them to one matrix; `run_selection(..., approximation=...)`
applies storage and PCA to the DIVERSITY strategy's embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike

from thresher.errors import UsageError
from thresher.select.kcenter import as_matrix, k_center_greedy

STORAGES = ("float32", "float16", "int8")
BLOCK_BYTES = 1 << 28  # float32 rows read and projected at a time: 256 MiB (262,144 rows of 256, 52,428 of 1280)


def block_rows(dim: int) -> int:
    """Rows per block of `Compressor.transform` for vectors of `dim` float32 coordinates."""
    return max(1024, min(1 << 18, BLOCK_BYTES // (4 * max(1, dim))))


@dataclass(frozen=True)
class Approximation:
    """Options of approximate k-center (see the module docstring); the defaults are exact."""

    storage: str = "float32"
    pca_dims: int | None = None
    partitions: int = 1
    oversample: float = 2.0
    pca_sample: int = 100_000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.storage not in STORAGES:
            raise UsageError(f"storage: expected one of {', '.join(STORAGES)}, got {self.storage!r}")
        if self.pca_dims is not None and (int(self.pca_dims) != self.pca_dims or self.pca_dims < 1):
            raise UsageError(f"pca_dims: expected an integer >= 1 or None, got {self.pca_dims!r}")
        if int(self.partitions) != self.partitions or self.partitions < 1:
            raise UsageError(f"partitions: expected an integer >= 1, got {self.partitions!r}")
        if not self.oversample >= 1:
            raise UsageError(f"oversample: expected a number >= 1 (picks per part = oversample x k / partitions), got {self.oversample!r}")

    @property
    def exact(self) -> bool:
        return self.storage == "float32" and self.pca_dims is None and self.partitions == 1


def principal_axes(sample: np.ndarray, dims: int, block: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """(mean float64 (D,), axes float32 (D, dims)): the top `dims` eigenvectors of the sample's
    covariance, accumulated in float64 block by block (one D x D matrix; at D = 1280 and
    100,000 rows a few seconds, where an SVD of the sample took minutes), largest variance first.

        mean, axes = principal_axes(X[:100_000], 128); projected = (X - mean) @ axes
    """
    mean = sample.mean(axis=0, dtype=np.float64)
    scatter = np.zeros((sample.shape[1], sample.shape[1]))
    for lo in range(0, len(sample), block):
        centered = sample[lo : lo + block].astype(np.float64) - mean
        scatter += centered.T @ centered
    from thresher._blas import limit_blas_threads

    with limit_blas_threads(1):  # LAPACK's eigh: 0.6 s on one thread, 5.6 s on two of a busy 2-core host
        _, vectors = np.linalg.eigh(scatter)  # ascending eigenvalues
    return mean, np.ascontiguousarray(vectors[:, ::-1][:, :dims], dtype=np.float32)


@runtime_checkable
class RowMatrix(Protocol):
    """An (N, D) matrix read block by block of rows: a numpy array, the memory-mapped
    `ShardedVectors` of a store, or the normalized rows the selector makes on the fly.

    >>> isinstance(np.zeros((3, 2)), RowMatrix)
    True
    """

    @property
    def shape(self) -> tuple[int, ...]: ...

    def __len__(self) -> int: ...

    def __getitem__(self, rows: Any) -> np.ndarray: ...


class Compressor:
    """The storage / PCA transform of one `Approximation`, fitted on a matrix (`fit`), applied
    to it and to other vectors (query sets) the same way (`transform`). `scale` = compressed
    distances per original distance (int8's 127 / max|x|; 1 otherwise, and about 1 after PCA)."""

    def __init__(self, approximation: Approximation) -> None:
        self.approximation = approximation
        self.mean: np.ndarray | None = None  # with PCA: the sample's mean and its principal axes (as columns)
        self.axes: np.ndarray | None = None
        self.scale = 1.0

    def fit(self, X: RowMatrix) -> "Compressor":
        a = self.approximation
        if a.pca_dims is not None and a.pca_dims < X.shape[1] and len(X) > 1:
            rng = np.random.default_rng(a.seed)
            sample = X[np.sort(rng.choice(len(X), min(len(X), a.pca_sample), replace=False))]
            self.mean, self.axes = principal_axes(sample, a.pca_dims)
        if a.storage == "int8":
            step = block_rows(X.shape[1])
            largest = max((float(np.abs(self._project(X[lo : lo + step])).max(initial=0)) for lo in range(0, len(X), step)), default=0.0)
            self.scale = 127.0 / largest if largest > 0 else 1.0
        return self

    def _project(self, block: np.ndarray) -> np.ndarray:
        block = block.astype(np.float32, copy=False)
        if self.mean is None or self.axes is None:  # no PCA (both are fitted together)
            return block
        return (block - self.mean.astype(np.float32)) @ self.axes

    def transform(self, X: RowMatrix, block: int | None = None) -> np.ndarray:
        """X projected and stored as the approximation says, `block` rows at a time (default
        `block_rows`: about 256 MiB of float32), so no float32 copy of X is made; X may be any
        row-indexable matrix, e.g. the memory-mapped `ShardedVectors` of a store.

            Compressor(Approximation(pca_dims=128)).fit(X).transform(X)   # (N, 128) float32
        """
        dims = X.shape[1] if self.axes is None else self.axes.shape[1]
        dtype = {"float32": np.float32, "float16": np.float16, "int8": np.int8}[self.approximation.storage]
        step = block or block_rows(X.shape[1])
        out = np.empty((len(X), dims), dtype)
        for lo in range(0, len(X), step):
            projected = self._project(X[lo : lo + step])
            out[lo : lo + step] = np.rint(projected * self.scale) if dtype == np.int8 else projected
        return out


def compress(vectors: ArrayLike, approximation: Approximation) -> tuple[np.ndarray, Compressor]:
    """(the matrix k-center reads, its fitted `Compressor`)."""
    X = np.asarray(vectors)
    if X.ndim != 2:
        raise UsageError(f"vectors: expected a 2-D array (N, D), got shape {X.shape}")
    compressor = Compressor(approximation).fit(X)
    return compressor.transform(X), compressor


def approximate_k_center(
    vectors: ArrayLike,
    k: int,
    approximation: Approximation = Approximation(),
    *,
    preselected: ArrayLike | None = None,
    min_distance: float | None = None,
    backend: str = "auto",
) -> np.ndarray:
    """`k_center_greedy` with the approximation's storage, PCA and partitions (exact by default).

    Same arguments and result as `k_center_greedy` (`min_distance` in the original units).
    """
    if approximation.exact:
        return k_center_greedy(vectors, k, preselected=preselected, min_distance=min_distance, backend=backend)
    X, compressor = compress(vectors, approximation) if approximation.storage != "float32" or approximation.pca_dims else (as_matrix(vectors), None)
    stop = None if min_distance is None else min_distance * (compressor.scale if compressor else 1.0)
    chosen = _rows(preselected, len(X))
    if approximation.partitions == 1:
        return k_center_greedy(X, k, preselected=chosen, min_distance=stop, backend=backend)
    return _partitioned(X, k, approximation, chosen, stop, backend)


def _rows(preselected: ArrayLike | None, n: int) -> np.ndarray:
    if preselected is None:
        return np.zeros(0, np.int64)
    rows = np.asarray(preselected)
    return np.flatnonzero(rows) if rows.dtype == bool else np.unique(rows.astype(np.int64).ravel())


def _partitioned(X: np.ndarray, k: int, approximation: Approximation, chosen: np.ndarray, stop: float | None, backend: str) -> np.ndarray:
    """k-center in each contiguous part (preselected rows join every part), then over the union."""
    per_part = int(np.ceil(approximation.oversample * k / approximation.partitions))
    free = np.setdiff1d(np.arange(len(X)), chosen)
    candidates = []
    for part in np.array_split(free, approximation.partitions):
        rows = np.concatenate([part, chosen])
        picks = k_center_greedy(X[rows], per_part, preselected=np.arange(len(part), len(rows)), min_distance=stop, backend=backend)
        candidates.append(part[picks])
    union = np.concatenate(candidates + [chosen])
    final = k_center_greedy(X[union], k, preselected=np.arange(len(union) - len(chosen), len(union)), min_distance=stop, backend=backend)
    return union[final]
