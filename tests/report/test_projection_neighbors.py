"""2-D projections and nearest-neighbour distances of the report, on small hand-made vectors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thresher.errors import MissingDependencyError, UsageError
from thresher.report import projection as proj
from thresher.report.neighbors import closest_pairs, nearest, nearest_other, normalized


def test_pca_of_points_on_a_great_circle_arc_keeps_their_order():
    angles = np.linspace(0, 0.8, 9)
    vectors = np.stack([np.cos(angles), np.sin(angles), np.zeros(9)], axis=1) * 3.0  # length does not matter
    xy = proj.pca_2d(vectors)
    assert xy.dtype == np.float32 and xy.shape == (9, 2)
    first = xy[:, 0]
    assert np.all(np.diff(first) > 0) or np.all(np.diff(first) < 0)
    # the spread of the first axis is the largest
    assert first.std() > xy[:, 1].std()


def test_pca_is_deterministic_and_sign_fixed():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(50, 6))
    a, b = proj.pca_2d(vectors, seed=3), proj.pca_2d(vectors.copy(), seed=3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(proj.pca_2d(-1.0 * -vectors), a)


def test_pca_fits_on_a_seeded_subsample_when_large(monkeypatch):
    monkeypatch.setattr(proj, "PCA_FIT_SAMPLES", 20)
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(200, 4)) * np.array([5.0, 1.0, 0.1, 0.1])
    xy = proj.pca_2d(vectors, seed=0)
    np.testing.assert_array_equal(xy, proj.pca_2d(vectors, seed=0))
    assert xy.shape == (200, 2) and np.isfinite(xy).all()


@pytest.mark.parametrize("n", [0, 1])
def test_pca_of_too_few_points_is_zeros(n):
    assert proj.pca_2d(np.ones((n, 3))).tolist() == [[0.0, 0.0]] * n


def test_unknown_projection_names_the_choices():
    with pytest.raises(UsageError, match="pca, tsne, umap"):
        proj.project(np.ones((3, 2)), "tnse")


def test_tsne_uses_scikit_learn():
    rng = np.random.default_rng(0)
    vectors = np.r_[rng.normal(0, 0.05, (15, 8)) + 1, rng.normal(0, 0.05, (15, 8)) - 1]
    xy = proj.project(vectors, "tsne", seed=0)
    assert xy.shape == (30, 2) and xy.dtype == np.float32
    # the two groups stay apart
    gap = np.linalg.norm(xy[:15].mean(0) - xy[15:].mean(0))
    assert gap > 3 * max(xy[:15].std(0).max(), xy[15:].std(0).max())


def test_umap_without_umap_learn_names_the_extra():
    """umap-learn is not a test dependency: asking for UMAP without it names the extra."""
    try:
        import umap  # noqa: F401
    except ImportError:
        with pytest.raises(MissingDependencyError, match="report-umap"):
            proj.project(np.ones((5, 3)), "umap")
    else:
        pytest.skip("umap-learn is installed here")


def test_distances_by_hand():
    # unit vectors at 0°, 90°, 180°: distances sqrt(2) and 2
    points = normalized(np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]]))
    np.testing.assert_allclose(nearest_other(points), [math.sqrt(2)] * 3, rtol=1e-6)
    index, distance = nearest(normalized(np.array([[1.0, 0.1]])), points)
    assert index.tolist() == [0]
    assert distance[0] == pytest.approx(math.sqrt(2 - 2 * (1 / math.sqrt(1.01))), rel=1e-4)


def test_nearest_without_points():
    index, distance = nearest(np.ones((2, 3), np.float32), np.zeros((0, 3), np.float32))
    assert index.tolist() == [-1, -1] and np.isinf(distance).all()
    assert np.isinf(nearest_other(np.ones((1, 3), np.float32))).all()


def test_closest_pairs_are_sorted_and_each_other_point_is_paired_with_its_nearest():
    chosen = normalized(np.array([[1.0, 0.0], [0.0, 1.0]]))
    others = normalized(np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 0.2], [-1.0, 0.0]]))
    other, near, distance = closest_pairs(others, chosen, k=3)
    assert other.tolist() == [0, 2, 1]  # identical first, then 0.2 off, then 45°
    assert near.tolist() == [1, 0, 0]  # the 45° point ties: lowest chosen row
    assert np.all(np.diff(distance) >= 0) and distance[0] == pytest.approx(0.0, abs=1e-6)


def test_nearest_is_blockwise_exact(monkeypatch):
    import thresher.report.neighbors as neighbors

    rng = np.random.default_rng(0)
    a, b = normalized(rng.normal(size=(37, 5))), normalized(rng.normal(size=(11, 5)))
    full = nearest_other(np.r_[a, b])
    monkeypatch.setattr(neighbors, "BLOCK", 4)
    np.testing.assert_allclose(nearest_other(np.r_[a, b]), full, rtol=1e-5)
    brute = np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1))
    np.testing.assert_allclose(nearest(a, b)[1], brute.min(1), rtol=1e-4, atol=1e-6)
