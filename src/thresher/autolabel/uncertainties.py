"""Per-detection uncertainties to fuse, all **higher = more likely a false detection**.

Built from what a `Detections` table and its stochastic passes carry (seed 002's names,
computed by `thresher.scorers.uncertainty`):

- `entropy`: -sum p log2 max(p, 1e-7) of the box's class probabilities (needs `probs`);
- `one_minus_score`: 1 - the detection score;
- `albox`: the mean over the 4 corners of the predicted sigma relative to the box size,
  sigma / [w, h, w, h] (needs `box_std`);
- `mcbox`: the same for the spread of the corners over stochastic passes (`box_spread`,
  e.g. `fuse_passes(...).box_spread`);
- `mcclass`: the spread of the class scores over the passes (`class_spread`);
- any other per-box column the caller passes in `columns` (its own name, same direction).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TypedDict

import numpy as np
from numpy.typing import ArrayLike

from thresher.detections import Detections
from thresher.errors import ConfigError, SchemaError, did_you_mean
from thresher.scorers.uncertainty import box_uncertainty_per_detection, entropy

BUILT_IN = ("entropy", "one_minus_score", "albox", "mcbox", "mcclass")
NEEDS = {"entropy": "detections.probs", "albox": "detections.box_std", "mcbox": "box_spread", "mcclass": "class_spread"}


class Passes(TypedDict, total=False):
    """The per-detection extras of stochastic passes, as keyword arguments of
    `detection_uncertainties` (every key optional), e.g.
    `Passes(box_spread=np.zeros((3, 4)), columns={"iou_spread": [0.1, 0.0, 0.2]})`."""

    box_spread: ArrayLike | None
    class_spread: ArrayLike | None
    columns: Mapping[str, ArrayLike] | None


def detection_uncertainties(
    detections: Detections,
    names: Sequence[str] | None = None,
    *,
    box_spread: object = None,
    class_spread: object = None,
    columns: Mapping[str, object] | None = None,
) -> dict[str, np.ndarray]:
    """The uncertainties `names` (default: every one the inputs allow), each (M,) float64.
    `box_spread`, `class_spread`: default the detections' own columns (None when they have none).

    A degenerate box (zero width or height) with a positive sigma has an infinite relative
    uncertainty; it is replaced by the largest finite value of its column, so that it ranks
    first without breaking the min-max scaling of the fusion.
    """
    available = _available(detections, box_spread, class_spread, columns or {})
    if names is None:
        names = list(available)
    out = {}
    for name in names:
        if name not in available:
            hint = f" without {NEEDS[name]}" if name in NEEDS else did_you_mean(name, [*BUILT_IN, *(columns or {})])
            raise ConfigError(f"uncertainties: {name!r} cannot be computed{hint}; available from these inputs: {sorted(available)}")
        out[name] = _finite(name, available[name]())
    return out


def _available(detections: Detections, box_spread: object, class_spread: object, columns: Mapping[str, object]) -> dict[str, Callable[[], np.ndarray]]:
    found: dict[str, Callable[[], np.ndarray]] = {"one_minus_score": lambda: 1.0 - detections.score}
    probs, box_std = detections.probs, detections.box_std
    # spreads over several passes: given apart, else the ones the boxes carry (thresher fuse, predict --tta)
    box_spread = detections.box_spread if box_spread is None else box_spread
    class_spread = detections.class_spread if class_spread is None else class_spread
    if probs is not None:
        found["entropy"] = lambda: entropy(probs)
    if box_std is not None:
        found["albox"] = lambda: box_uncertainty_per_detection(detections.xyxy, box_std)
    if box_spread is not None:
        found["mcbox"] = lambda: box_uncertainty_per_detection(detections.xyxy, _per_box(box_spread, len(detections), 4, "box_spread"))
    if class_spread is not None:
        found["mcclass"] = lambda: _per_box(class_spread, len(detections), None, "class_spread")
    for name, values in columns.items():
        found[str(name)] = partial(_per_box, values, len(detections), None, f"columns[{name!r}]")
    return found


def _per_box(values: object, n: int, width: int | None, label: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    shape = (n,) if width is None else (n, width)
    if array.shape != shape:
        raise SchemaError(f"{label}: expected one value per detection, shape {shape}, got {array.shape}")
    return array


def _finite(name: str, values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if np.isnan(values).any():
        raise SchemaError(f"uncertainties[{name!r}]: expected numbers, got NaN for {int(np.isnan(values).sum())} detection(s)")
    finite = values[np.isfinite(values)]
    top = float(finite.max()) if len(finite) else 0.0
    low = float(finite.min()) if len(finite) else 0.0
    return np.clip(values, low, top) if not np.isfinite(values).all() else values
