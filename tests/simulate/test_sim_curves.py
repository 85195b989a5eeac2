"""Curves: areas, labels to reach a target and the summary against random, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from thresher.errors import SchemaError
from thresher.simulate import Curves, labels_to_reach, median_crossing, normalized_area, paired_differences, summarize

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


def test_paired_differences_by_hand():
    """fast − random per seed: seed 0 (0.1, 0.2, 0.1, 0.1), seed 1 (0.1, 0.1, 0.2, 0.1)."""
    rows = paired_differences(curves(), reference="random")
    assert [r["n_labels"] for r in rows] == X.tolist() and {r["strategy"] for r in rows} == {"fast"}
    assert [r["difference"] for r in rows] == pytest.approx([0.1, 0.15, 0.15, 0.1])
    # SE = std of (0.2, 0.1) with ddof 1 / sqrt(2) = 0.05 where the seeds differ, else 0
    assert [r["se"] for r in rows] == pytest.approx([0.0, 0.05, 0.05, 0.0], abs=1e-12)
    assert all(r["seeds"] == 2 and r["reference"] == "random" for r in rows)
    with pytest.raises(SchemaError, match="reference"):
        paired_differences(curves(), reference="margin")


def test_paired_differences_use_the_shared_seeds_only():
    records = [("margin", s, 10, 0.5 + 0.1 * s) for s in range(3)] + [("new", s, 10, 0.7 + 0.1 * s) for s in (1, 2, 5)]
    (row,) = paired_differences(Curves.from_records(records), reference="margin")
    assert row["seeds"] == 2 and row["difference"] == pytest.approx(0.2) and row["se"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(("per_seed", "median"), [([10, np.nan, 30], 30), ([10, 20], 15), ([10, np.nan], np.nan),
                                                   ([np.nan, np.nan, 10], np.nan), ([], np.nan)])  # fmt: skip
def test_median_crossing_counts_never_as_more_than_any(per_seed, median):
    assert median_crossing(per_seed) == pytest.approx(median, nan_ok=True)


def test_summary_median_crossing_and_paired_area_by_hand():
    rows = {r["strategy"]: r for r in summarize(curves(), target_labels=40, reference="random")}
    # target 0.8: seed 0 of fast reaches it at 20, seed 1 at 20 + (0.8 - 0.7) / 0.2 * 10 = 25
    assert rows["fast"]["median_labels_to_target"] == pytest.approx(22.5)
    # both seeds of fast have area 2.35 / 3, random 0.65: the paired difference has no spread
    assert rows["fast"]["area_vs_reference"] == pytest.approx(2.35 / 3 - 0.65)
    assert rows["fast"]["area_vs_reference_se"] == pytest.approx(0.0, abs=1e-12)
    assert "area_vs_reference" not in summarize(curves(), target_labels=40)[0]


def test_the_confidence_band_is_clipped_to_0_1():
    """Values 0.98, 1.0, 1.0 and 0.02, 0.0, 0.0: mean ± 1.96 SE leaves [0, 1]; clipped."""
    records = [("s", k, 10, v) for k, v in enumerate([0.98, 1.0, 1.0])] + [("s", k, 20, v) for k, v in enumerate([0.02, 0.0, 0.0])]
    x, mean, low, high = Curves.from_records(records).mean_band("s")
    se = np.std([0.98, 1.0, 1.0], ddof=1) / np.sqrt(3)
    assert mean == pytest.approx([0.99333333, 0.00666667]) and high.tolist() == [1.0, pytest.approx(0.00666667 + 1.96 * se)]
    assert low.tolist() == [pytest.approx(0.99333333 - 1.96 * se), 0.0]
    single = Curves.from_records([("s", 0, 10, 0.5)]).mean_band("s")
    assert single[2].tolist() == single[3].tolist() == [0.5]  # one seed: no band
