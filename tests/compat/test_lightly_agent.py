"""ActiveLearningAgent and SamplerConfig: sets, n_samples, methods, scores, with hand-derived picks.

The small dataset: four images whose embeddings are unit vectors at 0°, 10°, 20° and 180°
(a, b, c, d). Distances between unit vectors at angles α, β: 2·sin(|α − β| / 2), so
d(a, b) = 0.174, d(a, c) = d(b, d)… = 0.347 for 20° apart, d(a, d) = 2. Their mean is
(0.4811, 0.1289); distances to it: a 0.535, b 0.506, c 0.506, d 1.487.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from thresher.compat.lightly import (
    ActiveLearningAgent,
    ApiWorkflowClient,
    SamplerConfig,
    SamplingMethod,
    ScorerClassification,
    lightly_magic,
    selection_config_for,
)
from thresher.errors import ConfigError, UsageError
from thresher.select import load_selection_config

ANGLES = {"a.png": 0, "b.png": 10, "c.png": 20, "d.png": 180}
# 1 - (p1 - p2) of these two-class probabilities: a 0.2, b 0.8, c 1.0, d 0.02
PROBABILITIES = {"a.png": [0.9, 0.1], "b.png": [0.6, 0.4], "c.png": [0.5, 0.5], "d.png": [0.99, 0.01]}


@pytest.fixture
def client(tmp_path) -> ApiWorkflowClient:
    folder = tmp_path / "images"
    folder.mkdir()
    lines = ["filenames,embedding_0,embedding_1,labels"]
    for k, (name, angle) in enumerate(ANGLES.items()):
        Image.fromarray(np.full((4, 4, 3), 40 * k, np.uint8)).save(folder / name)
        lines.append(f"{name},{float(np.cos(np.radians(angle)))!r},{float(np.sin(np.radians(angle)))!r},0")
    (tmp_path / "embeddings.csv").write_text("\n".join(lines) + "\n")
    return ApiWorkflowClient(dataset_id=lightly_magic(folder, embeddings=tmp_path / "embeddings.csv"))


def scorer_for(names: list[str]) -> ScorerClassification:
    return ScorerClassification(np.array([PROBABILITIES[n] for n in names]))


@pytest.mark.parametrize(
    ("method", "min_distance", "strategies"),
    [
        ("CORESET", -1, [("EMBEDDINGS", "DIVERSITY")]),
        ("RANDOM", -1, [("RANDOM", "WEIGHTS")]),
        ("CORAL", -1, [("EMBEDDINGS", "DIVERSITY"), ("SCORES", "WEIGHTS")]),
        ("ACTIVE_LEARNING", -1, [("SCORES", "WEIGHTS")]),
        ("RANDOM", 0.5, [("RANDOM", "WEIGHTS"), ("EMBEDDINGS", "DIVERSITY")]),
    ],
)
def test_legacy_methods_become_selection_configs(method, min_distance, strategies):
    config = selection_config_for(SamplerConfig(method=method, n_samples=7, min_distance=min_distance), "uncertainty_entropy")
    assert config["n_samples"] == 7
    assert [(s["input"]["type"], s["strategy"]["type"]) for s in config["strategies"]] == strategies
    for s in config["strategies"]:
        if s["input"]["type"] == "SCORES":
            assert s["input"]["score"] == "uncertainty_entropy"
        if s["strategy"]["type"] == "DIVERSITY":
            assert s["strategy"].get("stopping_condition_minimum_distance") == (min_distance if min_distance > 0 else None)
            assert s["strategy"].get("strength", 1.0) == (0.0 if method == "RANDOM" else 1.0)


def test_sampler_config_defaults_and_errors():
    config = SamplerConfig()
    assert (config.method, config.n_samples, config.min_distance) == (SamplingMethod.CORESET, 32, -1)
    assert re.fullmatch(r"CORESET_32_-1_\d\d_\d\d_\d{4}__\d\d_\d\d_\d\d", config.name)
    with pytest.raises(UsageError, match='did you mean "CORESET"'):
        selection_config_for(SamplerConfig(method="CORESETT"))
    with pytest.raises(ConfigError, match="stopping_condition_minimum_distance"):
        load_selection_config(selection_config_for(SamplerConfig(min_distance=3.0)))  # unit vectors are at most 2 apart


def test_sets_before_and_after_a_query(client):
    agent = ActiveLearningAgent(client)
    assert agent.query_set == agent.unlabeled_set == list(ANGLES) and agent.labeled_set == []
    with pytest.raises(RuntimeError, match="added set"):
        agent.added_set
    labeled = agent.query(SamplerConfig(n_samples=3, name="first"))
    assert labeled == agent.labeled_set == ["a.png", "c.png", "d.png"] and agent.added_set == labeled
    assert agent.unlabeled_set == ["b.png"] and agent.query_set == list(ANGLES)
    assert client.tag_filenames("first") == ["d.png", "a.png", "c.png"]  # pick order: farthest from the mean, then k-center


@pytest.mark.parametrize(("min_distance", "picked"), [(-1, 4), (0.3, 3), (0.4, 2)])
def test_min_distance_stops_coreset(client, min_distance, picked):
    agent = ActiveLearningAgent(client)
    agent.query(SamplerConfig(n_samples=-1, min_distance=min_distance, name="spread"))
    assert client.tag_filenames("spread") == ["d.png", "a.png", "c.png", "b.png"][:picked]


def test_n_samples_counts_the_labeled_set(client):
    client.create_tag_from_filenames(["a.png"], "labeled")
    agent = ActiveLearningAgent(client, preselected_tag_name="labeled")
    agent.query(SamplerConfig(n_samples=2, name="next"))
    assert agent.added_set == ["d.png"] and agent.labeled_set == ["a.png", "d.png"]
    with pytest.warns(UserWarning, match="smaller than the labeled set"):
        assert agent.query(SamplerConfig(n_samples=1, name="too-small")) == ["a.png", "d.png"]
    assert "too-small" not in [t.name for t in client.get_all_tags()]
    assert agent.added_set == []  # the skipped query added nothing (lightly: `return self.labeled_set, []`)
    with pytest.raises(RuntimeError, match="already exists"):
        agent.query(SamplerConfig(n_samples=3, name="next"))


def test_active_learning_takes_the_highest_margins_and_coral_multiplies_by_distance(client):
    agent = ActiveLearningAgent(client)
    agent.query(SamplerConfig(method=SamplingMethod.ACTIVE_LEARNING, n_samples=2, name="al"), scorer_for(agent.query_set))
    assert client.tag_filenames("al") == ["c.png", "b.png"]  # margins 1.0 and 0.8
    agent = ActiveLearningAgent(client)
    agent.query(SamplerConfig(method=SamplingMethod.CORAL, n_samples=2, name="coral"), scorer_for(agent.query_set))
    # first: distance to the mean x margin: a 0.107, b 0.405, c 0.506, d 0.030 -> c;
    # then distance to c x margin: a 0.347*0.2, b 0.174*0.8 = 0.139, d 1.970*0.02 -> b
    assert client.tag_filenames("coral") == ["c.png", "b.png"]


def test_scores_in_query_set_or_unlabeled_set_order_give_the_same_selection(client):
    client.create_tag_from_filenames(["a.png"], "labeled")
    picks = []
    for name, order in (("by-query", "query_set"), ("by-unlabeled", "unlabeled_set")):
        agent = ActiveLearningAgent(client, preselected_tag_name="labeled")
        agent.query(SamplerConfig(method="CORAL", n_samples=3, name=name), scorer_for(getattr(agent, order)))
        picks.append(client.tag_filenames(name))
    assert picks[0] == picks[1]
    agent = ActiveLearningAgent(client, preselected_tag_name="labeled")
    with pytest.raises(ValueError, match="query set \\(4\\) or of the unlabeled set \\(3\\)"):
        agent.query(SamplerConfig(method="CORAL", n_samples=3, name="bad"), scorer_for(["a.png", "b.png"]))
    with pytest.raises(UsageError, match="al_scorer"):
        agent.query(SamplerConfig(method="CORAL", n_samples=3, name="bad"))


class _TwoScores:
    def calculate_scores(self):
        return {"first": np.array([0.0, 1.0, 0.5, 0.2]), "second": np.array([1.0, 0.0, 0.5, 0.2])}


def test_the_score_coral_weighs_can_be_chosen(client):
    agent = ActiveLearningAgent(client)
    with pytest.raises(UsageError, match="choose one of \\['first', 'second'\\]"):
        agent.query(SamplerConfig(method="ACTIVE_LEARNING", n_samples=1, name="x"), _TwoScores())
    with pytest.raises(UsageError, match='did you mean "second"'):
        agent.query(SamplerConfig(method="ACTIVE_LEARNING", n_samples=1, name="x"), _TwoScores(), score_name="secnd")
    agent.query(SamplerConfig(method="ACTIVE_LEARNING", n_samples=1, name="x"), _TwoScores(), score_name="second")
    assert client.tag_filenames("x") == ["a.png"]


def test_query_tag_limits_the_candidates_and_random_is_seeded(client):
    client.create_tag_from_filenames(["b.png", "c.png", "d.png"], "pool")
    agent = ActiveLearningAgent(client, query_tag_name="pool")
    assert agent.query_set == ["b.png", "c.png", "d.png"]
    agent.query(SamplerConfig(method=SamplingMethod.RANDOM, n_samples=2, name="r1"))
    again = ActiveLearningAgent(client, query_tag_name="pool")
    again.query(SamplerConfig(method=SamplingMethod.RANDOM, n_samples=2, name="r2"))
    assert client.tag_filenames("r1") == client.tag_filenames("r2") and set(client.tag_filenames("r1")) < set(agent.query_set)
    with pytest.raises(UsageError, match="no tag \"pol\"|no tag 'pol'"):
        ActiveLearningAgent(client, query_tag_name="pol")


def test_embeddings_must_cover_the_sets(client, tmp_path):
    (tmp_path / "partial.csv").write_text("filenames,embedding_0,embedding_1,labels\na.png,1,0,0\n")
    client.upload_embeddings(tmp_path / "partial.csv", name="partial")
    with pytest.raises(UsageError, match="no vector for sample 'b.png'.*must cover the query and labeled sets"):
        ActiveLearningAgent(client).query(SamplerConfig(n_samples=2, name="x"))


def test_uploading_again_replaces_the_set_whole(client, tmp_path, monkeypatch):
    """A failed upload leaves the previous set as it was; a successful one replaces it."""
    from thresher.compat import lightly_embeddings
    from thresher.embedding_store import EmbeddingStore

    (tmp_path / "one.csv").write_text("filenames,embedding_0,embedding_1,labels\na.png,1,0,0\nb.png,0,1,0\n")
    client.upload_embeddings(tmp_path / "one.csv", name="set")
    before = client.embeddings()

    def failing_append(self, embeddings):
        raise OSError("disk full")

    append = EmbeddingStore.append
    monkeypatch.setattr(EmbeddingStore, "append", failing_append)
    (tmp_path / "two.csv").write_text("filenames,embedding_0,embedding_1,labels\na.png,0,1,0\nb.png,1,0,0\n")
    with pytest.raises(OSError, match="disk full"):
        client.upload_embeddings(tmp_path / "two.csv", name="set")
    after = client.embeddings()
    assert after.ids.tolist() == before.ids.tolist() and np.array_equal(after.vectors, before.vectors)
    monkeypatch.setattr(EmbeddingStore, "append", append)
    client.upload_embeddings(tmp_path / "two.csv", name="set")
    assert np.array_equal(client.embeddings().align(["a.png"]).vectors, [[0, 1]])
    assert not [p for p in (client.record().folder / lightly_embeddings.EMBEDDINGS_DIR).iterdir() if p.name.startswith(".")]


def test_weighted_kmeans_becomes_a_selection_config():
    """A thresher extension of the legacy methods: WEIGHTED_KMEANS on the embeddings, weighted by
    the scorer's margin (or typicality without a scorer)."""
    sampler = SamplerConfig(method=SamplingMethod.WEIGHTED_KMEANS, n_samples=7, candidates_per_pick=4, name="w")
    assert selection_config_for(sampler, "uncertainty_margin") == {"n_samples": 7, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {
        "type": "WEIGHTED_KMEANS", "weights": {"type": "SCORES", "task": "active_learning", "score": "uncertainty_margin"},
        "candidates_per_pick": 4}}]}  # fmt: skip
    cold = selection_config_for(SamplerConfig(method="WEIGHTED_KMEANS", n_samples=3), with_scores=False)
    assert cold["strategies"][0]["strategy"] == {"type": "WEIGHTED_KMEANS", "weights": {"type": "TYPICALITY"}}
    load_selection_config(cold)
    assert "candidates_per_pick=4" in repr(sampler)
    with pytest.raises(UsageError, match="min_distance: WEIGHTED_KMEANS"):
        selection_config_for(SamplerConfig(method="WEIGHTED_KMEANS", min_distance=0.3))
    with pytest.raises(UsageError, match="n_samples: WEIGHTED_KMEANS picks a batch of a given size"):
        selection_config_for(SamplerConfig(method="WEIGHTED_KMEANS", n_samples=-1))
    with pytest.raises(UsageError, match="candidates_per_pick: only WEIGHTED_KMEANS"):
        selection_config_for(SamplerConfig(method="CORESET", candidates_per_pick=3))


def test_weighted_kmeans_queries_with_and_without_a_scorer(client):
    agent = ActiveLearningAgent(client)
    # m = 1 and two picks: the two highest margins (c 1.0, b 0.8) are the only candidates
    agent.query(SamplerConfig(method="WEIGHTED_KMEANS", n_samples=2, candidates_per_pick=1, name="wk"), scorer_for(agent.query_set))
    assert client.tag_filenames("wk") == ["c.png", "b.png"]
    # no scorer (no model yet): typicality weights, every sample a candidate, one cluster whose
    # weighted center is the typicality-weighted mean; the sample nearest to it is picked
    vectors = np.array([[np.cos(np.radians(a)), np.sin(np.radians(a))] for a in ANGLES.values()])
    distances = np.linalg.norm(vectors[:, None] - vectors[None], axis=2)
    typicality = 1 / (distances.sum(axis=1) / 3)  # k = N - 1 = 3 neighbours: every other sample
    center = (typicality[:, None] * vectors).sum(axis=0) / typicality.sum()
    expected = list(ANGLES)[int(np.argmin(np.linalg.norm(vectors - center, axis=1)))]
    cold = ActiveLearningAgent(client, seed=5)
    assert cold.query(SamplerConfig(method="WEIGHTED_KMEANS", n_samples=1, name="cold")) == [expected] == ["b.png"]
