"""`thresher assert`: run model assertions on a prediction task and write what they find.

Assertions belong to a task. For the frames the task has predictions for (its files, and the
frames of its videos without a file, which have no object: `thresher.io.coverage`), this
writes Lightly metadata and the imputed boxes:

- seed 000's keys, which a selection config reads (`flickering` = 1.0 flagged / 0.5 not, and
  one `<assertion>_severity` per assertion); they hold the results of the task asserted last;
- the same values under `assertions.<task>.` (`assertions.<task>.flickering`, ...), so the
  results of two tasks never overwrite each other; when the seed keys change task,
  `AssertReport.notes` says so;
- the imputed boxes as their own prediction task `<task>-imputed` (pre-labels for the exports);
  a `<task>-imputed` folder holding files that the record does not name as thresher's is the
  user's own task: the call is refused before anything is written (`require_own_imputed_task`);
- a record of the task, the assertions, every parameter and a digest of the task's
  predictions (`thresher.io.assertion_record`); with `reuse`, a call whose task, parameters
  and predictions match the record, with the outputs untouched since, computes nothing.

A frame the task does not cover (another video, an image without a file) that still holds
values from an earlier call gets the defaults (0.5 / 0), so the seed keys never mix tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import hashlib

import numpy as np
import orjson

from thresher.assertions import AssertionResult, imputed_boxes
from thresher.assertions.metadata import metadata_schema, task_prefix
from thresher.assertions.parameters import assertion_function, resolve_parameters
from thresher.detections import Detections
from thresher.errors import UsageError
from thresher.frames import Frames
from thresher.io.assertion_record import RECORD_FILE, outputs_digest, read_record, write_record
from thresher.io.datasource import Datasource
from thresher.io.lightly_metadata import METADATA_DIR, MetadataField, has_path, read_metadata_schema, write_metadata
from thresher.io.lightly_predictions import (
    PredictionTask,
    predicted_frames,
    predicted_part,
    prediction_file,
    read_predictions,
    task_dir,
    write_prediction_files,
    write_predictions,
)
from thresher.io.names import json_name
from thresher.io.problems import Problems
from thresher.io.storage import Location

IMPUTED_SUFFIX = "-imputed"


@dataclass
class AssertReport:
    """What an `assert_task` call did.

    frames: the frames the task has predictions for (those asserted); results: one per
    assertion (empty when `reused`); parameters: every parameter of each assertion;
    flagged: frames flagged per assertion; read_as_empty: frames without a prediction file
    that took part as frames with no object; notes: what a user should know (the seed keys
    changed task, ...); detections and class_names: the task's boxes on `frames`; predictions:
    the task as read.
    """

    task: str
    frames: Frames
    results: list[AssertionResult]
    imputed_task: str
    parameters: dict[str, dict]
    seed_compatible: bool = False
    flagged: dict[str, int] = field(default_factory=dict)
    read_as_empty: int = 0
    reused: bool = False
    notes: list[str] = field(default_factory=list)
    detections: Detections = field(default_factory=Detections.empty)
    class_names: dict[int, str] = field(default_factory=dict)
    predictions: PredictionTask | None = None  # the task as read (all its frames), for callers that read it again


def assert_task(
    source: Datasource,
    task: str,
    names: Sequence[str] = ("flicker",),
    *,
    seed_compatible: bool = False,
    parameters: Mapping[str, Mapping[str, object]] | None = None,
    cache: Path | None = None,
    frames: Frames | None = None,
    reuse: bool = False,
    progress: Callable[[int, int], None] | None = None,
    not_predicted: np.ndarray | None = None,
) -> AssertReport:
    """Run the named assertions on `task` and write metadata, `<task>-imputed` and the record.

    Args:
        names: assertions among flicker, appear, multibox, class_switch.
        seed_compatible: flicker exactly as seed 000's code (window 3, IoU thresholds
            `iou_thresh_tracking` / `iou_thresh_assertion` in `parameters["flicker"]`).
        parameters: keyword arguments per assertion name (checked first: ConfigError).
        cache: folder of the columnar cache of prediction tasks.
        frames: the datasource's frames when already enumerated (default: enumerated here).
        reuse: compute nothing when the record shows the same task, assertions, parameters
            and predictions, with the outputs unchanged since.
        progress: called with (prediction files read, files in the task).
        not_predicted: boolean per row of `frames`, the frames the caller knows the task's
            model did not predict (a run's pretagging on every N-th frame): without a
            prediction file they take no part (unknown), instead of counting as no object.
    """
    names = list(dict.fromkeys(names))
    resolved = resolve_parameters(names, parameters, seed_compatible=seed_compatible)
    lightly = source.lightly
    require_own_imputed_task(lightly, task)
    frames = source.frames(Problems()) if frames is None else frames
    imputed_task = f"{task}{IMPUTED_SUFFIX}"
    record = read_record(lightly)
    loaded = read_predictions(lightly, task, frames, Problems(), cache=cache, progress=progress)
    covered, unknown = _covered(loaded, not_predicted)
    wanted = {
        "names": names,
        "seed_compatible": seed_compatible,
        "parameters": resolved,
        "imputed_task": imputed_task,
        "predictions": loaded.files_digest,
        "unknown_frames": unknown,
    }
    asserted, detections = predicted_part(loaded, covered)
    kept = _reusable(lightly, record, task, wanted) if reuse else None
    if kept is not None:
        return AssertReport(
            task,
            asserted,
            [],
            imputed_task,
            resolved,
            seed_compatible,
            dict(kept["flagged"]),
            int(kept["read_as_empty"]),
            reused=True,
            detections=detections,
            class_names=loaded.schema.names,
            predictions=loaded,
        )
    results = [assertion_function(name, seed_compatible)(detections, asserted, **resolved[name]) for name in names]
    if imputed_task not in record["imputed_tasks"]:  # thresher's before any of its files is written (an interrupted call included)
        record["imputed_tasks"] = sorted([*record["imputed_tasks"], imputed_task])
        write_record(lightly, record)
    _write_metadata(lightly, results, frames, covered, task)
    _write_imputed(lightly, loaded, imputed_task, frames, covered, imputed_boxes(results))
    without_file = int((covered & np.isin(frames.file_name, np.asarray(loaded.missing, dtype=str))).sum())
    flagged = {r.name: int(r.flagged.sum()) for r in results}
    notes = _notes(record, task, names)
    record["tasks"][task] = {**wanted, "frames": int(covered.sum()), "read_as_empty": without_file, "flagged": flagged, "outputs": outputs_digest(lightly, imputed_task)}
    record["seed_keys"] = task
    write_record(lightly, record)
    return AssertReport(
        task,
        asserted,
        results,
        imputed_task,
        resolved,
        seed_compatible,
        flagged,
        without_file,
        notes=notes,
        detections=detections,
        class_names=loaded.schema.names,
        predictions=loaded,
    )


def require_own_imputed_task(lightly: Location, task: str) -> None:
    """UsageError when the folder of `<task>-imputed` holds files (a schema.json or prediction
    files) but the assertion record does not name it as written by thresher: the user's own
    task of that name, which the assertions would overwrite and empty.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / ".lightly/predictions/det-imputed").mkdir(parents=True)
    >>> _ = (folder / ".lightly/predictions/det-imputed/schema.json").write_text("{}")
    >>> require_own_imputed_task(Datasource(folder).lightly, "det")
    Traceback (most recent call last):
    thresher.errors.UsageError: ...: task 'det-imputed' exists and was not written by thresher's assertions ...
    """
    imputed = f"{task}{IMPUTED_SUFFIX}"
    if imputed in read_record(lightly)["imputed_tasks"] or not lightly.files(task_dir(imputed)):
        return
    raise UsageError(
        f"{lightly.display(task_dir(imputed))}: task {imputed!r} exists and was not written by thresher's assertions "
        f"(not named in {lightly.display(RECORD_FILE)}); the assertions on task {task!r} write their imputed boxes "
        "to that task and would overwrite its files: rename that folder to keep it, or remove it to let them write there"
    )


def _covered(loaded: PredictionTask, not_predicted: np.ndarray | None) -> tuple[np.ndarray, str | None]:
    """The rows of `loaded.frames` asserted (`predicted_frames`, less the frames `not_predicted`
    without a file) and a digest of the names of those left out (None when none is)."""
    covered = predicted_frames(loaded)
    if not_predicted is None:
        return covered, None
    unknown = covered & np.asarray(not_predicted, dtype=bool) & np.isin(loaded.frames.file_name, np.asarray(loaded.missing, dtype=str))
    if not unknown.any():
        return covered, None
    names = "\n".join(sorted(loaded.frames.file_name[unknown].tolist()))
    return covered & ~unknown, hashlib.sha256(names.encode()).hexdigest()


def _reusable(lightly, record: dict, task: str, wanted: dict) -> dict | None:
    """The record's entry of `task` when it matches `wanted` and nothing was written since."""
    entry = record["tasks"].get(task)
    if entry is None or record.get("seed_keys") != task:
        return None
    if any(entry.get(k) != v for k, v in wanted.items()):
        return None
    return entry if entry.get("outputs") == outputs_digest(lightly, wanted["imputed_task"]) else None


def _notes(record: dict, task: str, names: list[str]) -> list[str]:
    """Tell the user when the seed keys change task, and which keys still hold another task's values."""
    before = record.get("seed_keys")
    if before is None or before == task or before not in record["tasks"]:
        return []
    notes = [f"flickering and the *_severity metadata keys now hold the assertions of task {task!r}; those of task {before!r} stay under {task_prefix(before)}*"]
    stale = [n for n in record["tasks"][before].get("names", []) if n not in names]
    if stale:
        notes.append(f"{', '.join(f'{n}_severity' for n in stale)}: still task {before!r}'s values (not computed for {task!r})")
    return notes


def _write_metadata(lightly, results: list[AssertionResult], frames: Frames, covered: np.ndarray, task: str) -> None:
    """Seed keys and the task's keys for the covered frames; defaults for uncovered frames that
    already have a metadata file (they may hold an earlier call's values)."""
    schema = metadata_schema(results) + metadata_schema(results, task)
    fields = tuple(MetadataField(f["name"], f["path"], f["defaultValue"], f["valueDataType"]) for f in schema)
    rows = np.flatnonzero(covered | _holding(lightly, frames, ~covered, [f.path for f in fields]))
    position = np.cumsum(covered) - 1  # row of the asserted frames, for covered rows
    values = {}
    for result in results:
        severity = np.where(covered[rows], result.values[position[rows]], 0.0)
        for prefix in ("", task_prefix(task)):
            if result.name == "flicker":
                values[f"{prefix}flickering"] = np.where(severity > 0, 1.0, 0.5)
            values[f"{prefix}{result.name}_severity"] = severity
    write_metadata(lightly, fields, frames[rows], values)


def _holding(lightly, frames: Frames, rows: np.ndarray, paths: list[str]) -> np.ndarray:
    """Boolean per frame: among `rows`, its metadata file holds one of the dotted `paths`
    (no file is read when the metadata schema lists none of them)."""
    if not {f.path for f in read_metadata_schema(lightly, Problems())} & set(paths):
        return np.zeros(len(frames), dtype=bool)
    existing = set(lightly.files(METADATA_DIR))
    files = {f"{METADATA_DIR}/{json_name(str(frames.file_name[r]))}": r for r in np.flatnonzero(rows).tolist()}
    found = np.zeros(len(frames), dtype=bool)
    for file, raw in lightly.read_many([f for f in files if f in existing]).items():
        try:
            metadata = orjson.loads(raw)["metadata"] if isinstance(raw, bytes) else {}
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue
        found[files[file]] = isinstance(metadata, dict) and any(has_path(metadata, p) for p in paths)
    return found


def _write_imputed(lightly, loaded: PredictionTask, imputed_task: str, frames: Frames, covered: np.ndarray, imputed: Detections) -> None:
    """`<task>-imputed`: a file per covered frame (empty lists too); an older file of a frame
    the task no longer covers is emptied."""
    # imputed boxes carry a class, not a probability vector; `frame` indexes the covered frames
    boxes = imputed.replace(probs=None)
    write_predictions(lightly, PredictionTask(imputed_task, loaded.schema, frames[covered], boxes), skip_unchanged=True)
    on_disk = set(lightly.files(task_dir(imputed_task)))
    stale = [r for r in np.flatnonzero(~covered).tolist() if prediction_file(imputed_task, str(frames.file_name[r])) in on_disk]
    if stale:
        write_prediction_files(lightly, imputed_task, frames, Detections.empty(), rows=np.array(stale), skip_unchanged=True)
