"""Summaries of one distribution, as the report shows them (pure functions over numpy arrays).

Numeric values: histogram over shared bin edges (so the sets input / selected / random /
datapool are comparable bar by bar) and mean, standard deviation (population, ddof 0), min,
median, max of the finite values; NaN means "no value" and is counted apart.

Categorical values (counts per category, or the summed class mass of the samples):
- Gini imbalance: the Gini coefficient of the K category counts c (mean absolute difference
  over all ordered pairs divided by twice the mean, Σ_i Σ_j |c_i − c_j| / (2 K² mean c)),
  divided by its largest possible value (K − 1) / K. 0 = every category equally frequent,
  1 = everything in one category. Higher = more imbalanced.
- Normalized entropy: −Σ p_k ln p_k / ln K with p = c / Σ c and 0 ln 0 = 0. 1 = uniform over
  the K categories, 0 = one category. In the report K is the number of categories present in
  the input set (not every class of the schema), the same K for every set so they compare on
  one scale. Higher = more balanced.
Both are NaN for an empty distribution (no mass) and 0 when K = 1.
"""

from __future__ import annotations

import numpy as np

DEFAULT_BINS = 20


def numeric_summary(values: np.ndarray) -> dict[str, float]:
    """count, missing (NaN), mean, std (ddof 0), min, median, max of the finite values.

    Statistics of an empty set (no finite value) are NaN.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    finite = values[np.isfinite(values)]
    summary = {"count": float(len(finite)), "missing": float(len(values) - len(finite))}
    if len(finite) == 0:
        return {**summary, **dict.fromkeys(("mean", "std", "min", "median", "max"), float("nan"))}
    return {
        **summary,
        "mean": float(finite.mean()),
        "std": float(finite.std()),
        "min": float(finite.min()),
        "median": float(np.median(finite)),
        "max": float(finite.max()),
    }


def shared_edges(arrays: list[np.ndarray], bins: int = DEFAULT_BINS) -> np.ndarray:
    """`bins` + 1 equal-width edges spanning the finite values of all `arrays`.

    A single value v gets the one bin [v − 0.5, v + 0.5]; no finite value at all gives [0, 1].
    """
    if bins < 1:
        raise ValueError(f"bins: expected an integer >= 1, got {bins}")
    finite = [a[np.isfinite(a)] for a in (np.asarray(x, dtype=np.float64).ravel() for x in arrays)]
    finite = [a for a in finite if len(a)]
    if not finite:
        return np.array([0.0, 1.0])
    low = min(float(a.min()) for a in finite)
    high = max(float(a.max()) for a in finite)
    if low == high:
        return np.array([low - 0.5, low + 0.5])
    return np.linspace(low, high, bins + 1)


def histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts (int64) of the finite values in each bin; the last bin includes its right edge."""
    values = np.asarray(values, dtype=np.float64).ravel()
    counts, _ = np.histogram(values[np.isfinite(values)], bins=np.asarray(edges, dtype=np.float64))
    return counts.astype(np.int64)


def gini_imbalance(counts: np.ndarray) -> float:
    """Normalized Gini coefficient of category counts (0 balanced … 1 one category); see module."""
    counts = _counts(counts)
    k, total = len(counts), counts.sum()
    if total <= 0:
        return float("nan")
    if k == 1:
        return 0.0
    # Σ_i Σ_j |c_i − c_j| = 2 Σ_i (2i − k + 1) c_(i) over the sorted counts (i from 0)
    ordered = np.sort(counts)
    pair_sum = 2.0 * float(np.dot(2 * np.arange(k) - k + 1, ordered))
    gini = pair_sum / (2.0 * k * k * (total / k))
    return float(gini / ((k - 1) / k))


def normalized_entropy(counts: np.ndarray) -> float:
    """Shannon entropy of the category shares divided by ln K (1 uniform … 0 one category)."""
    counts = _counts(counts)
    k, total = len(counts), counts.sum()
    if total <= 0:
        return float("nan")
    if k == 1:
        return 0.0
    p = counts[counts > 0] / total
    return float(-(p * np.log(p)).sum() / np.log(k))


def categorical_summary(counts: np.ndarray) -> dict[str, float]:
    """total, Gini imbalance and normalized entropy of one set's category counts."""
    counts = _counts(counts)
    return {"total": float(counts.sum()), "gini": gini_imbalance(counts), "entropy": normalized_entropy(counts)}


def _counts(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64).ravel()
    if (counts < 0).any() or not np.isfinite(counts).all():
        raise ValueError("counts: expected finite numbers >= 0 (one per category)")
    return counts
