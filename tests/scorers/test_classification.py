"""Lightly's classification scores: values derived by hand from docs/formulas.md §1."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from thresher.errors import SchemaError
from thresher.scorers.classification import SCORE_NAMES, classification_scores, uncertainty_scores


def entropy_bits(p):
    return -sum(x * math.log2(x) for x in p if x > 0)


def hand_scores(p):
    """The normalized scores of one probability vector, from the definitions."""
    c = len(p)
    top, second = sorted(p, reverse=True)[:2]
    return {
        "uncertainty_least_confidence": min(max((1 - top) / (1 - 1 / c), 0), 1),
        "uncertainty_margin": min(max(1 - (top - second), 0), 1),
        "uncertainty_entropy": min(max(entropy_bits(p) / math.log2(c), 0), 1),
    }


CASES = [
    [0.7, 0.2, 0.1],
    [0.4, 0.5, 0.1],
    [1.0, 0.0, 0.0],
    [1 / 3, 1 / 3, 1 / 3],
    [0.5, 0.5],
    [0.25, 0.25, 0.25, 0.25],
    [0.0, 1.0, 0.0, 0.0, 0.0],
    [0.6, 0.3, 0.05, 0.05],
]


@pytest.mark.parametrize("p", CASES)
def test_normalized_scores_match_the_definitions(p):
    got = uncertainty_scores([p])
    for name, value in hand_scores(p).items():
        assert got[name][0] == pytest.approx(value, abs=1e-12), name


def test_lightly_example_from_its_own_tests():
    got = uncertainty_scores([[0.7, 0.2, 0.1], [0.4, 0.5, 0.1]])
    assert got["uncertainty_least_confidence"] == pytest.approx([(1 - 0.7) / (1 - 1 / 3), (1 - 0.5) / (1 - 1 / 3)])
    assert got["uncertainty_margin"] == pytest.approx([1 - (0.7 - 0.2), 1 - (0.5 - 0.4)])


@pytest.mark.parametrize("c", [2, 3, 10, 91])
def test_one_hot_scores_0_and_uniform_scores_1(c):
    one_hot = np.eye(c)
    uniform = np.full((1, c), 1 / c)
    for name, values in uncertainty_scores(one_hot).items():
        assert values.tolist() == [0.0] * c, name
    for name, values in uncertainty_scores(uniform).items():
        assert values[0] == 1.0, name


def test_unnormalized_scores_are_the_raw_definitions():
    p = [0.5, 0.3, 0.2]
    got = uncertainty_scores([p], normalize=False)
    assert got["uncertainty_least_confidence"][0] == pytest.approx(0.5)
    assert got["uncertainty_margin"][0] == pytest.approx(0.8)
    assert got["uncertainty_entropy"][0] == pytest.approx(entropy_bits(p))


def test_a_single_column_means_binary_probabilities():
    column = uncertainty_scores([[0.8], [0.5]])
    pairs = uncertainty_scores([[0.8, 0.2], [0.5, 0.5]])
    for name in SCORE_NAMES:
        assert column[name].tolist() == pairs[name].tolist()


def test_nan_becomes_0():
    got = uncertainty_scores([[np.nan, 0.5, 0.5]])
    assert all(got[name][0] == 0.0 for name in SCORE_NAMES)


@pytest.mark.parametrize("probs", [np.zeros((2, 0)), np.zeros((2, 2, 2)), np.zeros(3)])
def test_bad_shapes_are_named(probs):
    with pytest.raises(SchemaError, match="probs"):
        uncertainty_scores(probs)


def test_empty_input_gives_empty_scores():
    assert all(len(v) == 0 for v in uncertainty_scores(np.zeros((0, 5))).values())


def test_threads_do_not_change_the_result():
    p = np.random.default_rng(0).dirichlet(np.ones(7), size=10_000)
    one, many = uncertainty_scores(p, threads=1), uncertainty_scores(p, threads=4)
    assert all(one[n].tobytes() == many[n].tobytes() for n in SCORE_NAMES)


def test_classification_scores_are_keyed_by_sample_id():
    scores = classification_scores([[0.9, 0.1], [0.5, 0.5]], ["a.jpg", "b.jpg"])
    assert scores.ids.tolist() == ["a.jpg", "b.jpg"]
    assert scores["uncertainty_margin"][1] == 1.0


probability_rows = arrays(np.float64, st.integers(2, 12), elements=st.floats(0.01, 1.0)).map(lambda a: a / a.sum())


@settings(max_examples=200, deadline=None)
@given(probability_rows, st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_mixing_towards_uniform_never_lowers_a_score(p, t1, t2):
    """More uncertain input (closer to uniform) never scores lower, and scores stay in [0, 1]."""
    low, high = sorted((t1, t2))
    uniform = np.full_like(p, 1 / len(p))
    less = uncertainty_scores([(1 - low) * p + low * uniform])
    more = uncertainty_scores([(1 - high) * p + high * uniform])
    for name in SCORE_NAMES:
        assert 0.0 <= less[name][0] <= 1.0
        assert more[name][0] >= less[name][0] - 1e-12, name


def straightforward(probs):
    """The definitions written the plain way (sort for the two largest, masked log2, np.interp
    between the scores of a one-hot and a uniform row), to compare bit for bit."""

    def raw(p):
        two = np.partition(p, -2, axis=1)
        logs = np.log2(p, out=np.zeros_like(p), where=p > 0)
        return [1 - np.max(p, axis=1), 1 - (two[:, -1] - two[:, -2]), -1 * np.sum(p * logs, axis=1)]

    one_hot = np.eye(1, probs.shape[1])
    uniform = np.full((1, probs.shape[1]), 1 / probs.shape[1])
    bounds = zip(raw(one_hot), raw(uniform))
    return [np.interp(np.nan_to_num(v), [float(lo[0]), float(hi[0])], [0, 1]) for v, (lo, hi) in zip(raw(probs), bounds)]


@pytest.mark.parametrize("seed", range(4))
def test_blocked_computation_has_the_bits_of_the_straightforward_one(seed):
    rng = np.random.default_rng(seed)
    probs = rng.random((5000, int(rng.integers(2, 100)))) ** 6
    probs /= probs.sum(axis=1, keepdims=True)
    probs[rng.random(len(probs)) < 0.01, 0] = 0.0  # some blocks take the general path
    probs[7] = probs[7, 0]  # a tie
    if seed == 2:
        probs[10, 1], probs[11, 1], probs[12] = -0.01, -0.0, 0.0  # invalid input, still Lightly's numbers
    if seed == 3:
        probs[4000, 1] = np.nan
        probs[4001, 0] = np.inf
    got = uncertainty_scores(probs)
    for name, want in zip(SCORE_NAMES, straightforward(probs)):
        assert got[name].tobytes() == want.tobytes(), name


def test_second_largest_of_values_one_ulp_apart():
    # log2 maps the neighbouring doubles 0.2 and 0.2 + 1 ulp to the same value; the margin must
    # still take the larger one, as sorting does
    small, large = 0.2, np.nextafter(0.2, 1)
    top = 0.20000002000000006
    row = np.array([[small, large, top, 0.05]])
    got = uncertainty_scores(row, normalize=False)["uncertainty_margin"]
    assert got.tobytes() == np.array([1 - (top - large)]).tobytes() != np.array([1 - (top - small)]).tobytes()
