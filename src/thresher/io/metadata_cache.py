"""The columnar cache of a datasource's Lightly metadata files: each small JSON file parsed once.

One cache file per metadata folder, `<cache folder>/metadata-<digest>.npz` (`thresher.io.file_cache`;
a run's folder is `<workspace>/cache/metadata/`). Per metadata file read without a single
problem it holds its size and modification time when parsed, its sample's type and name, and
per schema field whether the file sets it and the value (numbers as float64, integers as int64,
booleans, strings). Reading the metadata parses only new files and files whose size or
modification time changed; a changed `schema.json` discards the cache; a file with a problem is
never cached (parsed and reported at every read); names are matched to the frames at every read.

Example: `read_metadata(lightly, frames, cache=workspace / "cache" / "metadata")`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from thresher.io import file_cache
from thresher.io.file_cache import CachedFiles, Listing
from thresher.io.storage import Location

VERSION = 1
_INTEGER_TYPES = ("CATEGORICAL_INT", "CATEGORICAL_TIMESTAMP")
_INT64 = (-(2**63), 2**63 - 1)


def cache_file(folder: Path, lightly: Location) -> Path:
    return file_cache.cache_path(Path(folder), lightly.url, "metadata")


def signature(lightly: Location, fields: Sequence) -> dict:
    """What the cached rows depend on besides each file: the location and the metadata schema."""
    return {"kind": "lightly metadata", "version": VERSION, "lightly": lightly.url, "fields": [f.to_json() for f in fields]}


def load(folder: Path, lightly: Location, fields: Sequence) -> CachedFiles | None:
    """The cached metadata files, or None (no cache, or one that cannot be trusted)."""
    return file_cache.load(cache_file(folder, lightly), signature(lightly, fields))


def store(folder: Path, lightly: Location, fields: Sequence, table: CachedFiles) -> None:
    """Save the rows whose values can be stored exactly (integers within int64, strings not
    ending in NUL; the others are parsed again at the next read)."""
    keep = np.ones(len(table), dtype=bool)
    per_file = dict(table.per_file)
    for f in fields:
        key, has = f"value:{f.path}", table.per_file[f"has:{f.path}"].tolist()
        if per_file[key].dtype != object:
            continue
        values = per_file[key].tolist()
        if f.value_type in _INTEGER_TYPES:
            ok = [not h or _INT64[0] <= v <= _INT64[1] for h, v in zip(has, values)]
            per_file[key] = np.array([v if h and o else 0 for h, v, o in zip(has, values, ok)], dtype=np.int64)
        else:
            ok = [not h or not v.endswith("\0") for h, v in zip(has, values)]
            per_file[key] = _strings([v if h and o else "" for h, v, o in zip(has, values, ok)])
        keep &= np.array(ok, dtype=bool)
    table = CachedFiles(table.name, table.size, table.mtime_ns, per_file, table.counts, table.per_item).take(np.flatnonzero(keep))
    file_cache.store(cache_file(folder, lightly), signature(lightly, fields), table)


def to_rows(entries: list[tuple[str, str, str, dict]], listing: Listing, fields: Sequence) -> CachedFiles:
    """Rows of parsed metadata files: entries (file, sample type, sample name, {path: value}),
    their sizes and times from `listing`; values as arrays (`has:<path>`, `value:<path>`)."""
    from thresher.table import lookup

    files = np.array([e[0] for e in entries], dtype=str) if entries else np.zeros(0, "<U1")
    rows, _ = lookup(listing.name, files)
    per_file = {"type": _strings([e[1] for e in entries]), "sample": _strings([e[2] for e in entries])}
    for f in fields:
        has = np.array([f.path in e[3] for e in entries], dtype=bool)
        values = np.empty(len(entries), dtype=object)
        values[:] = [e[3].get(f.path) for e in entries]
        per_file[f"has:{f.path}"] = has
        per_file[f"value:{f.path}"] = _typed(values, has, f) if f.numeric or f.value_type == "CATEGORICAL_BOOLEAN" else values
    return CachedFiles(files, listing.size[rows], listing.mtime_ns[rows], per_file, np.zeros(len(entries), np.int64), {})


def _typed(values: np.ndarray, has: np.ndarray, field) -> np.ndarray:
    """Numbers as float64 (NaN where unset), booleans (False where unset). Integers and strings
    stay Python objects until stored (`store` checks they fit)."""
    if field.numeric:
        return np.array([float(v) if h else np.nan for v, h in zip(values.tolist(), has.tolist())], dtype=np.float64)
    return np.array([bool(v) if h else False for v, h in zip(values.tolist(), has.tolist())], dtype=bool)


def _strings(values: list[str]) -> np.ndarray:
    return np.array(values, dtype=str) if values else np.zeros(0, "<U1")
