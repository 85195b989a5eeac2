"""Task-wide numeric checks of Lightly object-detection predictions, over all boxes at once.

Each failing box becomes one `Problem` naming its file, `predictions[j].<field>`, what was
expected and what came; a file with any problem is unusable as a whole (its sample is
reported invalid rather than kept with some of its boxes silently dropped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from thresher.boxes import xywh_to_xyxy
from thresher.detections import Detections
from thresher.frames import Frames
from thresher.errors import did_you_mean
from thresher.io.problems import Problems, shown

if TYPE_CHECKING:
    from thresher.io.lightly_predictions import ParsedFile
    from thresher.io.lightly_schema import PredictionSchema

OUTSIDE_TOLERANCE = 0.01  # pixels a box may exceed the image by (rounding of written boxes)
SUM_TOLERANCE = 0.01  # how far a probability vector may sum from 1


# thresher's optional per-box uncertainty (docs/datasource.md): the key, its row shape, and the
# Detections column it fills. Like "probabilities", a task has each on every box or on none.
UNCERTAINTY_KEYS = {"box_std": (4,), "box_spread": (4,), "class_spread": ()}
PREDICTION_KEYS = ("category_id", "bbox", "score", "probabilities", *UNCERTAINTY_KEYS)
ALLOWED_KEYS = frozenset(PREDICTION_KEYS)
NUMBER = (int, float)


@dataclass
class BoxColumns:
    """Every box of a task as columns, with the file and position it came from."""

    file: np.ndarray  # index into the parsed files
    index: np.ndarray  # position in its file's predictions list
    frame: np.ndarray  # row in Frames (-1: the file has no sample)
    xywh: np.ndarray
    score: np.ndarray
    category_id: np.ndarray
    probabilities: np.ndarray | None  # (M, K)
    uncertainty: dict[str, np.ndarray] = field(default_factory=dict)  # UNCERTAINTY_KEYS present in the task

    def detections(self, good_file: np.ndarray) -> Detections:
        keep = good_file[self.file] if len(self.file) else np.zeros(0, bool)
        return Detections(
            frame=self.frame[keep],
            xyxy=xywh_to_xyxy(self.xywh[keep]),
            score=self.score[keep],
            class_id=self.category_id[keep],
            probs=None if self.probabilities is None else self.probabilities[keep],
            **{key: values[keep] for key, values in self.uncertainty.items()},
        )


def gather(parsed: list["ParsedFile"], rows: np.ndarray, n_categories: int, problems: Problems) -> BoxColumns:
    """The boxes of all files as columns.

    The fast path converts every field of every file at once; when that fails, each file is
    diagnosed prediction by prediction, its malformed predictions are reported and left out
    (the file is then invalid), and the rest is converted.
    """
    columns = _convert(parsed, rows, n_categories)
    if columns is not None:
        return columns
    present = {key for key in ("probabilities", *UNCERTAINTY_KEYS) if any(isinstance(p, dict) and key in p for f in parsed for p in f.predictions)}
    for f in parsed:
        kept = [i for i, p in enumerate(f.predictions) if _prediction_ok(p, f"predictions[{i}]", f.file, n_categories, present, problems)]
        if len(kept) < len(f.predictions):
            f.predictions, f.positions, f.invalid = [f.predictions[i] for i in kept], kept, True
    columns = _convert(parsed, rows, n_categories)
    assert columns is not None, "diagnosed predictions must convert"  # noqa: S101 - internal invariant
    return columns


def _convert(parsed: list["ParsedFile"], rows: np.ndarray, n_categories: int) -> BoxColumns | None:
    """Columns of well-formed predictions, or None when any field has the wrong type or shape."""
    preds = [p for f in parsed for p in f.predictions]
    try:
        if not all(p.keys() <= ALLOWED_KEYS for p in preds):
            return None
        xywh = _numbers([p["bbox"] for p in preds], (4,), "if")
        score = _numbers([p["score"] for p in preds], (), "if")
        category = _numbers([p["category_id"] for p in preds], (), "i")
        probs = [p.get("probabilities") for p in preds]
        extra = {key: [p.get(key) for p in preds] for key in UNCERTAINTY_KEYS}
    except (AttributeError, KeyError, TypeError):
        return None
    matrix = None if all(v is None for v in probs) else _numbers(probs, (n_categories,), "if")
    if xywh is None or score is None or category is None or (matrix is None and any(v is not None for v in probs)):
        return None
    uncertainty = {}
    for key, values in extra.items():
        if all(v is None for v in values):
            continue
        array = _numbers(values, UNCERTAINTY_KEYS[key], "if")
        if array is None:  # missing on some boxes, or not numbers of the right shape: diagnosed per prediction
            return None
        uncertainty[key] = array.astype(np.float64).reshape(len(preds), *UNCERTAINTY_KEYS[key])
    counts = np.array([len(f.predictions) for f in parsed], dtype=np.int64)
    positions = [np.arange(len(f.predictions)) if f.positions is None else np.array(f.positions) for f in parsed]
    return BoxColumns(
        file=np.repeat(np.arange(len(parsed)), counts),
        index=np.concatenate(positions).astype(np.int64) if positions else np.zeros(0, np.int64),
        frame=np.repeat(rows, counts).astype(np.int64),
        xywh=xywh.astype(np.float64).reshape(-1, 4),
        score=score.astype(np.float64),
        category_id=category.astype(np.int64),
        probabilities=None if matrix is None else matrix.astype(np.float64).reshape(len(preds), n_categories),
        uncertainty=uncertainty,
    )


def _numbers(values: list, shape: tuple, kinds: str) -> np.ndarray | None:
    """`values` as an array of numbers of the given row shape, or None (strings, bools, ragged…)."""
    if not values:
        return np.zeros((0, *shape))
    try:
        array = np.array(values)
    except (ValueError, TypeError):
        return None
    if array.dtype.kind not in kinds or array.shape[1:] != shape:
        return None
    return array


_FIELD_RULES = (
    ("category_id", "an integer category id", lambda v: type(v) is int),
    ("score", "a number in [0, 1]", lambda v: type(v) in NUMBER),
    ("bbox", "[x, y, w, h], four numbers in pixels", lambda v: type(v) is list and len(v) == 4 and all(type(x) in NUMBER for x in v)),
)


def _prediction_ok(p: object, where: str, file: str, n_categories: int, present: set[str], problems: Problems) -> bool:
    """Report every malformed field of one prediction; True when it has none."""
    if not isinstance(p, dict):
        problems.add(file, where, "an object {category_id, bbox, score}", shown(p))
        return False
    ok = True
    for key in sorted(set(p) - ALLOWED_KEYS):
        problems.add(file, f"{where}.{key}", f"only {', '.join(PREDICTION_KEYS)}", f"unknown key {key!r}{did_you_mean(key, PREDICTION_KEYS)}")
        ok = False
    for key, expected, valid in _FIELD_RULES:
        if key not in p:
            problems.add(file, f"{where}.{key}", expected, "nothing")
            ok = False
        elif not valid(p[key]):
            problems.add(file, f"{where}.{key}", expected, shown(p[key]))
            ok = False
    ok = _probabilities_ok(p.get("probabilities"), f"{file}", f"{where}.probabilities", n_categories, "probabilities" in present, problems) and ok
    for key, shape in UNCERTAINTY_KEYS.items():
        ok = _uncertainty_ok(p.get(key), file, f"{where}.{key}", shape, key in present, problems) and ok
    return ok


def _uncertainty_ok(value: object, file: str, where: str, shape: tuple, expected_here: bool, problems: Problems) -> bool:
    """One optional uncertainty field: on every box of the task or on none, numbers of its shape."""
    if value is None:
        if expected_here:
            problems.add(file, where, "a value on every box of the task, as other boxes have", "none on this box")
        return not expected_here
    if shape == () and type(value) not in NUMBER:
        problems.add(file, where, "a number", shown(value))
        return False
    if shape != () and (type(value) is not list or len(value) != shape[0] or not all(type(v) in NUMBER for v in value)):
        problems.add(file, where, f"a list of {shape[0]} numbers (x0, y0, x1, y1 in pixels)", shown(value))
        return False
    return True


def _probabilities_ok(value: object, file: str, where: str, n_categories: int, with_probs: bool, problems: Problems) -> bool:
    if value is None:
        if with_probs:
            problems.add(file, where, "a probability vector on every box of the task, as other boxes have", "none on this box")
        return not with_probs
    if type(value) is not list or not all(type(v) in NUMBER for v in value):
        problems.add(file, where, "a list of numbers", shown(value))
        return False
    if len(value) != n_categories:
        problems.add(file, where, f"{n_categories} values, one per category", f"{len(value)} values")
        return False
    return True


def check_boxes(columns: BoxColumns, files: np.ndarray, invalid: np.ndarray, rows: np.ndarray, frames: Frames, schema: "PredictionSchema", problems: Problems) -> np.ndarray:
    """Check every box; return, per file (`columns.file` indexes `files`), whether it is usable:
    not `invalid` already, free of problems, and with a sample (`rows` >= 0)."""
    good = ~np.asarray(invalid, dtype=bool) & (rows >= 0)
    for key, expected, bad, got in _box_checks(columns, frames, schema):
        for i in np.flatnonzero(bad):
            f = columns.file[i]
            problems.add(str(files[f]), f"predictions[{columns.index[i]}].{key}", expected, got(i))
            good[f] = False
    return good


def _box_checks(columns: BoxColumns, frames: Frames, schema: "PredictionSchema"):
    """(field, expected, bad mask, got(i)) for each numeric rule."""
    xywh, score = columns.xywh, columns.score
    shown_box = lambda i: _vector(xywh[i])  # noqa: E731
    finite = np.isfinite(xywh).all(axis=1)
    width, height = _image_sizes(columns, frames)
    outside = finite & (width > 0) & ((xywh[:, 0] + xywh[:, 2] > width + OUTSIDE_TOLERANCE) | (xywh[:, 1] + xywh[:, 3] > height + OUTSIDE_TOLERANCE))
    yield "bbox", "finite numbers", ~finite, shown_box
    yield "bbox", "x >= 0 and y >= 0", finite & ((xywh[:, 0] < 0) | (xywh[:, 1] < 0)), shown_box
    yield "bbox", "w >= 1 and h >= 1 pixel", finite & ((xywh[:, 2] < 1) | (xywh[:, 3] < 1)), shown_box
    yield "bbox", "a box inside the image", outside, lambda i: f"{shown_box(i)} in an image of {width[i]}x{height[i]}"
    yield "score", "a number in [0, 1]", ~((score >= 0) & (score <= 1)), lambda i: _num(float(score[i]))
    known = np.isin(columns.category_id, schema.ids)
    yield "category_id", f"one of the schema's ids {_ids(schema)}", ~known, lambda i: str(columns.category_id[i])
    if columns.probabilities is not None:
        yield from _probability_checks(columns.probabilities)
    for key, values in columns.uncertainty.items():
        flat = values.reshape(len(values), -1)
        bad = ~(np.isfinite(flat) & (flat >= 0)).all(axis=1)
        yield key, "finite numbers >= 0 (a standard deviation)", bad, lambda i, flat=flat: _vector(flat[i]) if flat.shape[1] > 1 else _num(flat[i, 0])


def _probability_checks(matrix: np.ndarray):
    in_range = np.all((matrix >= 0) & (matrix <= 1), axis=1)
    yield "probabilities", "values in [0, 1]", ~in_range, lambda i: _vector(matrix[i])
    sums = matrix.sum(axis=1)
    off = in_range & (np.abs(sums - 1) > SUM_TOLERANCE)
    yield "probabilities", f"values summing to 1 (within {SUM_TOLERANCE})", off, lambda i: f"a sum of {sums[i]:.4g}"


def _image_sizes(columns: BoxColumns, frames: Frames) -> tuple[np.ndarray, np.ndarray]:
    """Width and height of each box's image (0 when unknown or the file has no sample)."""
    known = columns.frame >= 0
    rows = np.where(known, columns.frame, 0)
    width = np.where(known, frames.width[rows] if len(frames) else 0, 0)
    height = np.where(known, frames.height[rows] if len(frames) else 0, 0)
    return width, height


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def _vector(values: np.ndarray) -> str:
    shown = ", ".join(_num(v) for v in values[:6])
    return f"[{shown}{', ...' if len(values) > 6 else ''}]"


def _ids(schema: "PredictionSchema") -> str:
    ids = schema.ids.tolist()
    return str(ids) if len(ids) <= 8 else f"[{ids[0]}, ..., {ids[-1]}]"
