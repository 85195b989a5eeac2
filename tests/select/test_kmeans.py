"""weighted_kmeans: the fixed point it returns, weights, blobs, determinism, against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

from thresher.select.kmeans import weighted_kmeans


def blobs(seed: int = 0, per: int = 30, k: int = 4, d: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 10, (k, d))
    members = np.repeat(np.arange(k), per)
    return (centers[members] + rng.normal(0, 0.3, (k * per, d))).astype(np.float32), members


def test_one_cluster_is_the_weighted_mean():
    X = np.array([[0.0], [1.0], [4.0]], np.float32)
    result = weighted_kmeans(X, 1, np.array([1.0, 2.0, 1.0]), seed=0)
    assert result.centers[0, 0] == pytest.approx((0 + 2 + 4) / 4)
    assert result.labels.tolist() == [0, 0, 0]
    assert result.inertia == pytest.approx(1 * 1.5**2 + 2 * 0.5**2 + 1 * 2.5**2)


def test_separated_blobs_are_found_exactly():
    X, members = blobs()
    result = weighted_kmeans(X, 4, np.ones(len(X)), seed=3)
    # the same partition, whatever the numbering of the clusters
    pairs = set(zip(result.labels.tolist(), members.tolist()))
    assert len(pairs) == 4 and len({a for a, _ in pairs}) == 4


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_result_is_a_lloyd_fixed_point(seed):
    """Each row sits in its nearest cluster and each center is its cluster's weighted mean."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    w = rng.random(300) + 0.1
    result = weighted_kmeans(X, 7, w, seed=seed, max_iter=1000, tol=0.0)
    d = ((X[:, None, :].astype(np.float64) - result.centers[None]) ** 2).sum(axis=2)
    assert np.array_equal(result.labels, d.argmin(axis=1))
    for c in range(7):
        rows = result.labels == c
        assert np.allclose(result.centers[c], np.average(X[rows], axis=0, weights=w[rows]), atol=1e-5)
    assert result.inertia == pytest.approx(float(np.dot(w, d.min(axis=1))), rel=1e-5)


def test_heavy_rows_pull_the_centers():
    """Two groups, one cluster each way: the heavy row of a group decides where its center sits."""
    X = np.array([[0.0], [1.0], [10.0], [11.0]], np.float32)
    light = weighted_kmeans(X, 2, np.array([1.0, 1.0, 1.0, 1.0]), seed=0)
    heavy = weighted_kmeans(X, 2, np.array([1.0, 99.0, 1.0, 1.0]), seed=0)
    assert sorted(light.centers[:, 0].tolist()) == pytest.approx([0.5, 10.5])
    assert sorted(heavy.centers[:, 0].tolist()) == pytest.approx([0.99, 10.5])


def test_same_seed_same_result_and_seeds_matter():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 8)).astype(np.float32)
    w = rng.random(400)
    first, again = weighted_kmeans(X, 12, w, seed=9), weighted_kmeans(X, 12, w, seed=9)
    assert np.array_equal(first.labels, again.labels) and np.array_equal(first.centers, again.centers)
    others = [weighted_kmeans(X, 12, w, seed=s).labels for s in range(4)]
    assert any(not np.array_equal(others[0], o) for o in others[1:])


def test_as_good_as_scikit_learn_on_blobs_and_close_on_noise():
    from sklearn.cluster import KMeans

    X, _ = blobs(seed=1, k=6)
    w = np.random.default_rng(0).random(len(X)) + 0.5
    ours = weighted_kmeans(X, 6, w, seed=0).inertia
    theirs = KMeans(6, n_init=1, random_state=0).fit(X, sample_weight=w).inertia_
    assert ours == pytest.approx(theirs, rel=1e-4)  # both find the blobs
    noise = np.random.default_rng(2).normal(size=(2000, 16)).astype(np.float32)
    ours = np.mean([weighted_kmeans(noise, 40, np.ones(2000), seed=s).inertia for s in range(3)])
    theirs = np.mean([KMeans(40, n_init=1, random_state=s).fit(noise).inertia_ for s in range(3)])
    assert ours < 1.03 * theirs  # no structure: local optima, within a few percent


def test_duplicates_and_zero_weights():
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0]], np.float32), 5, axis=0)
    result = weighted_kmeans(X, 4, np.ones(10), seed=0)  # only two distinct rows for four clusters
    assert result.centers.shape == (4, 2) and result.inertia == pytest.approx(0.0)
    # a row of weight 0 is never a seed and never moves a center, though it is assigned
    zero = weighted_kmeans(np.array([[0.0], [5.0], [6.0]], np.float32), 2, np.array([0.0, 1.0, 1.0]), seed=0)
    assert sorted(zero.centers[:, 0].tolist()) == [5.0, 6.0] and zero.inertia == 0.0
    assert zero.labels[0] == zero.labels[1] != zero.labels[2]


@pytest.mark.parametrize(("k", "weights", "match"), [(0, [1, 1], "k"), (3, [1, 1], "k"), (1, [1, -1], "weights"),
                                                     (1, [0, 0], "weights"), (1, [1], "weights")])  # fmt: skip
def test_errors(k, weights, match):
    with pytest.raises(ValueError, match=match):
        weighted_kmeans(np.zeros((2, 2), np.float32), k, np.array(weights, dtype=float))
