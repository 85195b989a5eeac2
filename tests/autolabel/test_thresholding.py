"""FD@CD(b), CD@FD(b), AUROC and keep thresholds: values by hand, then sklearn + np.interp as the seed reads them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from thresher.autolabel import auroc, budget_metric, keep_thresholds, shares_at
from thresher.errors import ConfigError, SchemaError

# Ten detections, most uncertain first; FDs at 0.9, 0.8 and 0.6 (3 FD, 7 CD).
U = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
CORRECT = np.array([False, False, True, False, True, True, True, True, True, True])


@pytest.mark.parametrize(
    ("metric", "budget", "expected"),
    [
        # Curve (CD removed, FD removed): (0,0) (0,1/3) (0,2/3) (1/7,2/3) (1/7,1) (2/7,1) ... (1,1).
        ("fd@cd", 0.95, 2 / 3),  # x = 0.05 lies on the flat segment (0,2/3)-(1/7,2/3)
        ("fd@cd", 6 / 7, 1.0),  # x = 1/7: the top of the vertical segment
        ("fd@cd", 1.0, 2 / 3),  # x = 0: the last point with no CD removed
        ("fd@cd", 0.5, 1.0),
        ("cd@fd", 0.95, 6 / 7),  # y = 0.95 on the vertical segment at x = 1/7: 6 of 7 CDs kept
        ("cd@fd", 0.5, 1.0),  # y = 0.5 between (0,1/3) and (0,2/3): no CD removed
        ("cd@fd", 1.0, 0.0),  # y = 1 is the last level: np.interp (and the seed) read the last point, (1, 1)
    ],
)
def test_metric_by_hand(metric, budget, expected):
    assert budget_metric(U, CORRECT, budget, metric) == pytest.approx(expected)


def test_keep_thresholds_by_hand():
    # fd@cd 0.95: keep ceil(6.65) = 7 CDs -> tau = the largest CD uncertainty, 0.7.
    assert keep_thresholds(U, CORRECT, 0.95, "fd@cd").tolist() == [0.7]
    # cd@fd 0.95: remove ceil(2.85) = 3 FDs -> tau below 0.6, the largest value under it: 0.5.
    assert keep_thresholds(U, CORRECT, 0.95, "cd@fd").tolist() == [0.5]
    at = shares_at(U, CORRECT, 0.5)
    assert at["cd_kept"].tolist() == pytest.approx([6 / 7]) and at["fd_removed"].tolist() == [1.0]
    assert float(at["kept"]) == pytest.approx(0.6)


@pytest.mark.parametrize("seed", range(40))
def test_metrics_equal_sklearn_roc_read_with_np_interp(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(2, 60))
    u = rng.integers(0, 6, m).astype(float) if seed % 2 else rng.random(m)  # ties on odd seeds
    correct = rng.random(m) < rng.uniform(0.2, 0.8)
    if correct.all() or not correct.any():
        correct[0] = not correct[0]
    budget = float(rng.choice([0.5, 0.8, 0.9, 0.95, rng.random()]))
    fpr, tpr, _ = roc_curve(correct.astype(int), u, pos_label=0)
    assert budget_metric(u, correct, budget, "fd@cd") == pytest.approx(np.interp(1 - budget, fpr, tpr), abs=1e-12)
    assert budget_metric(u, correct, budget, "cd@fd") == pytest.approx(1 - np.interp(budget, tpr, fpr), abs=1e-12)
    assert auroc(u, correct) == pytest.approx(roc_auc_score((~correct).astype(int), u))


def test_shapes_follow_the_inputs():
    rng = np.random.default_rng(0)
    many = rng.random((5, 10))
    labels = np.stack([CORRECT, ~CORRECT, CORRECT], axis=1)
    assert np.shape(budget_metric(many, labels)) == (5, 3)
    assert np.shape(budget_metric(many, CORRECT)) == (5,)
    assert np.shape(budget_metric(U, labels)) == (3,)
    assert isinstance(budget_metric(U, CORRECT), float)
    row = budget_metric(many, labels)[2]
    assert row == pytest.approx(budget_metric(many[2], labels))


def test_nan_without_correct_or_false_detections():
    everything_correct = np.ones(10, dtype=bool)
    assert np.isnan(budget_metric(U, everything_correct))
    assert np.isnan(auroc(U, everything_correct))
    assert np.isnan(keep_thresholds(U, ~everything_correct, 0.95, "fd@cd")).all()


def test_a_better_uncertainty_scores_higher():
    rng = np.random.default_rng(1)
    correct = rng.random(2000) < 0.6
    signal = (~correct).astype(float)
    sharp = signal + rng.normal(0, 0.3, 2000)
    blurred = signal + rng.normal(0, 1.0, 2000)
    assert budget_metric(sharp, correct) > budget_metric(blurred, correct) > 0.05
    assert auroc(sharp, correct) > auroc(blurred, correct) > 0.5


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: budget_metric(U, CORRECT, 0.95, "fd@fd"), ConfigError, "metric"),
        (lambda: budget_metric(U, CORRECT, 1.5), ConfigError, "budget"),
        (lambda: budget_metric(U[:3], CORRECT), SchemaError, "one per detection"),
        (lambda: budget_metric(np.r_[U[:-1], np.nan], CORRECT), SchemaError, "finite"),
    ],
)
def test_errors_name_the_parameter(call, error, match):
    with pytest.raises(error, match=match):
        call()
