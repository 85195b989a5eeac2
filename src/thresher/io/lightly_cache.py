"""The columnar cache of a prediction task: each small Lightly JSON file parsed once.

One cache file per task, `<cache folder>/<task>-<digest>.npz` (`thresher.io.file_cache`; a
run's folder is `<workspace>/cache/tasks/`). It holds, per prediction file whose structure was
read without a single problem, its size and modification time when parsed, its sample's name
and its boxes as columns (bbox, score, category, probabilities and the per-box uncertainty when
the task has them). Reading a task lists its folder, parses only the files that are new or whose
size or modification time changed, drops the rows of deleted files, and rewrites the cache when
anything changed. A file with any problem is never cached, so it is parsed and reported again at
every read; the task-wide checks (image sizes, category ids, value ranges, names of samples)
run on every read over all boxes at once, so a changed schema or datasource is always checked.
A changed `schema.json` discards the task's cache.

Parsing 100,000 files takes seconds; loading their boxes from the cache takes a fraction of a
second (BENCHMARKS.md, `bench/rerun.py`).

Example: `read_predictions(lightly, "ssd", frames, cache=workspace / "cache" / "tasks")`.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from thresher.frames import Frames
from thresher.io import file_cache
from thresher.io.file_cache import CachedFiles, Listing
from thresher.io.lightly_checks import UNCERTAINTY_KEYS, BoxColumns
from thresher.io.lightly_schema import PredictionSchema
from thresher.io.storage import Location

VERSION = 3  # 3: one cache per task, updated file by file
_FRAME_COLUMNS = ("id", "kind", "file_name", "video", "frame_index", "parent_id", "width", "height")
_OLD_CACHE = re.compile(r"[0-9a-f]{32}\.npz")  # version 2: one file per state of a task, never removed


def cache_file(folder: Path, lightly: Location, task: str) -> Path:
    """The task's cache file in `folder`."""
    return file_cache.cache_path(Path(folder), lightly.url, task)


def signature(lightly: Location, task: str, schema: PredictionSchema) -> dict:
    """What the cached rows depend on besides each file: the location, the task and its schema."""
    return {"kind": "lightly predictions", "version": VERSION, "lightly": lightly.url, "task": task, "schema": schema.to_json()}


def load(folder: Path, lightly: Location, task: str, schema: PredictionSchema) -> CachedFiles | None:
    """The cached files of the task, or None (no cache, or one that cannot be trusted)."""
    return file_cache.load(cache_file(folder, lightly, task), signature(lightly, task, schema))


def store(folder: Path, lightly: Location, task: str, schema: PredictionSchema, table: CachedFiles) -> None:
    """Save the task's cached files whole (temporary name, then rename); removes the caches of
    the previous format from `folder`."""
    file_cache.store(cache_file(folder, lightly, task), signature(lightly, task, schema), table)
    for old in Path(folder).iterdir():
        if _OLD_CACHE.fullmatch(old.name):
            old.unlink(missing_ok=True)


def to_rows(files: np.ndarray, samples: np.ndarray, listing: Listing, columns: BoxColumns, n_files: int) -> CachedFiles:
    """Cache rows of parsed files: `files` (names; `columns.file` indexes them), their samples,
    their sizes and times from `listing`, and their boxes with their positions in their file."""
    rows, _ = _positions(listing.name, files)
    order = np.argsort(columns.file, kind="stable")
    per_item = {"index": columns.index[order], "xywh": columns.xywh[order], "score": columns.score[order], "category_id": columns.category_id[order]}
    if columns.probabilities is not None:
        per_item["probabilities"] = columns.probabilities[order]
    per_item.update({key: values[order] for key, values in columns.uncertainty.items()})
    counts = np.bincount(columns.file, minlength=n_files).astype(np.int64)
    return CachedFiles(files, listing.size[rows], listing.mtime_ns[rows], {"sample": samples}, counts, per_item)


def to_columns(table: CachedFiles, frame_rows: np.ndarray, n_categories: int) -> BoxColumns:
    """The boxes of cached files as `BoxColumns` (`file` indexes the table's rows; `frame_rows`
    gives each file's row in Frames, -1 when it has none)."""
    file = np.repeat(np.arange(len(table), dtype=np.int64), table.counts)
    items = table.per_item
    probs = items.get("probabilities")
    return BoxColumns(
        file=file,
        index=items["index"].astype(np.int64),
        frame=np.repeat(np.asarray(frame_rows, dtype=np.int64), table.counts),
        xywh=items["xywh"].reshape(-1, 4).astype(np.float64),
        score=items["score"].astype(np.float64),
        category_id=items["category_id"].astype(np.int64),
        probabilities=None if probs is None else probs.reshape(len(file), n_categories).astype(np.float64),
        uncertainty={key: items[key].astype(np.float64) for key in UNCERTAINTY_KEYS if key in items},
    )


def _positions(names: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from thresher.table import lookup

    return lookup(names, wanted)


def listing_digest(listing: Listing, schema: PredictionSchema, frames: Frames | None) -> str:
    """A digest of a task's prediction files (names, sizes, times), its schema and the frames
    they are matched to: it changes whenever a read of the task could give other results.

    Example: an assertion record keeps it to know whether the task changed since.
    """
    digest = hashlib.sha256(f"predictions {VERSION}\0{schema.to_json()}".encode())
    for array in (listing.name, listing.size, listing.mtime_ns):
        digest.update(np.ascontiguousarray(array).tobytes())
    if frames is None:
        digest.update(b"no frames")
    else:
        for name in _FRAME_COLUMNS:
            digest.update(np.ascontiguousarray(getattr(frames, name)).tobytes())
    return digest.hexdigest()[:32]
