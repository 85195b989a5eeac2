"""Embeddings read from the store's shard files on demand: memory-mapped, never all loaded.

`ShardedVectors` is an (N, D) matrix split over shard files (`.npy`, float32 or float16); it is
indexed like a numpy array by rows (a slice, an index array, a boolean mask) and gives float32
rows, reading only those rows through a memory map of each shard they lie in. The map is
closed after each read, so the resident memory is the rows asked for, not the shards (a
float16 store of 10,000,000 × 1280 is 25.6 GB on disk).
`StoredEmbeddings` pairs it with the sample ids, like `Embeddings`, whose float32 matrix lives
in memory; `thresher.select` computes DIVERSITY's projection block by block from it.

    view = EmbeddingStore(folder).open()          # ids in memory, vectors on disk
    rows = view.align(["a.png", "b.png"])        # still on disk
    block = rows.vectors[0:2]                     # float32 (2, D) in memory
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from thresher.table import as_str_array, lookup
from thresher.embeddings import Embeddings
from thresher.errors import SchemaError, UsageError

Part = Path | np.ndarray  # a shard's `.npy` vectors file (memory-mapped when read), or vectors in memory


class ShardedVectors:
    """Rows of an (N, D) matrix kept in shards, read as float32 when indexed.

    Args:
        parts: each shard's vectors: a `.npy` path (float32 or float16, memory-mapped when
            read) or an array already in memory (the old `.npz` shards).
        lengths: rows of each part.
        dim: D.
        positions: the rows of this view as positions in the parts laid end to end (None:
            every row in order).
    """

    ndim = 2
    dtype = np.dtype(np.float32)  # what indexing returns, whatever the shards hold

    def __init__(self, parts: list[Part], lengths: list[int], dim: int, positions: np.ndarray | None = None) -> None:
        self.parts, self.dim = list(parts), int(dim)
        self._offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int64)
        self.positions = positions
        n = int(self._offsets[-1]) if positions is None else len(positions)
        self.shape = (n, self.dim)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"ShardedVectors(shape={self.shape}, shards={len(self.parts)})"

    def shard(self, index: int) -> np.ndarray:
        """Shard `index` as stored: a read-only `np.memmap` (or the in-memory array of an old shard)."""
        part = self.parts[index]
        return np.load(part, mmap_mode="r", allow_pickle=False) if isinstance(part, Path) else part

    def _positions(self, index: object) -> np.ndarray:
        if isinstance(index, tuple):
            raise UsageError("ShardedVectors: index rows only (view[rows]); take columns from the float32 rows it returns")
        if isinstance(index, slice):
            chosen = np.arange(*index.indices(len(self)), dtype=np.int64)
        else:
            chosen = np.asarray(index)
            if chosen.dtype == bool:
                if chosen.shape != (len(self),):
                    raise UsageError(f"ShardedVectors: boolean mask of shape {chosen.shape} for {len(self)} rows")
                chosen = np.flatnonzero(chosen)
            chosen = chosen.astype(np.int64, copy=False)
            if chosen.size and (chosen.min() < -len(self) or chosen.max() >= len(self)):
                raise IndexError(f"ShardedVectors: rows must lie in [{-len(self)}, {len(self)}), got {chosen.min()}..{chosen.max()}")
            chosen = np.where(chosen < 0, chosen + len(self), chosen)
        return chosen if self.positions is None else self.positions[chosen]

    def __getitem__(self, index: object) -> np.ndarray:
        """float32 rows (a 1-D vector for an integer index)."""
        if isinstance(index, (int, np.integer)):
            return self[np.array([index])][0]
        return self._gather(self._positions(index))

    def take(self, index: object) -> "ShardedVectors":
        """The same rows as `self[index]`, still on disk (a view)."""
        return ShardedVectors(self.parts, np.diff(self._offsets).tolist(), self.dim, self._positions(index))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        rows = self[:]
        return rows if dtype is None else rows.astype(dtype, copy=False)

    def _gather(self, positions: np.ndarray) -> np.ndarray:
        """Rows at `positions` (in the parts end to end), read shard by shard in file order."""
        out = np.empty((len(positions), self.dim), np.float32)
        if len(positions) == 0:
            return out
        ordered = bool((positions[1:] >= positions[:-1]).all())
        order = None if ordered else np.argsort(positions, kind="stable")
        sorted_positions = positions if ordered else positions[order]
        part_of = np.searchsorted(self._offsets, sorted_positions, side="right") - 1
        cuts = np.concatenate([[0], np.flatnonzero(np.diff(part_of)) + 1, [len(positions)]])
        for start, stop in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
            part = int(part_of[start])
            local = sorted_positions[start:stop] - self._offsets[part]
            stored = self.shard(part)
            first, last = int(local[0]), int(local[-1])
            rows = stored[first : last + 1] if last - first == stop - start - 1 else stored[local]
            if order is None:
                out[start:stop] = rows
            else:
                out[order[start:stop]] = rows
            del stored, rows  # unmap now: the shard's pages leave this process
        return out


@dataclass(frozen=True, eq=False)
class StoredEmbeddings:
    """Sample ids (in memory) and their vectors (`ShardedVectors`, on disk); row i is ids[i]."""

    ids: np.ndarray
    vectors: ShardedVectors

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", as_str_array(self.ids, "StoredEmbeddings.ids"))
        if len(self.ids) != len(self.vectors):
            raise SchemaError(f"StoredEmbeddings: {len(self.ids)} ids but {len(self.vectors)} vectors")

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dim(self) -> int:
        return self.vectors.dim

    def __getitem__(self, rows: np.ndarray | slice) -> "StoredEmbeddings":
        """Rows by boolean mask, index array or slice (still on disk)."""
        return StoredEmbeddings(self.ids[rows], self.vectors.take(rows if isinstance(rows, slice) else np.asarray(rows)))

    def align(self, ids: npt.ArrayLike) -> "StoredEmbeddings":
        """Rows in the order of `ids` (still on disk); SchemaError naming the first id with no vector."""
        ids = as_str_array(ids, "ids")
        rows, found = lookup(self.ids, ids)
        if not found.all():
            raise SchemaError(f"Embeddings: no vector for sample {str(ids[~found][0])!r}")
        return StoredEmbeddings(ids, self.vectors.take(rows))

    def to_memory(self) -> Embeddings:
        """The float32 `Embeddings` in memory (4 · N · D bytes)."""
        return Embeddings(self.ids, self.vectors[:])
