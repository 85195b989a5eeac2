"""`AutoLabeler`: what a labeled set teaches, applied to new predictions; `fit_autolabeler` fits it.

Fitting (seed 002's cost-sensitive thresholding, docs/formulas.md §2):

1. optionally calibrate the detector first (`thresher.scorers.fit_calibrator`);
2. keep the detections scoring above `score_threshold`, label each CD or FD at every IoU
   threshold (`correct_detections`);
3. compute the uncertainties (`detection_uncertainties`), scale them, choose fusion weights
   maximizing the mean over IoU thresholds of FD@CD(b) or CD@FD(b) (`search_weights`), and with
   `per_class` one weight vector per predicted class where it beats the global one on that class;
4. the uncertainty threshold is the mean over IoU thresholds of the per-threshold cut that
   meets the budget (`keep_thresholds`), as the seed's auto-labeling uses it.

`AutoLabeler.split` then sorts new frames into labeled and examine (`thresher.autolabel.split`).
Saved as plain JSON (`save`, `load`), the calibrator included.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from thresher.autolabel.correctness import IOU_THRESHOLDS, check_iou_thresholds, correct_detections
from thresher.autolabel.fusion import Scaling, objective, search_weights
from thresher.autolabel.report import FitReport, fit_report
from thresher.autolabel.split import AutoLabelSplit, split_frames
from thresher.autolabel.thresholding import check_metric, keep_thresholds
from thresher.autolabel.uncertainties import Passes, detection_uncertainties
from thresher.detections import Detections
from thresher.errors import ConfigError, SchemaError
from thresher.io.storage import write_file
from thresher.scorers.calibration import Calibrator, fit_calibrator

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack is 3.11+; only the type checker reads it

FORMAT = "thresher-autolabeler"
VERSION = 1


@dataclass(frozen=True)
class AutoLabeler:
    """A fitted auto-labeler. Fused uncertainty: higher = more likely a false detection.

    scaling: the uncertainties fused and their min-max bounds on the labeled set.
    weights: the global fusion weights; class_weights: weights of the classes fitted apart.
    threshold: keep a detection when its fused uncertainty is <= threshold.
    thresholds_per_iou: the per-IoU-threshold cuts; `threshold` is the most conservative of
        them (fd@cd: the highest, cd@fd: the lowest), so the budget holds at every IoU threshold.
    score_threshold: detections scoring at or below it are dropped before anything else.
    """

    scaling: Scaling
    weights: tuple[float, ...]
    threshold: float
    score_threshold: float
    budget: float
    metric: str
    iou_thresholds: tuple[float, ...] = IOU_THRESHOLDS
    thresholds_per_iou: tuple[float, ...] = ()
    class_weights: Mapping[int, tuple[float, ...]] = field(default_factory=dict)
    calibrator: Calibrator | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return self.scaling.names

    def prepare(self, detections: Detections) -> Detections:
        """The detections the uncertainties are computed from: calibrated when a calibrator
        was fitted. (The score threshold always applies to the detector's own score.)"""
        return detections if self.calibrator is None else self.calibrator.apply(detections)

    def uncertainties(self, detections: Detections, **passes: Unpack[Passes]) -> dict[str, np.ndarray]:
        """The named uncertainties of (uncalibrated) detections; `passes`: box_spread,
        class_spread, columns as in `detection_uncertainties`."""
        return detection_uncertainties(self.prepare(detections), self.names, **passes)

    def fuse(self, detections: Detections, **passes: Unpack[Passes]) -> np.ndarray:
        """(M,) fused uncertainty of each detection (class weights where fitted)."""
        scaled = self.scaling.apply(self.uncertainties(detections, **passes))
        weights = np.tile(np.asarray(self.weights), (len(detections), 1))
        for class_id, class_w in self.class_weights.items():
            weights[detections.class_id == class_id] = class_w
        return np.einsum("km,mk->m", scaled, weights) if len(detections) else np.zeros(0)

    def split(self, detections: Detections, n_frames: int, *, empty: str = "labeled", **passes: Unpack[Passes]) -> AutoLabelSplit:
        """Labeled / examine for `n_frames` frames (`detections.frame` indexes them)."""
        return split_frames(
            detections, self.fuse(detections, **passes), n_frames,
            score_threshold=self.score_threshold, uncertainty_threshold=self.threshold, empty=empty,
        )  # fmt: skip

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "uncertainties": list(self.names),
            "scaling": {"low": list(self.scaling.low), "high": list(self.scaling.high)},
            "weights": list(self.weights),
            "class_weights": {str(k): list(v) for k, v in self.class_weights.items()},
            "threshold": self.threshold,
            "thresholds_per_iou": [None if math.isnan(t) else t for t in self.thresholds_per_iou],  # null: no cut at that IoU
            "score_threshold": self.score_threshold,
            "budget": self.budget,
            "metric": self.metric,
            "iou_thresholds": list(self.iou_thresholds),
            "calibrator": None if self.calibrator is None else self.calibrator.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "AutoLabeler":
        if not isinstance(data, Mapping) or data.get("format") != FORMAT or data.get("version") != VERSION:
            got = (data.get("format"), data.get("version")) if isinstance(data, Mapping) else type(data).__name__
            raise SchemaError(f"auto-labeler: expected format {FORMAT} version {VERSION}, got {got}")
        try:
            scaling = Scaling(tuple(data["uncertainties"]), tuple(data["scaling"]["low"]), tuple(data["scaling"]["high"]))
            return cls(
                scaling=scaling, weights=tuple(data["weights"]), threshold=float(data["threshold"]),
                score_threshold=float(data["score_threshold"]), budget=float(data["budget"]), metric=data["metric"],
                iou_thresholds=tuple(data["iou_thresholds"]), thresholds_per_iou=tuple(math.nan if t is None else t for t in data["thresholds_per_iou"]),
                class_weights={int(k): tuple(v) for k, v in data["class_weights"].items()},
                calibrator=None if data.get("calibrator") is None else Calibrator.from_dict(data["calibrator"]),
            )  # fmt: skip
        except (KeyError, TypeError) as exc:
            raise SchemaError(f"auto-labeler: missing or malformed field {exc}") from exc

    def save(self, path: str | os.PathLike) -> None:
        """Write as JSON (temporary name, then renamed)."""
        write_file(path, json.dumps(self.to_dict(), indent=1).encode())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "AutoLabeler":
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise SchemaError(f"{path}: cannot read an auto-labeler: {exc}") from exc
        return cls.from_dict(data)


def fit_autolabeler(
    predictions: Detections,
    truth: Detections,
    *,
    uncertainties: Sequence[str] | None = None,
    budget: float = 0.95,
    metric: str = "fd@cd",
    iou_thresholds: Sequence[float] = IOU_THRESHOLDS,
    score_threshold: float = 0.5,
    per_class: bool = False,
    min_class_detections: int = 30,
    calibration: Mapping | Calibrator | None = None,
    passes: Mapping[str, object] | None = None,
    max_candidates: int = 2000,
    seed: int = 0,
) -> tuple[AutoLabeler, FitReport]:
    """Fit on predictions of frames with ground truth (module docstring); returns the
    auto-labeler and the report of every uncertainty alone and fused.

    uncertainties: names to fuse (default: every one the predictions allow).
    calibration: a fitted `Calibrator`, or keyword arguments of `fit_calibrator` (fitted on
        these predictions and truth), or None.
    passes: per-detection extras of the predictions (box_spread, class_spread, columns).
    """
    _check_fit_options(budget, score_threshold)
    check_metric(metric, budget)
    thresholds = check_iou_thresholds(iou_thresholds)
    if min_class_detections < 1:
        raise ConfigError(f"min_class_detections: expected an integer >= 1, got {min_class_detections}")
    calibrator = _calibrator(calibration, predictions, truth)
    keep = predictions.score > score_threshold
    if not keep.any():
        top = f"the highest is {float(predictions.score.max()):g}" if len(predictions) else "there is none"
        raise ConfigError(f"score_threshold (--score-threshold): no detection scores above {score_threshold:g} ({top}): lower it")
    kept = predictions[keep]
    extras = _subset_passes(passes or {}, keep)
    correct = correct_detections(kept, truth, thresholds)
    draft = AutoLabeler(Scaling((), (), ()), (), 0.0, score_threshold, budget, metric, thresholds, calibrator=calibrator)
    columns = detection_uncertainties(draft.prepare(kept), uncertainties, **extras)
    scaling = Scaling.fit(columns)
    scaled = scaling.apply(columns)
    weights, _ = search_weights(scaled, correct, budget, metric, max_candidates=max_candidates, seed=seed)
    search = {"budget": budget, "metric": metric, "max_candidates": max_candidates, "seed": seed}
    class_weights = _class_weights(scaled, correct, kept.class_id, weights, min_class_detections, search) if per_class else {}
    model = replace(draft, scaling=scaling, weights=tuple(float(w) for w in weights), class_weights=class_weights)
    fused = model.fuse(kept, **extras)
    per_iou = keep_thresholds(fused, correct, budget, metric)
    if np.isnan(per_iou).all():
        side = "correct" if metric == "fd@cd" else "false"
        raise SchemaError(f"predictions: no {side} detection above score {score_threshold} at any IoU threshold; cannot set a threshold")
    seen = per_iou[~np.isnan(per_iou)]
    if not np.isfinite(seen).all():
        raise SchemaError(f"predictions: no uncertainty threshold keeps a detection at budget {budget:g} ({metric}): lower budget (--budget)")
    # The most conservative cut, so that the budget holds at every IoU threshold: fd@cd keeps at
    # least b of the correct detections (the highest cut), cd@fd removes at least b of the false
    # ones (the lowest cut). A mean of the cuts could keep less than b at some IoU threshold.
    threshold = float(seen.max() if metric == "fd@cd" else seen.min())
    model = replace(model, threshold=threshold, thresholds_per_iou=tuple(float(t) for t in per_iou))
    return model, fit_report(columns, scaled, fused, correct, model)


def _check_fit_options(budget: float, score_threshold: float) -> None:
    """ConfigError unless budget is in (0, 1] (0 gives no finite threshold) and score_threshold in [0, 1)."""
    if not 0.0 < float(budget) <= 1.0:
        raise ConfigError(f"budget (--budget): expected a share in (0, 1] (e.g. 0.95), got {budget:g}")
    if not 0.0 <= float(score_threshold) < 1.0:
        raise ConfigError(f"score_threshold (--score-threshold): expected a score in [0, 1) (e.g. 0.5), got {score_threshold:g}")


def _calibrator(calibration, predictions: Detections, truth: Detections) -> Calibrator | None:
    if calibration is None or isinstance(calibration, Calibrator):
        return calibration
    if not isinstance(calibration, Mapping):
        raise ConfigError(f"calibration: expected a Calibrator, fit_calibrator options or None, got {type(calibration).__name__}")
    return fit_calibrator(predictions, truth, **calibration)


def _subset_passes(passes: Mapping[str, Any], keep: np.ndarray) -> Passes:
    """The rows `keep` of each extra of `passes` (a caller's mapping: its values are checked
    here, unknown keys raise ConfigError), e.g. `_subset_passes({"box_spread": s}, keep)`."""
    out: Passes = {}
    for name, value in passes.items():
        if name == "columns":
            out["columns"] = {k: np.asarray(v)[keep] for k, v in dict(value).items()}
        elif name == "box_spread":
            out["box_spread"] = None if value is None else np.asarray(value)[keep]
        elif name == "class_spread":
            out["class_spread"] = None if value is None else np.asarray(value)[keep]
        else:
            raise ConfigError(f"passes: expected keys box_spread, class_spread, columns, got {name!r}")
    return out


def _class_weights(scaled, correct, class_id, weights, minimum: int, search: dict) -> dict:
    """Weights of each predicted class with enough detections, kept where they beat `weights`."""
    out = {}
    for value in np.unique(class_id):
        rows = class_id == value
        if rows.sum() < minimum:
            continue
        sub_scaled, sub_correct = scaled[:, rows], correct[rows]
        own, own_score = search_weights(sub_scaled, sub_correct, **search)
        shared = objective(np.asarray(weights)[None], sub_scaled, sub_correct, search["budget"], search["metric"])[0]
        if own_score > shared:
            out[int(value)] = tuple(float(w) for w in own)
    return out
