"""The objective of each strategy, one class per strategy (docs/selection.md defines them).

Every objective is a positive number per candidate, higher = more wanted by that strategy;
the selector multiplies objective^strength over strategies, i.e. adds strength * log(objective).
`log_objective()` gives that log over all rows (candidates and chosen; the selector masks);
`pick(row)` updates the state after a pick; `eligible()` is the mask a stopping condition
leaves (None = no restriction); `stopped()` says a stopping condition ended the selection.
Objectives are clipped below at `FLOOR` x their scale, so log(0) never occurs and the
product stays well defined (a floor objective ranks last, or first when strength < 0).
"""

from __future__ import annotations

import numpy as np

from thresher.select import _kernels
from thresher.select.kcenter import NearestCenters
from thresher.select.values import InputValues

FLOOR = 1e-9
BALANCE_EPS = 1e-6
TYPICALITY_DEFAULT_NEIGHBORS = 20
TYPICALITY_MAX_REFERENCE = 50_000


def _log_clipped(objective: np.ndarray, scale: float) -> np.ndarray:
    scale = scale if np.isfinite(scale) and scale > 0 else 1.0
    return np.log(np.maximum(objective, FLOOR * scale))


def threshold_mask(values: np.ndarray, threshold: float, operation: str) -> np.ndarray:
    """Rows whose value passes `value <op> threshold`; NaN (no value) never passes."""
    with np.errstate(invalid="ignore"):
        return {
            "SMALLER": values < threshold,
            "SMALLER_EQUAL": values <= threshold,
            "BIGGER": values > threshold,
            "BIGGER_EQUAL": values >= threshold,
        }[operation]


class Objective:
    """Base: a static objective (computed once); subclasses override what changes."""

    dynamic = False
    stop_reason = ""

    def __init__(self, strength: float) -> None:
        self.strength = float(strength)
        self._log = np.zeros(0)
        self._raw = np.zeros(0)

    def log_objective(self) -> np.ndarray:
        return self._log

    def raw(self) -> np.ndarray:
        """The unclipped objective over all rows, for reports ("why this one")."""
        return self._raw

    def eligible(self) -> np.ndarray | None:
        return None

    def pick(self, row: int) -> None:
        pass

    def stopped(self) -> bool:
        return False


class Diversity(Objective):
    """Distance (unit-normalized embeddings) to the nearest chosen sample or query vector.

    Before anything is chosen: the distance to the mean of the candidates, so DIVERSITY
    alone is exactly `k_center_greedy`. With `stopping_condition_minimum_distance` d,
    candidates closer than d to the chosen set leave the pool (they can only get closer).
    """

    dynamic = True
    stop_reason = "stopping_condition_minimum_distance"

    def __init__(self, strategy, values: InputValues, chosen: np.ndarray, backend: str, approximation=None) -> None:
        super().__init__(strategy.strength)
        matrix, query, self.unit = _diversity_matrix(values, approximation)
        self.state = NearestCenters(matrix, backend)
        self.min_distance = strategy.stopping_condition_minimum_distance
        rows = np.flatnonzero(chosen)
        self.state.mark_chosen(rows)
        centers = matrix[rows] if query is None else np.concatenate([matrix[rows], query])
        self.started = len(centers) > 0
        self._first: np.ndarray | None = None  # before any center: the distance to the candidates' mean
        if self.started:
            self.state.add_many(centers)
            self._scale = float(np.sqrt(np.max(self.state.min_sq, initial=0))) / self.unit
        else:
            self._first = _distance_to_mean(matrix, ~chosen) / self.unit
            self._scale = float(self._first.max(initial=0))

    def raw(self) -> np.ndarray:
        if self._first is not None:
            return self._first
        return np.sqrt(np.maximum(self.state.min_sq, 0)) / self.unit

    def log_objective(self) -> np.ndarray:
        return _log_clipped(self.raw(), self._scale)

    def eligible(self) -> np.ndarray | None:
        if not self.started or not self.min_distance:
            return None
        return self.state.min_sq >= np.float32(self.min_distance * self.unit) ** 2

    def pick(self, row: int) -> None:
        self.state.min_sq[row] = _kernels.CHOSEN
        self.state.add(self.state.X[row])
        self.started = True
        self._first = None


def _diversity_matrix(values: InputValues, approximation) -> tuple[np.ndarray, np.ndarray | None, float]:
    """(matrix, query vectors, distance unit): the embeddings as given, or compressed (storage,
    PCA) by `thresher.select.approximate`; distances in the matrix are `unit` x the original."""
    if values.scale is not None:  # built compressed by `input_values`
        return values.values, values.query, values.scale
    if approximation is None or (approximation.storage == "float32" and approximation.pca_dims is None):
        return values.values, values.query, 1.0
    from thresher.select.approximate import Compressor

    compressor = Compressor(approximation).fit(values.values)
    query = None if values.query is None else compressor.transform(values.query)
    return compressor.transform(values.values), query, compressor.scale


def _distance_to_mean(X: np.ndarray, rows: np.ndarray, block: int = 1 << 16) -> np.ndarray:
    """Distance of every row of X to the mean of the masked `rows` (float64, block by block:
    no float64 copy of X, and no copy at all when every row counts)."""
    if not rows.any():
        mean = np.zeros(X.shape[1])
    else:
        mean = (X if rows.all() else X[rows]).mean(axis=0, dtype=np.float64)
    out = np.empty(len(X))
    for lo in range(0, len(X), block):
        out[lo : lo + block] = np.sqrt(((X[lo : lo + block] - mean) ** 2).sum(axis=1))
    return out


class Weights(Objective):
    """The input value itself (the product rule makes its scale irrelevant).

    NaN counts as the lowest value among the candidates; an input with negative values is
    shifted by its minimum so that the lowest is 0 (then floored). With
    `stopping_condition_max_sum` S the selection stops once the sum of the raw values over
    the selected set (preselected included, NaN as 0) reaches S.
    """

    stop_reason = "stopping_condition_max_sum"

    def __init__(self, strategy, values: InputValues, chosen: np.ndarray) -> None:
        super().__init__(strategy.strength)
        v = values.values
        finite = v[~chosen & np.isfinite(v)]
        lowest = float(finite.min()) if len(finite) else 0.0
        w = np.where(np.isnan(v), lowest, v)
        if lowest < 0:
            w = w - lowest
        self._raw = w
        self._log = _log_clipped(w, float(w[~chosen].max(initial=0)))
        self._values = np.nan_to_num(v, nan=0.0)
        self.max_sum = strategy.stopping_condition_max_sum
        self.total = float(self._values[chosen].sum())

    def pick(self, row: int) -> None:
        self.total += float(self._values[row])

    def stopped(self) -> bool:
        return self.max_sum is not None and self.total >= self.max_sum


class Similarity(Objective):
    """1 - d/2, d = Euclidean distance (unit vectors) to the nearest query vector; in [0, 1]."""

    def __init__(self, strategy, values: InputValues) -> None:
        super().__init__(strategy.strength)
        assert values.query is not None, "SIMILARITY without a query set (StrategyEntry requires tag_name)"
        near_sq, _ = _kernels.nearest_in_set(values.values, values.query)
        self._raw = 1.0 - np.sqrt(near_sq.astype(np.float64)) / 2.0
        self._log = _log_clipped(self._raw, 1.0)


def knn_mean_distance(X: np.ndarray, reference: np.ndarray, self_rows: np.ndarray, k: int, block_rows: int = 2048, block_cols: int = 8192) -> np.ndarray:
    """Mean Euclidean distance from each row of X to its k nearest rows of `reference`.

    `self_rows[i]` is the row of `reference` that is X[i] itself (-1 if none); it is left
    out. Blocked GEMM (float32 expansion), running k smallest per row: memory of one tile.
    """
    out = np.empty(len(X))
    sq_r = np.einsum("ij,ij->i", reference, reference)
    for lo in range(0, len(X), block_rows):
        xb = X[lo : lo + block_rows]
        sq_x = np.einsum("ij,ij->i", xb, xb)
        best = np.full((len(xb), k), np.inf, np.float32)
        for co in range(0, len(reference), block_cols):
            tile = xb @ reference[co : co + block_cols].T
            tile *= -2.0
            tile += sq_x[:, None]
            tile += sq_r[None, co : co + block_cols]
            own = self_rows[lo : lo + block_rows] - co
            inside = (own >= 0) & (own < tile.shape[1])
            tile[np.flatnonzero(inside), own[inside]] = np.inf
            merged = np.concatenate([best, tile], axis=1)
            best = np.partition(merged, k - 1, axis=1)[:, :k]
        out[lo : lo + block_rows] = np.sqrt(np.maximum(best, 0)).mean(axis=1)
    return out


def typicality(vectors: np.ndarray, all_vectors: np.ndarray, rows_in_all: np.ndarray, neighbors: int | None, seed: int) -> np.ndarray:
    """TYPICALITY's objective of each row of `vectors` (rows `rows_in_all` of `all_vectors`):
    1 / (mean distance to its k nearest rows of `all_vectors`, itself excluded), divided by
    the largest such value, so in (0, 1]; k = `neighbors` (default 20, at most N − 1); above
    `TYPICALITY_MAX_REFERENCE` rows the neighbours come from a subset drawn with `seed`."""
    reference_rows = np.arange(len(all_vectors))
    if len(all_vectors) > TYPICALITY_MAX_REFERENCE:
        rng = np.random.default_rng(seed)
        reference_rows = np.sort(rng.choice(len(all_vectors), TYPICALITY_MAX_REFERENCE, replace=False))
    k = min(neighbors or TYPICALITY_DEFAULT_NEIGHBORS, max(1, len(reference_rows) - 1))
    position = np.full(len(all_vectors), -1, np.int64)
    position[reference_rows] = np.arange(len(reference_rows))
    mean_distance = knn_mean_distance(vectors, all_vectors[reference_rows], position[rows_in_all], k)
    tiny = 1e-12
    if len(reference_rows) < 2:  # a lone sample has no neighbour: every sample is as typical
        return np.ones(len(mean_distance))
    return (mean_distance.min(initial=np.inf) + tiny) / (mean_distance + tiny)


class Typicality(Objective):
    """TypiClust typicality 1 / (mean distance to the k nearest neighbours), normalized.

    Neighbours are searched among all input samples (a seeded random subset of
    `TYPICALITY_MAX_REFERENCE` when there are more). The objective is divided by its
    maximum over the rows, so it lies in (0, 1]; with
    `stopping_condition_minimum_typicality` t, rows below t are never selected.
    """

    stop_reason = "stopping_condition_minimum_typicality"

    def __init__(self, strategy, values: InputValues, all_vectors: np.ndarray, rows_in_all: np.ndarray, seed: int) -> None:
        super().__init__(strategy.strength)
        self._raw = typicality(values.values, all_vectors, rows_in_all, strategy.num_nearest_neighbors, seed)
        self._log = _log_clipped(self._raw, 1.0)
        self.minimum = strategy.stopping_condition_minimum_typicality

    def eligible(self) -> np.ndarray | None:
        return None if self.minimum is None else self._raw >= self.minimum


class Balance(Objective):
    """Relative progress toward the target class distribution, (D_now + e) / (D_after + e).

    D is the Euclidean distance between the selected set's class shares (class mass / total
    mass; all zeros while the mass is 0) and the target shares; D_after is D if the
    candidate were added. > 1 moves toward the target, < 1 away, 1 for a sample without
    class mass. Classes the target does not name are pooled into one "other" class whose
    target is 1 - sum(target) (unnamed classes do not steer one another).
    """

    dynamic = True

    def __init__(self, X: np.ndarray, target: np.ndarray, chosen: np.ndarray, strength: float) -> None:
        super().__init__(strength)
        self.X = X
        self.t = target
        self.m = X[chosen].sum(axis=0)
        self.w = X.sum(axis=1)
        self.xx = np.einsum("ij,ij->i", X, X)
        self.xt = X @ target
        self.tt = float(target @ target)

    def _distance_now(self) -> float:
        M = self.m.sum()
        p = self.m / M if M > 0 else np.zeros_like(self.m)
        return float(np.linalg.norm(p - self.t))

    def raw(self) -> np.ndarray:
        m, M = self.m, self.m.sum()
        total = M + self.w
        safe = np.where(total > 0, total, 1.0)
        sq = (float(m @ m) + 2 * (self.X @ m) + self.xx) / safe**2 - 2 * (float(self.t @ m) + self.xt) / safe + self.tt
        after = np.where(total > 0, np.sqrt(np.maximum(sq, 0)), np.sqrt(self.tt))
        return (self._distance_now() + BALANCE_EPS) / (after + BALANCE_EPS)

    def log_objective(self) -> np.ndarray:
        return np.log(self.raw())

    def pick(self, row: int) -> None:
        self.m = self.m + self.X[row]


def balance_problem(strategy, values: InputValues, path: str) -> tuple[np.ndarray, np.ndarray]:
    """Columns (the target's classes, then one pooled "other") and target shares for BALANCE.

    UNIFORM: 1/K for every class; INPUT: the class shares of all input samples; TARGET: the
    named fractions, the remainder to the pooled other classes.
    """
    from thresher.errors import ConfigError, did_you_mean

    X, names = values.values, values.class_names
    assert names is not None, "BALANCE over an input without classes (StrategyEntry allows class inputs only)"
    kind = strategy.resolved_distribution
    if kind in ("UNIFORM", "INPUT"):
        total = X.sum(axis=0)
        if kind == "INPUT" and total.sum() > 0:
            return X, total / total.sum()
        return X, np.full(X.shape[1], 1.0 / max(1, X.shape[1]))
    columns = []
    for name in strategy.target:
        hits = np.flatnonzero(names == name)
        if len(hits) == 0:
            known = names.tolist()
            raise ConfigError(f"{path}.strategy.target.{name}: no class {name!r} in {values.label}{did_you_mean(name, known)}; classes: {known}")
        columns.append(int(hits[0]))
    other = np.setdiff1d(np.arange(X.shape[1]), columns)
    matrix = np.concatenate([X[:, columns], X[:, other].sum(axis=1, keepdims=True)], axis=1)
    target = np.array(list(strategy.target.values()) + [0.0])
    target[-1] = max(0.0, 1.0 - target[:-1].sum())
    return matrix, target
