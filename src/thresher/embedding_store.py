"""Embeddings stored on disk as float32 shards with their sample ids, reusable across runs.

`<workspace>/embeddings/<model>/shard-00000.npz` holds `ids` and `vectors`; each shard is
written whole (temporary name, then rename), so an interrupted run keeps every finished shard
and the next run computes only the missing samples.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np

from thresher.embeddings import Embeddings
from thresher.errors import SchemaError

SHARD_GLOB = "shard-*.npz"


class EmbeddingStore:
    """The stored embeddings of one model (a folder of shards)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self._loaded: tuple[tuple, Embeddings] | None = None  # (shard signature, table) of the last load

    def _shards(self) -> list[Path]:
        return sorted(self.folder.glob(SHARD_GLOB)) if self.folder.is_dir() else []

    def ids(self) -> np.ndarray:
        """Ids of every stored vector."""
        parts = [np.load(p)["ids"] for p in self._shards()]
        return np.concatenate(parts) if parts else np.zeros(0, "<U1")

    def load(self) -> Embeddings:
        """All stored vectors (the latest vector wins for an id stored twice); read-only arrays,
        read again only when a shard was added, replaced or removed since the last load."""
        paths = self._shards()
        signature = tuple((p.name, st.st_size, st.st_mtime_ns) for p, st in ((p, p.stat()) for p in paths))
        if self._loaded is None or self._loaded[0] != signature:
            self._loaded = (signature, self._read(paths))
        return self._loaded[1]

    @staticmethod
    def _read(paths: list[Path]) -> Embeddings:
        shards = [np.load(p) for p in paths]
        if not shards:
            return Embeddings.empty()
        ids = np.concatenate([s["ids"] for s in shards])
        vectors = np.concatenate([s["vectors"] for s in shards])
        _, last = np.unique(ids[::-1], return_index=True)
        keep = np.sort(len(ids) - 1 - last)
        table = Embeddings(ids[keep], vectors[keep])
        table.ids.flags.writeable = table.vectors.flags.writeable = False
        return table

    def append(self, embeddings: Embeddings) -> Path | None:
        """Store a new shard; returns its path (None for an empty table)."""
        if len(embeddings) == 0:
            return None
        existing = self._shards()
        if existing:
            dim = np.load(existing[0])["vectors"].shape[1]
            if dim != embeddings.dim:
                raise SchemaError(f"{self.folder}: stored vectors have {dim} dimensions, new ones {embeddings.dim}")
        self.folder.mkdir(parents=True, exist_ok=True)
        index = int(existing[-1].stem.split("-")[1]) + 1 if existing else 0
        target = self.folder / f"shard-{index:05d}.npz"
        tmp = self.folder / f".{target.stem}-{uuid.uuid4().hex[:8]}.tmp.npz"
        np.savez(tmp, ids=embeddings.ids, vectors=embeddings.vectors.astype(np.float32))
        os.replace(tmp, target)
        return target


def store_for(workspace: str | os.PathLike, model: str) -> EmbeddingStore:
    """The store of a model's embeddings in a workspace (a model path gets its stem and a hash)."""
    import hashlib
    import re

    key = model
    if "/" in model or "\\" in model or "." in Path(model).name:
        digest = hashlib.sha256(str(Path(model).resolve()).encode()).hexdigest()[:8]
        key = f"{Path(model).stem}-{digest}"
    return EmbeddingStore(Path(workspace) / "embeddings" / re.sub(r"[^A-Za-z0-9_.-]", "_", key))
