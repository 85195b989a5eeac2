"""The embedding store: shards on disk (float32 or float16), memory-mapped reads, old .npz shards."""

from __future__ import annotations

import numpy as np
import pytest

from thresher.embedding_store import EmbeddingStore, store_for
from thresher.embeddings import Embeddings
from thresher.errors import SchemaError, UsageError


def unit_rows(n: int, d: int, seed: int = 0) -> np.ndarray:
    X = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def ids_of(lo: int, hi: int) -> np.ndarray:
    return np.array([f"s{i:05d}" for i in range(lo, hi)])


def test_float16_round_trip_keeps_the_float16_values_in_half_the_bytes(tmp_path):
    X = unit_rows(300, 64, seed=1)
    X[0, :3] = [3e-6, -65000.0, 1 / 3]  # subnormal, near the largest float16, not representable
    half, full = EmbeddingStore(tmp_path / "half", "float16"), EmbeddingStore(tmp_path / "full")
    for store in (half, full):
        store.append(Embeddings(ids_of(0, 300), X))
    stored = np.load(tmp_path / "half" / "shard-00000" / "vectors.npy", mmap_mode="r")
    assert stored.dtype == np.float16 and stored.shape == (300, 64)
    loaded = half.load()
    assert loaded.vectors.dtype == np.float32 and loaded.ids.tolist() == ids_of(0, 300).tolist()
    assert np.array_equal(loaded.vectors, X.astype(np.float16).astype(np.float32))
    assert np.array_equal(full.load().vectors, X)
    size = {name: (tmp_path / name / "shard-00000" / "vectors.npy").stat().st_size for name in ("half", "full")}
    assert size["half"] - 128 <= size["full"] / 2 <= size["half"]  # the same .npy header, half the data


def test_the_latest_vector_wins_across_shards_of_both_dtypes_and_the_old_npz_layout(tmp_path):
    X = unit_rows(40, 8, seed=2)
    np.savez(tmp_path / "shard-00000.npz", ids=ids_of(0, 20), vectors=X[:20])  # a store written before the .npy layout
    EmbeddingStore(tmp_path, "float16").append(Embeddings(ids_of(10, 30), 2 * X[10:30]))
    EmbeddingStore(tmp_path).append(Embeddings(ids_of(25, 40), 3 * X[25:40]))
    expected = np.concatenate([X[:10], (2 * X[10:25]).astype(np.float16).astype(np.float32), 3 * X[25:40]])
    store = EmbeddingStore(tmp_path)
    view = store.open()
    assert view.ids.tolist() == ids_of(0, 40).tolist()
    assert np.array_equal(view.vectors[:], expected)
    assert np.array_equal(store.load().align(ids_of(0, 40)).vectors, expected)
    assert len(store.ids()) == 20 + 20 + 15


def test_keys_of_the_latest_vector_and_nan_where_none_was_stored(tmp_path):
    store = EmbeddingStore(tmp_path)
    store.append(Embeddings(ids_of(0, 4), unit_rows(4, 8)), np.arange(8.0).reshape(4, 2))
    store.append(Embeddings(ids_of(2, 3), unit_rows(1, 8)), np.array([[9.0, 9.0]]))
    store.append(Embeddings(ids_of(3, 5), unit_rows(2, 8)))  # a shard without keys (frames, or written before keys)
    found = store.keys(np.array(["s00002", "s00000", "s00003", "s00099"]), 2)
    assert found[:2].tolist() == [[9.0, 9.0], [0.0, 1.0]] and np.isnan(found[2:]).all()
    with pytest.raises(UsageError, match="2 key rows for 1 vectors; give one row per vector"):
        store.append(Embeddings(ids_of(7, 8), unit_rows(1, 8)), np.zeros((2, 2)))


def test_vectors_stay_on_disk_and_a_read_opens_only_the_shards_it_needs(tmp_path):
    """open() reads the ids only; each read maps the shards holding its rows (np.memmap),
    so removing another shard's vector file does not disturb it."""
    store = EmbeddingStore(tmp_path / "emb", "float16")
    X = unit_rows(90, 16, seed=3)
    for lo in range(0, 90, 30):
        store.append(Embeddings(ids_of(lo, lo + 30), X[lo : lo + 30]))
    view = store.open()
    assert all(isinstance(view.vectors.shard(i), np.memmap) for i in range(3))
    (tmp_path / "emb" / "shard-00000" / "vectors.npy").unlink()
    (tmp_path / "emb" / "shard-00002" / "vectors.npy").unlink()
    middle = view.align(ids_of(35, 60))
    assert np.array_equal(middle.vectors[:], X[35:60].astype(np.float16).astype(np.float32))
    with pytest.raises(FileNotFoundError):
        view.vectors[0:1]


def test_a_changed_store_is_opened_again(tmp_path):
    store = EmbeddingStore(tmp_path)
    store.append(Embeddings(ids_of(0, 5), unit_rows(5, 4)))
    first = store.open()
    assert store.open() is first
    store.append(Embeddings(ids_of(5, 9), unit_rows(4, 4, seed=1)))
    assert len(store.open()) == 9 and len(store.load()) == 9


def test_float16_refuses_what_it_cannot_hold_and_dimensions_must_match(tmp_path):
    store = EmbeddingStore(tmp_path, "float16")
    with pytest.raises(SchemaError, match=r"a coordinate of 70000 does not fit float16 \(largest 65504\); store these embeddings as float32"):
        store.append(Embeddings(ids_of(0, 1), np.array([[70000.0, 0.0]], np.float32)))
    store.append(Embeddings(ids_of(0, 2), unit_rows(2, 4)))
    with pytest.raises(SchemaError, match="stored vectors have 4 dimensions, new ones 3"):
        store.append(Embeddings(ids_of(2, 3), unit_rows(1, 3)))
    with pytest.raises(UsageError, match="embedding dtype: expected one of float32, float16, got 'bfloat16'"):
        store_for(tmp_path, "model", "bfloat16")


def test_shards_sort_by_number_beyond_five_digits_and_unfinished_folders_are_ignored(tmp_path):
    store = EmbeddingStore(tmp_path)
    store.append(Embeddings(ids_of(0, 2), unit_rows(2, 4)))
    (tmp_path / "shard-00000").rename(tmp_path / "shard-99999")
    store.append(Embeddings(ids_of(0, 2), 2 * unit_rows(2, 4)))  # numbered 100000: written after 99999
    (tmp_path / ".shard-100001.abcd1234.tmp").mkdir()  # a write interrupted before its rename
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["shard-100000", "shard-99999"]
    assert np.array_equal(store.load().vectors, 2 * unit_rows(2, 4))
