"""Issue 9 (a), (b): on real labeled images, uncertainty and CORAL selections reach random's accuracy
with clearly fewer labels, over 5 seeds. Numbers and plots: bench/results/autolabel.md."""

from __future__ import annotations

import pytest

from thresher.simulate import load_dataset, paired_differences, simulate, summarize

pytestmark = pytest.mark.slow
SEEDS = range(5)


@pytest.fixture(scope="session")
def digits_summary():
    """scikit-learn's 1,797 digits: 20 random labels, then 12 rounds of 40 (to 500 labels)."""
    data = load_dataset("digits")
    curves = simulate(data.features, data.labels, ["random", "entropy", "margin", "coral"], start=20, budget=40, rounds=12, seeds=SEEDS)
    return {row["strategy"]: row for row in summarize(curves, target_labels=500)}


@pytest.fixture(scope="session")
def lfw_summary(tmp_path_factory):
    """scikit-image's lfw_subset (100 faces, 100 non-faces) embedded by MobileNetV2-ImageNet at
    224 px (onnxruntime on an export made here: the same vectors as torch, 3x faster): 140 in the
    pool, 60 to test; 4 random labels, then 15 rounds of 4."""
    data = load_dataset("lfw_subset", backend="onnx", cache_folder=tmp_path_factory.mktemp("onnx"))
    curves = simulate(data.features, data.labels, ["random", "entropy", "coral"], start=4, budget=4, rounds=15, seeds=SEEDS)
    return {row["strategy"]: row for row in summarize(curves, target_labels=40)}


@pytest.mark.parametrize("strategy", ["entropy", "margin", "coral"])
def test_digits_reach_random_at_500_labels_with_clearly_fewer(digits_summary, strategy):
    row = digits_summary[strategy]
    assert row["labels_to_target"] <= 375  # measured: margin 196, coral 232, entropy 297
    assert row["seeds_reaching"] == 5
    assert digits_summary["random"]["target"] > 0.9


@pytest.mark.parametrize(("strategy", "at_most"), [("entropy", 20), ("coral", 30)])
def test_lfw_faces_reach_random_at_40_labels_with_fewer(lfw_summary, strategy, at_most):
    row = lfw_summary[strategy]
    assert row["labels_to_target"] <= at_most  # measured: entropy 12, coral 24; random 36
    assert lfw_summary["random"]["target"] > 0.95


def test_digits_weighted_kmeans_beats_margin_paired_by_seed():
    """Issue 21's protocol, shortened: z-scored pixels, 20 random labels, 12 rounds of 20 (to 260).
    In 59 of the 60 seeds of bench/simulate_study.py, weighted k-means on the margin candidates has
    the larger area under the curve over this range; here seeds 0-4 (measured: +0.011 to +0.020)."""
    data = load_dataset("digits")
    curves = simulate(data.features, data.labels, ["margin", "weighted_kmeans"], start=20, budget=20, rounds=12, seeds=SEEDS,
                      scaling="zscore")  # fmt: skip
    (row,) = [r for r in summarize(curves, baseline="margin", reference="margin") if r["strategy"] == "weighted_kmeans"]
    assert row["area_vs_reference"] > 3 * row["area_vs_reference_se"] > 0
    per_label = {r["n_labels"]: r for r in paired_differences(curves, "margin")}
    assert per_label[60]["difference"] > 0.01 and per_label[100]["difference"] > 0.005  # measured: +0.027, +0.021 over 30 seeds
