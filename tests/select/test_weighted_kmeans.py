"""WEIGHTED_KMEANS in the selector: hand-derived picks on unit vectors at known angles.

Samples are 2-D unit vectors at the angles below (the selector normalizes embeddings anyway):
two uncertain groups, A around 12° and B around 102°, and three confident stragglers. The
weights are the `margin` scores (higher = more uncertain).
"""

from __future__ import annotations

import numpy as np
import pytest

from thresher import Embeddings, Frames, Scores
from thresher.select import Metadata, SelectionInputs, run_selection
from thresher.select.weighted_kmeans import weighted_kmeans_batch

ANGLES = [10, 12, 14, 100, 102, 104, 200, 250, 300]
MARGIN = [0.9, 0.95, 0.9, 0.8, 0.85, 0.8, 0.1, 0.05, 0.2]
IDS = [f"s{i}" for i in range(len(ANGLES))]


def unit(angles) -> np.ndarray:
    radians = np.radians(np.asarray(angles, dtype=np.float64))
    return np.stack([np.cos(radians), np.sin(radians)], axis=1).astype(np.float32)


def inputs(preselected=(), **metadata) -> SelectionInputs:
    return SelectionInputs(Frames.build(IDS), embeddings={"": Embeddings(IDS, unit(ANGLES))},
                           scores={"model": Scores(IDS, {"uncertainty_margin": np.array(MARGIN)})},
                           metadata={k: Metadata(IDS, v) for k, v in metadata.items()}, preselected=list(preselected))  # fmt: skip


def config(n, per_pick=3, weights=None, threshold=None):
    strategy = {"type": "WEIGHTED_KMEANS", "weights": weights or {"type": "SCORES", "task": "model", "score": "uncertainty_margin"}}
    if per_pick is not None:
        strategy["candidates_per_pick"] = per_pick
    entries = [{"input": {"type": "EMBEDDINGS"}, "strategy": strategy}]
    if threshold is not None:
        entries.append({"input": {"type": "METADATA", "key": "keep"}, "strategy": {"type": "THRESHOLD", "threshold": threshold, "operation": "BIGGER"}})
    return {"n_samples": n, "strategies": entries}


def test_one_pick_per_uncertain_group_nearest_its_weighted_center():
    """Top 2·3 margins = groups A and B; each group's weights are symmetric around its middle
    sample, so its weighted center points at 12° and 102°; A's cluster weight 2.75 > B's 2.45."""
    outcome = run_selection(config(2), inputs(), seed=0)
    assert outcome.selection.ids.tolist() == ["s1", "s4"]
    assert outcome.selection.objective == pytest.approx([2.75, 2.45])
    name = "weighted_kmeans:embeddings"
    assert outcome.values[name] == pytest.approx([0.95, 0.85])  # each pick's own weight
    assert outcome.objectives[name] == pytest.approx([2.75, 2.45]) and np.isnan(outcome.factors[name]).all()
    assert outcome.stop_reason == "n_samples" and outcome.counts == {"input": 9, "candidates": 9, "preselected": 0, "selected": 2}


def test_preselected_samples_are_never_candidates():
    """Without s1, the six best margins are s0, s2, s3, s4, s5 and s8 (300°, 0.2); s8 joins A's
    cluster (72° from A, 162° from B) and pulls its center below 12°: s0 (10°) is nearest. A's
    cluster weight 0.9 + 0.9 + 0.2 = 2.0 < B's 2.45, so B's pick comes first."""
    outcome = run_selection(config(3), inputs(preselected=["s1"]), seed=0)
    assert outcome.selection.ids.tolist() == ["s1", "s4", "s0"]
    assert np.isnan(outcome.selection.objective[0]) and outcome.selection.objective[1:] == pytest.approx([2.45, 2.0])


def test_threshold_filters_the_candidates_like_preselection():
    """THRESHOLD removes s1: the same six candidates as when s1 is preselected."""
    keep = np.ones(len(IDS))
    keep[1] = 0
    outcome = run_selection(config(2, threshold=0.5), inputs(keep=keep), seed=0)
    assert outcome.selection.ids.tolist() == ["s4", "s0"]


def test_ties_go_to_the_lowest_id():
    """Two mirror-image pairs, all weights equal: each pair's members are exactly as far from
    its center, and both clusters weigh the same."""
    ids = ["a", "b", "c", "d"]
    vectors = np.array([[-0.2, 1], [0.2, 1], [1, -0.2], [1, 0.2]], np.float32)
    data = SelectionInputs(Frames.build(ids), embeddings={"": Embeddings(ids, vectors)},
                           scores={"model": Scores(ids, {"uncertainty_margin": np.full(4, 0.5)})})  # fmt: skip
    for seed in range(3):
        assert run_selection(config(2, per_pick=2), data, seed=seed).selection.ids.tolist() == ["a", "c"]


def test_b_or_fewer_candidates_are_all_picked_by_weight():
    keep = np.zeros(len(IDS))
    keep[[6, 8]] = 1
    outcome = run_selection(config(5, threshold=0.5), inputs(keep=keep), seed=0)
    assert outcome.selection.ids.tolist() == ["s8", "s6"] and outcome.stop_reason == "exhausted"
    assert outcome.selection.objective == pytest.approx([0.2, 0.1])


def test_per_pick_limits_the_candidates():
    """m = 1: the two highest margins (s1, then s0 / s2 tied at 0.9: s0, the lower id) are the
    only candidates, so both are picked, though they are in the same group."""
    outcome = run_selection(config(2, per_pick=1), inputs(), seed=0)
    assert outcome.selection.ids.tolist() == ["s1", "s0"]


def test_typicality_weights_cluster_every_candidate():
    """Three groups of 5, 3 and 3 samples 1° apart at 0°, 120° and 240°: with typicality weights
    (every candidate clustered by default) each group gives its middle sample, the biggest first."""
    angles = [-2, -1, 0, 1, 2, 119, 120, 121, 239, 240, 241]
    ids = [f"t{i:02d}" for i in range(len(angles))]
    data = SelectionInputs(Frames.build(ids), embeddings={"": Embeddings(ids, unit(angles))})
    outcome = run_selection(config(3, per_pick=None, weights={"type": "TYPICALITY"}), data, seed=4)
    picked = outcome.selection.ids.tolist()
    assert picked[0] == "t02" and sorted(picked[1:]) == ["t06", "t09"]
    values = outcome.values["weighted_kmeans:embeddings"]
    assert ((values > 0) & (values <= 1)).all()


def test_same_seed_same_picks_twice_in_a_row():
    rng = np.random.default_rng(0)
    ids = [f"r{i:04d}" for i in range(2000)]
    data = SelectionInputs(Frames.build(ids), embeddings={"": Embeddings(ids, rng.normal(size=(2000, 16)).astype(np.float32))},
                           scores={"model": Scores(ids, {"uncertainty_margin": rng.random(2000)})})  # fmt: skip
    first = run_selection(config(50, per_pick=10), data, seed=11)
    again = run_selection(config(50, per_pick=10), data, seed=11)
    assert np.array_equal(first.selection.ids, again.selection.ids) and len(first.selection) == 50
    other = run_selection(config(50, per_pick=10), data, seed=12)
    assert not np.array_equal(first.selection.ids, other.selection.ids)  # the seed drives k-means++
    margins = data.scores["model"]["uncertainty_margin"]
    top = np.sort(margins)[::-1][500 - 1]
    assert (margins[Frames.build(ids).index_of(first.selection.ids)] >= top).all()  # only the 10·50 best


def test_sequences_are_picked_whole():
    """Two videos of 6 frames, sequences of 3: a unit's embedding is its frames' mean and its
    weight their mean margin; 2 sequences = 6 frames."""
    rng = np.random.default_rng(1)
    ids = [f"v{v}-{f}" for v in range(2) for f in range(6)]
    frames = Frames.build(ids, kind="frame", video=[f"v{v}.mp4" for v in range(2) for _ in range(6)], frame_index=[f for _ in range(2) for f in range(6)])
    data = SelectionInputs(frames, embeddings={"": Embeddings(ids, rng.normal(size=(12, 4)).astype(np.float32))},
                           scores={"model": Scores(ids, {"uncertainty_margin": rng.random(12)})})  # fmt: skip
    outcome = run_selection(config(6, per_pick=1), data, seed=0, sequence_length=3)
    margins = data.scores["model"]["uncertainty_margin"].reshape(4, 3).mean(axis=1)
    best = np.argsort(-margins, kind="stable")[:2]  # m = 1: the two best sequences, no clustering
    expected = [ids[3 * u + f] for u in best for f in range(3)]
    assert outcome.selection.ids.tolist() == expected


def test_the_batch_kernel_without_the_engine():
    vectors = unit(ANGLES)
    picks = weighted_kmeans_batch(vectors, np.array(MARGIN), np.ones(9, bool), 2, per_pick=3, seed=0)
    assert picks.rows.tolist() == [1, 4] and picks.candidates == 6
    missing = np.array(MARGIN)
    missing[1] = np.nan  # a missing weight ranks last
    assert 1 not in weighted_kmeans_batch(vectors, missing, np.ones(9, bool), 2, per_pick=3, seed=0).rows
    assert len(weighted_kmeans_batch(vectors, np.array(MARGIN), np.zeros(9, bool), 2, per_pick=3, seed=0).rows) == 0


def test_a_missing_weights_task_or_score_names_the_weights():
    from thresher.errors import ConfigError

    wrong_task = config(2, weights={"type": "SCORES", "task": "modl", "score": "uncertainty_margin"})
    with pytest.raises(ConfigError, match=r'^strategies\[0\]\.strategy\.weights\.task: no scores for task .*did you mean "model"'):
        run_selection(wrong_task, inputs())
    wrong_score = config(2, weights={"type": "SCORES", "task": "model", "score": "uncertainty_margn"})
    with pytest.raises(ConfigError, match=r'^strategies\[0\]\.strategy\.weights\.score: .*did you mean "uncertainty_margin"'):
        run_selection(wrong_score, inputs())


def test_resolve_inputs_asks_for_the_weights_scores():
    from thresher.select import load_selection_config, resolve_inputs

    class Resolver:
        asked: list = []

        def embeddings(self, task):
            return Embeddings(IDS, unit(ANGLES))

        def scores(self, task):
            self.asked.append(task)
            return Scores(IDS, {"uncertainty_margin": np.array(MARGIN)})

    resolver = Resolver()
    resolved = resolve_inputs(load_selection_config(config(2)), resolver, Frames.build(IDS))
    assert resolver.asked == ["model"] and set(resolved.scores) == {"model"}
    assert run_selection(config(2), resolved).selection.ids.tolist() == ["s1", "s4"]
