"""How well confidences and predicted box sigmas match what happens (lower = better calibrated).

Confidence (probability that a detection is correct, or of the predicted class):
- `reliability`: per bin of confidence (10 equal bins of [0, 1], the last one closed), the
  mean confidence, the share correct and the count: the data of a reliability diagram.
- ECE = sum over bins of count / N x |share correct - mean confidence|; MCE = the largest
  such gap over non-empty bins; NLL = mean binary negative log-likelihood (nats, clipped at
  1e-12); Brier = mean squared error.

Box sigma (predicted standard deviation of each corner, pixels) against the residual
|predicted - true corner| of matched detections:
- coverage: share of residuals within +-sigma (0.683 for a calibrated Gaussian);
- ECE: mean over 100 levels p in [0, 1] of |share within sigma x z((1 + p) / 2) - p| (the
  seed's regression ECE); NLL: mean Gaussian negative log-likelihood (nats);
- RMSUE: sqrt(mean((sigma - |residual|)^2)); sharpness: mean sigma.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike

from thresher.errors import SchemaError

_EPS = 1e-12


@dataclass(frozen=True)
class Reliability:
    """Reliability-diagram data: bin edges (n_bins + 1) and per bin mean confidence, share
    correct and count (NaN for empty bins)."""

    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    count: np.ndarray

    @property
    def ece(self) -> float:
        filled = self.count > 0
        weight = self.count[filled] / self.count.sum()
        return float(np.sum(weight * np.abs(self.accuracy[filled] - self.confidence[filled])))

    @property
    def mce(self) -> float:
        filled = self.count > 0
        return float(np.max(np.abs(self.accuracy[filled] - self.confidence[filled]), initial=0.0))


def _pair(confidence: ArrayLike, correct: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(confidence, dtype=np.float64).reshape(-1)
    y = np.asarray(correct, dtype=np.float64).reshape(-1)
    if len(p) != len(y):
        raise SchemaError(f"confidence, correct: expected equal lengths, got {len(p)} and {len(y)}")
    if len(p) == 0:
        raise SchemaError("confidence: expected at least one value, got none")
    return p, y


def reliability(confidence: ArrayLike, correct: ArrayLike, n_bins: int = 10) -> Reliability:
    """Bin confidences in [0, 1] into `n_bins` equal bins and compare with the outcomes."""
    p, y = _pair(confidence, correct)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(which, weights=p, minlength=n_bins) / count
        share = np.bincount(which, weights=y, minlength=n_bins) / count
    return Reliability(edges, mean_p, share, count)


def expected_calibration_error(confidence: ArrayLike, correct: ArrayLike, n_bins: int = 10) -> float:
    return reliability(confidence, correct, n_bins).ece


def maximum_calibration_error(confidence: ArrayLike, correct: ArrayLike, n_bins: int = 10) -> float:
    return reliability(confidence, correct, n_bins).mce


def binary_nll(confidence: ArrayLike, correct: ArrayLike) -> float:
    p, y = _pair(confidence, correct)
    p = np.clip(p, _EPS, 1 - _EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def brier(confidence: ArrayLike, correct: ArrayLike) -> float:
    p, y = _pair(confidence, correct)
    return float(np.mean((p - y) ** 2))


def confidence_metrics(confidence: ArrayLike, correct: ArrayLike, n_bins: int = 10) -> dict[str, float]:
    """ECE, MCE, NLL and Brier score of confidences against 0/1 outcomes."""
    bins = reliability(confidence, correct, n_bins)
    return {
        "ece": bins.ece,
        "mce": bins.mce,
        "nll": binary_nll(confidence, correct),
        "brier": brier(confidence, correct),
    }


def _residuals(sigma: ArrayLike, residual: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(sigma, dtype=np.float64)
    r = np.abs(np.asarray(residual, dtype=np.float64))
    if s.shape != r.shape or s.size == 0:
        raise SchemaError(f"sigma, residual: expected equal non-empty shapes, got {s.shape} and {r.shape}")
    return np.maximum(s, _EPS), r


def box_metrics(sigma: ArrayLike, residual: ArrayLike, levels: int = 100) -> dict[str, float]:
    """Coverage at +-sigma, regression ECE, Gaussian NLL, RMSUE and sharpness (see module)."""
    s, r = _residuals(sigma, residual)
    quantiles = np.linspace(0.0, 1.0, levels)
    z = np.array([NormalDist().inv_cdf(min((1 + q) / 2, 1 - 1e-12)) for q in quantiles])
    within = np.array([np.mean(r <= s * k) for k in z])
    nll = np.mean(0.5 * np.log(2 * np.pi * s**2) + r**2 / (2 * s**2))
    return {
        "coverage": float(np.mean(r <= s)),
        "ece": float(np.mean(np.abs(within - quantiles))),
        "nll": float(nll),
        "rmsue": float(np.sqrt(np.mean((s - r) ** 2))),
        "sharpness": float(np.mean(s)),
    }
