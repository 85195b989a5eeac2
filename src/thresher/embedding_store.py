"""Embeddings stored on disk in shards with their sample ids, reusable across runs, read by
memory map.

`<workspace>/embeddings/<model>/shard-00000/` holds `ids.npy` and `vectors.npy` (float32, or
float16 on request: half the disk and half the bytes read, each coordinate rounded to 11
significant bits, a relative error of at most 2⁻¹¹ ≈ 0.05 %). Each shard is written whole
(a temporary folder, then renamed), so an interrupted run keeps every finished shard and the
next run computes only the missing samples. A shard may also hold `keys.npy`, one row of
float64 per vector saying what it was computed from (a frame's media file size and
modification time, `thresher.plan.frame_keys`; an object crop's pixel box and the same,
`thresher.plan.crop_keys`); `keys()` gives the latest row of each id. The store is its own
proof: a vector is reused only while its key matches, whatever else is deleted. Stores
written before this layout (`shard-00000.npz`, float32) are read as they are.

    store = EmbeddingStore(folder, dtype="float16")
    store.append(embeddings)          # float32 Embeddings in, a float16 shard on disk
    store.append(embeddings, keys)    # with what each vector was computed from
    view = store.open()               # StoredEmbeddings: ids in memory, vectors memory-mapped
    table = store.load()              # Embeddings: every vector in memory as float32
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from thresher.embeddings import Embeddings
from thresher.errors import SchemaError, UsageError
from thresher.io.temporary import replacing_folder
from thresher.stored_embeddings import ShardedVectors, StoredEmbeddings

SHARD_GLOB = "shard-*"  # a shard folder (`shard-00000/`) or an old single-file shard (`shard-00000.npz`)
DTYPES = ("float32", "float16")
SHARD_NAME = re.compile(r"shard-(\d+)(\.npz)?")
FLOAT16_MAX = float(np.finfo(np.float16).max)  # 65504


class EmbeddingStore:
    """The stored embeddings of one model (a folder of shards).

    Args:
        folder: the store's folder.
        dtype: how `append` writes new shards, "float32" (default) or "float16"; shards already
            written keep theirs, and a store may hold both.
    """

    def __init__(self, folder: str | os.PathLike, dtype: str = "float32"):
        if dtype not in DTYPES:
            raise UsageError(f"embedding dtype: expected one of {', '.join(DTYPES)}, got {dtype!r}")
        self.folder = Path(folder)
        self.dtype = dtype
        self._opened: tuple[tuple, StoredEmbeddings] | None = None  # (shard signature, view) of the last open
        self._loaded: tuple[tuple, Embeddings] | None = None

    def _shards(self) -> list[Path]:
        """Every finished shard, in the order written."""
        if not self.folder.is_dir():
            return []
        found = [p for p in self.folder.glob(SHARD_GLOB) if SHARD_NAME.fullmatch(p.name) and (p.is_dir() or p.suffix == ".npz")]
        return sorted(found, key=_shard_index)

    def _signature(self, paths: list[Path]) -> tuple:
        stats = ((p, (p / "vectors.npy" if p.is_dir() else p).stat()) for p in paths)
        return tuple((p.name, st.st_size, st.st_mtime_ns) for p, st in stats)

    def ids(self) -> np.ndarray:
        """Ids of every stored vector (an id stored twice appears twice)."""
        parts = [_read_ids(p) for p in self._shards()]
        return np.concatenate(parts) if parts else np.zeros(0, "<U1")

    def keys(self, ids: np.ndarray, width: int) -> np.ndarray:
        """The stored key row (`width` columns) of the latest vector of each of `ids`; a row
        of NaN for an id not stored, or stored without keys (NaN equals nothing)."""
        ids = np.asarray(ids)
        found = np.full((len(ids), width), np.nan)
        parts = [(_read_ids(p), _read_keys(p, width)) for p in self._shards()]
        if not parts or not len(ids):
            return found
        stored_ids = np.concatenate([i for i, _ in parts])
        stored_keys = np.concatenate([k for _, k in parts])
        unique, last = np.unique(stored_ids[::-1], return_index=True)  # the latest copy of an id wins
        where = np.clip(np.searchsorted(unique, ids), 0, len(unique) - 1)
        hit = unique[where] == ids
        found[hit] = stored_keys[len(stored_ids) - 1 - last[where[hit]]]
        return found

    def open(self) -> StoredEmbeddings:
        """Every stored vector, on disk (the latest vector wins for an id stored twice); opened
        again only when a shard was added, replaced or removed since the last open."""
        paths = self._shards()
        signature = self._signature(paths)
        if self._opened is None or self._opened[0] != signature:
            self._opened = (signature, _open(paths))
        return self._opened[1]

    def load(self) -> Embeddings:
        """Every stored vector in memory as float32 (`open()` keeps them on disk); read-only
        arrays, read again only when the shards changed since the last load."""
        view = self.open()
        assert self._opened is not None  # set by open()
        signature = self._opened[0]
        if self._loaded is None or self._loaded[0] != signature:
            table = view.to_memory() if len(view) else Embeddings.empty()
            table.ids.flags.writeable = table.vectors.flags.writeable = False
            self._loaded = (signature, table)
        return self._loaded[1]

    def append(self, embeddings: Embeddings, keys: np.ndarray | None = None) -> Path | None:
        """Store a new shard in the store's dtype, with `keys` (float64, one row per vector: what
        it was computed from) when given; returns its folder (None for an empty table)."""
        if len(embeddings) == 0:
            return None
        if keys is not None and len(keys) != len(embeddings):
            raise UsageError(f"{self.folder}: {len(keys)} key rows for {len(embeddings)} vectors; give one row per vector")
        existing = self._shards()
        if existing:
            dim = _read_dim(existing[0])
            if dim != embeddings.dim:
                raise SchemaError(f"{self.folder}: stored vectors have {dim} dimensions, new ones {embeddings.dim}")
        vectors = _as_stored(embeddings.vectors, self.dtype, self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        index = _shard_index(existing[-1]) + 1 if existing else 0
        target = self.folder / f"shard-{index:05d}"
        with replacing_folder(target) as written:
            np.save(os.path.join(written, "ids.npy"), embeddings.ids, allow_pickle=False)
            np.save(os.path.join(written, "vectors.npy"), vectors, allow_pickle=False)
            if keys is not None:
                np.save(os.path.join(written, "keys.npy"), np.asarray(keys, dtype=np.float64), allow_pickle=False)
        return target


def _shard_index(path: Path) -> int:
    match = SHARD_NAME.fullmatch(path.name)
    if match is None:
        raise SchemaError(f"{path}: not a shard name (expected shard-<5 digits>)")
    return int(match.group(1))


def _read_ids(path: Path) -> np.ndarray:
    if path.is_dir():
        return np.load(path / "ids.npy", allow_pickle=False)
    with np.load(path, allow_pickle=False) as old:
        return old["ids"]


def _read_keys(path: Path, width: int) -> np.ndarray:
    """The shard's key rows; NaN rows when it has none (or keys of another width)."""
    file = path / "keys.npy"
    if path.is_dir() and file.exists():
        keys = np.load(file, allow_pickle=False)
        if keys.ndim == 2 and keys.shape[1] == width:
            return keys
    return np.full((len(_read_ids(path)), width), np.nan)


def _read_dim(path: Path) -> int:
    if path.is_dir():
        return np.load(path / "vectors.npy", mmap_mode="r", allow_pickle=False).shape[1]
    with np.load(path, allow_pickle=False) as old:
        return old["vectors"].shape[1]


def _as_stored(vectors: np.ndarray, dtype: str, folder: Path) -> np.ndarray:
    """The vectors in the store's dtype; float16 refuses coordinates it cannot hold."""
    if dtype == "float32":
        return vectors.astype(np.float32, copy=False)
    largest = float(np.abs(vectors).max(initial=0))
    if largest > FLOAT16_MAX:
        raise SchemaError(f"{folder}: a coordinate of {largest:g} does not fit float16 (largest {FLOAT16_MAX:g}); store these embeddings as float32, or L2-normalize them first")
    return vectors.astype(np.float16)


def _open(paths: list[Path]) -> StoredEmbeddings:
    """The view over `paths` (ids read, vectors left on disk); the last copy of an id wins."""
    if not paths:
        return StoredEmbeddings(np.zeros(0, "<U1"), ShardedVectors([], [], 0))
    parts: list[Path | np.ndarray] = []
    lengths: list[int] = []
    id_parts: list[np.ndarray] = []
    for path in paths:
        shard_ids = _read_ids(path)
        if path.is_dir():
            parts.append(path / "vectors.npy")
        else:
            with np.load(path, allow_pickle=False) as old:
                parts.append(old["vectors"].astype(np.float32))
        id_parts.append(shard_ids)
        lengths.append(len(shard_ids))
    ids = np.concatenate(id_parts)
    dim = _read_dim(paths[0])
    _, last = np.unique(ids[::-1], return_index=True)
    keep = np.sort(len(ids) - 1 - last)
    positions = None if len(keep) == len(ids) else keep
    return StoredEmbeddings(ids if positions is None else ids[keep], ShardedVectors(parts, lengths, dim, positions))


def store_for(workspace: str | os.PathLike, model: str, dtype: str = "float32") -> EmbeddingStore:
    """The store of a model's embeddings in a workspace (a model path gets its stem and a hash);
    `dtype` is how new shards are written."""
    import hashlib

    key = model
    if "/" in model or "\\" in model or "." in Path(model).name:
        digest = hashlib.sha256(str(Path(model).resolve()).encode()).hexdigest()[:8]
        key = f"{Path(model).stem}-{digest}"
    return EmbeddingStore(Path(workspace) / "embeddings" / re.sub(r"[^A-Za-z0-9_.-]", "_", key), dtype)
