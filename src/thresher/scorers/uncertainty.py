"""Detection uncertainties of the uncertainty-detection-autolabeling repository (seed 002).

Per detection (docs/formulas.md §2), all **higher = more uncertain = more worth labeling**:

- `entropy`: -sum p log2 max(p, 1e-7) of the class probabilities (softmax of the logits).
- `mcclass`: mean over classes of the standard deviation of the class scores over T
  stochastic passes (MC dropout or test-time augmentation).
- `mcbox`: standard deviation over the passes of each box corner (4 values, pixels).
- `albox`: the predicted aleatoric sigma of each corner (`Detections.box_std`, pixels).
- relative box uncertainty: sigma / [w, h, w, h] of the box, so that big and small boxes
  compare; the per-detection value is the mean over the 4 corners.

Per frame, `aggregate` takes the max (default) or the mean over the frame's detections. A
frame with no detection gets NaN: not applicable (the seed never scores such images; see
`thresher.scorers.candidates` for a score that does).

Combinations over the pool of frames (`combine`), after per-frame aggregation; `mm` is min-max
scaling over the frames that have a value (a constant column scales to 0):
`ental` = mm(rel. albox) + mm(entropy); `epuncert` = mm(rel. mcbox) + mm(mcclass);
`alluncert` = mm(rel. mcbox) + mm(rel. albox) + mm(mcclass);
`highep_lowal` = mm(rel. mcbox) + mm(mcclass) - mm(rel. albox);
`sota` = max of the z-scores of rel. mcbox, rel. albox and mcclass (a constant column: z = 0).
`combo` (per detection, `combo_uncertainty`) = w0 * entropy + w1 * rel. albox.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from thresher.boxes import wh
from thresher.detections import Detections
from thresher.errors import SchemaError, did_you_mean
from thresher.frames import Frames
from thresher.scorers._reduce import FrameGroups, frame_ids, per_frame
from thresher.score_table import Scores

ENTROPY_FLOOR = 1e-7


def softmax(logits: ArrayLike) -> np.ndarray:
    """Row-wise softmax of (M, K) logits, computed stably (max subtracted first)."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def entropy(probs: ArrayLike) -> np.ndarray:
    """-sum_k p log2 max(p, 1e-7) per row of (M, K) class probabilities, in bits."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2:
        raise SchemaError(f"probs: expected (M, K) class probabilities, got shape {probs.shape}")
    return -np.sum(probs * np.log2(np.maximum(probs, ENTROPY_FLOOR)), axis=1)


def softmax_entropy(logits: ArrayLike) -> np.ndarray:
    """`entropy` of the softmax of (M, K) class logits."""
    return entropy(softmax(logits))


def mc_class_uncertainty(class_passes: ArrayLike) -> np.ndarray:
    """mcclass: (T, M, K) class logits (or scores) of M detections over T passes -> (M,)
    mean over classes of the standard deviation (ddof 0) over the passes."""
    passes = np.asarray(class_passes, dtype=np.float64)
    if passes.ndim != 3:
        raise SchemaError(f"class_passes: expected shape (T passes, M detections, K classes), got {passes.shape}")
    return passes.std(axis=0).mean(axis=1)


def mc_box_uncertainty(box_passes: ArrayLike) -> np.ndarray:
    """mcbox: (T, M, 4) box corners of M detections over T passes -> (M, 4) standard deviation."""
    passes = np.asarray(box_passes, dtype=np.float64)
    if passes.ndim != 3 or passes.shape[2] != 4:
        raise SchemaError(f"box_passes: expected shape (T passes, M detections, 4), got {passes.shape}")
    return passes.std(axis=0)


def relative_box_uncertainty(xyxy: ArrayLike, sigma: ArrayLike) -> np.ndarray:
    """sigma (M, 4) divided by [w, h, w, h] of each box; inf where a box has no extent and sigma > 0."""
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    sigma = np.asarray(sigma, dtype=np.float64).reshape(-1, 4)
    size = np.tile(wh(xyxy), 2)
    degenerate = np.where(sigma > 0, np.inf, 0.0)
    return np.divide(sigma, size, out=degenerate, where=size > 0)


def box_uncertainty_per_detection(xyxy: ArrayLike, sigma: ArrayLike, relative: bool = True) -> np.ndarray:
    """(M,) mean over the 4 corners of sigma, relative to the box size when `relative`."""
    values = relative_box_uncertainty(xyxy, sigma) if relative else np.asarray(sigma, dtype=np.float64)
    return values.reshape(-1, 4).mean(axis=1)


def combo_uncertainty(entropy_values: ArrayLike, relative_albox: ArrayLike, weights: tuple[float, float]) -> np.ndarray:
    """combo: w0 * entropy + w1 * (mean relative albox), per detection.

    The weights come from cost-sensitive thresholding on a labeled set (thresher.autolabel).
    """
    w0, w1 = weights
    return w0 * np.asarray(entropy_values, dtype=np.float64) + w1 * np.asarray(relative_albox, dtype=np.float64)


def aggregate(values: ArrayLike, detections: Detections, frames: Frames | ArrayLike, how: str = "max") -> np.ndarray:
    """Per-detection values -> one per frame (max or mean); NaN for frames with no detection."""
    groups = FrameGroups.of(detections.frame, len(frame_ids(frames)))
    return per_frame(np.asarray(values, dtype=np.float64), groups, how, empty=np.nan)


def min_max(values: ArrayLike) -> np.ndarray:
    """(x - min) / (max - min) over the non-NaN values; a constant column gives 0, NaN stays NaN."""
    values = np.asarray(values, dtype=np.float64)
    if np.isnan(values).all():
        return values.copy()
    low, high = np.nanmin(values), np.nanmax(values)
    return (values - low) / (high - low) if high > low else np.where(np.isnan(values), np.nan, 0.0)


def z_score(values: ArrayLike) -> np.ndarray:
    """(x - mean) / std (ddof 0) over the non-NaN values; a constant column gives 0."""
    values = np.asarray(values, dtype=np.float64)
    if np.isnan(values).all():
        return values.copy()
    std = np.nanstd(values)
    centred = values - np.nanmean(values)
    return centred / std if std > 0 else np.where(np.isnan(values), np.nan, 0.0)


def _max_of(*columns: np.ndarray) -> np.ndarray:
    """Element-wise maximum ignoring NaN (NaN only where every column is NaN)."""
    stacked = np.stack(columns)
    missing = np.isnan(stacked)
    return np.where(missing.all(axis=0), np.nan, np.where(missing, -np.inf, stacked).max(axis=0))


#: name → (the per-frame uncertainties it takes, in order; the formula over them).
COMBINATIONS: dict[str, tuple[tuple[str, ...], Callable[..., np.ndarray]]] = {
    "ental": (("albox", "entropy"), lambda a, e: min_max(a) + min_max(e)),
    "epuncert": (("mcbox", "mcclass"), lambda b, c: min_max(b) + min_max(c)),
    "alluncert": (("mcbox", "albox", "mcclass"), lambda b, a, c: min_max(b) + min_max(a) + min_max(c)),
    "highep_lowal": (("mcbox", "mcclass", "albox"), lambda b, c, a: min_max(b) + min_max(c) - min_max(a)),
    "sota": (("mcbox", "albox", "mcclass"), lambda b, a, c: _max_of(z_score(b), z_score(a), z_score(c))),
}


def combine(name: str, per_frame_values: dict[str, np.ndarray]) -> np.ndarray:
    """One of `COMBINATIONS` over per-frame uncertainties named entropy, mcclass, mcbox, albox
    (mcbox and albox relative to the box size, as the seed does)."""
    if name not in COMBINATIONS:
        raise SchemaError(f"combination: unknown {name!r}{did_you_mean(name, COMBINATIONS)}; expected one of {sorted(COMBINATIONS)}")
    inputs, formula = COMBINATIONS[name]
    missing = [i for i in inputs if i not in per_frame_values]
    if missing:
        raise SchemaError(f"combination {name!r}: needs per-frame {inputs}, missing {missing}")
    return formula(*(np.asarray(per_frame_values[i], dtype=np.float64) for i in inputs))


def class_balance_weights(detections: Detections, frames: Frames | ArrayLike) -> np.ndarray:
    """perc: per frame, mean over the distinct predicted classes of N_detections / N_class
    (counts over the whole pool); NaN for frames with no detection."""
    n_frames = len(frame_ids(frames))
    FrameGroups.of(detections.frame, n_frames)
    classes, per_box_class = np.unique(detections.class_id, return_inverse=True)
    weight = len(detections) / np.bincount(per_box_class.reshape(-1), minlength=len(classes))
    pairs = np.unique(detections.frame * len(classes) + per_box_class.reshape(-1))
    frame_of_pair, class_of_pair = pairs // max(len(classes), 1), pairs % max(len(classes), 1)
    total = np.bincount(frame_of_pair, weights=weight[class_of_pair], minlength=n_frames)
    distinct = np.bincount(frame_of_pair, minlength=n_frames)
    with np.errstate(invalid="ignore"):
        return np.where(distinct > 0, total / distinct, np.nan)


def seed_scores(
    detections: Detections,
    frames: Frames | ArrayLike,
    *,
    box_spread: ArrayLike | None = None,
    class_spread: ArrayLike | None = None,
    how: str = "max",
) -> Scores:
    """Every seed-002 per-frame score the inputs allow, as `Scores` over the frames' ids.

    Columns: `entropy` (needs `detections.probs`), `albox` (relative, needs `box_std`),
    `mcbox` (relative, needs `box_spread` (M, 4), e.g. from `fuse_passes`), `mcclass` (needs
    `class_spread` (M,)), every combination whose inputs are present, and
    `class_balance_weight` (perc). Per-frame aggregation `how`: "max" or "mean".
    `box_spread` / `class_spread` default to the detections' own columns (prediction files
    that carry them, docs/datasource.md).
    """
    per_detection = seed_detection_scores(detections, box_spread=box_spread, class_spread=class_spread)
    columns = {name: aggregate(values, detections, frames, how) for name, values in per_detection.items()}
    for name, (inputs, _) in COMBINATIONS.items():
        if all(i in columns for i in inputs):
            columns[name] = combine(name, columns)
    columns["class_balance_weight"] = class_balance_weights(detections, frames)
    return Scores(frame_ids(frames), columns)


def seed_detection_scores(detections: Detections, *, box_spread: ArrayLike | None = None, class_spread: ArrayLike | None = None) -> dict[str, np.ndarray]:
    """The seed-002 scores of each detection (row order) that its fields allow: `entropy`
    (`probs`), `albox` (relative, `box_std`), `mcbox` (relative, `box_spread`), `mcclass`
    (`class_spread`); the spreads default to the detections' own columns. The combinations
    and `class_balance_weight` are per frame only (they compare frames of the pool).

    >>> from thresher import Detections
    >>> boxes = Detections(frame=[0, 0], xyxy=[[0, 0, 10, 10], [0, 0, 20, 20]], score=[0.5, 1.0], class_id=[0, 1], probs=[[0.5, 0.5], [0.25, 0.75]])
    >>> {name: values.round(3).tolist() for name, values in seed_detection_scores(boxes).items()}
    {'entropy': [1.0, 0.811]}
    """
    box_spread = detections.box_spread if box_spread is None else box_spread
    class_spread = detections.class_spread if class_spread is None else class_spread
    per_detection: dict[str, np.ndarray] = {}
    if detections.probs is not None:
        per_detection["entropy"] = entropy(detections.probs)
    if detections.box_std is not None:
        per_detection["albox"] = box_uncertainty_per_detection(detections.xyxy, detections.box_std)
    if box_spread is not None:
        per_detection["mcbox"] = box_uncertainty_per_detection(detections.xyxy, _rows(box_spread, detections, 4))
    if class_spread is not None:
        per_detection["mcclass"] = _rows(class_spread, detections, None)
    return per_detection


def _rows(values: ArrayLike, detections: Detections, width: int | None) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    shape = (len(detections),) if width is None else (len(detections), width)
    if array.shape != shape:
        raise SchemaError(f"expected one value per detection, shape {shape}, got {array.shape}")
    return array
