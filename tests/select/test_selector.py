"""Each strategy's effect, the combination rule, and the selector's bookkeeping."""

import numpy as np
import pytest

from thresher import Embeddings, Frames, Scores
from thresher.select import Metadata, SelectionInputs, k_center_greedy, run_selection, select


def ids_of(n, prefix="img"):
    return [f"{prefix}/{i:05d}.jpg" for i in range(n)]


def blobs(n, d=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((6, d))[rng.integers(0, 6, n)] + 0.4 * rng.standard_normal((n, d))
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)


def config(*entries, n=None, proportion=None):
    raw = {"strategies": [{"input": i, "strategy": s} for i, s in entries]}
    raw["n_samples" if proportion is None else "proportion_samples"] = n if proportion is None else proportion
    return raw


EMB = {"type": "EMBEDDINGS"}
SCORE = {"type": "SCORES", "task": "det", "score": "entropy"}
META = {"type": "METADATA", "key": "weather.temperature"}


def make_inputs(n=300, seed=0, **extra):
    rng = np.random.default_rng(seed)
    ids = ids_of(n)
    frames = Frames.build(ids)
    return SelectionInputs(
        frames,
        embeddings={"": Embeddings(ids, blobs(n, seed=seed))},
        scores={"det": Scores(ids, {"entropy": rng.random(n), "margin": rng.random(n)})},
        metadata={"weather.temperature": Metadata(ids, rng.normal(10, 8, n)), "weather.description": Metadata(ids, rng.choice(["sunny", "rainy", "cloudy"], n, p=[0.6, 0.3, 0.1]))},
        **extra,
    )


def rows(inputs, selection):
    return inputs.frames.index_of(selection.ids)


# ---- THRESHOLD ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "operation, holds",
    [
        ("SMALLER", lambda v, t: v < t),
        ("SMALLER_EQUAL", lambda v, t: v <= t),
        ("BIGGER", lambda v, t: v > t),
        ("BIGGER_EQUAL", lambda v, t: v >= t),
    ],
)
@pytest.mark.parametrize("seed", range(4))
def test_threshold_is_never_violated(operation, holds, seed):
    inputs = make_inputs(seed=seed)
    values = np.round(inputs.metadata["weather.temperature"].values)  # ties at the threshold
    values[::7] = np.nan
    inputs = SelectionInputs(inputs.frames, inputs.embeddings, metadata={"t": Metadata(inputs.frames.id, values)})
    cfg = config(({"type": "METADATA", "key": "t"}, {"type": "THRESHOLD", "threshold": 10, "operation": operation}), (EMB, {"type": "DIVERSITY"}), n=250)
    outcome = run_selection(cfg, inputs)
    chosen = values[rows(inputs, outcome.selection)]
    assert holds(chosen, 10).all()
    assert len(chosen) == min(250, int(holds(values, 10).sum()))  # NaN never passes
    assert outcome.counts["candidates"] == int(holds(values, 10).sum())


# ---- WEIGHTS --------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(5))
def test_weights_raise_the_mean_input_over_random(seed):
    inputs = make_inputs(seed=seed)
    entropy = inputs.scores["det"]["entropy"]
    weighted = select(config((EMB, {"type": "DIVERSITY"}), (SCORE, {"type": "WEIGHTS"}), n=40), inputs)
    random = select(config(({"type": "RANDOM", "random_seed": seed}, {"type": "WEIGHTS"}), n=40), inputs)
    assert entropy[rows(inputs, weighted)].mean() > entropy[rows(inputs, random)].mean()
    assert entropy[rows(inputs, weighted)].mean() > entropy.mean()


def test_weights_alone_pick_in_descending_order_and_negative_strength_inverts():
    inputs = make_inputs()
    entropy = inputs.scores["det"]["entropy"]
    up = rows(inputs, select(config((SCORE, {"type": "WEIGHTS"}), n=10), inputs))
    down = rows(inputs, select(config((SCORE, {"type": "WEIGHTS", "strength": -1}), n=10), inputs))
    assert up.tolist() == np.argsort(-entropy, kind="stable")[:10].tolist()
    assert down.tolist() == np.argsort(entropy, kind="stable")[:10].tolist()


def test_weights_max_sum_stops_once_reached():
    ids = ids_of(6)
    inputs = SelectionInputs(Frames.build(ids), metadata={"v": Metadata(ids, [1.0, 5, 4, 3, 2, 1])})
    outcome = run_selection(config(({"type": "METADATA", "key": "v"}, {"type": "WEIGHTS", "stopping_condition_max_sum": 8}), n=6), inputs)
    assert outcome.selection.ids.tolist() == [ids[1], ids[2]]  # 5, then 4: sum 9 >= 8
    assert outcome.stop_reason == "stopping_condition_max_sum"


def test_negative_inputs_are_shifted_and_nan_counts_as_lowest():
    ids = ids_of(4)
    inputs = SelectionInputs(Frames.build(ids), metadata={"v": Metadata(ids, [-3.0, np.nan, -1.0, 2.0])})
    picked = select(config(({"type": "METADATA", "key": "v"}, {"type": "WEIGHTS"}), n=4), inputs)
    # 2 > -1 > -3 == NaN (lowest): the tie goes to the lower id.
    assert picked.ids.tolist() == [ids[3], ids[2], ids[0], ids[1]]


# ---- DIVERSITY ------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["auto", "numpy"])
def test_diversity_alone_is_k_center_greedy(backend):
    inputs = make_inputs()
    picked = rows(inputs, select(config((EMB, {"type": "DIVERSITY"}), n=30), inputs, backend=backend))
    assert picked.tolist() == k_center_greedy(inputs.embeddings[""].vectors, 30, backend=backend).tolist()


def test_strength_zero_switches_a_strategy_off():
    inputs = make_inputs()
    both = config((EMB, {"type": "DIVERSITY"}), (SCORE, {"type": "WEIGHTS", "strength": 0}), n=20)
    assert select(both, inputs).ids.tolist() == select(config((EMB, {"type": "DIVERSITY"}), n=20), inputs).ids.tolist()


@pytest.mark.parametrize("min_distance", [0.2, 0.5, 0.9])
def test_diversity_keeps_pairs_apart_even_when_combined(min_distance):
    inputs = make_inputs(seed=3)
    cfg = config((EMB, {"type": "DIVERSITY", "stopping_condition_minimum_distance": min_distance}), (SCORE, {"type": "WEIGHTS", "strength": 3}), n=300)
    outcome = run_selection(cfg, inputs)
    V = inputs.embeddings[""].vectors[rows(inputs, outcome.selection)].astype(np.float64)
    pair = np.linalg.norm(V[:, None] - V[None], axis=2)[np.triu_indices(len(V), 1)]
    assert pair.min() >= min_distance - 1e-5
    assert outcome.stop_reason == "stopping_condition_minimum_distance"


def test_preselected_count_toward_n_samples_and_distances():
    inputs = make_inputs()
    pre = inputs.frames.id[[4, 50, 120]]
    inputs = SelectionInputs(inputs.frames, inputs.embeddings, preselected=pre)
    outcome = run_selection(config((EMB, {"type": "DIVERSITY"}), n=10), inputs)
    assert len(outcome.selection) == 10
    assert outcome.selection.ids[:3].tolist() == pre.tolist()
    assert np.isnan(outcome.selection.objective[:3]).all() and np.isfinite(outcome.selection.objective[3:]).all()
    expected = k_center_greedy(inputs.embeddings[""].vectors, 7, preselected=[4, 50, 120])
    assert rows(inputs, outcome.selection)[3:].tolist() == expected.tolist()
    assert outcome.counts["selected"] == 7


# ---- SIMILARITY and TYPICALITY: orders as defined -----------------------------------------
def angles(*degrees):
    rad = np.radians(degrees)
    return np.stack([np.cos(rad), np.sin(rad)], axis=1)


def test_similarity_orders_by_distance_to_the_nearest_query_vector():
    ids = ids_of(5)
    inputs = SelectionInputs(
        Frames.build(ids),
        embeddings={"": Embeddings(ids, angles(100, 5, 60, 178, 30))},
        query_embeddings={"q": Embeddings(["a", "b"], angles(0, 180))},
    )
    outcome = run_selection(config(({"type": "EMBEDDINGS", "tag_name": "q"}, {"type": "SIMILARITY"}), n=5), inputs)
    # nearest query angle: 178 -> 2 deg, 5 -> 5, 30 -> 30, 60 -> 60, 100 -> 80
    assert outcome.selection.ids.tolist() == [ids[3], ids[1], ids[4], ids[2], ids[0]]
    chord = 2 * np.sin(np.radians([2, 5, 30, 60, 80]) / 2)
    np.testing.assert_allclose(outcome.values["similarity:embeddings@q"], 1 - chord / 2, atol=1e-6)


def test_typicality_orders_by_knn_density():
    ids = ids_of(4)
    inputs = SelectionInputs(Frames.build(ids), embeddings={"": Embeddings(ids, angles(0, 10, 20, 90))})
    outcome = run_selection(config((EMB, {"type": "TYPICALITY", "num_nearest_neighbors": 2}), n=4), inputs)
    c = lambda deg: 2 * np.sin(np.radians(deg) / 2)  # noqa: E731 chord of an angle
    mean = {0: (c(10) + c(20)) / 2, 10: c(10), 20: (c(10) + c(20)) / 2, 90: (c(70) + c(80)) / 2}
    # 10 deg is densest; 0 and 20 tie (lower id first); 90 last. Typicality = min mean / mean.
    assert outcome.selection.ids.tolist() == [ids[1], ids[0], ids[2], ids[3]]
    expected = [mean[10] / m for m in (mean[10], mean[0], mean[20], mean[90])]
    np.testing.assert_allclose(outcome.values["typicality:embeddings"], expected, rtol=1e-4)


def test_minimum_typicality_excludes_atypical_samples():
    ids = ids_of(4)
    inputs = SelectionInputs(Frames.build(ids), embeddings={"": Embeddings(ids, angles(0, 10, 20, 90))})
    cfg = config((EMB, {"type": "TYPICALITY", "num_nearest_neighbors": 2, "stopping_condition_minimum_typicality": 0.5}), n=4)
    outcome = run_selection(cfg, inputs)
    assert ids[3] not in outcome.selection.ids
    assert outcome.stop_reason == "stopping_condition_minimum_typicality"
