"""Batch rules of seed 002: which B frames to label, given one score per frame.

- `top_k`: the B highest scores (the default of the seed).
- `bottom_k`: the B lowest scores.
- `nee` (Roy et al., exploration + exploitation): sort by score, cut into 5 equal bins
  (`np.array_split`), take the highest B // 5 of each of the 4 lower bins and the lowest
  B // 5 + B % 5 of the top bin.

Frames whose score is NaN (not applicable, e.g. no detection) are never picked, as the seed
never scores them. Ties are broken by id, as the seed's sort of (score, name) pairs does. The
result is a `Selection` in pick order with the score as the objective.

`prune_groups` and `rescale_budget` give the seed's perceptual-hash pruning (hashes from
`thresher.scorers.hashing`): frames within `threshold` x (largest distance) of each other form
a group of which one random member stays, and the budget is rescaled by N_before / N_after.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from thresher.errors import ConfigError
from thresher.score_table import Scores
from thresher.selection_table import Selection

NEE_BINS = 5


def _ascending(scores: Scores, column: str) -> np.ndarray:
    """Rows with a score, ordered by (score, id) ascending."""
    values = scores[column]
    rows = np.flatnonzero(~np.isnan(values))
    return rows[np.lexsort((scores.ids[rows], values[rows]))]


def _check_budget(budget: int) -> None:
    if budget < 0:
        raise ConfigError(f"budget: expected a number of frames >= 0, got {budget}")


def _selection(scores: Scores, column: str, rows: np.ndarray, rule: str, budget: int) -> Selection:
    config = {"rule": rule, "score": column, "budget": budget}
    return Selection(scores.ids[rows], scores[column][rows], config)


def top_k(scores: Scores, column: str, budget: int) -> Selection:
    """The `budget` frames with the highest `column`, highest first."""
    _check_budget(budget)
    ordered = _ascending(scores, column)
    return _selection(scores, column, ordered[::-1][:budget], "top_k", budget)


def bottom_k(scores: Scores, column: str, budget: int) -> Selection:
    """The `budget` frames with the lowest `column`, lowest first."""
    _check_budget(budget)
    return _selection(scores, column, _ascending(scores, column)[:budget], "bottom_k", budget)


def nee(scores: Scores, column: str, budget: int) -> Selection:
    """Exploration + exploitation over 5 score bins (see the module docstring).

    With budget < 5 only the top bin contributes (the seed would take whole bins then).
    """
    _check_budget(budget)
    bins = np.array_split(_ascending(scores, column), NEE_BINS)
    per_bin, remainder = divmod(budget, NEE_BINS)
    picks = [b[len(b) - per_bin :] if per_bin else b[:0] for b in bins[:-1]]
    picks.append(bins[-1][: per_bin + remainder])
    return _selection(scores, column, np.concatenate(picks), "nee", budget)


def prune_groups(distances: np.ndarray, threshold: float, seed: int) -> np.ndarray:
    """Boolean keep-mask after perceptual-hash pruning, the seed's way.

    distances: (N, N) Hamming distances between the frames' hashes. For every frame i, the
    frames within `threshold` x max(distances) of it form a group when there are 2 or more;
    one member of each group, drawn with `seed`, stays; every other member is removed.
    """
    distances = np.asarray(distances)
    if distances.ndim != 2 or distances.shape[0] != distances.shape[1]:
        raise ConfigError(f"distances: expected a square (N, N) matrix, got shape {distances.shape}")
    if not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"threshold: expected a fraction of the largest distance in [0, 1], got {threshold}")
    rng = np.random.default_rng(seed)
    keep = np.ones(len(distances), dtype=bool)
    if len(distances) == 0:
        return keep
    close = distances <= distances.max() * threshold
    for i in np.flatnonzero(close.sum(axis=1) > 1):
        group = np.flatnonzero(close[i])
        stays = rng.choice(group)
        keep[group[group != stays]] = False
    return keep


def rescale_budget(budget_percent: ArrayLike, n_before: int, n_after: int) -> np.ndarray:
    """Per-iteration budgets (percent of the pool) rescaled by n_before / n_after after pruning,
    keeping the iterations whose cumulative sum stays <= 100 (as the seed does)."""
    if n_after <= 0:
        raise ConfigError(f"n_after: expected a pool of at least one frame after pruning, got {n_after}")
    scaled = np.asarray(budget_percent, dtype=np.float64) * n_before / n_after
    return scaled[np.cumsum(scaled) <= 100]
