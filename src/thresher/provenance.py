"""What produced a prediction task's files: reuse by content, not by who wrote them.

`thresher predict` and a run's pretagging write the same task by default
(`lightly_pretagging`) and record, per task, the model and options that produced it and the size
and modification time of every media file they process
(`<workspace>/cache/predictions/<task>.json`), before writing any prediction file
(`prepare_task`). Either then reuses the other's prediction files for unchanged media when the
model and options are the same; when they differ, every file of the task is removed first and
the sampled frames are predicted again (a task never mixes two settings, even after an
interruption). Embeddings are reused from their own store (frames by sample id, crops by id
and key, `thresher.plan.crop_keys`), so switching a run between frame and object level reuses both.

`changed_files` / `record_files` are the general form: which media files changed since a
stage with a given configuration (`key`) processed them, kept in a small JSON file.
"""

from __future__ import annotations

from pathlib import Path

import json
import os
import uuid

import numpy as np

from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import prediction_file, task_dir
from thresher.io.lightly_schema import schema_file


def prediction_key(model: str, confidence: float, classes: list[str] | None, tta: str | None = None) -> dict:
    """The settings that decide a task's boxes (`tta`: the test-time augmentation views, if any).

    >>> prediction_key("ssd-mobilenet-v2-coco", 0.1, None)
    {'model': 'ssd-mobilenet-v2-coco', 'confidence': 0.1, 'classes': None}
    """
    key = {"model": model, "confidence": float(confidence), "classes": None if classes is None else list(classes)}
    return key if not tta else {**key, "tta": tta}


def provenance_file(workspace: Path, task: str) -> Path:
    return workspace / "cache" / "predictions" / f"{task}.json"


def prepare_task(source: Datasource, frames: Frames, rows: np.ndarray, workspace: Path, task: str, key: dict) -> int:
    """Before predicting `rows` of `frames` with `key`: remove the task's files that `key` would
    not have produced, then record `key` and the media of `rows`; returns the files removed.

    With other settings than the recorded ones every prediction file of the task is removed
    (frames outside `rows` included: a task never mixes two settings); with the same, those of
    the frames of media whose size or modification time changed. The record is written before
    any prediction file, so the files an interrupted predict leaves are known to be `key`'s.
    Removing comes first: a kill in between leaves the old record, and the next call removes
    the rest. Files never recorded under the same settings are trusted (e.g. `cache/` deleted).
    The caller checks the task's categories first (`thresher.plan.check_task_schema`).
    """
    path = provenance_file(workspace, task)
    cache = read_json_cache(path)
    same = cache.get("key", key) == key
    recorded = cache.get("files", {}) if same else {}
    present = [name for name in source.lightly.files(task_dir(task)) if name != schema_file(task)]
    if same:
        changed = [n for n in set(frames.video.tolist()) if n in recorded and recorded[n] != list(source.input.stat(n))]
        wanted = {prediction_file(task, str(name)) for name in frames.file_name[np.isin(frames.video, changed)].tolist()}
        present = [name for name in present if name in wanted]
    source.lightly.remove(present)
    recorded.update({n: list(source.input.stat(n)) for n in set(frames.video[rows].tolist())})
    write_json_cache(path, {"key": key, "files": recorded})
    return len(present)


def changed_files(source: Datasource, frames: Frames, cache_file: Path, key: object) -> set[str]:
    """Media files whose size or modification time differ from when `key` (a stage's
    configuration) last processed them; every file when `key` changed. Files never
    recorded count as unchanged: their existing outputs are trusted."""
    cache = read_json_cache(cache_file)
    files = set(frames.video.tolist())
    if cache.get("key", key) != key:
        return files
    recorded = cache.get("files", {})
    return {n for n in files if n in recorded and recorded[n] != list(source.input.stat(n))}


def record_files(source: Datasource, frames: Frames, cache_file: Path, key: object) -> None:
    """Remember the size and modification time of the files a stage has just processed."""
    cache = read_json_cache(cache_file)
    recorded = cache.get("files", {}) if cache.get("key", key) == key else {}
    recorded.update({n: list(source.input.stat(n)) for n in set(frames.video.tolist())})
    write_json_cache(cache_file, {"key": key, "files": recorded})


def read_json_cache(path: Path) -> dict:
    """A small JSON cache file; {} when missing or unreadable (a cache is rebuilt, never trusted blindly)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def write_json_cache(path: Path, data: dict) -> None:
    """Write a cache file atomically (temporary name, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)
