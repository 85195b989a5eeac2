"""What `thresher assert` writes: Lightly metadata per frame and the imputed boxes.

Seed 000 writes `flickering` = 1.0 for a flagged frame and 0.5 otherwise (so unflagged
frames stay selectable by a WEIGHTS strategy), with the schema entry below. thresher adds
one `<name>_severity` number per assertion, so a selection config can weigh by how bad a
frame is, not only whether it is flagged. The same keys under `assertions.<task>.` keep each
task's results apart (`thresher.assertions.task`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from thresher.assertions.result import AssertionResult
from thresher.detections import Detections
from thresher.errors import SchemaError
from thresher.frames import Frames

#: Seed 000's schema entry for the flag.
FLICKERING_SCHEMA = {"name": "Flickering", "path": "flickering", "defaultValue": 0.5, "valueDataType": "NUMERIC_FLOAT"}


def metadata_paths(names: Sequence[str], task: str | None = None) -> list[str]:
    """The metadata keys the assertions `names` write: `flickering` for flicker, `<name>_severity` for
    each; under `assertions.<task>.` for a task's own copy (`metadata_schema`).

    >>> metadata_paths(["flicker", "multibox"])
    ['flickering', 'flicker_severity', 'multibox_severity']
    """
    prefix = "" if task is None else task_prefix(task)
    return [prefix + path for name in names for path in (["flickering"] if name == "flicker" else []) + [f"{name}_severity"]]


def task_key(task: str) -> str:
    """The task's name as one key of a dotted metadata path (characters other than letters,
    digits, '_' and '-' become '_')."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", task)


def task_prefix(task: str) -> str:
    """Where the copy of a task's assertion results lives in the metadata: `assertions.<task>.`."""
    return f"assertions.{task_key(task)}."


def metadata_schema(results: Sequence[AssertionResult], task: str | None = None) -> list[dict]:
    """Entries of Lightly's metadata `schema.json` for these results (flicker: flag + severity).

    task: None gives seed 000's keys (`flickering`, `<name>_severity`); a task name gives the
    task's own copy (`assertions.<task>.flickering`, ...), named "... (<task>)".
    """
    prefix, suffix = ("", "") if task is None else (task_prefix(task), f" ({task})")
    schema = []
    for result in results:
        if result.name == "flicker":
            schema.append({**FLICKERING_SCHEMA, "name": f"Flickering{suffix}", "path": f"{prefix}flickering"})
        title = result.name.replace("_", " ").capitalize()
        schema.append({"name": f"{title} severity{suffix}", "path": f"{prefix}{result.name}_severity", "defaultValue": 0.0, "valueDataType": "NUMERIC_FLOAT"})
    return schema


def metadata_records(results: Sequence[AssertionResult], frames: Frames, task: str | None = None) -> list[dict]:
    """One Lightly metadata record per frame: `{"file_name", "type", "metadata": {...}}`.

    `file_name` is the frame's Lightly name and `type` its kind ("frame", "image" or
    "crop"); `metadata` holds `flickering` (1.0 flagged, 0.5 not) for a flicker result and
    `<name>_severity` for every result, under `assertions.<task>.` when `task` is given.
    """
    prefix = "" if task is None else task_prefix(task)
    columns: dict[str, list[float]] = {}
    for result in results:
        values = result.severity.align(frames.id).columns[result.name]
        if np.isnan(values).any():
            raise SchemaError(f"{result.name}: the result does not cover every frame given")
        if result.name == "flicker":
            columns[f"{prefix}flickering"] = np.where(values > 0, 1.0, 0.5).tolist()
        columns[f"{prefix}{result.name}_severity"] = values.tolist()
    keys = list(columns)
    rows = zip(*columns.values()) if keys else ([] for _ in range(len(frames)))
    return [{"file_name": name, "type": kind, "metadata": _nested(dict(zip(keys, values)))} for name, kind, values in zip(frames.file_name.tolist(), frames.kind.tolist(), rows)]


def _nested(flat: dict[str, float]) -> dict:
    """Dotted paths as nested dicts, as Lightly metadata files hold them."""
    out: dict = {}
    for path, value in flat.items():
        *parents, leaf = path.split(".")
        node = out
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return out


def imputed_boxes(results: Sequence[AssertionResult]) -> Detections:
    """The weak labels of all results in one table (rows of the same `Frames`), by frame."""
    return Detections.concat([r.weak_labels for r in results]).sorted_by_frame()


@dataclass(frozen=True, eq=False)
class LightlyOutputs:
    """Everything `thresher assert` writes for some results over some frames.

    schema: entries of `.lightly/metadata/schema.json`.
    records: one `{"file_name", "type", "metadata"}` per frame (`.lightly/metadata/<name>.json`).
    imputed: the weak labels, to write as the prediction task `<task>-imputed`.
    """

    schema: list[dict]
    records: list[dict]
    imputed: Detections


def lightly_outputs(results: Sequence[AssertionResult], frames: Frames) -> LightlyOutputs:
    """Metadata schema, per-frame records and imputed boxes of `results` over `frames`."""
    return LightlyOutputs(metadata_schema(results), metadata_records(results, frames), imputed_boxes(results))
