"""Fuse several uncertainties into one: a weighted sum, weights chosen on a labeled set.

Each uncertainty is first min-max scaled with the bounds seen on the labeled set (`Scaling`;
new predictions are mapped with the same bounds, so a threshold carries over). The fused
uncertainty is sum_i w_i * scaled_i with w_i >= 0 and sum w_i = 1 (only the ratios matter for
a ranking). `search_weights` maximizes the mean over IoU thresholds of FD@CD(b) or CD@FD(b)
(seed 002 does the same with Bayesian optimization of weights in [0, 1]): every point of a
regular grid on the simplex, then a few rounds of seeded random steps around the best, all
candidates of a round scored at once. Among equally good weights the one nearest their mean
is kept (the middle of the plateau, less tied to single detections).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb

import numpy as np

from thresher.autolabel.thresholding import budget_metric
from thresher.errors import SchemaError

MAX_GRID_STEPS = 100


@dataclass(frozen=True)
class Scaling:
    """Min-max bounds of each uncertainty, in the order of `names`."""

    names: tuple[str, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]

    @classmethod
    def fit(cls, columns: dict[str, np.ndarray]) -> "Scaling":
        names = tuple(columns)
        low = tuple(float(np.min(columns[n], initial=np.inf)) if len(columns[n]) else 0.0 for n in names)
        high = tuple(float(np.max(columns[n], initial=-np.inf)) if len(columns[n]) else 1.0 for n in names)
        return cls(names, low, high)

    def apply(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        """(k, M) scaled uncertainties; a column constant on the labeled set scales to 0."""
        missing = [n for n in self.names if n not in columns]
        if missing:
            raise SchemaError(f"uncertainties: the fusion needs {list(self.names)}, missing {missing}")
        rows = []
        for name, low, high in zip(self.names, self.low, self.high):
            values = np.asarray(columns[name], dtype=np.float64)
            rows.append((values - low) / (high - low) if high > low else np.zeros_like(values))
        return np.stack(rows) if rows else np.zeros((0, 0))


def simplex_grid(k: int, steps: int) -> np.ndarray:
    """Every (k,) weight vector with entries in {0, 1/steps, ..., 1} summing to 1."""
    if k == 1:
        return np.ones((1, 1))
    bars = np.array(list(combinations(range(steps + k - 1), k - 1)))
    edges = np.concatenate([np.full((len(bars), 1), -1), bars, np.full((len(bars), 1), steps + k - 1)], axis=1)
    return (np.diff(edges, axis=1) - 1) / steps


def grid_steps(k: int, max_candidates: int) -> int:
    """The finest grid on the k-simplex with at most `max_candidates` points (at least 1 step)."""
    steps = 1
    while steps < MAX_GRID_STEPS and comb(steps + k, k - 1) <= max_candidates:
        steps += 1
    return steps


def objective(weights: np.ndarray, scaled: np.ndarray, correct: np.ndarray, budget: float, metric: str) -> np.ndarray:
    """(W,) mean over IoU thresholds of the metric of each weight vector (-inf when all NaN)."""
    values = np.atleast_2d(budget_metric(weights @ scaled, correct.reshape(len(correct), -1), budget, metric))
    seen = ~np.isnan(values)
    total = np.where(seen, values, 0.0).sum(axis=1)
    count = seen.sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), -np.inf)


def search_weights(
    scaled: np.ndarray,
    correct: np.ndarray,
    budget: float = 0.95,
    metric: str = "fd@cd",
    *,
    max_candidates: int = 2000,
    refine_rounds: int = 3,
    refine_candidates: int = 200,
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """(weights (k,), objective) maximizing the mean metric over IoU thresholds.

    scaled: (k, M) scaled uncertainties (`Scaling.apply`); correct: (M, T) or (M,).
    """
    k = scaled.shape[0]
    if k == 0:
        raise SchemaError("uncertainties: expected at least one uncertainty to fuse, got none")
    steps = grid_steps(k, max_candidates)
    candidates = simplex_grid(k, steps)
    values = objective(candidates, scaled, correct, budget, metric)
    rng = np.random.default_rng(seed)
    for round_ in range(refine_rounds if k > 1 else 0):
        best = _plateau_middle(candidates, values, scaled, correct, budget, metric)
        moves = best + rng.normal(0.0, 0.5**round_ / steps, (refine_candidates, k))
        moves = np.clip(moves, 0.0, None)
        moves = moves[moves.sum(axis=1) > 0]
        moves /= moves.sum(axis=1, keepdims=True)
        candidates = np.concatenate([candidates, moves])
        values = np.concatenate([values, objective(moves, scaled, correct, budget, metric)])
    weights = _plateau_middle(candidates, values, scaled, correct, budget, metric)
    return weights, float(objective(weights[None], scaled, correct, budget, metric)[0])


def _plateau_middle(candidates, values, scaled, correct, budget, metric) -> np.ndarray:
    """Among the best candidates, their mean if it is as good, else the one nearest to it."""
    top = candidates[values == values.max()]
    middle = top.mean(axis=0)
    if objective(middle[None], scaled, correct, budget, metric)[0] >= values.max():
        return middle
    return top[np.argmin(((top - middle) ** 2).sum(axis=1))]
