"""Embeddings of a local dataset: Lightly's `embeddings.csv`, and which stored set the agent uses.

`embeddings.csv` (written by `lightly-magic` / `lightly-embed`): a header
`filenames,embedding_0,…,embedding_{D-1},labels`, then one row per sample. Uploaded sets live
in the dataset's workspace as `embeddings/upload-<name>/`; the worker's runs store theirs under
the embedder's name. The agent reads the set written last: the last upload, or a later run's own.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import uuid
from pathlib import Path

import numpy as np

from thresher.embedding_store import SHARD_GLOB, EmbeddingStore
from thresher.embeddings import Embeddings
from thresher.errors import SchemaError, UsageError

EMBEDDINGS_DIR = "embeddings"


def read_embeddings_csv(path: str | os.PathLike) -> Embeddings:
    """Embeddings from a Lightly embeddings.csv; SchemaError naming the line of a bad row."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows or not rows[0] or rows[0][0] != "filenames":
        raise SchemaError(f"{path}: expected a header starting with 'filenames', got {rows[0][:3] if rows else 'an empty file'}")
    header = rows[0]
    columns = [k for k, name in enumerate(header) if name.startswith("embedding_")]
    if not columns:
        raise SchemaError(f"{path}: no embedding_0, embedding_1, … columns in the header")
    ids, vectors = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise SchemaError(f"{path}, line {line}: expected {len(header)} fields, got {len(row)}")
        try:
            vectors.append([float(row[k]) for k in columns])
        except ValueError:
            k = next(k for k in columns if not _is_number(row[k]))
            raise SchemaError(f"{path}, line {line}: {header[k]}: expected a number, got {row[k]!r}") from None
        ids.append(row[0])
    return Embeddings(np.array(ids, dtype=str), np.array(vectors, dtype=np.float32).reshape(len(ids), len(columns)))


def store_embeddings(workspace: Path, name: str, embeddings: Embeddings) -> str:
    """Store (replacing a set of the same name) as `upload-<name>`; returns the store's folder name."""
    if not isinstance(name, str) or not name.strip():
        raise UsageError(f"name: expected a non-empty embedding name, got {name!r}")
    folder = f"upload-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}"
    path = workspace / EMBEDDINGS_DIR / folder
    fresh = path.with_name(f".{folder}-{uuid.uuid4().hex[:8]}.tmp")
    EmbeddingStore(fresh).append(embeddings)  # the old set stays whole until the new one is
    old = path.with_name(f".{folder}-{uuid.uuid4().hex[:8]}.old")
    if path.exists():
        path.rename(old)
    fresh.rename(path)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def _newest_shard(folder: Path) -> float:
    return max((p.stat().st_mtime for p in folder.glob(SHARD_GLOB)), default=-1.0)


def latest_store(workspace: Path) -> EmbeddingStore | None:
    """The store written to most recently, or None."""
    base = workspace / EMBEDDINGS_DIR
    folders = [p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".") and _newest_shard(p) >= 0] if base.is_dir() else []
    return EmbeddingStore(max(folders, key=_newest_shard)) if folders else None


def dataset_embeddings(workspace: Path, name: str | None) -> Embeddings:
    """The named store's embeddings, else the latest store's; UsageError when there are none."""
    store = EmbeddingStore(workspace / EMBEDDINGS_DIR / name) if name else latest_store(workspace)
    if store is None or not any(store.folder.glob(SHARD_GLOB)):
        raise UsageError("the dataset has no embeddings: upload them with upload_embeddings(csv, name), compute them with lightly_magic(folder), or run the worker first")
    return store.load()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
