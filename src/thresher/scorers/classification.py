"""Lightly's classification uncertainty scores, number for number (lightly 1.4.6).

For N x C class probabilities (docs/formulas.md §1), all three scores are **higher = more
uncertain = more worth labeling**:

- `uncertainty_least_confidence` = 1 - max_c p_c
- `uncertainty_margin` = 1 - (p_(1) - p_(2)), the two largest probabilities
- `uncertainty_entropy` = -sum_c p_c log2 p_c, with 0 log 0 = 0

NaN becomes 0 (and +-inf the largest float). With `normalize=True` each score is mapped
linearly and clipped, with `np.interp` as Lightly does, so that a one-hot row gives 0 and the
uniform row 1/C gives 1. An N x 1 column p means the binary rows [p, 1 - p].

The arithmetic (np.max, the two largest values, log2 with `where=p > 0`, the summation order,
np.interp) is the one Lightly runs, so the results are bit-identical; the rows are processed
in blocks that stay in cache, not one Python call per row.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import ArrayLike

from thresher.errors import SchemaError
from thresher.score_table import Scores

LEAST_CONFIDENCE = "uncertainty_least_confidence"
MARGIN = "uncertainty_margin"
ENTROPY = "uncertainty_entropy"
SCORE_NAMES = (LEAST_CONFIDENCE, MARGIN, ENTROPY)

_BLOCK_ROWS = 1024  # 1024 x 91 float64 = 0.7 MB: a block and its scratch stay in the core's cache


def as_probabilities(probs: ArrayLike, name: str = "probs") -> np.ndarray:
    """(N, C) float64 probabilities; an (N, 1) column p becomes the binary [p, 1 - p]."""
    array = np.asarray(probs, dtype=np.float64)
    if array.size == 0 and array.ndim < 2:
        return np.zeros((0, 2))
    if array.ndim != 2:
        raise SchemaError(f"{name}: expected an (N, C) array of class probabilities, got shape {array.shape}")
    if array.shape[1] == 0 and array.shape[0] > 0:
        raise SchemaError(f"{name}: expected at least one class column, got shape {array.shape}")
    if array.shape[1] == 1:
        array = np.concatenate([array, 1 - array], axis=1)
    return array


def entropy_bits(probs: np.ndarray, scratch: np.ndarray | None = None) -> np.ndarray:
    """-sum_c p log2 p over axis 1 with 0 log 0 = 0 (and nothing taken for p <= 0), in bits."""
    logs = np.zeros_like(probs) if scratch is None else scratch
    if scratch is not None:
        logs.fill(0.0)
    np.log2(probs, out=logs, where=probs > 0)
    logs *= probs
    return -1 * np.sum(logs, axis=1)


def raw_scores(probs: np.ndarray, scratch: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The three scores before NaN handling and normalization, for an (N, C) block, C >= 2.

    scratch: an optional buffer of the block's shape, reused to spare allocations.
    """
    rows = np.arange(len(probs))
    top_column = probs.argmax(axis=1)
    top = probs[rows, top_column]  # np.max's value, NaN included
    work = np.empty_like(probs) if scratch is None else scratch
    np.copyto(work, probs)
    work[rows, top_column] = -np.inf
    second = work.max(axis=1)  # the largest again when it is tied
    with np.errstate(divide="ignore", invalid="ignore"):  # log2 of 0 or < 0: that row is redone
        np.log2(probs, out=work)
        work *= probs
        entropy = -1 * np.sum(work, axis=1)
    redo = np.isnan(entropy)  # rows with a zero, a negative or a NaN: log2 only where p > 0
    if redo.any():
        entropy[redo] = entropy_bits(probs[redo])
    return {LEAST_CONFIDENCE: 1 - top, MARGIN: 1 - (top - second), ENTROPY: entropy}


def normalization_bounds(n_classes: int) -> dict[str, tuple[float, float]]:
    """(score of a one-hot row, score of the uniform row) of each score, for C classes.

    Computed with the same arithmetic as the scores (so the entropy bound is the pairwise
    sum of C terms, not log2(C) exactly), which is what Lightly maps to 0 and 1.
    """
    one_hot = np.zeros((1, n_classes))
    one_hot[0, 0] = 1
    uniform = np.ones_like(one_hot) / n_classes
    low, high = raw_scores(one_hot), raw_scores(uniform)
    return {name: (float(np.nan_to_num(low[name])[0]), float(np.nan_to_num(high[name])[0])) for name in SCORE_NAMES}


def uncertainty_scores(probs: ArrayLike, normalize: bool = True, threads: int = 1) -> dict[str, np.ndarray]:
    """The three Lightly uncertainty scores of each row of `probs` (N, C), as float64 (N,).

    Higher = more uncertain. With `normalize`, 0 for a one-hot row and 1 for the uniform row.
    threads: blocks of rows computed in parallel (numpy releases the GIL); the result does not
    depend on it. Default 1: the engines already run frames in parallel processes, and on a
    shared machine a second thread only helps when a core is idle.
    """
    probs = as_probabilities(probs)
    n = len(probs)
    out = {name: np.empty(n) for name in SCORE_NAMES}
    bounds = normalization_bounds(probs.shape[1]) if normalize and n else None

    local = threading.local()

    def fill(rows: slice) -> None:
        block = probs[rows]
        if getattr(local, "scratch", None) is None or local.scratch.shape[1] != block.shape[1]:
            local.scratch = np.empty((_BLOCK_ROWS, block.shape[1]))
        for name, values in raw_scores(block, local.scratch[: len(block)]).items():
            values = np.nan_to_num(values)
            out[name][rows] = np.interp(values, bounds[name], (0, 1)) if bounds else values

    blocks = [slice(start, start + _BLOCK_ROWS) for start in range(0, n, _BLOCK_ROWS)]
    workers = min(max(int(threads), 1), len(blocks))
    if workers <= 1:
        for rows in blocks:
            fill(rows)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(fill, blocks))
    return out


def classification_scores(probs: ArrayLike, ids: ArrayLike, normalize: bool = True) -> Scores:
    """`Scores` of a classification task: one row per sample id, the three uncertainty scores.

    probs: (N, C) class probabilities in the order of `ids` (rows summing to 1).

    Example (a sure sample and an unsure one)::

        >>> table = classification_scores([[0.98, 0.01, 0.01], [0.4, 0.35, 0.25]], ["sure.jpg", "unsure.jpg"])
        >>> table.names
        ['uncertainty_least_confidence', 'uncertainty_margin', 'uncertainty_entropy']
        >>> table["uncertainty_margin"].round(3).tolist()
        [0.03, 0.95]
    """
    return Scores(ids, uncertainty_scores(probs, normalize))
