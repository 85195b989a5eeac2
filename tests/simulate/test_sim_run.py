"""simulate(): reproducible rounds, one start set per seed, a given test set, a stopping pool."""

from __future__ import annotations

import numpy as np
import pytest

from thresher.errors import ConfigError, SchemaError
from thresher.simulate import plot_curves, simulate


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 3, (3, 5))
    labels = np.repeat(["x", "y", "z"], 60)
    features = centers[np.repeat(np.arange(3), 60)] + rng.normal(0, 1.5, (180, 5))
    return features, labels


def test_runs_are_reproducible_and_share_the_start(blobs):
    features, labels = blobs
    kwargs = dict(start=6, budget=6, rounds=3, seeds=(0, 1))
    first = simulate(features, labels, ["random", "margin", "coral"], **kwargs)
    again = simulate(features, labels, ["random", "margin", "coral"], **kwargs)
    assert np.array_equal(first.value, again.value)
    assert first.n_labels[first.strategy == "margin"].tolist() == [6, 12, 18, 24] * 2
    for seed in (0, 1):
        starts = {first.seed_curve(s, seed)[1][0] for s in ("random", "margin", "coral")}
        assert len(starts) == 1  # same start set, same first model


def test_a_given_test_set_and_a_pool_that_runs_out(blobs):
    features, labels = blobs
    c = simulate(features[::6], labels[::6], ["coreset"], start=10, budget=15, rounds=5, seeds=(0,),
                 test_features=features[1::6], test_labels=labels[1::6])  # fmt: skip
    assert c.n_labels.tolist() == [10, 25, 30]


def test_plot_writes_a_png(blobs, tmp_path):
    features, labels = blobs
    c = simulate(features, labels, ["random", "entropy"], start=6, budget=6, rounds=2, seeds=(0, 1))
    path = plot_curves(c, tmp_path / "c.png", title="blobs", target=0.9)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"start": 0}, ConfigError, "start"),
        ({"budget": 2.5}, ConfigError, "budget"),
        ({"seeds": ()}, ConfigError, "seeds"),
        ({"test_size": 1.0}, ConfigError, "test_size"),
        ({"start_strategy": "entropy"}, ConfigError, "start_strategy"),
        ({"test_features": np.zeros((2, 5)), "test_labels": ["x", "w"]}, SchemaError, "not in the pool"),
    ],
)
def test_errors(blobs, kwargs, error, match):
    features, labels = blobs
    with pytest.raises(error, match=match):
        simulate(features, labels, ["random"], **kwargs)


def test_bad_data():
    with pytest.raises(SchemaError, match="2 classes"):
        simulate(np.zeros((4, 2)), ["a"] * 4, ["random"])
    with pytest.raises(SchemaError, match="finite"):
        simulate(np.full((4, 2), np.nan), ["a", "b"] * 2, ["random"])
