"""`Catalog`: the local store of samples, tags and runs (one SQLite file, WAL mode).

It is the only place that maps a sample id to a file. Every change is one transaction, so a
process killed at any moment leaves the catalog as it was before the change or after it;
readers keep reading while a writer commits.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from thresher.errors import UsageError, did_you_mean
from thresher.frames import Frames

CATALOG_FILE = "catalog.sqlite"
TAG_OPERATIONS = ("UNION", "INTERSECTION", "DIFFERENCE")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, file_name TEXT NOT NULL, video TEXT NOT NULL,
    frame_index INTEGER NOT NULL, parent_id TEXT NOT NULL, width INTEGER NOT NULL,
    height INTEGER NOT NULL, first_run TEXT
);
CREATE INDEX IF NOT EXISTS samples_by_video ON samples (video, frame_index);
CREATE TABLE IF NOT EXISTS tags (
    name TEXT PRIMARY KEY, created REAL NOT NULL, run_id TEXT, note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS tag_samples (
    tag TEXT NOT NULL REFERENCES tags(name) ON DELETE CASCADE, sample_id TEXT NOT NULL,
    position INTEGER NOT NULL, PRIMARY KEY (tag, sample_id)
);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, created REAL NOT NULL, finished REAL, status TEXT NOT NULL,
    config TEXT NOT NULL, timings TEXT NOT NULL DEFAULT '{}', counts TEXT NOT NULL DEFAULT '{}',
    artifacts TEXT NOT NULL DEFAULT '{}', error TEXT
);
"""
_FRAME_COLUMNS = ("id", "kind", "file_name", "video", "frame_index", "parent_id", "width", "height")


@dataclass(frozen=True)
class Run:
    id: str
    created: float
    finished: float | None
    status: str
    config: dict
    timings: dict
    counts: dict
    artifacts: dict
    error: str | None


class Catalog:
    """A catalog file; use as a context manager or call `close()`."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if self.path.is_dir():
            self.path = self.path / CATALOG_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._depth = 0
        self._db.executescript(_SCHEMA)

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self):
        if self._depth:  # inside `batch()`: part of the outer transaction
            yield self._db
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0
        self._db.execute("COMMIT")

    @contextmanager
    def batch(self):
        """Make every change inside the block one transaction: all of them or none."""
        with self._transaction():
            yield self

    # samples -----------------------------------------------------------------------------

    def add_samples(self, frames: Frames, run_id: str | None = None) -> int:
        """Insert samples not yet known (known ids keep their first run); returns how many were new."""
        rows = zip(*(getattr(frames, c).tolist() for c in _FRAME_COLUMNS))
        with self._transaction() as db:
            before = db.execute("SELECT COUNT(*) FROM samples").fetchone()[0]
            db.executemany("INSERT OR IGNORE INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (r + (run_id,) for r in rows))
            return db.execute("SELECT COUNT(*) FROM samples").fetchone()[0] - before

    def samples(self, ids: Iterable[str] | None = None) -> Frames:
        """Known samples (all, or the given ids in that order; unknown ids are an error)."""
        columns = ", ".join(_FRAME_COLUMNS)
        if ids is None:
            rows = self._db.execute(f"SELECT {columns} FROM samples ORDER BY id").fetchall()  # noqa: S608
        else:
            rows = self._rows_of(list(ids), columns)
        if not rows:
            return Frames.empty()
        values = list(zip(*rows))
        return Frames.build(**{c: np.array(v) for c, v in zip(_FRAME_COLUMNS, values)})

    def neighbours(self, sample_id: str, offsets: Iterable[int] = (-1, 0, 1)) -> list[str | None]:
        """Ids of the frames `offsets` away from a video frame in its video (None where the
        catalog has no such frame; all None for a sample that is not a video frame)."""
        row = self._db.execute("SELECT kind, video, frame_index FROM samples WHERE id = ?", (sample_id,)).fetchone()
        offsets = list(offsets)
        if row is None or row[0] != "frame":
            return [None] * len(offsets)
        found = dict(
            self._db.execute(
                f"SELECT frame_index, id FROM samples WHERE kind = 'frame' AND video = ? AND frame_index IN ({','.join('?' * len(offsets))})",  # noqa: S608
                (row[1], *(row[2] + k for k in offsets)),
            ).fetchall()
        )
        return [found.get(row[2] + k) for k in offsets]

    def _rows_of(self, ids: list[str], columns: str) -> list[tuple]:
        found = {}
        for start in range(0, len(ids), 900):  # SQLite's limit on query parameters
            chunk = ids[start : start + 900]
            marks = ",".join("?" * len(chunk))
            for row in self._db.execute(f"SELECT {columns} FROM samples WHERE id IN ({marks})", chunk):  # noqa: S608
                found[row[0]] = row
        missing = [i for i in ids if i not in found]
        if missing:
            raise UsageError(f"catalog {self.path}: unknown sample id {missing[0]!r}")
        return [found[i] for i in ids]

    # tags --------------------------------------------------------------------------------

    def create_tag(self, name: str, ids: Iterable[str], *, run_id: str | None = None, note: str = "", replace: bool = False) -> int:
        """Create a tag holding `ids` in that order; returns its size."""
        ids = list(dict.fromkeys(ids))
        if not name or not isinstance(name, str):
            raise UsageError(f"tag name: expected a non-empty string, got {name!r}")
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM tags WHERE name = ?", (name,)).fetchone():
                if not replace:
                    raise UsageError(f"tag {name!r} exists already")
                db.execute("DELETE FROM tags WHERE name = ?", (name,))
            db.execute("INSERT INTO tags VALUES (?, ?, ?, ?)", (name, time.time(), run_id, note))
            db.executemany("INSERT INTO tag_samples VALUES (?, ?, ?)", ((name, i, k) for k, i in enumerate(ids)))
        return len(ids)

    def tags(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT name FROM tags ORDER BY created, name")]

    def tag(self, name: str) -> list[str]:
        """Sample ids of a tag, in the order they were added."""
        if not self._db.execute("SELECT 1 FROM tags WHERE name = ?", (name,)).fetchone():
            raise UsageError(f"no tag {name!r}{did_you_mean(name, self.tags())}; tags: {self.tags()}")
        return [r[0] for r in self._db.execute("SELECT sample_id FROM tag_samples WHERE tag = ? ORDER BY position", (name,))]

    def combine_tags(self, name: str, first: str, second: str, operation: str) -> int:
        """Create tag `name` = first UNION / INTERSECTION / DIFFERENCE second (order of `first`, then `second`)."""
        if operation not in TAG_OPERATIONS:
            raise UsageError(f"operation: expected one of {', '.join(TAG_OPERATIONS)}, got {operation!r}{did_you_mean(str(operation), TAG_OPERATIONS)}")
        a, b = self.tag(first), self.tag(second)
        in_b = set(b)
        combined = {
            "UNION": a + [i for i in b if i not in set(a)],
            "INTERSECTION": [i for i in a if i in in_b],
            "DIFFERENCE": [i for i in a if i not in in_b],
        }[operation]
        return self.create_tag(name, combined, note=f"{first} {operation} {second}")

    def delete_tag(self, name: str) -> None:
        self.tag(name)
        with self._transaction() as db:
            db.execute("DELETE FROM tags WHERE name = ?", (name,))

    # runs --------------------------------------------------------------------------------

    def start_run(self, config: Mapping[str, Any], run_id: str | None = None) -> str:
        run_id = run_id or time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        with self._transaction() as db:
            db.execute(
                "INSERT INTO runs (id, created, status, config) VALUES (?, ?, 'running', ?)",
                (run_id, time.time(), json.dumps(config, sort_keys=True, default=str)),
            )
        return run_id

    def update_run(self, run_id: str, **fields: Any) -> None:
        """Set status, timings, counts, artifacts, error or finished of a run."""
        allowed = {"status", "timings", "counts", "artifacts", "error", "finished"}
        unknown = set(fields) - allowed
        if unknown:
            raise UsageError(f"update_run: unknown field(s) {sorted(unknown)}")
        values = {k: json.dumps(v, default=str) if k in ("timings", "counts", "artifacts") else v for k, v in fields.items()}
        assignments = ", ".join(f"{k} = ?" for k in values)
        with self._transaction() as db:
            db.execute(f"UPDATE runs SET {assignments} WHERE id = ?", (*values.values(), run_id))  # noqa: S608

    def runs(self) -> list[Run]:
        rows = self._db.execute("SELECT * FROM runs ORDER BY created").fetchall()
        return [_run(r) for r in rows]

    def run(self, run_id: str) -> Run:
        row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise UsageError(f"no run {run_id!r} in {self.path}")
        return _run(row)


def _run(row: tuple) -> Run:
    id_, created, finished, status, config, timings, counts, artifacts, error = row
    return Run(id_, created, finished, status, json.loads(config), json.loads(timings), json.loads(counts), json.loads(artifacts), error)
