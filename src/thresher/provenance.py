"""What produced a prediction task's files: reuse by content, not by who wrote them.

`thresher predict` and a run's pretagging write the same task by default
(`lightly_pretagging`) and record, per task, the model and options that produced it and the size
and modification time of every media file they process
(`<workspace>/predictions/<task>.json`, outside `cache/`: deleting the caches keeps it), before
writing any prediction file (`prepare_task`); a task that exists without such a record (the
user's own predictions) is refused, never added to nor emptied (`require_own_task`). Either then reuses the other's prediction files for
unchanged media when the model and options are the same; when they differ, every file of the
task is removed first and the sampled frames are predicted again (a task never mixes two
settings, even after an interruption). While its files are being replaced, the task is not
listed in tasks.json: the predict lists it again when it finishes, so a half task is refused
as one a first predict left unfinished (`thresher.io.lightly_schema.require_task`).
Embeddings are reused from their own store, each vector kept with what it was computed from
(`thresher.plan.frame_keys`, `crop_keys`), so switching a run between frame and object level
reuses both, and deleting `cache/` cannot make a stale vector pass for a current one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import json

import numpy as np

from thresher.errors import UsageError
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import prediction_file, task_dir
from thresher.io.lightly_schema import remove_task_name, schema_file
from thresher.io.storage import write_file


def prediction_key(model: str, confidence: float, classes: list[str] | None, tta: str | None = None) -> dict:
    """The settings that decide a task's boxes (`tta`: the test-time augmentation views, if any).

    >>> prediction_key("ssd-mobilenet-v2-coco", 0.1, None)
    {'model': 'ssd-mobilenet-v2-coco', 'confidence': 0.1, 'classes': None}
    """
    key = {"model": model, "confidence": float(confidence), "classes": None if classes is None else list(classes)}
    return key if not tta else {**key, "tta": tta}


def provenance_file(workspace: Path, task: str) -> Path:
    """Where the settings that produced `task`'s files are recorded (not a cache: kept when `cache/` is deleted)."""
    return workspace / "predictions" / f"{task}.json"


def _legacy_provenance_file(workspace: Path, task: str) -> Path:
    """Where earlier versions recorded them (`cache/predictions/`): read once, then moved to `provenance_file`."""
    return workspace / "cache" / "predictions" / f"{task}.json"


def read_provenance(workspace: Path, task: str) -> dict:
    """The record of `task` ({"key": settings, "files": {media file: [size, mtime]}}; {} when none),
    from the old place in `cache/` when the workspace has no record at the new one yet."""
    path = provenance_file(workspace, task)
    return read_json_cache(path if path.exists() else _legacy_provenance_file(workspace, task))


def require_own_task(source: Datasource, workspace: Path, task: str, way_out: str) -> None:
    """UsageError when the folder of `task` holds files (its schema.json or prediction files)
    but `workspace` has no record of thresher predicting it: the user's own predictions (or a
    task whose record was deleted). thresher neither adds its predictions to such a task nor
    removes its files; `way_out` ends the message (what the user can do instead).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / ".lightly/predictions/mine").mkdir(parents=True)
    >>> _ = (folder / ".lightly/predictions/mine/schema.json").write_text("{}")
    >>> require_own_task(Datasource(folder), folder / "ws", "mine", "pass another --task")
    Traceback (most recent call last):
    thresher.errors.UsageError: ...: task 'mine' exists and was not predicted by thresher in this workspace ...
    """
    if read_provenance(workspace, task) or not source.lightly.files(task_dir(task)):
        return
    raise UsageError(
        f"{source.lightly.display(task_dir(task))}: task {task!r} exists and was not predicted by thresher in this workspace "
        f"(no record {provenance_file(workspace, task)}); thresher does not add its predictions to another's task nor remove its files: {way_out}"
    )


@dataclass(frozen=True)
class Prepared:
    """What `prepare_task` removed: `removed` prediction files, because the settings differ from
    the recorded `previous` ones (None: the same settings, then because `changed` media files
    changed since they were predicted)."""

    removed: int
    previous: dict | None = None
    changed: int = 0

    def note(self, task: str, key: dict) -> str | None:
        """The line to print when files were removed, e.g. "task t: other settings than the
        recorded ones (confidence 0.1 → 0.2): removed 12 prediction files first"; None when none was.

        >>> Prepared(12, {"model": "m", "confidence": 0.1}).note("t", {"model": "m", "confidence": 0.2})
        'task t: other settings than the recorded ones (confidence 0.1 → 0.2): removed 12 prediction files first'
        """
        if not self.removed:
            return None
        files = f"removed {self.removed} prediction file{'s' if self.removed != 1 else ''} first"
        if self.previous is None:
            media = f"{self.changed} media file{'s' if self.changed != 1 else ''}"
            return f"task {task}: {media} changed since {'they were' if self.changed != 1 else 'it was'} predicted: {files}"
        return f"task {task}: other settings than the recorded ones ({settings_change(self.previous, key)}): {files}"


def settings_change(old: dict, new: dict) -> str:
    """The settings that differ, e.g. "confidence 0.1 → 0.2, classes all → car,truck".

    >>> settings_change({"model": "a", "classes": None}, {"model": "a", "classes": ["car", "truck"]})
    'classes all → car,truck'
    """

    def shown(name: str, value: object) -> str:
        if value is None:
            return "all" if name == "classes" else "none"
        return ",".join(map(str, value)) if isinstance(value, list) else str(value)

    names = [*old, *(n for n in new if n not in old)]
    return ", ".join(f"{n} {shown(n, old.get(n))} → {shown(n, new.get(n))}" for n in names if old.get(n) != new.get(n))


def prepare_task(source: Datasource, frames: Frames, rows: np.ndarray, workspace: Path, task: str, key: dict) -> Prepared:
    """Before predicting `rows` of `frames` with `key`: remove the task's files that `key` would
    not have produced, then record `key` and the media of `rows`; returns what was removed
    (`Prepared.note` says it in one line).

    With other settings than the recorded ones every prediction file of the task is removed
    (frames outside `rows` included: a task never mixes two settings); with the same, those of
    the frames of media whose size or modification time changed. Before any is removed, the
    task is taken out of tasks.json; the predict (`thresher.infer.run_models`) lists it again
    when it finishes, so an interrupted one leaves a task that is refused, not read half.
    The record is written before any prediction file, so the files an interrupted predict
    leaves are known to be `key`'s. Removing comes first: a kill in between leaves the old
    record, and the next call removes the rest.
    The caller checks first that the task is thresher's (`require_own_task`: a task of the
    user's own is never added to nor emptied) and has the detector's categories
    (`thresher.plan.check_task_schema`).
    """
    cache = read_provenance(workspace, task)
    same = cache.get("key", key) == key
    recorded = cache.get("files", {}) if same else {}
    present = [name for name in source.lightly.files(task_dir(task)) if name != schema_file(task)]
    changed: list[str] = []
    if same:
        changed = [n for n in set(frames.video.tolist()) if n in recorded and recorded[n] != list(source.input.stat(n))]
        wanted = {prediction_file(task, str(name)) for name in frames.file_name[np.isin(frames.video, changed)].tolist()}
        present = [name for name in present if name in wanted]
    if present:
        remove_task_name(source.lightly, task)  # listed again when the predict finishes
    source.lightly.remove(present)
    recorded.update({n: list(source.input.stat(n)) for n in set(frames.video[rows].tolist())})
    write_json_cache(provenance_file(workspace, task), {"key": key, "files": recorded})
    _legacy_provenance_file(workspace, task).unlink(missing_ok=True)
    return Prepared(len(present), None if same else cache.get("key"), len(changed))


def read_json_cache(path: Path) -> dict:
    """A small JSON cache file; {} when missing or unreadable (a cache is rebuilt, never trusted blindly)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def write_json_cache(path: Path, data: dict) -> None:
    """Write a cache file atomically (temporary name, then rename: `write_file`)."""
    write_file(path, json.dumps(data).encode())
