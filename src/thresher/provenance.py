"""What produced a prediction task's files: reuse by content, not by who wrote them.

`thresher predict` and a run's pretagging write the same task by default
(`lightly_pretagging`) and record, per task, the model and options that produced it and the size
and modification time of every media file they processed
(`<workspace>/cache/predictions/<task>.json`). Either then reuses the other's prediction files
for unchanged media when the model and options are the same, and predicts again every file of
the task when they differ (a task never mixes two settings). Embeddings are reused from their
own store (frames by sample id, crops by id and key, `thresher.plan.crop_keys`), so switching a
run between frame and object level reuses both.

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


def prediction_key(model: str, confidence: float, classes: list[str] | None, tta: str | None = None) -> dict:
    """The settings that decide a task's boxes (`tta`: the test-time augmentation views, if any).

    >>> prediction_key("ssd-mobilenet-v2-coco", 0.1, None)
    {'model': 'ssd-mobilenet-v2-coco', 'confidence': 0.1, 'classes': None}
    """
    key = {"model": model, "confidence": float(confidence), "classes": None if classes is None else list(classes)}
    return key if not tta else {**key, "tta": tta}


def provenance_file(workspace: Path, task: str) -> Path:
    return workspace / "cache" / "predictions" / f"{task}.json"


def rows_to_predict_again(source: Datasource, frames: Frames, workspace: Path, task: str, key: dict) -> np.ndarray:
    """Rows of `frames` whose prediction files must be made again: every file of the task when
    `key` differs from the recorded one, else the files whose size or modification time changed."""
    changed = changed_files(source, frames, provenance_file(workspace, task), key)
    return np.flatnonzero(np.isin(frames.video, list(changed)))


def record_predictions(source: Datasource, frames: Frames, workspace: Path, task: str, key: dict) -> None:
    """Remember that `key` produced the task's files for the media of `frames`."""
    record_files(source, frames, provenance_file(workspace, task), key)


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
