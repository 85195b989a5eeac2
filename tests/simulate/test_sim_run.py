"""simulate(): reproducible rounds, one start set per seed, a given test set, a stopping pool."""

from __future__ import annotations

import numpy as np
import pytest

from thresher.errors import ConfigError, SchemaError
from thresher.simulate import plot_curves, resolve_strategy, simulate
from thresher.simulate.run import _split


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
    from PIL import Image

    paired = plot_curves(c, tmp_path / "paired.png", reference="entropy")  # a second panel: differences with entropy
    with Image.open(paired) as two, Image.open(path) as one:
        assert two.size[1] > one.size[1]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"start": 0}, ConfigError, "start"),
        ({"start": 5000}, ConfigError, r"start: expected fewer labels than the pool holds \(\d+ samples after the test split\), got 5000"),
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


def test_zscore_scaling_makes_the_run_blind_to_each_features_units(blobs):
    """z-scores are measured on each seed's pool, so rescaling and shifting every feature changes
    nothing; without scaling it does (the model's L2 penalty and the embeddings see the units)."""
    features, labels = blobs
    units = features * np.array([1000.0, 0.01, 5.0, 1.0, 300.0]) + 7.0
    kwargs = dict(start=6, budget=6, rounds=3, seeds=(0, 1))
    plain = simulate(features, labels, ["margin", "weighted_kmeans"], scaling="zscore", **kwargs)
    rescaled = simulate(units, labels, ["margin", "weighted_kmeans"], scaling="zscore", **kwargs)
    assert np.allclose(plain.value, rescaled.value, atol=1e-9)
    raw = simulate(units, labels, ["margin", "weighted_kmeans"], **kwargs)
    assert not np.allclose(plain.value, raw.value)


def test_splits():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    pool, test = _split(y, 0.3, 4)
    assert np.bincount(y[test]).tolist() == [15, 9, 6] and len(np.intersect1d(pool, test)) == 0  # stratified: 30 % of each
    pool, test = _split(y, 0.3, 4, "random")
    assert len(test) == 30 and len(pool) == 70 and np.array_equal(np.sort(np.concatenate([pool, test])), np.arange(100))
    assert np.array_equal(test, _split(y, 0.3, 4, "random")[1]) and not np.array_equal(test, _split(y, 0.3, 5, "random")[1])


def test_the_first_round_of_the_typicality_first_variant(blobs):
    """typical_first_kmeans buys its first batch as typical_kmeans does (same start, same pick),
    then weighs by the model's margin."""
    features, labels = blobs
    kwargs = dict(start=6, budget=6, rounds=2, seeds=(0, 1, 2))
    c = simulate(features, labels, ["typical_kmeans", "typical_first_kmeans", "weighted_kmeans"], **kwargs)
    for seed in (0, 1, 2):
        assert c.seed_curve("typical_first_kmeans", seed)[1][:2].tolist() == c.seed_curve("typical_kmeans", seed)[1][:2].tolist()
    plan = resolve_strategy("typical_first_kmeans")
    assert plan.config(12, 0)["strategies"][0]["strategy"]["weights"] == {"type": "TYPICALITY"}
    assert plan.config(12, 1)["strategies"][0]["strategy"]["weights"]["score"] == "uncertainty_margin"
    assert not plan.round_needs_model(0) and plan.round_needs_model(1) and plan.needs_model


def test_start_set_by_a_strategy_and_the_reference_model(blobs):
    features, labels = blobs
    kwargs = dict(start=6, budget=6, rounds=2, seeds=(0, 1))
    typical = simulate(features, labels, ["random"], start_strategy="typical_kmeans", **kwargs)
    assert typical.n_labels.tolist() == [6, 12, 18] * 2
    ours = simulate(features, labels, ["margin"], **kwargs)
    sklearn = simulate(features, labels, ["margin"], model="sklearn-logistic", **kwargs)
    assert np.abs(ours.value - sklearn.value).max() <= 0.02  # the same objective, another solver
    weak = simulate(features, labels, ["margin"], model_options={"C": 1e-4}, **kwargs)
    assert not np.array_equal(weak.value, ours.value)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"split": "stratifed"}, r'split: expected one of stratified, random, got .*did you mean "stratified"'),
        ({"scaling": "z-score"}, r'scaling: expected one of none, zscore, got .*did you mean "zscore"'),
        ({"model_options": {"c": 2}}, r'model_options: unknown .*did you mean "C"'),
        ({"model_options": {"C": 0}}, r"model_options.C: expected a positive number"),
        ({"model": lambda n, s: None, "model_options": {"C": 1}}, r"a model factory takes no options"),
        ({"start_strategy": "typical_first_kmeans"}, r"start_strategy: 'typical_first_kmeans' needs a model"),
    ],
)
def test_option_errors(blobs, kwargs, match):
    features, labels = blobs
    with pytest.raises(ConfigError, match=match):
        simulate(features, labels, ["random"], start=6, budget=6, rounds=1, seeds=(0,), **kwargs)
