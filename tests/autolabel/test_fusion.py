"""Fusion: the simplex grid, min-max scaling, and the weight search."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest

from thresher.autolabel import Scaling, budget_metric, search_weights, simplex_grid
from thresher.autolabel.fusion import grid_steps, objective
from thresher.errors import SchemaError


@pytest.mark.parametrize(("k", "steps"), [(1, 5), (2, 4), (3, 6), (4, 3)])
def test_simplex_grid_holds_every_composition_once(k, steps):
    grid = simplex_grid(k, steps)
    assert grid.shape == (comb(steps + k - 1, k - 1), k)
    assert np.allclose(grid.sum(axis=1), 1) and (grid >= 0).all()
    assert len(np.unique(np.round(grid * steps).astype(int), axis=0)) == len(grid)


@pytest.mark.parametrize(("k", "limit"), [(2, 50), (3, 2000), (4, 2000), (6, 500)])
def test_grid_steps_stay_under_the_limit(k, limit):
    steps = grid_steps(k, limit)
    assert comb(steps + k - 1, k - 1) <= limit < comb(steps + k, k - 1) or steps == 100


def test_scaling_maps_the_labeled_range_to_0_1():
    scaling = Scaling.fit({"a": np.array([2.0, 4.0, 6.0]), "flat": np.array([3.0, 3.0, 3.0])})
    scaled = scaling.apply({"a": np.array([2.0, 6.0, 8.0]), "flat": np.array([1.0, 3.0, 5.0])})
    assert scaled.tolist() == [[0.0, 1.0, 1.5], [0.0, 0.0, 0.0]]
    with pytest.raises(SchemaError, match="missing"):
        scaling.apply({"a": np.zeros(2)})


def test_search_puts_the_weight_on_the_informative_uncertainty():
    rng = np.random.default_rng(0)
    correct = rng.random(600) < 0.6
    informative = (~correct) + rng.normal(0, 0.4, 600)
    scaled = Scaling.fit({"noise": rng.random(600), "signal": informative}).apply({"noise": rng.random(600), "signal": informative})
    weights, value = search_weights(scaled, correct)
    assert weights[1] > 0.8 and weights.sum() == pytest.approx(1.0)
    assert value >= budget_metric(scaled[1], correct) - 1e-12


@pytest.mark.parametrize("seed", range(5))
def test_the_fusion_is_never_worse_than_the_best_single_uncertainty(seed):
    rng = np.random.default_rng(seed)
    correct = rng.random((300, 3)) < 0.6
    correct[:, 1:] &= correct[:, :1]  # stricter IoU thresholds accept fewer
    columns = rng.random((3, 300)) + rng.uniform(0, 1, (3, 1)) * ~correct[:, 0]
    _, value = search_weights(columns, correct, max_candidates=200)
    singles = objective(np.eye(3), columns, correct, 0.95, "fd@cd")
    assert value >= singles.max() - 1e-12


def test_search_is_deterministic_for_a_seed():
    rng = np.random.default_rng(3)
    correct = rng.random(200) < 0.5
    columns = rng.random((3, 200)) + 0.3 * ~correct
    first = search_weights(columns, correct, seed=7)
    assert np.array_equal(first[0], search_weights(columns, correct, seed=7)[0])
    with pytest.raises(SchemaError, match="at least one"):
        search_weights(np.zeros((0, 200)), correct)
