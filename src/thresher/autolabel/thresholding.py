"""Cost-sensitive thresholding metrics of seed 002 (docs/formulas.md §2), vectorized.

An uncertainty is a score for "this detection is false": **higher = more likely a false
detection (FD)**. Removing every detection whose uncertainty is >= a threshold removes a share
of the correct detections (CD) and a share of the FDs; sweeping the threshold traces the ROC
curve of FD removed (y) against CD removed (x), through (0, 0) and one point per distinct
uncertainty value, linear in between (exactly sklearn's `roc_curve(correct, u, pos_label=0)`
read with `np.interp`, as the seed does). For a budget b:

- `fd@cd`: FD@CD(b), the share of FDs removed where the curve keeps b of the CDs
  (x = 1 - b). Higher is better.
- `cd@fd`: CD@FD(b), the share of CDs kept where the curve removes b of the FDs
  (1 - x at y = b). Higher is better.

Both are NaN at an IoU threshold where the labeled set has no CD or no FD. Like np.interp, a
read exactly at the curve's last level takes its last point: CD@FD(1.0) is 0 (the seed gives the
same), so ask for a budget below 1 (0.99). Inputs: the
uncertainty of M detections, (M,) or W candidate fusions (W, M), and `correct` (M,) or (M, T)
from `correct_detections`; outputs drop the axes the inputs did not have.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import rankdata

from thresher.errors import ConfigError, SchemaError

METRICS = ("fd@cd", "cd@fd")
_CELLS_PER_CHUNK = 1 << 21  # candidates x detections held at once


def check_metric(metric: str, budget: float) -> None:
    if metric not in METRICS:
        raise ConfigError(f"metric: expected one of {METRICS}, got {metric!r}")
    if not 0.0 <= float(budget) <= 1.0:
        raise ConfigError(f"budget: expected a share in [0, 1] (e.g. 0.95), got {budget}")


def _as_inputs(uncertainty: ArrayLike, correct: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    u = np.asarray(uncertainty, dtype=np.float64)
    c = np.asarray(correct, dtype=bool)
    u2, c2 = np.atleast_2d(u), c.reshape(len(c), -1) if c.ndim else c.reshape(1, 1)
    if u2.shape[1] != c2.shape[0]:
        raise SchemaError(f"uncertainty: expected {c2.shape[0]} values (one per detection), got {u2.shape[1]}")
    if not np.isfinite(u2).all():
        raise SchemaError("uncertainty: expected finite numbers, got NaN or inf")
    return u2, c2


def _shape(values: np.ndarray, uncertainty: ArrayLike, correct: ArrayLike) -> np.ndarray | float:
    """Drop the candidate axis and the threshold axis where the inputs had none."""
    if np.ndim(correct) < 2:
        values = values[..., 0]
    if np.ndim(uncertainty) < 2:
        values = values[0]
    return float(values) if np.ndim(values) == 0 else values


def budget_metric(uncertainty: ArrayLike, correct: ArrayLike, budget: float = 0.95, metric: str = "fd@cd") -> np.ndarray | float:
    """FD@CD(b) or CD@FD(b) (module docstring) of every candidate at every IoU threshold."""
    check_metric(metric, budget)
    u, c = _as_inputs(uncertainty, correct)
    out = np.empty((len(u), c.shape[1]))
    rows = max(1, _CELLS_PER_CHUNK // max(u.shape[1] + 1, 1))
    for lo in range(0, len(u), rows):
        out[lo : lo + rows] = _chunk_metric(u[lo : lo + rows], c, float(budget), metric)
    return _shape(out, uncertainty, correct)


def _chunk_metric(u: np.ndarray, correct: np.ndarray, budget: float, metric: str) -> np.ndarray:
    """Curve points are (removed CDs, removed FDs) after the first i most uncertain detections,
    at the end of each group of tied values (i = 0..M); read at x as np.interp does."""
    n_rows, m = u.shape
    order = np.argsort(-u, axis=1)  # the order inside a group of ties does not matter: only group ends are read
    ranked = np.take_along_axis(u, order, axis=1)
    position = np.arange(m + 1, dtype=np.int32)
    valid = np.ones((n_rows, m + 1), dtype=bool)  # position 0 is the start point (0, 0)
    valid[:, 1:-1] = ranked[:, :-1] != ranked[:, 1:]
    last_valid = np.maximum.accumulate(np.where(valid, position, 0), axis=1)
    next_valid = np.minimum.accumulate(np.where(valid, position, m)[:, ::-1], axis=1)[:, ::-1]
    if m >= 2**31 - 1:
        raise SchemaError(f"uncertainty: at most {2**31 - 2} detections at once, got {m}")
    flags = correct[order]  # (W, M, T)
    removed_cd = np.zeros((n_rows, m + 1), dtype=np.int32)
    out = np.empty((n_rows, correct.shape[1]))
    for t in range(correct.shape[1]):
        np.cumsum(flags[:, :, t], axis=1, out=removed_cd[:, 1:])
        removed_fd = position - removed_cd
        if metric == "fd@cd":
            out[:, t] = _interp(1.0 - budget, removed_cd, removed_fd, last_valid, next_valid)
        else:
            out[:, t] = 1.0 - _interp(budget, removed_fd, removed_cd, last_valid, next_valid)
    return out


def _interp(x: float, along: np.ndarray, other: np.ndarray, last_valid: np.ndarray, next_valid: np.ndarray) -> np.ndarray:
    """np.interp(x, xs, ys) per row, xs = along / along[-1] and ys = other / other[-1] at the
    valid positions (both non-decreasing); NaN where along[-1] or other[-1] is 0."""
    rows = np.arange(len(along))
    n_x, n_y = along[:, -1].astype(np.float64), other[:, -1].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        # The largest count c with c / n_x <= x, in the float arithmetic np.interp would compare.
        c = np.floor(x * n_x)
        c = np.where((c + 1) / n_x <= x, c + 1, c)
        c = np.where(c / n_x > x, c - 1, c)
        inside = np.count_nonzero(along <= c[:, None], axis=1)  # positions 0..inside-1 have xs <= x
        j = last_valid[rows, np.maximum(inside - 1, 0)]
        k = next_valid[rows, np.minimum(inside, along.shape[1] - 1)]
        xj, xk = along[rows, j] / n_x, along[rows, k] / n_x
        yj, yk = other[rows, j] / n_y, other[rows, k] / n_y
        slope = (yk - yj) / (xk - xj)
        value = np.where(inside < along.shape[1], slope * (x - xj) + yj, yj)
    return np.where((n_x > 0) & (n_y > 0), value, np.nan)


def auroc(uncertainty: ArrayLike, correct: ArrayLike) -> np.ndarray | float:
    """Probability that an FD has a higher uncertainty than a CD (ties count half), per IoU
    threshold; NaN without CD or FD. 0.5 = no better than chance, 1 = a perfect separation."""
    u, c = _as_inputs(uncertainty, correct)
    out = np.empty((len(u), c.shape[1]))
    n_cd = c.sum(axis=0)
    n_fd = len(c) - n_cd
    for w in range(len(u)):
        ranks = rankdata(u[w])
        fd_rank_sum = ranks @ ~c
        with np.errstate(invalid="ignore", divide="ignore"):
            out[w] = (fd_rank_sum - n_fd * (n_fd + 1) / 2) / (n_fd * n_cd)
    return _shape(out, uncertainty, correct)


def keep_thresholds(uncertainty: ArrayLike, correct: ArrayLike, budget: float = 0.95, metric: str = "fd@cd") -> np.ndarray:
    """(T,) per IoU threshold, the threshold tau of the rule "keep when uncertainty <= tau".

    fd@cd: the smallest tau keeping at least b of the CDs (removing the most FDs);
    cd@fd: the largest tau removing at least b of the FDs (keeping the most CDs).
    NaN where there is no CD (fd@cd) or no FD (cd@fd); -inf when nothing may be kept.
    """
    check_metric(metric, budget)
    u, c = _as_inputs(uncertainty, correct)
    u = u[0]
    out = np.full(c.shape[1], np.nan)
    for t in range(c.shape[1]):
        out[t] = _cd_threshold(u[c[:, t]], budget) if metric == "fd@cd" else _fd_threshold(u, u[~c[:, t]], budget)
    return out


def _needed(budget: float, n: int) -> int:
    return math.ceil(budget * n - 1e-9)


def _cd_threshold(cd: np.ndarray, budget: float) -> float:
    if len(cd) == 0:
        return np.nan
    k = _needed(budget, len(cd))
    return float(np.sort(cd)[k - 1]) if k >= 1 else -np.inf


def _fd_threshold(every: np.ndarray, fd: np.ndarray, budget: float) -> float:
    if len(fd) == 0:
        return np.nan
    k = _needed(budget, len(fd))
    if k == 0:
        return float(every.max())
    kth = np.sort(fd)[::-1][k - 1]
    below = every[every < kth]
    return float(below.max()) if len(below) else -np.inf


def shares_at(uncertainty: ArrayLike, correct: ArrayLike, threshold: float) -> dict[str, np.ndarray]:
    """What the rule "keep when uncertainty <= threshold" does, per IoU threshold: the share of
    CDs kept and of FDs removed (NaN without CD / FD), and the share of detections kept."""
    u, c = _as_inputs(uncertainty, correct)
    kept = (u[0] <= threshold).astype(np.float64)
    n_cd = c.sum(axis=0)
    n_fd = len(c) - n_cd
    with np.errstate(invalid="ignore", divide="ignore"):
        cd_kept = (kept @ c) / n_cd
        fd_removed = ((1.0 - kept) @ ~c) / n_fd
    return {"cd_kept": cd_kept, "fd_removed": fd_removed, "kept": np.array(kept.mean() if len(kept) else np.nan)}
