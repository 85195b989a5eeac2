"""A columnar cache of many small parsed files: one `.npz` per set of files, updated file by file.

A reader of many small files (one Lightly prediction or metadata file per frame) lists them with
their sizes and modification times (`Listing`, one walk of the folder), keeps the cached rows of
the files whose name, size and modification time are unchanged (`CachedFiles.split`), parses only
the others, and stores the merged rows again. Each cached file holds:

- `per_file`: columns with one value per file (its sample's name, its metadata values);
- `per_item`: columns with a run of rows per file (its boxes), `counts[i]` rows for file i, in
  file order.

The cache file is written whole (a temporary name, then renamed), so concurrent readers see the
old or the new file, never half of one; it carries a digest of its arrays and the caller's
`signature` (what else the parsed rows depend on, such as the task's schema), and a file that is
unreadable, of another format, inconsistent or whose digest does not match is ignored and
rebuilt, never trusted. A file changed without its size or modification time changing (restored
by a tool that keeps its old time) is not seen: delete the cache folder to parse everything again.

Example:

    listing = Listing.of(lightly, ".lightly/metadata", keep=lambda names: np.char.endswith(names, ".json"))
    cached = load(path, signature)                       # None: parse every file
    kept, fresh = CachedFiles.split(cached, listing)     # rows to reuse, names to parse
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from thresher.table import lookup
from thresher.io.storage import Location
from thresher.io.temporary import replacing

FORMAT = "thresher file cache 1"


@dataclass(frozen=True)
class Listing:
    """Files below a folder: relative names (sorted), sizes in bytes, modification times in ns."""

    name: np.ndarray
    size: np.ndarray
    mtime_ns: np.ndarray

    @classmethod
    def of(cls, location: Location, under: str, keep: Callable[[np.ndarray], np.ndarray] | None = None) -> "Listing":
        """The files below `under` (hidden folders are not entered, as `Location.files`) that
        `keep` (names → boolean mask) keeps.

        Example: `Listing.of(lightly, ".lightly/metadata", keep=lambda names: np.char.endswith(names, ".json"))`.
        """
        names, sizes, times = location.file_listing(under)
        if keep is None:
            return cls(names, sizes, times)
        wanted = np.asarray(keep(names), dtype=bool)
        return cls(names[wanted], sizes[wanted], times[wanted])

    def __len__(self) -> int:
        return len(self.name)


@dataclass(frozen=True)
class CachedFiles:
    """Rows of parsed files: name, size and time when parsed, `per_file` and `per_item` columns."""

    name: np.ndarray
    size: np.ndarray
    mtime_ns: np.ndarray
    per_file: dict[str, np.ndarray] = field(default_factory=dict)
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    per_item: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.name)

    def starts(self) -> np.ndarray:
        """Offset of each file's first item row (length len(self) + 1)."""
        return np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64)

    def item_rows(self, rows: np.ndarray) -> np.ndarray:
        """The item rows of the files `rows`, file after file (vectorized ragged gather)."""
        rows = np.asarray(rows, dtype=np.int64)
        counts = self.counts[rows]
        begin = self.starts()[rows]
        offsets = np.repeat(begin - np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64), counts)
        return np.arange(int(counts.sum()), dtype=np.int64) + offsets

    def take(self, rows: np.ndarray) -> "CachedFiles":
        """The files `rows` (an index array), with their items."""
        rows = np.asarray(rows, dtype=np.int64)
        items = self.item_rows(rows)
        return CachedFiles(
            self.name[rows],
            self.size[rows],
            self.mtime_ns[rows],
            {k: v[rows] for k, v in self.per_file.items()},
            self.counts[rows],
            {k: v[items] for k, v in self.per_item.items()},
        )

    @staticmethod
    def concat(parts: list["CachedFiles"]) -> "CachedFiles":
        """The files of every part, in order (each part must have the same columns)."""
        first = parts[0]
        return CachedFiles(
            np.concatenate([p.name for p in parts]).astype(str),
            np.concatenate([p.size for p in parts]),
            np.concatenate([p.mtime_ns for p in parts]),
            {k: np.concatenate([p.per_file[k] for p in parts]) for k in first.per_file},
            np.concatenate([p.counts for p in parts]),
            {k: np.concatenate([p.per_item[k] for p in parts]) for k in first.per_item},
        )

    def sorted(self) -> "CachedFiles":
        """The files in name order (the order of a listing)."""
        order = np.argsort(self.name, kind="stable")
        return self if np.array_equal(order, np.arange(len(order))) else self.take(order)

    @staticmethod
    def split(cached: "CachedFiles | None", listing: Listing) -> tuple["CachedFiles | None", np.ndarray]:
        """(the cached rows of the listed files that did not change, a mask of the listed files to parse).

        A file is unchanged when the cache has its name with the same size and modification time.
        """
        if cached is None or len(cached) == 0:
            return None, np.ones(len(listing), dtype=bool)
        rows, found = lookup(cached.name, listing.name)
        same = found.copy()
        same[found] = (cached.size[rows[found]] == listing.size[found]) & (cached.mtime_ns[rows[found]] == listing.mtime_ns[found])
        return cached.take(rows[same]), ~same


def load(path: Path, signature: Mapping) -> CachedFiles | None:
    """The cached files in `path`, or None when it is missing, unreadable, of another format or
    signature, inconsistent, or its digest does not match its arrays (never trusted then)."""
    try:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except Exception:  # noqa: BLE001 - any damage means: rebuild
        return None
    try:
        meta = json.loads(str(arrays.pop("meta")))
        if meta.get("format") != FORMAT or meta.get("signature") != json.loads(json.dumps(signature)):
            return None
        if meta.get("digest") != _digest(arrays):
            return None
        table = CachedFiles(
            arrays["name"],
            arrays["size"],
            arrays["mtime_ns"],
            {k: arrays[f"file:{k}"] for k in meta["per_file"]},
            arrays["counts"],
            {k: arrays[f"item:{k}"] for k in meta["per_item"]},
        )
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    return table if _consistent(table) else None


def _consistent(table: CachedFiles) -> bool:
    n, items = len(table.name), int(table.counts.sum()) if len(table.counts) else 0
    if table.name.dtype.kind != "U" or any(len(a) != n for a in (table.size, table.mtime_ns, table.counts, *table.per_file.values())):
        return False
    return bool((table.counts >= 0).all()) and all(len(a) == items for a in table.per_item.values())


def store(path: Path, signature: Mapping, table: CachedFiles) -> None:
    """Write `table` whole: to a temporary name beside `path`, then renamed over it."""
    arrays = {
        "name": table.name.astype(str) if len(table.name) else np.zeros(0, "<U1"),
        "size": table.size.astype(np.int64),
        "mtime_ns": table.mtime_ns.astype(np.int64),
        "counts": table.counts.astype(np.int64),
    }
    arrays.update({f"file:{k}": v for k, v in table.per_file.items()})
    arrays.update({f"item:{k}": v for k, v in table.per_item.items()})
    meta = {"format": FORMAT, "signature": signature, "per_file": list(table.per_file), "per_item": list(table.per_item), "digest": _digest(arrays)}
    with replacing(path) as handle:
        # numpy stubs: the unpacked names could be `allow_pickle` (a bool); they never are
        np.savez(handle, meta=np.array(json.dumps(meta)), **arrays)  # type: ignore[arg-type]


def _digest(arrays: Mapping[str, np.ndarray]) -> str:
    """blake2b of every array's name, dtype, shape and bytes (sorted by name)."""
    digest = hashlib.blake2b(digest_size=16)
    for key in sorted(arrays):
        array = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}|{array.dtype.str}|{array.shape}".encode())
        digest.update(array.data if array.size else b"")
    return digest.hexdigest()


def cache_path(folder: Path, *parts: str) -> Path:
    """The cache file of a set of files in `folder`: a readable stem and a digest of `parts`.

    Example: `cache_path(workspace / "cache" / "tasks", lightly.url, "ssd")` → `.../ssd-3f9c0a1b2c3d.npz`.
    """
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in parts[-1])[:60] or "files"
    return folder / f"{stem}-{digest}.npz"
