"""The two calibration maps: temperature scaling and isotonic regression, numpy only.

- Temperature scaling divides logits by T fitted to minimize the cross-entropy (negative
  log-likelihood) on labeled data: one T for all classes, or one per class (column). The loss
  is convex in 1/T, so damped Newton steps on 1/T converge in a few iterations.
- Isotonic regression (pool adjacent violators, weighted, ties in x averaged first) fits the
  best non-decreasing step function in squared error; new inputs are interpolated linearly
  between the fitted points and clipped to the end values (as scikit-learn's
  `IsotonicRegression(out_of_bounds="clip")`). Written here rather than taken from
  scikit-learn: 40 lines instead of a heavy dependency, and calibration sets are small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from thresher.errors import SchemaError

_MAX_INVERSE_TEMPERATURE = 1e6


def _softmax(z: np.ndarray) -> np.ndarray:
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood (nats) of the true labels under softmax(logits)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    return float(np.mean(log_norm - shifted[np.arange(len(labels)), labels]))


def fit_temperature(logits: ArrayLike, labels: ArrayLike, per_class: bool = False, iterations: int = 100) -> np.ndarray:
    """T minimizing the cross-entropy of softmax(logits / T): shape () or (K,) with `per_class`.

    logits: (N, K); labels: (N,) true class columns. Returns temperatures > 0.
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if z.ndim != 2 or len(y) != len(z):
        raise SchemaError(f"logits, labels: expected (N, K) and (N,), got {z.shape} and {y.shape}")
    if len(z) == 0:
        return np.ones(z.shape[1]) if per_class else np.array(1.0)
    beta = np.ones(z.shape[1]) if per_class else np.array(1.0)
    for _ in range(iterations):
        step = _newton_step(z, y, beta)
        beta, improved = _line_search(z, y, beta, step)
        if not improved or np.max(np.abs(step)) < 1e-10:
            break
    return 1.0 / beta


def _scaled(z: np.ndarray, beta: np.ndarray) -> np.ndarray:
    return z * beta  # beta is () or (K,): one inverse temperature per column


def _newton_step(z: np.ndarray, y: np.ndarray, beta: np.ndarray) -> np.ndarray:
    p = _softmax(_scaled(z, beta))
    rows = np.arange(len(y))
    if beta.ndim == 0:
        expected = (p * z).sum(axis=1)
        grad = np.mean(expected - z[rows, y])
        hess = np.mean((p * z * z).sum(axis=1) - expected**2)
        return np.array(-grad / hess) if hess > 1e-12 else np.array(0.0)
    pz = p * z
    onehot_z = np.zeros_like(z)
    onehot_z[rows, y] = z[rows, y]
    grad = (pz - onehot_z).mean(axis=0)
    hess = (np.einsum("nj,nl->jl", pz, pz) * -1 + np.diag((pz * z).sum(axis=0))) / len(z)
    return -np.linalg.solve(hess + 1e-9 * np.eye(len(hess)), grad)


def _line_search(z: np.ndarray, y: np.ndarray, beta: np.ndarray, step: np.ndarray) -> tuple[np.ndarray, bool]:
    current = cross_entropy(_scaled(z, beta), y)
    for shrink in 0.5 ** np.arange(30):
        candidate = np.clip(beta + shrink * step, 1e-6, _MAX_INVERSE_TEMPERATURE)
        if cross_entropy(_scaled(z, candidate), y) < current:
            return candidate, True
    return beta, False


def apply_temperature(logits: ArrayLike, temperature: ArrayLike) -> np.ndarray:
    """softmax(logits / T) for (N, K) logits and T of shape () or (K,)."""
    return _softmax(np.asarray(logits, dtype=np.float64) / np.asarray(temperature, dtype=np.float64))


@dataclass(frozen=True)
class IsotonicMap:
    """A fitted non-decreasing map: points (x, y), linear in between, clipped outside."""

    x: np.ndarray
    y: np.ndarray

    def __call__(self, values: ArrayLike) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        if len(self.x) == 0:
            return values.copy()
        return np.interp(values, self.x, self.y)

    def to_dict(self) -> dict:
        return {"x": self.x.tolist(), "y": self.y.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> "IsotonicMap":
        return cls(np.asarray(data["x"], dtype=np.float64), np.asarray(data["y"], dtype=np.float64))


def fit_isotonic(x: ArrayLike, y: ArrayLike, weights: ArrayLike | None = None, y_min: float | None = None, y_max: float | None = None) -> IsotonicMap:
    """Weighted isotonic (non-decreasing) least-squares fit of y on x by pool adjacent violators."""
    xs = np.asarray(x, dtype=np.float64).reshape(-1)
    ys = np.asarray(y, dtype=np.float64).reshape(-1)
    ws = np.ones_like(xs) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if not (len(xs) == len(ys) == len(ws)):
        raise SchemaError(f"x, y, weights: expected equal lengths, got {len(xs)}, {len(ys)}, {len(ws)}")
    keep = np.isfinite(xs) & np.isfinite(ys) & (ws > 0)
    xs, ys, ws = xs[keep], ys[keep], ws[keep]
    if len(xs) == 0:
        return IsotonicMap(np.zeros(0), np.zeros(0))
    unique_x, inverse = np.unique(xs, return_inverse=True)
    total_w = np.bincount(inverse, weights=ws)
    mean_y = np.bincount(inverse, weights=ws * ys) / total_w
    fitted = _pool_adjacent_violators(mean_y, total_w)
    if y_min is not None or y_max is not None:
        fitted = np.clip(fitted, y_min, y_max)
    return IsotonicMap(unique_x, fitted)


def _pool_adjacent_violators(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Non-decreasing weighted least-squares fit of y (x already sorted and unique)."""
    level: list[float] = []
    weight: list[float] = []
    size: list[int] = []
    for value, mass in zip(y.tolist(), w.tolist()):
        level.append(value)
        weight.append(mass)
        size.append(1)
        while len(level) > 1 and level[-2] > level[-1]:
            mass_merged = weight[-2] + weight[-1]
            level[-2] = (level[-2] * weight[-2] + level[-1] * weight[-1]) / mass_merged
            weight[-2], size[-2] = mass_merged, size[-2] + size[-1]
            del level[-1], weight[-1], size[-1]
    return np.repeat(level, size)
