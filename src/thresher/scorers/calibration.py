"""Calibrate a detector on a labeled set, save the calibrator, apply it to new predictions.

`fit_calibrator(predictions, truth)` matches predictions to the ground truth
(`thresher.scorers.matching`) and fits up to three parts, each with temperature scaling or
isotonic regression (`thresher.scorers.calibration_maps`):

- score: the detection score -> probability that the detection is correct (same class,
  IoU >= threshold). Temperature: sigmoid(logit(s) / T). Scope "global" or "per_class".
- probs: the class probabilities -> calibrated ones, fitted on predictions that overlap a
  ground-truth box (any class), the true class being that box's. Temperature: softmax(log p / T),
  one T or one per class; isotonic: one-vs-rest per class (or pooled) then rows renormalized.
- box: the predicted sigma of each corner (`box_std`) -> calibrated sigma, fitted on correct
  detections against |predicted - true corner|. Temperature: sigma x s with s^2 = mean(r^2 /
  sigma^2) (the Gaussian NLL optimum); isotonic: sigma -> |r| (the seed's target) or, with
  box_target="squared", sqrt of sigma -> r^2. Scope "global", "per_coordinate" or
  "per_class_coordinate"; `box_relative` fits sigma / [w, h, w, h] of the box instead.

Keys a fit did not see (a class absent from the labeled set) fall back to the global map.
`Calibrator.save` writes plain JSON; `Calibrator.load` reads it back.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from thresher.boxes import wh
from thresher.detections import Detections
from thresher.errors import ConfigError, SchemaError
from thresher.io.storage import write_file
from thresher.scorers.calibration_maps import IsotonicMap, apply_temperature, fit_isotonic, fit_temperature
from thresher.scorers.calibration_names import resolve_box, resolve_class
from thresher.scorers.matching import match_detections

_LOGIT_CLIP = 1e-7
FORMAT_VERSION = 1
SCOPES = {
    "score": ("global", "per_class"),
    "probs": ("global", "per_class"),
    "box": ("global", "per_coordinate", "per_class_coordinate"),
}


@dataclass(frozen=True)
class Part:
    """One fitted part: method ("temperature" | "isotonic"), scope and the maps by key
    ("all", a class id, a coordinate "0".."3", or "class/coordinate")."""

    method: str
    scope: str
    maps: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)

    def lookup(self, *keys: str):
        for key in (*keys, "all"):
            if key in self.maps:
                return self.maps[key]
        raise SchemaError(f"calibrator: no map for {keys} and no global map")

    def to_dict(self) -> dict:
        maps = {k: (v.to_dict() if isinstance(v, IsotonicMap) else np.asarray(v).tolist()) for k, v in self.maps.items()}
        return {"method": self.method, "scope": self.scope, "options": self.options, "maps": maps}

    @classmethod
    def from_dict(cls, data: dict) -> "Part":
        load = IsotonicMap.from_dict if data["method"] == "isotonic" else np.asarray
        return cls(data["method"], data["scope"], {k: load(v) for k, v in data["maps"].items()}, data.get("options", {}))


def _check(part: str, method: str | None, scope: str) -> None:
    if method not in (None, "temperature", "isotonic"):
        raise ConfigError(f"{part}_method: expected 'temperature', 'isotonic' or None, got {method!r}")
    if scope not in SCOPES[part]:
        raise ConfigError(f"{part}_scope: expected one of {SCOPES[part]}, got {scope!r}")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _LOGIT_CLIP, 1 - _LOGIT_CLIP)
    return np.log(p) - np.log1p(-p)


def _fit_score_map(method: str, score: np.ndarray, correct: np.ndarray):
    if method == "isotonic":
        return fit_isotonic(score, correct, y_min=0.0, y_max=1.0)
    two_class = np.stack([_logit(score), np.zeros_like(score)], axis=1)
    return fit_temperature(two_class, (~correct).astype(np.int64))


def _apply_score_map(fitted, score: np.ndarray) -> np.ndarray:
    if isinstance(fitted, IsotonicMap):
        return fitted(score)
    from scipy.special import expit

    return expit(_logit(score) / fitted)  # 1 / (1 + exp(-z)), without overflow for large |z|


def _keyed(keys: np.ndarray, fit_one) -> dict:
    return {str(key): fit_one(keys == key) for key in np.unique(keys)}


def fit_score(method: str, scope: str, score: np.ndarray, class_id: np.ndarray, correct: np.ndarray) -> Part:
    maps = {"all": _fit_score_map(method, score, correct)}
    if scope == "per_class":
        maps.update(_keyed(class_id, lambda rows: _fit_score_map(method, score[rows], correct[rows])))
    return Part(method, scope, maps)


def apply_score(part: Part, score: np.ndarray, class_id: np.ndarray) -> np.ndarray:
    out = np.empty(len(score))
    keys = class_id.astype(str) if part.scope == "per_class" else np.full(len(score), "all")
    for key in np.unique(keys):
        rows = keys == key
        out[rows] = _apply_score_map(part.lookup(str(key)), score[rows])
    return out


def fit_probs(method: str, scope: str, probs: np.ndarray, true_column: np.ndarray) -> Part:
    per_class = scope == "per_class"
    if method == "temperature":
        return Part(method, scope, {"all": fit_temperature(np.log(np.maximum(probs, 1e-12)), true_column, per_class)})
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(probs)), true_column] = 1.0
    maps = {"all": fit_isotonic(probs, onehot, y_min=0.0, y_max=1.0)}
    if per_class:
        maps.update({str(k): fit_isotonic(probs[:, k], onehot[:, k], y_min=0.0, y_max=1.0) for k in range(probs.shape[1])})
    return Part(method, scope, maps)


def apply_probs(part: Part, probs: np.ndarray) -> np.ndarray:
    if part.method == "temperature":
        return apply_temperature(np.log(np.maximum(probs, 1e-12)), part.lookup("all"))
    columns = [part.lookup(str(k) if part.scope == "per_class" else "all")(probs[:, k]) for k in range(probs.shape[1])]
    calibrated = np.stack(columns, axis=1) if columns else probs.copy()
    total = calibrated.sum(axis=1, keepdims=True)
    return np.divide(calibrated, total, out=np.full_like(calibrated, 1.0 / max(probs.shape[1], 1)), where=total > 0)


def _box_keys(scope: str, class_id: np.ndarray) -> np.ndarray:
    """(M, 4) keys of every corner for the scope."""
    corner = np.broadcast_to(np.arange(4).astype(str), (len(class_id), 4))
    if scope == "global":
        return np.full((len(class_id), 4), "all")
    if scope == "per_coordinate":
        return corner.copy()
    return np.char.add(np.char.add(class_id.astype(str)[:, None], "/"), corner)


def _fit_box_map(method: str, target: str, sigma: np.ndarray, residual: np.ndarray):
    sigma, residual = np.maximum(sigma, 1e-12), np.abs(residual)
    if method == "temperature":
        return np.array(np.sqrt(np.mean((residual / sigma) ** 2)))
    return fit_isotonic(sigma, residual**2 if target == "squared" else residual, y_min=0.0)


def _apply_box_map(fitted, sigma: np.ndarray, target: str) -> np.ndarray:
    if not isinstance(fitted, IsotonicMap):
        return sigma * fitted
    return np.sqrt(fitted(sigma)) if target == "squared" else fitted(sigma)


def fit_box(method: str, scope: str, sigma: np.ndarray, residual: np.ndarray, class_id: np.ndarray, target: str) -> Part:
    keys = _box_keys(scope, class_id)
    maps = {"all": _fit_box_map(method, target, sigma, residual)}
    if scope == "per_class_coordinate":
        maps.update({str(j): _fit_box_map(method, target, sigma[:, j], residual[:, j]) for j in range(4)})
    if scope != "global":
        maps.update(_keyed(keys, lambda rows: _fit_box_map(method, target, sigma[rows], residual[rows])))
    return Part(method, scope, maps, {"target": target})


def apply_box(part: Part, sigma: np.ndarray, class_id: np.ndarray) -> np.ndarray:
    keys = _box_keys(part.scope, class_id)
    out = np.empty_like(sigma)
    for key in np.unique(keys):
        rows = keys == key
        corner = str(key).split("/")[-1]
        out[rows] = _apply_box_map(part.lookup(str(key), corner), sigma[rows], part.options.get("target", "absolute"))
    return out


def _box_scale(xyxy: np.ndarray) -> np.ndarray:
    return np.maximum(np.tile(wh(xyxy), 2), 1e-12)


@dataclass(frozen=True)
class Calibrator:
    """Fitted calibration of detection scores, class probabilities and box sigmas (any may be
    None). `apply` returns new `Detections`; the input is not changed."""

    score: Part | None = None
    probs: Part | None = None
    box: Part | None = None
    box_relative: bool = False
    iou_threshold: float = 0.5

    def apply(self, detections: Detections) -> Detections:
        changes = {}
        if self.score is not None:
            changes["score"] = apply_score(self.score, detections.score, detections.class_id)
        if self.probs is not None and detections.probs is not None:
            changes["probs"] = apply_probs(self.probs, detections.probs)
        if self.box is not None and detections.box_std is not None:
            scale = _box_scale(detections.xyxy) if self.box_relative else 1.0
            changes["box_std"] = apply_box(self.box, detections.box_std / scale, detections.class_id) * scale
        return replace(detections, **changes)

    def to_dict(self) -> dict:
        parts = {name: getattr(self, name) for name in ("score", "probs", "box")}
        return {
            "format": "thresher-calibrator",
            "version": FORMAT_VERSION,
            "box_relative": self.box_relative,
            "iou_threshold": self.iou_threshold,
            **{name: None if part is None else part.to_dict() for name, part in parts.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Calibrator":
        if data.get("format") != "thresher-calibrator" or data.get("version") != FORMAT_VERSION:
            raise SchemaError(f"calibrator: expected format thresher-calibrator version {FORMAT_VERSION}, got {data.get('format')!r} version {data.get('version')!r}")
        parts = {name: None if data.get(name) is None else Part.from_dict(data[name]) for name in ("score", "probs", "box")}
        return cls(**parts, box_relative=bool(data["box_relative"]), iou_threshold=float(data["iou_threshold"]))

    def save(self, path: str | os.PathLike) -> None:
        """Write the calibrator as JSON (to a temporary name, then renamed)."""
        write_file(path, json.dumps(self.to_dict()).encode())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Calibrator":
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise SchemaError(f"{path}: cannot read a calibrator: {exc}") from exc
        return cls.from_dict(data)


def fit_calibrator(
    predictions: Detections,
    truth: Detections,
    *,
    iou_threshold: float = 0.5,
    score_method: str | None = "isotonic",
    score_scope: str = "global",
    probs_method: str | None = None,
    probs_scope: str = "global",
    box_method: str | None = None,
    box_scope: str = "per_coordinate",
    box_relative: bool = False,
    box_target: str = "absolute",
    category_ids: np.ndarray | None = None,
) -> Calibrator:
    """Fit a `Calibrator` on predictions of labeled frames (see the module docstring).

    predictions, truth: `Detections` over the same frames (truth scores are ignored).
    The probs part needs `predictions.probs`, whose columns follow `category_ids` (the task
    schema's ids, ascending; default: column k = class id k); the box part needs
    `predictions.box_std`. A method of None skips that part. Seed 002's method names (`ts_percls`,
    `rel_iso_perclscoo`, …; `thresher.scorers.calibration_names`) set the method and its scope.
    """
    score_method, score_scope = resolve_class(score_method, score_scope, "score_method")
    probs_method, probs_scope = resolve_class(probs_method, probs_scope, "probs_method")
    box_method, box_scope, box_relative = resolve_box(box_method, box_scope, box_relative, "box_method")
    for part, method, scope in (
        ("score", score_method, score_scope),
        ("probs", probs_method, probs_scope),
        ("box", box_method, box_scope),
    ):
        _check(part, method, scope)
    if box_target not in ("absolute", "squared"):
        raise ConfigError(f"box_target: expected 'absolute' or 'squared', got {box_target!r}")
    same = match_detections(predictions, truth, iou_threshold, same_class=True)
    score = probs = box = None
    if score_method:
        score = fit_score(score_method, score_scope, predictions.score, predictions.class_id, same.correct)
    if probs_method:
        probs = _fit_probs_part(predictions, truth, iou_threshold, probs_method, probs_scope, category_ids)
    if box_method:
        box = _fit_box_part(predictions, truth, same.truth, box_method, box_scope, box_relative, box_target)
    return Calibrator(score, probs, box, box_relative, iou_threshold)


def _fit_probs_part(predictions: Detections, truth: Detections, iou_threshold: float, method: str, scope: str, category_ids: np.ndarray | None) -> Part:
    if predictions.probs is None:
        raise SchemaError("predictions.probs: class probabilities are needed to calibrate them, got none")
    located = match_detections(predictions, truth, iou_threshold, same_class=False)
    true_class = truth.class_id[located.truth[located.correct]]
    if category_ids is not None:
        ids = np.asarray(category_ids, dtype=np.int64)
        column = np.minimum(np.searchsorted(ids, true_class), len(ids) - 1)
        if len(true_class) and not (ids[column] == true_class).all():
            raise SchemaError(f"truth.class_id: expected ids among category_ids {ids.tolist()}, got {sorted(set(true_class[ids[column] != true_class].tolist()))}")
        true_class = column
    if len(true_class) and (true_class.min() < 0 or true_class.max() >= predictions.probs.shape[1]):
        raise SchemaError(f"truth.class_id: expected ids that are columns of probs (0..{predictions.probs.shape[1] - 1})")
    return fit_probs(method, scope, predictions.probs[located.correct], true_class)


def _fit_box_part(predictions, truth, matched, method, scope, relative, target) -> Part:
    if predictions.box_std is None:
        raise SchemaError("predictions.box_std: predicted sigmas are needed to calibrate them, got none")
    rows = np.flatnonzero(matched >= 0)
    residual = predictions.xyxy[rows] - truth.xyxy[matched[rows]]
    sigma = predictions.box_std[rows]
    if relative:
        scale = _box_scale(predictions.xyxy[rows])
        sigma, residual = sigma / scale, residual / scale
    return fit_box(method, scope, sigma, residual, predictions.class_id[rows], target)
