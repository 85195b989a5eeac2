"""What one greedy step picks: a sample, or a whole sequence of frames.

Samples are sorted by id. Without sequences each sample is a unit. With
`selected_sequence_length` L, the frames of one video with frame_index // L equal form a
sequence (the last one of a video may be shorter); units are ordered by their smallest
sample id, so ties between sequences go to the sequence holding the lowest id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from thresher.frames import Frames
from thresher.selection_table import Selection
from thresher.select.values import InputValues


@dataclass(frozen=True, eq=False)
class Units:
    """Grouping of the id-sorted samples into units.

    sample_ids: all sample ids, sorted. unit: unit of each sample. length: the sequence
    length (1 = every sample is its own unit). order / starts: samples sorted by (unit,
    frame_index) and where each unit begins in that order.
    """

    sample_ids: np.ndarray
    unit: np.ndarray
    length: int
    order: np.ndarray
    starts: np.ndarray

    @property
    def count(self) -> int:
        return len(self.starts)

    def members(self, u: int) -> np.ndarray:
        """Sample rows of unit u, in frame order."""
        end = self.starts[u + 1] if u + 1 < self.count else len(self.order)
        return self.order[self.starts[u] : end]

    def any_of(self, sample_mask: np.ndarray) -> np.ndarray:
        """Units holding at least one sample of the mask."""
        out = np.zeros(self.count, bool)
        out[self.unit[sample_mask]] = True
        return out

    def aggregate(self, values: InputValues) -> InputValues:
        """Unit values: mean of scalars (NaN ignored), sum of class mass, mean of vectors."""
        if self.length == 1:
            return values
        v = values.values[self.order]
        if values.kind == "scalar":
            finite = np.isfinite(v)
            sums = np.add.reduceat(np.where(finite, v, 0.0), self.starts)
            counts = np.add.reduceat(finite.astype(np.float64), self.starts)
            with np.errstate(invalid="ignore", divide="ignore"):
                out = np.where(counts > 0, sums / np.where(counts > 0, counts, 1), np.nan)
        elif values.kind == "classes":
            out = np.add.reduceat(v, self.starts, axis=0)
        else:
            mean = np.add.reduceat(v.astype(np.float64), self.starts, axis=0)
            norms = np.linalg.norm(mean, axis=1, keepdims=True)
            out = (mean / np.where(norms > 0, norms, 1)).astype(np.float32)
        return InputValues(values.kind, out, values.label, values.class_names, values.query)

    def selection(self, preselected: np.ndarray, picked: np.ndarray, products: np.ndarray, config: dict[str, Any]) -> tuple[Selection, np.ndarray, np.ndarray]:
        """The Selection (preselected first, then the picked units' samples in frame order),
        the sample row of each selected id and the unit it came from."""
        pre_rows = np.searchsorted(self.sample_ids, preselected).astype(np.int64)
        parts = [pre_rows] + [self.members(int(u)) for u in picked]
        rows = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        objective = np.concatenate([np.full(len(pre_rows), np.nan)] + [np.full(len(self.members(int(u))), p) for u, p in zip(picked, products)])
        selection = Selection(self.sample_ids[rows], objective, config)
        return selection, rows, self.unit[rows]


def sample_units(frames: Frames) -> Units:
    """Every sample its own unit, in id order."""
    ids = np.sort(frames.id)
    n = len(ids)
    return Units(ids, np.arange(n), 1, np.arange(n), np.arange(n))


def sequence_units(frames: Frames, length: int) -> Units:
    """Sequences of `length` consecutive frame indices per video (images: one per image)."""
    sort = np.argsort(frames.id, kind="stable")
    ids, video, index = frames.id[sort], frames.video[sort], frames.frame_index[sort]
    _, video_code = np.unique(video, return_inverse=True)
    chunk = index // length
    key = video_code.astype(np.int64) * (int(chunk.max(initial=0)) + 1) + chunk
    _, raw = np.unique(key, return_inverse=True)
    first = np.full(raw.max(initial=-1) + 1, len(ids), np.int64)
    np.minimum.at(first, raw, np.arange(len(ids)))
    rank = np.empty_like(first)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    unit = rank[raw]
    order = np.lexsort((index, unit))
    starts = np.searchsorted(unit[order], np.arange(len(first)))
    return Units(ids, unit, length, order, starts)
