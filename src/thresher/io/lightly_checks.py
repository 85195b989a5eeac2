"""Task-wide numeric checks of Lightly object-detection predictions, over all boxes at once.

Each failing box becomes one `Problem` naming its file, `predictions[j].<field>`, what was
expected and what came; a file with any problem is unusable as a whole (its sample is
reported invalid rather than kept with some of its boxes silently dropped).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from thresher.boxes import xywh_to_xyxy
from thresher.detections import Detections
from thresher.frames import Frames
from thresher.io.problems import Problems

if TYPE_CHECKING:
    from thresher.io.lightly_predictions import ParsedFile
    from thresher.io.lightly_schema import PredictionSchema

OUTSIDE_TOLERANCE = 0.01  # pixels a box may exceed the image by (rounding of written boxes)
SUM_TOLERANCE = 0.01  # how far a probability vector may sum from 1


@dataclass
class BoxColumns:
    """Every box of a task as columns, with the file and position it came from."""

    file: np.ndarray  # index into the parsed files
    index: np.ndarray  # position in its file's predictions list
    frame: np.ndarray  # row in Frames (-1: the file has no sample)
    xywh: np.ndarray
    score: np.ndarray
    category_id: np.ndarray
    probabilities: list | None

    @classmethod
    def gather(cls, parsed: list["ParsedFile"], rows: np.ndarray) -> "BoxColumns":
        counts = np.array([len(p.bbox) for p in parsed], dtype=np.int64)
        file = np.repeat(np.arange(len(parsed)), counts)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else counts
        index = np.arange(counts.sum()) - np.repeat(starts, counts)
        xywh = np.array([b for p in parsed for b in p.bbox], dtype=np.float64).reshape(-1, 4)
        has_probs = any(p.probabilities is not None for p in parsed)
        probs = [v for p in parsed for v in (p.probabilities or [None] * len(p.bbox))] if has_probs else None
        return cls(
            file=file,
            index=index,
            frame=np.repeat(rows, counts).astype(np.int64),
            xywh=xywh,
            score=np.array([s for p in parsed for s in p.score], dtype=np.float64),
            category_id=np.array([c for p in parsed for c in p.category_id], dtype=np.int64),
            probabilities=probs,
        )

    def detections(self, good_file: np.ndarray) -> Detections:
        keep = good_file[self.file] if len(self.file) else np.zeros(0, bool)
        probs = None
        if self.probabilities is not None:
            kept = [p for p, k in zip(self.probabilities, keep) if k]
            probs = np.array(kept, dtype=np.float64).reshape(len(kept), -1) if kept else np.zeros((0, 0))
        return Detections(
            frame=self.frame[keep],
            xyxy=xywh_to_xyxy(self.xywh[keep]),
            score=self.score[keep],
            class_id=self.category_id[keep],
            probs=probs,
        )


def check_boxes(
    columns: BoxColumns, parsed: list["ParsedFile"], rows: np.ndarray, frames: Frames, schema: "PredictionSchema", problems: Problems
) -> np.ndarray:
    """Check every box; return, per parsed file, whether it is usable (free of problems, has a sample)."""
    good = np.array([not p.invalid for p in parsed], dtype=bool) & (rows >= 0)
    for field, expected, bad, got in _box_checks(columns, frames, schema):
        for i in np.flatnonzero(bad):
            f = columns.file[i]
            problems.add(parsed[f].file, f"predictions[{columns.index[i]}].{field}", expected, got(i))
            good[f] = False
    return good


def _box_checks(columns: BoxColumns, frames: Frames, schema: "PredictionSchema"):
    """(field, expected, bad mask, got(i)) for each numeric rule."""
    xywh, score = columns.xywh, columns.score
    shown_box = lambda i: _vector(xywh[i])  # noqa: E731
    finite = np.isfinite(xywh).all(axis=1)
    width, height = _image_sizes(columns, frames)
    outside = finite & (width > 0) & (
        (xywh[:, 0] + xywh[:, 2] > width + OUTSIDE_TOLERANCE) | (xywh[:, 1] + xywh[:, 3] > height + OUTSIDE_TOLERANCE)
    )
    yield "bbox", "finite numbers", ~finite, shown_box
    yield "bbox", "x >= 0 and y >= 0", finite & ((xywh[:, 0] < 0) | (xywh[:, 1] < 0)), shown_box
    yield "bbox", "w >= 1 and h >= 1 pixel", finite & ((xywh[:, 2] < 1) | (xywh[:, 3] < 1)), shown_box
    yield "bbox", "a box inside the image", outside, lambda i: f"{shown_box(i)} in an image of {width[i]}x{height[i]}"
    yield "score", "a number in [0, 1]", ~((score >= 0) & (score <= 1)), lambda i: _num(score[i])
    known = np.isin(columns.category_id, schema.ids)
    yield "category_id", f"one of the schema's ids {_ids(schema)}", ~known, lambda i: str(columns.category_id[i])
    if columns.probabilities is not None:
        yield from _probability_checks(columns.probabilities, len(schema.categories))


def _probability_checks(probabilities: list, n_categories: int):
    lengths = np.array([-1 if p is None else len(p) for p in probabilities], dtype=np.int64)
    yield "probabilities", "a probability vector on every box of the task", lengths < 0, lambda i: "none on this box"
    wrong_length = (lengths >= 0) & (lengths != n_categories)
    yield "probabilities", f"{n_categories} values, one per category", wrong_length, lambda i: f"{lengths[i]} values"
    fits = lengths == n_categories
    matrix = np.zeros((len(probabilities), n_categories))
    if fits.any():
        matrix[fits] = np.array([p for p, ok in zip(probabilities, fits) if ok], dtype=np.float64)
    in_range = np.all((matrix >= 0) & (matrix <= 1), axis=1)
    yield "probabilities", "values in [0, 1]", fits & ~in_range, lambda i: _vector(matrix[i])
    sums = matrix.sum(axis=1)
    off = fits & in_range & (np.abs(sums - 1) > SUM_TOLERANCE)
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
