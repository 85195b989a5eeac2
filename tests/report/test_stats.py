"""Statistics of the report, against values derived by hand from the definitions in stats.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thresher.report.stats import categorical_summary, gini_imbalance, histogram, normalized_entropy, numeric_summary, shared_edges


@pytest.mark.parametrize(
    "counts, expected",
    [
        # Σ_i Σ_j |c_i − c_j| / (2 K² mean), divided by (K − 1) / K
        ([5, 5, 5], 0.0),  # balanced
        ([7, 0, 0], 1.0),  # one class: G = (2·2·7) / (2·9·7/3) = 2/3, max 2/3
        ([1, 0], 1.0),  # G = 2 / (2·4·0.5) = 1/2, max 1/2
        ([1, 1, 2], 0.25),  # ordered pairs differ by 1 four times: G = 4 / (2·9·4/3) = 1/6, / (2/3)
        ([1, 3], 0.5),  # G = 2·2 / (2·4·2) = 1/4, / (1/2)
        ([0, 1, 2, 3], 5 / 9),  # Σ|ci−cj| = 2·(1+2+3+1+2+1) = 20; G = 20 / (2·16·1.5) = 5/12, / (3/4)
        ([4], 0.0),  # a single category is balanced by definition
    ],
)
def test_gini_imbalance(counts, expected):
    assert gini_imbalance(np.array(counts)) == pytest.approx(expected)


@pytest.mark.parametrize(
    "counts, expected",
    [
        ([2, 2], 1.0),  # uniform
        ([3, 0], 0.0),  # one class
        ([1, 1, 2], (2 * 0.25 * math.log(4) + 0.5 * math.log(2)) / math.log(3)),  # p = 1/4, 1/4, 1/2
        ([1, 3], (0.25 * math.log(4) + 0.75 * math.log(4 / 3)) / math.log(2)),  # = 0.811278…
        ([9], 0.0),
    ],
)
def test_normalized_entropy(counts, expected):
    assert normalized_entropy(np.array(counts, float)) == pytest.approx(expected)


def test_normalized_entropy_of_one_quarter_three_quarters_is_the_binary_entropy():
    assert normalized_entropy(np.array([1, 3])) == pytest.approx(0.8112781244591328)


@pytest.mark.parametrize("function", [gini_imbalance, normalized_entropy])
def test_empty_distribution_is_nan(function):
    assert math.isnan(function(np.zeros(3)))


@pytest.mark.parametrize("bad", [[1, -1], [1, np.nan], [np.inf]])
def test_counts_must_be_finite_and_non_negative(bad):
    with pytest.raises(ValueError, match="counts"):
        gini_imbalance(np.array(bad, float))


def test_more_imbalance_raises_gini_and_lowers_entropy():
    balanced, skewed, worse = np.array([5, 5, 5, 5]), np.array([8, 4, 4, 4]), np.array([14, 2, 2, 2])
    assert gini_imbalance(balanced) < gini_imbalance(skewed) < gini_imbalance(worse)
    assert normalized_entropy(balanced) > normalized_entropy(skewed) > normalized_entropy(worse)


def test_categorical_summary():
    assert categorical_summary(np.array([1, 3])) == pytest.approx({"total": 4.0, "gini": 0.5, "entropy": 0.8112781244591328})


def test_numeric_summary_by_hand():
    # values 1, 2, 3, 4, 10 and a NaN: mean 4, population variance (9+4+1+0+36)/5 = 10
    s = numeric_summary(np.array([3.0, 1.0, np.nan, 10.0, 2.0, 4.0]))
    assert s == pytest.approx({"count": 5, "missing": 1, "mean": 4.0, "std": math.sqrt(10), "min": 1.0, "median": 3.0, "max": 10.0})


def test_numeric_summary_of_even_count_takes_the_middle_mean():
    assert numeric_summary(np.array([4.0, 1.0, 3.0, 2.0]))["median"] == 2.5


def test_numeric_summary_without_values():
    s = numeric_summary(np.array([np.nan, np.nan]))
    assert s["count"] == 0 and s["missing"] == 2
    assert all(math.isnan(s[k]) for k in ("mean", "std", "min", "median", "max"))


def test_shared_edges_span_all_sets():
    edges = shared_edges([np.array([0.0, 1.0]), np.array([3.0, np.nan])], bins=3)
    np.testing.assert_allclose(edges, [0.0, 1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    "arrays, expected",
    [
        ([np.array([2.0, 2.0])], [1.5, 2.5]),  # one value: one bin around it
        ([np.array([np.nan]), np.zeros(0)], [0.0, 1.0]),  # nothing finite
    ],
)
def test_shared_edges_degenerate(arrays, expected):
    np.testing.assert_allclose(shared_edges(arrays, bins=5), expected)


def test_histogram_counts_by_hand():
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    # [0,1): 0, 0.5; [1,2): 1, 1.5; [2,3]: 2, 3 (last bin closed); NaN and 4 (outside) not counted
    counts = histogram(np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, np.nan, 4.0]), edges)
    assert counts.tolist() == [2, 2, 2]
    assert counts.dtype == np.int64


def test_histogram_of_shared_edges_counts_every_finite_value():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=100), rng.normal(3, 1, size=40)
    edges = shared_edges([a, b], bins=7)
    assert histogram(a, edges).sum() == 100 and histogram(b, edges).sum() == 40


def test_bins_must_be_positive():
    with pytest.raises(ValueError, match="bins"):
        shared_edges([np.ones(2)], bins=0)
