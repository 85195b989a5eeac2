"""Selection results for people and other tools: selection.csv, parent frames of crops."""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from thresher.frames import Frames
from thresher.io.csv_cells import csv_cell
from thresher.selection_table import Selection


def parent_frames(frames: Frames, selection: Selection) -> np.ndarray:
    """Ids of the frames the selected samples come from, in first-pick order, no repeats.

    A crop maps to its `parent_id`; an image or frame to itself. At object level this is the
    set of full frames to label (or upload) alongside the selected crops.
    """
    rows = frames.index_of(selection.ids)
    parents = np.where(frames.parent_id[rows] != "", frames.parent_id[rows], frames.id[rows])
    _, first = np.unique(parents, return_index=True)
    return parents[np.sort(first)]


def write_selection_csv(
    path: "str | os.PathLike[str]",
    frames: Frames,
    selection: Selection,
    values: Mapping[str, np.ndarray] | None = None,
    objects: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Write one row per selected sample, in pick order (preselected samples first).

    Columns: file_name (the Lightly name), kind, video, frame_index, parent_id, then the
    columns of `objects` (object level: `thresher.objects.object_columns` of the picked crops,
    x1 y1 x2 y2 class score), objective (the combined objective when picked; empty for
    preselected samples), then one column per entry of `values` (e.g.
    `SelectionOutcome.values`: each strategy's input value). Floats are written at their own
    precision (`thresher.io.csv_cells`: a float32 12.3 as `12.3`). The file is written to a
    temporary name and renamed, so a reader never sees half a file.
    """
    path = Path(path)
    rows = frames.index_of(selection.ids)
    values, objects = dict(values or {}), dict(objects or {})
    for kind, columns in (("values", values), ("objects", objects)):
        for name, column in columns.items():
            if len(column) != len(selection):
                raise ValueError(f"{kind}[{name!r}]: expected {len(selection)} entries (one per selected id), got {len(column)}")
    header = ["file_name", "kind", "video", "frame_index", "parent_id", *objects, "objective", *values]
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for k, row in enumerate(rows):
            writer.writerow(
                [
                    frames.file_name[row],
                    frames.kind[row],
                    frames.video[row],
                    int(frames.frame_index[row]),
                    frames.parent_id[row],
                    *(csv_cell(column[k]) for column in objects.values()),
                    csv_cell(selection.objective[k]),
                    *(csv_cell(column[k]) for column in values.values()),
                ]
            )
    os.replace(tmp, path)
    return path


def write_selection_json(path: "str | os.PathLike[str]", outcome, *, seed: int, extra: Mapping[str, object] | None = None) -> Path:
    """Write the run's summary: config, seed, counts, stop reason, timings (+ `extra`).

    `outcome` is a `SelectionOutcome`; written to a temporary name and renamed.
    """
    import json

    path = Path(path)
    summary = {
        "config": dict(outcome.selection.config),
        "seed": seed,
        "counts": dict(outcome.counts),
        "stop_reason": outcome.stop_reason,
        "timings_seconds": dict(outcome.timings),
        **dict(extra or {}),
    }
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
