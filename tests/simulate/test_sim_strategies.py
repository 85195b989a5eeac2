"""Strategies are selection configs; picks equal what the definitions give (Lightly scores, k-center)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from thresher.errors import ConfigError
from thresher.scorers.classification import classification_scores
from thresher.select import k_center_greedy
from thresher.simulate import BUILT_IN, resolve_strategy
from thresher.simulate.run import Pool


@pytest.fixture(scope="module")
def pool():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(120, 8))
    labels = rng.integers(0, 3, 120)
    return Pool.build(features, labels, np.array(["a", "b", "c"]))


@pytest.fixture(scope="module")
def probs():
    return np.random.default_rng(1).dirichlet(np.ones(3), 120)


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_every_built_in_picks_new_unlabeled_samples(pool, probs, name):
    plan = resolve_strategy(name)
    labeled = np.zeros(120, bool)
    labeled[:10] = True
    picks = pool.pick(plan, labeled, 7, probs if plan.needs_model else None, seed=3)
    assert len(picks) == 7 and len(set(picks.tolist())) == 7 and not labeled[picks].any()
    assert plan.needs_model == (name not in ("random", "coreset", "typicality", "typical_kmeans"))


@pytest.mark.parametrize("score", ["entropy", "margin", "least_confidence"])
def test_uncertainty_picks_the_top_scores_of_the_unlabeled(pool, probs, score):
    labeled = np.zeros(120, bool)
    labeled[::5] = True
    picks = pool.pick(resolve_strategy(score), labeled, 10, probs, seed=0)
    values = classification_scores(probs, pool.frames.id)[f"uncertainty_{score}"]
    candidates = np.flatnonzero(~labeled)
    expected = candidates[np.argsort(-values[candidates], kind="stable")[:10]]
    assert picks.tolist() == expected.tolist()


def test_coreset_is_k_center_greedy_from_the_labeled_set(pool):
    labeled = np.zeros(120, bool)
    labeled[[3, 50, 90]] = True
    picks = pool.pick(resolve_strategy("coreset"), labeled, 6, None, seed=0)
    vectors = pool.features / np.linalg.norm(pool.features, axis=1, keepdims=True)
    expected = k_center_greedy(vectors.astype(np.float32), 6, preselected=labeled, backend="numpy")
    assert picks.tolist() == expected.tolist()


def test_custom_configs_from_a_mapping_and_a_file(tmp_path, pool, probs):
    config = {"n_samples": 1, "strategies": [
        {"input": {"type": "PREDICTIONS", "task": "model", "name": "CLASS_DISTRIBUTION"}, "strategy": {"type": "BALANCE", "distribution": "UNIFORM"}},
        {"input": {"type": "SCORES", "task": "model", "score": "uncertainty_margin"}, "strategy": {"type": "WEIGHTS"}},
    ]}  # fmt: skip
    plan = resolve_strategy({"name": "balanced-margin", "config": config})
    assert plan.name == "balanced-margin" and plan.needs_model
    (tmp_path / "mine.json").write_text(json.dumps(config))
    from_file = resolve_strategy(f"config:{tmp_path / 'mine.json'}")
    assert from_file.name == "mine" and from_file.strategies == plan.strategies
    labeled = np.zeros(120, bool)
    labeled[:6] = True
    assert len(pool.pick(plan, labeled, 12, probs, seed=0)) == 12


@pytest.mark.parametrize(
    ("spec", "match"),
    [("entropi", "did you mean"), ({"name": "x"}, "name and config"), ({"name": "x", "config": {"n_samples": 1}}, "strategies")],
)
def test_errors(spec, match):
    with pytest.raises(ConfigError, match=match):
        resolve_strategy(spec)


@pytest.mark.parametrize("name, per_pick", [("weighted_kmeans", 10), ("weighted_kmeans:5", 5), ("weighted_kmeans:40", 40)])
def test_weighted_kmeans_picks_what_the_batch_kernel_picks(pool, probs, name, per_pick):
    """Zhdanov's family on the model's margins: the m·b most uncertain, weighted k-means, nearest each center."""
    from thresher.select.weighted_kmeans import weighted_kmeans_batch

    labeled = np.zeros(120, bool)
    labeled[::7] = True
    plan = resolve_strategy(name)
    picks = pool.pick(plan, labeled, 6, probs, seed=5)
    vectors = (pool.features / np.linalg.norm(pool.features, axis=1, keepdims=True)).astype(np.float32)
    margin = classification_scores(probs, pool.frames.id)["uncertainty_margin"]
    expected = weighted_kmeans_batch(vectors, margin, ~labeled, 6, per_pick=per_pick, seed=5).rows
    assert picks.tolist() == expected.tolist() and plan.needs_model


@pytest.mark.parametrize("spec", ["weighted_kmeans:x", "weighted_kmeans:0", "weighted_kmeans:-3"])
def test_weighted_kmeans_candidates_must_be_a_positive_integer(spec):
    with pytest.raises(ConfigError, match=r"weighted_kmeans:<candidates per pick"):
        resolve_strategy(spec)
