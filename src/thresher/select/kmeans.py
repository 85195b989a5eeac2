"""Weighted k-means: greedy k-means++ seeding, then Lloyd iterations; numpy, deterministic.

The objective is scikit-learn's `KMeans(...).fit(X, sample_weight=w)`: minimize
Σ_i w_i · ‖x_i − c(i)‖² over k centers (squared Euclidean distance in the units of X).

- Seeding: greedy k-means++ (Arthur & Vassilvitskii 2007, scikit-learn's variant): the first
  center is drawn with probability ∝ w; each next one is the best of `2 + ⌊ln k⌋` rows drawn
  with probability ∝ w · D² (D = distance to the nearest center so far), "best" = lowest
  weighted potential Σ w · min(D², d²) afterwards.
- Lloyd: assign each row to its nearest center (ties: the lowest center), move each center to
  the weighted mean of its rows; a center left without weight moves to the row with the
  largest w · D² not yet used for that. Stops when no assignment changes, when the centers
  move less than `tol` × the mean per-coordinate variance of X (Σ ‖Δc‖², scikit-learn's rule),
  or after `max_iter` iterations; the returned labels are those of the returned centers.

Every random draw comes from `numpy.random.default_rng(seed)`, so a seed gives the same
result on every run. Distances are computed as ‖x‖² − 2 x·c + ‖c‖² with one float32 BLAS
product per block of rows, and the centers' weighted sums by one float32 sparse product
(returned in float64); seeding runs on one BLAS thread (its k small products wait on a thread
pool more than they compute). Cost: seeding O(k · (2 + ln k)
· n · d), each Lloyd iteration O(n · k · d); memory: X, the centers and one block of n×k.

    result = weighted_kmeans(vectors, 20, weights, seed=0)
    result.labels[:5], result.centers.shape       # (n,) cluster of each row, (20, d)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse

from thresher._blas import limit_blas_threads

_BLOCK_ELEMENTS = 1 << 22  # rows x centers per distance block (16 MB in float32)


@dataclass(frozen=True, eq=False)
class KMeansResult:
    """centers (k, d) float64; labels (n,) int64 in 0..k-1; inertia Σ w · squared distance to
    the own center; iterations run (Lloyd steps)."""

    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    iterations: int


def weighted_kmeans(X: np.ndarray, k: int, weights: np.ndarray, *, seed: int = 0, max_iter: int = 100, tol: float = 1e-4) -> KMeansResult:
    """k clusters of the rows of X (n, d) with weights (n,) ≥ 0 (see the module docstring).

    Needs 1 ≤ k ≤ n and a positive total weight; rows of weight 0 are assigned to clusters
    but neither move centers nor are drawn as seeds.
    """
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    w = np.asarray(weights, dtype=np.float64)
    n = len(X32)
    if not 1 <= k <= n:
        raise ValueError(f"k: expected 1 <= k <= {n} (the number of rows), got {k}")
    if w.shape != (n,) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights: expected one finite weight >= 0 per row, with a positive sum")
    rng = np.random.default_rng(seed)
    sq = np.einsum("ij,ij->i", X32, X32)
    with limit_blas_threads(1):  # k sequential n x (2 + ln k) products: threads only add waiting
        centers = _seed(X32, sq, w, k, rng)
    mean = X32.mean(axis=0, dtype=np.float64)
    threshold = tol * max(0.0, float(sq.sum(dtype=np.float64) / n - mean @ mean)) / X32.shape[1]  # mean variance
    labels, nearest = _assign(X32, sq, centers)
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is read after the loop
        moved = _update(X32, w, labels, nearest, centers)
        new_labels, nearest = _assign(X32, sq, moved)
        shift = float(((moved - centers) ** 2).sum())
        centers = moved
        if np.array_equal(new_labels, labels) or shift <= threshold:
            labels = new_labels
            break
        labels = new_labels
    return KMeansResult(centers, labels, float(np.dot(w, nearest)), iterations)


def _seed(X: np.ndarray, sq: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy weighted k-means++ (module docstring): k rows of X as float64 centers."""
    trials = 2 + int(np.log(k))
    w32 = w.astype(np.float32)
    first = _draw(w, rng, 1)[0]
    chosen = [first]
    closest = _sq_distances(X, sq, X[first : first + 1])[:, 0]
    for _ in range(1, k):
        potential = w32 * closest
        if not potential.any():  # every weighted row already is a center: take unused rows in order
            unused = np.setdiff1d(np.flatnonzero(w > 0), chosen)
            row = int(unused[0]) if len(unused) else int(np.setdiff1d(np.arange(len(X)), chosen)[0])
            closest = np.minimum(closest, _sq_distances(X, sq, X[row : row + 1])[:, 0])
        else:
            rows = np.unique(_draw(potential, rng, trials))
            candidate = np.minimum(closest[:, None], _sq_distances(X, sq, X[rows]))
            best = int(np.argmin(w32 @ candidate))
            row, closest = int(rows[best]), candidate[:, best]
        chosen.append(row)
    return X[np.array(chosen)].astype(np.float64)


def _draw(p: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """`size` rows drawn with probability ∝ p (inverse CDF of the cumulative sum)."""
    cumulative = np.cumsum(p, dtype=np.float64)
    rows = np.searchsorted(cumulative, rng.random(size) * cumulative[-1], side="right")
    return np.minimum(rows, len(p) - 1)


def _sq_distances(X: np.ndarray, sq: np.ndarray, C: np.ndarray) -> np.ndarray:
    """(n, len(C)) float32 squared distances, ≥ 0 (rounding clipped)."""
    C32 = np.asarray(C, dtype=np.float32)
    out = X @ C32.T
    out *= -2.0
    out += sq[:, None]
    out += np.einsum("ij,ij->i", C32, C32)[None, :]
    return np.maximum(out, 0.0, out=out)


def _assign(X: np.ndarray, sq: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(nearest center of each row, its squared distance), block by block: the argmin of
    ‖c‖² − 2 x·c in float32 (‖x‖² is the same for every center of a row), then ‖x‖² added."""
    n, k = len(X), len(centers)
    labels, nearest = np.empty(n, np.int64), np.empty(n)
    C32 = centers.astype(np.float32)
    csq = np.einsum("ij,ij->i", C32, C32)
    block = max(1, _BLOCK_ELEMENTS // max(k, 1))
    for lo in range(0, n, block):
        d = X[lo : lo + block] @ C32.T
        d *= -2.0
        d += csq[None, :]
        best = np.argmin(d, axis=1)
        labels[lo : lo + block] = best
        nearest[lo : lo + block] = np.maximum(d[np.arange(len(d)), best] + sq[lo : lo + block], 0.0)
    return labels, nearest


def _update(X: np.ndarray, w: np.ndarray, labels: np.ndarray, nearest: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Weighted means of the clusters (float32 products, float64 result); a cluster without
    weight takes the row farthest (w · D²)."""
    k = len(centers)
    membership = scipy.sparse.csr_matrix((w.astype(np.float32), (labels, np.arange(len(X)))), shape=(k, len(X)))
    sums = np.asarray(membership @ X, dtype=np.float64)
    mass = np.bincount(labels, weights=w, minlength=k)
    moved = np.where(mass[:, None] > 0, sums / np.where(mass > 0, mass, 1.0)[:, None], centers)
    empty = np.flatnonzero(mass <= 0)
    if len(empty):
        far = np.lexsort((np.arange(len(X)), -(w * nearest)))[: len(empty)]
        moved[empty[: len(far)]] = X[far]
    return moved
