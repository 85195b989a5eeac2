"""Curves: areas, labels to reach a target and the summary against random, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from thresher.errors import SchemaError
from thresher.simulate import Curves, labels_to_reach, normalized_area, summarize

X = np.array([10, 20, 30, 40])


def curves() -> Curves:
    """random: 0.5, 0.6, 0.7, 0.8 in both seeds; fast: 0.6, 0.8, 0.8, 0.9 and 0.6, 0.7, 0.9, 0.9."""
    records = [("random", s, int(x), v) for s in (0, 1) for x, v in zip(X, [0.5, 0.6, 0.7, 0.8])]
    records += [("fast", 0, int(x), v) for x, v in zip(X, [0.6, 0.8, 0.8, 0.9])]
    records += [("fast", 1, int(x), v) for x, v in zip(X, [0.6, 0.7, 0.9, 0.9])]
    return Curves.from_records(records)


def test_area_and_reach_by_hand():
    assert normalized_area(X, np.array([0.5, 0.6, 0.7, 0.8])) == pytest.approx(0.65)
    assert normalized_area(np.array([5]), np.array([0.3])) == 0.3
    assert labels_to_reach(X, np.array([0.5, 0.6, 0.7, 0.8]), 0.65) == pytest.approx(25.0)
    assert labels_to_reach(X, np.array([0.5, 0.6, 0.7, 0.8]), 0.4) == 10.0
    assert np.isnan(labels_to_reach(X, np.array([0.5, 0.6, 0.7, 0.8]), 0.81))


def test_mean_curve_and_summary_by_hand():
    c = curves()
    x, mean, std = c.mean_curve("fast")
    assert x.tolist() == X.tolist() and mean == pytest.approx([0.6, 0.75, 0.85, 0.9]) and std == pytest.approx([0, 0.05, 0.05, 0])
    rows = {r["strategy"]: r for r in summarize(c, target_labels=40)}
    # fast's mean curve: area = (0.675 + 0.8 + 0.875) * 10 / 30; random's 0.65.
    assert rows["fast"]["area"] == pytest.approx(2.35 / 3)
    assert rows["fast"]["area_ratio"] == pytest.approx((2.35 / 3) / 0.65)
    assert rows["random"]["labels_to_target"] == 40.0 and rows["random"]["target"] == pytest.approx(0.8)
    assert rows["fast"]["labels_to_target"] == pytest.approx(20 + 0.05 / 0.1 * 10)
    assert rows["fast"]["seeds_reaching"] == 2 and rows["fast"]["final"] == pytest.approx(0.9)


def test_csv_round_trip(tmp_path):
    c = curves()
    c.write_csv(tmp_path / "curves.csv")
    again = Curves.read_csv(tmp_path / "curves.csv")
    assert again.strategies == ["random", "fast"] and again.metric == "accuracy"
    assert np.array_equal(again.value, c.value) and np.array_equal(again.n_labels, c.n_labels)
    (tmp_path / "bad.csv").write_text("a,b\n")
    with pytest.raises(SchemaError, match="header"):
        Curves.read_csv(tmp_path / "bad.csv")


def test_summary_errors():
    with pytest.raises(SchemaError, match="baseline"):
        summarize(curves(), baseline="coreset")
    with pytest.raises(SchemaError, match="target_labels"):
        summarize(curves(), target_labels=500)
    with pytest.raises(SchemaError, match="no strategy"):
        curves().mean_curve("margin")
