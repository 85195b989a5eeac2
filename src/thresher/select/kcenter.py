"""k-center greedy (Gonzalez 1985; the "core-set" of Sener & Savarese 2018), fast.

`k_center_greedy` repeatedly adds the vector farthest from its nearest chosen vector. The
largest such distance is the cover radius; greedy is within 2x of the optimal radius.
`NearestCenters` is the state behind it, reused by the selector's DIVERSITY
objective: each added center costs at most one pass over the matrix (see `_kernels`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from thresher.errors import UsageError
from thresher.select import _kernels


def as_matrix(vectors: ArrayLike, name: str = "vectors", allow_int8: bool = False) -> np.ndarray:
    """A C-contiguous float32 (N, D) matrix, or int8 / float16 when allowed (a copy only when needed)."""
    X = np.asarray(vectors)
    if X.ndim != 2:
        raise UsageError(f"{name}: expected a 2-D array (N, D), got shape {X.shape}")
    if allow_int8 and X.dtype in (np.int8, np.float16):
        return np.ascontiguousarray(X)
    if X.dtype != np.float32 or not X.flags.c_contiguous:
        X = np.ascontiguousarray(X, dtype=np.float32)
    return X


class NearestCenters:
    """Squared distance of every row of X to its nearest center, updated one center at a time.

    Attributes:
        min_sq: float32 (N,), squared Euclidean distance to the nearest center (+inf before
            any center; -1 for rows that were themselves chosen, see `mark_chosen`).
        best: row with the largest `min_sq` after the last update (-1 if none).
    """

    def __init__(self, X: np.ndarray, backend: str = "auto") -> None:
        self.X = X
        self.backend = _kernels.pick_backend(backend, X.size)
        self._aux = _kernels.prepare(X, self.backend)
        self.min_sq = np.full(len(X), np.inf, np.float32)
        self._assign = np.full(len(X), -1, np.int32)
        self._centers = np.zeros((0, X.shape[1]), np.float64)
        self.best = -1

    def add(self, center: np.ndarray) -> int:
        """Add one center vector; return the new farthest row (ties: lowest row)."""
        center = np.asarray(center, dtype=np.float32)
        center_sq = ((self._centers - center) ** 2).sum(axis=1).astype(np.float32)
        new_id = len(self._centers)
        self._centers = np.vstack([self._centers, center.astype(np.float64)])
        self.best = _kernels.update(self.X, center, self.min_sq, self._assign, center_sq, new_id, self._aux, self.backend)
        return self.best

    def add_many(self, centers: np.ndarray) -> int:
        """Add a set of centers (few: one pass each; many: one blocked GEMM)."""
        centers = as_matrix(centers, "centers")
        if len(centers) <= 16:
            for c in centers:
                self.add(c)
            return self.best
        near_sq, which = _kernels.nearest_in_set(self.X, centers)
        offset = len(self._centers)
        closer = (self.min_sq >= 0) & (near_sq < self.min_sq)
        self.min_sq[closer] = near_sq[closer]
        self._assign[closer] = which[closer] + offset
        self._centers = np.vstack([self._centers, centers.astype(np.float64)])
        self.best = self._argmax()
        return self.best

    def farthest_from(self, point: np.ndarray) -> int:
        """Row farthest from `point` (ties: lowest row), leaving the state unchanged."""
        scratch = np.full(len(self.X), np.inf, np.float32)
        scratch[self.min_sq < 0] = _kernels.CHOSEN
        assign = np.full(len(self.X), -1, np.int32)
        return _kernels.update(self.X, np.asarray(point, np.float32), scratch, assign, np.zeros(0, np.float32), 0, self._aux, self.backend)

    def mark_chosen(self, rows: np.ndarray) -> None:
        """Exclude rows from the farthest-row search (they are centers themselves)."""
        self.min_sq[rows] = _kernels.CHOSEN
        self.best = self._argmax()

    def _argmax(self) -> int:
        if len(self.min_sq) == 0:
            return -1
        best = int(np.argmax(self.min_sq))
        return best if self.min_sq[best] >= 0 else -1


def farthest_from_mean(X: np.ndarray, backend: str = "auto") -> int:
    """Row farthest (Euclidean) from the mean of all rows; ties: lowest row."""
    return NearestCenters(X, backend).farthest_from(X.mean(axis=0, dtype=np.float64))


def _as_rows(preselected: ArrayLike | None, n: int) -> np.ndarray:
    if preselected is None:
        return np.zeros(0, np.int64)
    rows = np.asarray(preselected)
    if rows.dtype == bool:
        if rows.shape != (n,):
            raise UsageError(f"preselected: boolean mask of shape {rows.shape} for {n} vectors")
        return np.flatnonzero(rows)
    rows = rows.astype(np.int64, copy=False).ravel()
    if len(rows) and (rows.min() < 0 or rows.max() >= n):
        raise UsageError(f"preselected: row indices must lie in [0, {n}), got {rows.min()}..{rows.max()}")
    return np.unique(rows)


def k_center_greedy(
    vectors: ArrayLike,
    k: int,
    *,
    preselected: ArrayLike | None = None,
    min_distance: float | None = None,
    backend: str = "auto",
) -> np.ndarray:
    """Pick up to `k` rows of `vectors` that cover them, farthest-first.

    Args:
        vectors: (N, D) array, used as given (pass L2-normalized float32 vectors for the
            LightlyOne distance scale, where distances lie in [0, 2]); other dtypes are
            converted to float32 (one copy), except float16 (half the memory, computed in
            float32) and int8, taken as quantized coordinates (e.g. round(127 x) of unit
            vectors: a quarter of the memory and of the bytes read per pick; distances and
            `min_distance` are then in those units). `thresher.select.approximate` makes both.
        k: number of new picks wanted (preselected rows do not count here).
        preselected: row indices (or a boolean mask) already chosen; they count toward the
            distances and are never returned.
        min_distance: stop before a pick whose Euclidean distance to its nearest chosen
            vector is below this (the first pick without preselected rows has no such
            distance and is always made).
        backend: "auto" (numba when installed, else numpy), "numba" or "numpy".

    Returns:
        int64 row indices in pick order. With no preselected rows the first pick is the row
        farthest from the mean of all rows; each next pick maximizes the distance to its
        nearest chosen row. Ties go to the lowest row. Fewer than `k` rows come back when
        the vectors run out or `min_distance` stops the selection.

    Example (the two far corners are picked before the point next to the first)::

        >>> import numpy as np
        >>> points = np.array([[0, 0], [0.1, 0], [1, 1], [0, 1]], np.float32)
        >>> k_center_greedy(points, 3, preselected=[0]).tolist()
        [2, 3, 1]
    """
    X = as_matrix(vectors, allow_int8=True)
    if k < 0:
        raise UsageError(f"k: expected a number of picks >= 0, got {k}")
    if min_distance is not None and not min_distance >= 0:
        raise UsageError(f"min_distance: expected a distance >= 0, got {min_distance}")
    chosen = _as_rows(preselected, len(X))
    k = min(k, len(X) - len(chosen))
    if k <= 0:
        return np.zeros(0, np.int64)
    state = NearestCenters(X, backend)
    if len(chosen):
        state.mark_chosen(chosen)
        state.add_many(X[chosen])
        best = state.best
    else:
        best = state.farthest_from(X.mean(axis=0, dtype=np.float64))
    stop_sq = -1.0 if min_distance is None else float(min_distance) ** 2
    picks = np.empty(k, np.int64)
    for n in range(k):
        if (n > 0 or len(chosen)) and state.min_sq[best] < stop_sq:
            return picks[:n]
        picks[n] = best
        state.min_sq[best] = _kernels.CHOSEN
        if n + 1 < k:
            best = state.add(X[best])
    return picks


def cover_radius(vectors: ArrayLike, centers: ArrayLike) -> float:
    """Largest distance from any row to its nearest center row (blocked float32 GEMM expansion)."""
    X = as_matrix(vectors)
    rows = np.asarray(centers, dtype=np.int64)
    if len(rows) == 0:
        return float("inf")
    return float(np.sqrt(_kernels.nearest_in_set(X, X[rows])[0].max()))
