"""`Embeddings`: one float32 vector per sample id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from thresher._table import as_array, as_str_array, lookup
from thresher.errors import SchemaError


@dataclass(frozen=True, eq=False)
class Embeddings:
    """Sample ids and a float32 (N, D) matrix, row i the vector of ids[i]."""

    ids: np.ndarray
    vectors: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", as_str_array(self.ids, "Embeddings.ids"))
        vectors = self.vectors
        if np.size(vectors) == 0 and np.ndim(vectors) < 2:
            vectors = np.zeros((0, 0), np.float32)
        object.__setattr__(self, "vectors", as_array(vectors, "Embeddings.vectors", np.float32, 2))
        if len(self.vectors) != len(self.ids):
            raise SchemaError(f"Embeddings: {len(self.ids)} ids but {len(self.vectors)} vectors")
        if not np.isfinite(self.vectors).all():
            raise SchemaError("Embeddings.vectors: expected finite numbers, got NaN or inf")
        if len(np.unique(self.ids)) != len(self.ids):
            raise SchemaError("Embeddings.ids: ids must be unique")

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def __getitem__(self, rows: object) -> "Embeddings":
        """Rows by boolean mask, index array or slice."""
        return Embeddings(self.ids[rows], self.vectors[rows])

    def align(self, ids: object) -> "Embeddings":
        """Rows in the order of `ids`; raises SchemaError naming the first id with no vector."""
        ids = as_str_array(ids, "ids")
        rows, found = lookup(self.ids, ids)
        if not found.all():
            raise SchemaError(f"Embeddings: no vector for sample {str(ids[~found][0])!r}")
        return Embeddings(ids, self.vectors[rows])

    def normalized(self) -> "Embeddings":
        """Unit L2 norm per row (zero vectors stay zero)."""
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        return Embeddings(self.ids, self.vectors / np.where(norms > 0, norms, 1).astype(np.float32))

    @classmethod
    def empty(cls, dim: int = 0) -> "Embeddings":
        return cls(np.zeros(0, dtype="<U1"), np.zeros((0, dim), np.float32))

    @classmethod
    def concat(cls, tables: Sequence["Embeddings"]) -> "Embeddings":
        if not tables:
            return cls.empty()
        dims = {t.dim for t in tables if len(t)}
        if len(dims) > 1:
            raise SchemaError(f"Embeddings.concat: dimensions differ: {sorted(dims)}")
        return cls(np.concatenate([t.ids for t in tables]), np.concatenate([t.vectors for t in tables if len(t)] or [tables[0].vectors]))
