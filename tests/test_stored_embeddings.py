"""`ShardedVectors` / `StoredEmbeddings`: indexed like the float32 matrix they stand for."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_embedding_store import ids_of, unit_rows
from thresher.embedding_store import EmbeddingStore
from thresher.embeddings import Embeddings
from thresher.errors import SchemaError, UsageError


@pytest.fixture
def stored(tmp_path):
    """(view, X): 100 vectors of 8 dimensions in shards of 7 rows, and the same in memory."""
    X = unit_rows(100, 8, seed=5)
    store = EmbeddingStore(tmp_path)
    for lo in range(0, 100, 7):
        store.append(Embeddings(ids_of(lo, min(100, lo + 7)), X[lo : lo + 7]))
    return store.open(), X


@pytest.mark.parametrize(
    "index",
    [slice(None), slice(3, 50, 4), slice(90, 10, -3), np.array([99, 0, 7, 7, 6, 50]), np.array([-1, -100]), np.arange(100) % 3 == 0, np.zeros(0, np.int64)],
)
def test_rows_come_out_as_the_in_memory_matrix_gives_them(stored, index):
    view, X = stored
    assert np.array_equal(view.vectors[index], X[index])
    assert np.array_equal(view.vectors.take(index)[:], X[index])
    assert np.array_equal(np.asarray(view.vectors.take(index)), X[index])


def test_align_subsets_and_to_memory(stored):
    view, X = stored
    wanted = ids_of(0, 100)[[42, 3, 97]]
    aligned = view.align(wanted)
    assert aligned.ids.tolist() == wanted.tolist() and aligned.dim == 8 and len(aligned) == 3
    assert np.array_equal(aligned.vectors[:], X[[42, 3, 97]])
    assert np.array_equal(aligned[1:].vectors[:], X[[3, 97]])
    assert np.array_equal(view.vectors[5], X[5])
    table = aligned.to_memory()
    assert isinstance(table, Embeddings) and np.array_equal(table.vectors, X[[42, 3, 97]])
    with pytest.raises(SchemaError, match="Embeddings: no vector for sample 'nope'"):
        view.align(["s00001", "nope"])


def test_indexing_is_by_rows_only(stored):
    view, _ = stored
    with pytest.raises(UsageError, match=r"index rows only \(view\[rows\]\)"):
        view.vectors[0, 1]
    with pytest.raises(UsageError, match=r"boolean mask of shape \(3,\) for 100 rows"):
        view.vectors[np.ones(3, bool)]
    with pytest.raises(IndexError, match=r"rows must lie in \[-100, 100\), got 0..100"):
        view.vectors[np.array([0, 100])]
