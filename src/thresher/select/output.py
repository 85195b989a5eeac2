"""Selection results for people and other tools: selection.csv, parent frames of crops."""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from thresher.frames import Frames
from thresher.selection import Selection


def parent_frames(frames: Frames, selection: Selection) -> np.ndarray:
    """Ids of the frames the selected samples come from, in first-pick order, no repeats.

    A crop maps to its `parent_id`; an image or frame to itself. At object level this is the
    set of full frames to label (or upload) alongside the selected crops.
    """
    rows = frames.index_of(selection.ids)
    parents = np.where(frames.parent_id[rows] != "", frames.parent_id[rows], frames.id[rows])
    _, first = np.unique(parents, return_index=True)
    return parents[np.sort(first)]


def _cell(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else repr(float(value))
    return str(value)


def write_selection_csv(path: "str | os.PathLike[str]", frames: Frames, selection: Selection,
                        values: Mapping[str, np.ndarray] | None = None) -> Path:
    """Write one row per selected sample, in pick order (preselected samples first).

    Columns: file_name (the Lightly name), kind, video, frame_index, parent_id, objective
    (the combined objective when picked; empty for preselected samples), then one column per
    entry of `values` (e.g. `SelectionOutcome.values`: each strategy's input value). The
    file is written to a temporary name and renamed, so a reader never sees half a file.
    """
    path = Path(path)
    rows = frames.index_of(selection.ids)
    values = dict(values or {})
    for name, column in values.items():
        if len(column) != len(selection):
            raise ValueError(f"values[{name!r}]: expected {len(selection)} entries (one per selected id), got {len(column)}")
    header = ["file_name", "kind", "video", "frame_index", "parent_id", "objective", *values]
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for k, row in enumerate(rows):
            writer.writerow([
                frames.file_name[row], frames.kind[row], frames.video[row], int(frames.frame_index[row]),
                frames.parent_id[row], _cell(selection.objective[k]),
                *(_cell(column[k]) for column in values.values()),
            ])
    os.replace(tmp, path)
    return path
