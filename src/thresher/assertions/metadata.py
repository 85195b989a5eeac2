"""What `thresher assert` writes: Lightly metadata per frame and the imputed boxes.

Seed 000 writes `flickering` = 1.0 for a flagged frame and 0.5 otherwise (so unflagged
frames stay selectable by a WEIGHTS strategy), with the schema entry below. thresher adds
one `<name>_severity` number per assertion, so a selection config can weigh by how bad a
frame is, not only whether it is flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from thresher.assertions.result import AssertionResult
from thresher.detections import Detections
from thresher.errors import SchemaError
from thresher.frames import Frames

#: Seed 000's schema entry for the flag.
FLICKERING_SCHEMA = {"name": "Flickering", "path": "flickering", "defaultValue": 0.5, "valueDataType": "NUMERIC_FLOAT"}


def metadata_paths(names: Sequence[str]) -> list[str]:
    """The metadata keys the assertions `names` write: `flickering` for flicker, `<name>_severity` for each.

    >>> metadata_paths(["flicker", "multibox"])
    ['flickering', 'flicker_severity', 'multibox_severity']
    """
    return [path for name in names for path in (["flickering"] if name == "flicker" else []) + [f"{name}_severity"]]


def metadata_schema(results: Sequence[AssertionResult]) -> list[dict]:
    """Entries of Lightly's metadata `schema.json` for these results (flicker: flag + severity)."""
    schema = []
    for result in results:
        if result.name == "flicker":
            schema.append(dict(FLICKERING_SCHEMA))
        title = result.name.replace("_", " ").capitalize()
        schema.append(
            {"name": f"{title} severity", "path": f"{result.name}_severity", "defaultValue": 0.0, "valueDataType": "NUMERIC_FLOAT"}
        )
    return schema


def metadata_records(results: Sequence[AssertionResult], frames: Frames) -> list[dict]:
    """One Lightly metadata record per frame: `{"file_name", "type", "metadata": {...}}`.

    `file_name` is the frame's Lightly name and `type` its kind ("frame", "image" or
    "crop"); `metadata` holds `flickering` (1.0 flagged, 0.5 not) for a flicker result and
    `<name>_severity` for every result.
    """
    columns: dict[str, list[float]] = {}
    for result in results:
        values = result.severity.align(frames.id).columns[result.name]
        if np.isnan(values).any():
            raise SchemaError(f"{result.name}: the result does not cover every frame given")
        if result.name == "flicker":
            columns["flickering"] = np.where(values > 0, 1.0, 0.5).tolist()
        columns[f"{result.name}_severity"] = values.tolist()
    keys = list(columns)
    rows = zip(*columns.values()) if keys else ([] for _ in range(len(frames)))
    return [
        {"file_name": name, "type": kind, "metadata": dict(zip(keys, values))}
        for name, kind, values in zip(frames.file_name.tolist(), frames.kind.tolist(), rows)
    ]


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
