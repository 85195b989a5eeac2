"""fit_autolabeler / AutoLabeler: thresholds meet the budget, weights follow the signal, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from thresher import Detections
from thresher.autolabel import AutoLabeler, fit_autolabeler
from thresher.errors import ConfigError, SchemaError
from tests.autolabel.autolabel_synthetic import labeled_set


@pytest.fixture(scope="module")
def fitted():
    predictions, truth, signal, noise = labeled_set()
    passes = {"columns": {"signal": signal, "noise": noise}}
    model, report = fit_autolabeler(predictions, truth, score_threshold=0.5, passes=passes)
    return predictions, truth, passes, model, report


def test_the_threshold_keeps_the_budget_of_correct_detections(fitted):
    *_, model, report = fitted
    # All truth boxes are found exactly, so CD / FD do not depend on the IoU threshold here.
    assert report.cd_kept == pytest.approx(np.full(6, report.cd_kept[0]))
    assert report.cd_kept[0] >= 0.95
    assert model.thresholds_per_iou == pytest.approx([model.threshold] * 6)
    assert report.fd_removed[0] > 0.5


def test_weights_follow_the_informative_column(fitted):
    *_, model, report = fitted
    weights = dict(zip(model.names, model.weights))
    assert weights["signal"] > 0.6
    assert report.mean("fused") >= max(report.mean(n) for n in model.names) - 1e-12
    assert set(report.names) == {*model.names, "fused"}
    assert "FD@CD(0.95)" in report.text() and report.to_csv().startswith("uncertainty,iou,FD@CD(0.95),auroc")


def test_save_load_round_trip_gives_the_same_fusion(fitted, tmp_path):
    predictions, _, passes, model, _ = fitted
    model.save(tmp_path / "model.json")
    again = AutoLabeler.load(tmp_path / "model.json")
    assert again == model
    assert np.array_equal(again.fuse(predictions, **passes), model.fuse(predictions, **passes))


def test_per_class_weights_where_a_class_has_its_own_signal():
    predictions, truth, signal, noise = labeled_set(n_frames=120, n_classes=2)
    own = np.where(predictions.class_id == 1, signal, noise)  # class 1 shows its FDs in "own"
    shared = np.where(predictions.class_id == 0, signal, noise)  # class 0 in "shared"
    passes = {"columns": {"own": own, "shared": shared}}
    model, report = fit_autolabeler(predictions, truth, passes=passes, per_class=True, min_class_detections=20)
    assert 1 in model.class_weights or 0 in model.class_weights
    assert "fused_per_class" in report.names
    assert report.mean("fused_per_class") >= report.mean("fused") - 1e-12


def test_calibration_is_fitted_first_and_saved(tmp_path):
    predictions, truth, _, _ = labeled_set()
    model, _ = fit_autolabeler(predictions, truth, calibration={"score_method": "isotonic"})
    assert model.calibrator is not None
    model.save(tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json").read_text())["calibrator"]["format"] == "thresher-calibrator"
    assert AutoLabeler.load(tmp_path / "m.json").fuse(predictions) == pytest.approx(model.fuse(predictions))


def test_detections_at_or_below_the_score_threshold_are_left_out():
    predictions, truth, _, _ = labeled_set()
    model, report = fit_autolabeler(predictions, truth, score_threshold=0.8)
    assert report.n_detections == int((predictions.score > 0.8).sum())
    split = model.split(predictions, 60)
    assert not split.considered[predictions.score <= 0.8].any()


def test_errors():
    predictions, truth, _, _ = labeled_set()
    far = Detections(truth.frame, truth.xyxy + 1000, truth.score, truth.class_id)
    with pytest.raises(SchemaError, match="no correct detection"):
        fit_autolabeler(predictions, far)
    with pytest.raises(ConfigError, match="min_class_detections"):
        fit_autolabeler(predictions, truth, min_class_detections=0)
    with pytest.raises(ConfigError, match="mcbox"):
        fit_autolabeler(predictions, truth, uncertainties=["mcbox"])
    with pytest.raises(ConfigError, match="passes"):
        fit_autolabeler(predictions, truth, passes={"box_std": 1})
    with pytest.raises(SchemaError, match="format"):
        AutoLabeler.from_dict({"format": "other"})


def test_the_budget_holds_at_every_iou_threshold_when_the_cuts_differ():
    """A third of the found boxes are shifted (IoU 0.6: correct at t <= 0.6 only) and more
    uncertain, so each IoU threshold has its own cut; the saved threshold keeps b of the correct
    detections at every one of them (a mean of the cuts kept fewer at some)."""
    from tests.autolabel.autolabel_synthetic import boxes_at

    predictions, truth, signal, noise = labeled_set(n_frames=90, seed=3)
    n_truth = len(truth)
    shifted = np.zeros(len(predictions), bool)
    shifted[:n_truth:3] = True  # IoU of a 40-pixel box moved by 10 pixels: 30 / 50 = 0.6
    xyxy = predictions.xyxy.copy()
    xyxy[shifted] = boxes_at(xyxy[shifted, 0] + 10.0)
    signal = signal + 0.6 * shifted
    moved = Detections(predictions.frame, xyxy, predictions.score, predictions.class_id, probs=predictions.probs)
    model, report = fit_autolabeler(moved, truth, score_threshold=0.5, passes={"columns": {"signal": signal, "noise": noise}})
    assert len(set(model.thresholds_per_iou)) > 1
    assert (np.asarray(report.cd_kept) >= 0.95).all(), report.cd_kept
    assert model.threshold == max(model.thresholds_per_iou)


def test_the_saved_model_is_strict_json(fitted, tmp_path):
    """An IoU threshold without a cut (NaN) is saved as null and read back as NaN: strict JSON readers
    reject NaN and Infinity."""
    from dataclasses import replace

    *_, model, _ = fitted
    model = replace(model, thresholds_per_iou=(model.threshold, float("nan")))
    model.save(tmp_path / "m.json")

    def refuse(constant: str) -> float:
        raise ValueError(f"not strict JSON: {constant}")

    saved = json.loads((tmp_path / "m.json").read_text(), parse_constant=refuse)
    assert saved["thresholds_per_iou"] == [model.threshold, None]
    again = AutoLabeler.load(tmp_path / "m.json")
    assert again.thresholds_per_iou[0] == model.threshold and np.isnan(again.thresholds_per_iou[1])


def test_a_budget_no_threshold_can_meet_is_refused_not_saved_as_infinity():
    """cd@fd at budget 1 when the most confident detection is false: only tau = -inf removes every
    false one, so the fit refuses (it used to save "threshold": -Infinity)."""
    truth = Detections(np.zeros(2, dtype=np.int64), np.array([[0, 0, 10, 10], [20, 0, 30, 10.0]]), np.ones(2), np.zeros(2, dtype=np.int64))
    boxes = np.array([[50, 50, 60, 60], [0, 0, 10, 10], [20, 0, 30, 10.0]])  # the first, most confident, is false
    predictions = Detections(np.zeros(3, dtype=np.int64), boxes, np.array([0.99, 0.9, 0.8]), np.zeros(3, dtype=np.int64))
    with pytest.raises(SchemaError, match=r"no uncertainty threshold keeps a detection at budget 1 \(cd@fd\): lower budget"):
        fit_autolabeler(predictions, truth, uncertainties=["one_minus_score"], metric="cd@fd", budget=1.0)
    with pytest.raises(ConfigError, match=r"budget \(--budget\): expected a share in \(0, 1\]"):
        fit_autolabeler(predictions, truth, budget=0.0)
