"""Approximate k-center: float16 / int8 storage, PCA, partitions; and in the selector."""

import numpy as np
import pytest

from tests.select.test_kcenter import BACKENDS, brute_force_greedy, unit_blobs
from thresher.errors import UsageError
from thresher.frames import Frames
from thresher.select import Approximation, SelectionInputs, _kernels, approximate_k_center, k_center_greedy, run_selection
from thresher.select.approximate import compress
from thresher.select.kcenter import cover_radius


@pytest.mark.parametrize("backend", BACKENDS)
def test_float16_storage_is_exact_k_center_of_the_float16_values(backend):
    H = unit_blobs(500, d=16, seed=4).astype(np.float16)
    H[7] = np.float16(3e-6)  # subnormal coordinates too
    assert k_center_greedy(H, 50, backend=backend).tolist() == brute_force_greedy(H.astype(np.float32), 50)


@pytest.mark.skipif(not _kernels.numba_available(), reason="numba (thresher[fast]) is not installed")
def test_the_numba_kernel_widens_every_finite_float16_exactly():
    bits = np.arange(1 << 16, dtype=np.uint16)
    values = bits.view(np.float16)
    X = values[np.isfinite(values)].reshape(-1, 1)
    min_sq = np.full(len(X), np.inf, np.float32)
    assign = np.full(len(X), -1, np.int32)
    aux = _kernels.prepare(X, "numba")
    _kernels.update(X, np.zeros(1, np.float32), min_sq, assign, np.zeros(0, np.float32), 0, aux, "numba")
    assert np.array_equal(min_sq, X[:, 0].astype(np.float32) ** 2)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"storage": "bfloat16"}, "storage: expected one of float32, float16, int8, got 'bfloat16'"),
        ({"pca_dims": 0}, "pca_dims: expected an integer >= 1 or None, got 0"),
        ({"partitions": 0}, "partitions: expected an integer >= 1, got 0"),
        ({"oversample": 0.5}, "oversample: expected a number >= 1"),
    ],
)
def test_bad_options_name_the_parameter(options, message):
    with pytest.raises(UsageError, match=message):
        Approximation(**options)


def test_the_default_is_exact_k_center():
    X = unit_blobs(300, seed=5)
    assert approximate_k_center(X, 30).tolist() == k_center_greedy(X, 30).tolist()


def test_int8_storage_is_k_center_of_the_rounded_vectors():
    X = unit_blobs(400, d=8, seed=6) * 0.5  # largest |coordinate| below 1: the scale is 127 / max
    Q = np.rint(X * (127 / np.abs(X).max())).astype(np.int8)
    picks = approximate_k_center(X, 40, Approximation(storage="int8"))
    assert picks.tolist() == brute_force_greedy(Q.astype(np.float32), 40)


def test_pca_keeps_the_picks_of_vectors_lying_in_fewer_dimensions():
    rng = np.random.default_rng(7)
    low = rng.standard_normal((300, 4))
    basis, _ = np.linalg.qr(rng.standard_normal((16, 4)))
    X = (low @ basis.T + 0.25).astype(np.float32)  # 4-d data, shifted, in 16 dims
    reduced, compressor = compress(X, Approximation(pca_dims=4))
    assert reduced.shape == (300, 4)
    assert np.allclose(np.linalg.norm(reduced[0] - reduced[1]), np.linalg.norm(X[0] - X[1]), rtol=1e-4)
    assert approximate_k_center(X, 30, Approximation(pca_dims=4)).tolist() == brute_force_greedy(X, 30)


@pytest.mark.parametrize("partitions", [2, 5])
def test_partitions_pick_k_distinct_rows_covering_nearly_as_well(partitions):
    X = unit_blobs(2000, d=8, seed=8)
    exact = k_center_greedy(X, 40)
    picks = approximate_k_center(X, 40, Approximation(partitions=partitions), preselected=[3, 4])
    assert len(picks) == 40 == len(set(picks.tolist())) and not {3, 4} & set(picks.tolist())
    # k-center greedy is a 2-approximation: no pick set of 40 covers better than half its radius
    assert cover_radius(X, np.r_[picks, 3, 4]) <= 2 * cover_radius(X, exact)


@pytest.mark.parametrize("approximation", [Approximation(partitions=3), Approximation(storage="int8")])
def test_min_distance_is_in_the_original_units(approximation):
    X = unit_blobs(800, d=8, seed=9)
    picks = approximate_k_center(X, 500, approximation, min_distance=0.3)
    chosen = X[picks]
    gaps = np.linalg.norm(chosen[:, None] - chosen[None], axis=2) + 9 * np.eye(len(picks))
    assert 1 < len(picks) < 500 and gaps.min() >= 0.3 - 0.02  # int8 rounding moves points by < 0.01


def test_the_selector_takes_storage_and_pca_for_diversity():
    X = unit_blobs(300, d=8, seed=10)
    ids = np.array([f"s{i:04d}" for i in range(len(X))])
    frames = Frames.build(ids, kind="image", video=ids, frame_index=0, width=1, height=1)
    from thresher.embeddings import Embeddings

    inputs = SelectionInputs(frames, embeddings={"": Embeddings(ids, X)})
    config = {"n_samples": 20, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}
    int8 = Approximation(storage="int8")
    outcome = run_selection(config, inputs, approximation=int8)
    assert outcome.selection.ids.tolist() == ids[approximate_k_center(X, 20, int8)].tolist()
    (why,) = outcome.values.values()  # distance to the earlier picks, reported in the original units
    rows = np.searchsorted(ids, outcome.selection.ids)
    nearest = [np.linalg.norm(X[rows[:j]] - X[rows[j]], axis=1).min() for j in range(1, len(rows))]
    assert np.allclose(why[1:], nearest, atol=0.02)
    with pytest.raises(UsageError, match="approximation.partitions: the selector takes storage and pca_dims only"):
        run_selection(config, inputs, approximation=Approximation(partitions=2))


@pytest.mark.parametrize("approximation", [Approximation(storage="float16"), Approximation(storage="int8"), Approximation(pca_dims=4), Approximation(storage="int8", pca_dims=4)])
def test_the_engine_builds_compressed_embeddings_block_by_block_from_any_table_order(approximation, monkeypatch):
    """The selector compresses straight from the stored table (no aligned float32 copy), in any
    row order of the table, with the same picks as `approximate_k_center` on the aligned rows;
    another strategy on the same embeddings still reads the float32 unit vectors."""
    from thresher.embeddings import Embeddings

    X = unit_blobs(400, d=8, seed=11)
    ids = np.array([f"s{i:04d}" for i in range(len(X))])
    shuffled = np.random.default_rng(0).permutation(len(X))
    inputs = SelectionInputs(
        Frames.build(ids, kind="image", video=ids, frame_index=0, width=1, height=1), embeddings={"": Embeddings(ids[shuffled], 3.0 * X[shuffled])}
    )  # not unit: normalized on the way
    monkeypatch.setattr(Embeddings, "align", _no_aligned_copy)
    config = {"n_samples": 25, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}
    outcome = run_selection(config, inputs, approximation=approximation)
    assert outcome.selection.ids.tolist() == ids[approximate_k_center(X, 25, approximation)].tolist()
    with_typicality = {**config, "strategies": [*config["strategies"], {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "TYPICALITY"}}]}
    monkeypatch.undo()
    assert len(run_selection(with_typicality, inputs, approximation=approximation).selection) == 25


def _no_aligned_copy(self, ids):
    raise AssertionError("the compressed path made an aligned float32 copy of the embeddings")


def test_projection_block_by_block_equals_the_projection_at_once():
    from thresher.select.approximate import Compressor

    X = unit_blobs(1000, d=32, seed=12)
    compressor = Compressor(Approximation(pca_dims=6, pca_sample=400)).fit(X)
    at_once = (X - compressor.mean.astype(np.float32)) @ compressor.axes
    for block in (1, 7, 333, 1000, 5000):  # equal up to float32 rounding (BLAS sums in another order per block shape)
        assert np.allclose(compressor.transform(X, block=block), at_once, rtol=0, atol=2e-6)


def _stored(tmp_path, X, ids, dtype, shard_rows=97):
    """X (in a shuffled row order) in an embedding store of `dtype`, opened: vectors stay on disk."""
    from thresher.embedding_store import EmbeddingStore
    from thresher.embeddings import Embeddings

    store = EmbeddingStore(tmp_path / dtype, dtype)
    order = np.random.default_rng(1).permutation(len(X))
    for lo in range(0, len(X), shard_rows):
        rows = order[lo : lo + shard_rows]
        store.append(Embeddings(ids[rows], X[rows]))
    return store.open()


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("approximation", [None, Approximation(pca_dims=5), Approximation(storage="int8", pca_dims=5)])
def test_diversity_over_a_streamed_store_selects_what_it_selects_in_memory(tmp_path, dtype, approximation):
    """The selector reads the store's memory-mapped shards block by block; the picks are those
    of the same (stored, hence float16-rounded) values held in memory."""
    from thresher.embeddings import Embeddings
    from thresher.stored_embeddings import StoredEmbeddings

    X = unit_blobs(1500, d=12, seed=13)
    ids = np.array([f"s{i:05d}" for i in range(len(X))])
    view = _stored(tmp_path, X, ids, dtype)
    assert isinstance(view, StoredEmbeddings) and isinstance(view.vectors.shard(0), np.memmap)
    frames = Frames.build(ids, kind="image", video=ids, frame_index=0, width=1, height=1)
    in_memory = Embeddings(ids, X.astype(dtype).astype(np.float32))
    config = {"n_samples": 60, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}
    preselected = ids[[3, 700]]
    streamed = run_selection(config, SelectionInputs(frames, embeddings={"": view}, preselected=preselected), approximation=approximation)
    held = run_selection(config, SelectionInputs(frames, embeddings={"": in_memory}, preselected=preselected), approximation=approximation)
    assert streamed.selection.ids.tolist() == held.selection.ids.tolist()
    assert len(streamed.selection) == 60
    assert np.array_equal(*(np.concatenate(list(o.values.values())) for o in (streamed, held)), equal_nan=True)


def test_too_many_stored_embeddings_for_the_memory_is_a_config_error_naming_the_fix(tmp_path, monkeypatch):
    from thresher.errors import ConfigError
    from thresher.select import values

    X = unit_blobs(300, d=12, seed=14)
    ids = np.array([f"s{i:05d}" for i in range(len(X))])
    inputs = SelectionInputs(Frames.build(ids, kind="image", video=ids, frame_index=0, width=1, height=1), embeddings={"": _stored(tmp_path, X, ids, "float16")})
    config = {"n_samples": 5, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}
    monkeypatch.setattr(values, "_available_bytes", lambda: 10_000)  # less than 300 x 12 x 4 bytes
    with pytest.raises(
        ConfigError,
        match=r"strategies\[0\]\.input: 300 embeddings of 12 dimensions need 0\.0 GiB as float32, more than the 0\.0 GiB "
        r"of memory available; for DIVERSITY set thresher\.diversity\.pca_dims",
    ):
        run_selection(config, inputs)
    assert len(run_selection(config, inputs, approximation=Approximation(pca_dims=4)).selection) == 5
