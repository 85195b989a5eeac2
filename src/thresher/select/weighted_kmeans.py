"""WEIGHTED_KMEANS: uncertain candidates, then weighted k-means (Zhdanov 2019, "Diverse
mini-batch Active Learning"), a thresher extension of LightlyOne's selection_config.

To pick a batch of b samples with weights w (higher = more worth labeling; e.g. the model's
`uncertainty_margin` = 1 − (p₁ − p₂), Zhdanov's weights):

1. candidates: the m · b candidates of highest w (m = `candidates_per_pick`, default 10 with
   SCORES weights, every candidate with TYPICALITY weights; ties: lowest id; a missing weight
   ranks last); preselected samples and those failing THRESHOLD are never candidates. With b
   or fewer candidates, all of them are picked, by decreasing weight.
2. clusters: weighted k-means of the candidates' L2-normalized embeddings into b clusters
   (`thresher.select.kmeans`, seeded by the selection's seed), weights w shifted to ≥ 0 when
   negative and floored at 10⁻⁹ × the largest (all zero: equal weights).
3. picks: in each cluster, the candidate nearest to its center (ties: lowest id), in order of
   decreasing cluster weight Σ w (ties: lowest id); a cluster left empty by the last
   assignment (only with duplicate vectors) is replaced by the next candidate by weight.

The weight of a pick's cluster is its objective (what `Selection.objective` and
`SelectionOutcome.objectives` report: the share of uncertainty that pick stands for); there
is no product of factors, so `SelectionOutcome.factors` is NaN for it.

    picks = weighted_kmeans_batch(vectors, margins, candidate_mask, 20, per_pick=10, seed=0)
    picks.rows, picks.cluster_weight          # 20 rows in pick order, their clusters' weight
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresher.select.kmeans import weighted_kmeans

WEIGHT_FLOOR = 1e-9


@dataclass(frozen=True, eq=False)
class BatchPicks:
    """rows: picked rows in pick order; cluster_weight: Σ w of each pick's cluster (its own
    weight when it was picked without clustering); candidates: how many were clustered."""

    rows: np.ndarray
    cluster_weight: np.ndarray
    candidates: int


def weighted_kmeans_batch(vectors: np.ndarray, weights: np.ndarray, candidate: np.ndarray, n_new: int, *, per_pick: int | None, seed: int) -> BatchPicks:
    """Up to `n_new` rows among `candidate` (a mask over the rows of `vectors`), see the
    module docstring; `weights` (n,) float, NaN = missing; per_pick None = every candidate."""
    rows = np.flatnonzero(candidate)
    if n_new <= 0 or len(rows) == 0:
        return BatchPicks(np.zeros(0, np.int64), np.zeros(0), 0)
    w = np.asarray(weights, dtype=np.float64)[rows]
    ranked = np.lexsort((rows, -np.where(np.isnan(w), -np.inf, w)))  # highest weight first, then lowest row
    top = ranked if per_pick is None else ranked[: per_pick * n_new]
    kept = _kmeans_weights(w[top])
    if len(top) <= n_new:
        return BatchPicks(rows[top], kept, len(top))
    result = weighted_kmeans(vectors[rows[top]], n_new, kept, seed=seed)
    X = np.asarray(vectors[rows[top]], dtype=np.float64)
    own = ((X - result.centers[result.labels]) ** 2).sum(axis=1)
    order = np.lexsort((top, own, result.labels))  # per cluster: nearest to its center, then lowest row
    first = order[np.r_[True, result.labels[order][1:] != result.labels[order][:-1]]]
    mass = np.bincount(result.labels, weights=kept, minlength=n_new)[result.labels[first]]
    picked, picked_mass = top[first], mass
    if len(picked) < n_new:  # clusters left empty (duplicate vectors): the next candidates by weight
        spare = np.flatnonzero(~np.isin(top, picked))[: n_new - len(picked)]
        picked, picked_mass = np.concatenate([picked, top[spare]]), np.concatenate([picked_mass, kept[spare]])
    sequence = np.lexsort((picked, -picked_mass))
    return BatchPicks(rows[picked[sequence]], picked_mass[sequence], len(top))


def _kmeans_weights(w: np.ndarray) -> np.ndarray:
    """Weights for k-means: NaN as the lowest, shifted to ≥ 0, floored at 10⁻⁹ × the largest."""
    finite = w[np.isfinite(w)]
    lowest = float(finite.min()) if len(finite) else 0.0
    w = np.where(np.isfinite(w), w, lowest)
    if lowest < 0:
        w = w - lowest
    top = float(w.max(initial=0.0))
    if top <= 0:
        return np.ones(len(w))
    return np.maximum(w, WEIGHT_FLOOR * top)
