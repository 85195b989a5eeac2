"""`Embeddings`: one float32 vector per sample id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from thresher.errors import SchemaError
from thresher.table import Table, column

if TYPE_CHECKING:
    from thresher.table import Column


@dataclass(frozen=True, eq=False)
class Embeddings(Table):
    """Sample ids and a float32 (N, D) matrix, row i the vector of ids[i].

    Rows, `concat` (same D; tables of zero rows may have any), `empty`, `replace`, `index_of`
    and `align` (by id; an id with no vector is an error) as every `thresher.table.Table`.

    >>> emb = Embeddings(["a", "b"], [[3, 4], [0, 1]])
    >>> emb.align(["b", "a"]).normalized().vectors
    array([[0. , 1. ],
           [0.6, 0.8]], dtype=float32)
    """

    _key = "ids"
    _missing = "no vector for sample {id!r}"

    ids: Column = column(str)
    vectors: Column = column(np.float32, ndim=2)

    def _check(self) -> None:
        if not np.isfinite(self.vectors).all():
            raise SchemaError("Embeddings.vectors: expected finite numbers, got NaN or inf")
        if len(np.unique(self.ids)) != len(self.ids):
            raise SchemaError("Embeddings.ids: ids must be unique")

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def normalized(self) -> "Embeddings":
        """Unit L2 norm per row (zero vectors stay zero)."""
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        return self.replace(vectors=self.vectors / np.where(norms > 0, norms, 1).astype(np.float32))

    @classmethod
    def empty(cls, dim: int = 0) -> "Embeddings":
        """Zero vectors of dimension `dim`."""
        return cls(np.zeros(0, dtype="<U1"), np.zeros((0, dim), np.float32))
