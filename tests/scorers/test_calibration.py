"""Calibration on a synthetic miscalibrated detector with known truth (the real-data test,
on the built-in detector of issue 3, is still to come)."""

import numpy as np
import pytest

from thresher import Detections
from thresher.errors import ConfigError, SchemaError
from thresher.scorers.calibration import Calibrator, fit_calibrator
from thresher.scorers.calibration_maps import apply_temperature, fit_isotonic, fit_temperature
from thresher.scorers.calibration_metrics import box_metrics, confidence_metrics, reliability
from thresher.scorers.matching import match_detections

OVERCONFIDENCE = 3.0


def synthetic_detector(seed, n_frames=1500, n_classes=4):
    """Truth boxes; one prediction per object, correct with probability q, reported with score
    sigmoid(3 logit q), class probabilities softmax(3 z) for a true class drawn from softmax(z),
    and sigma 0.4 x the true spread of the box corners."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5, n_frames).sum())
    frame = np.repeat(np.arange(n_frames), np.bincount(rng.integers(0, n_frames, n), minlength=n_frames))
    n = len(frame)
    corner = rng.uniform(0, 400, (n, 2))
    size = rng.uniform(30, 120, (n, 2))
    truth_xyxy = np.hstack([corner, corner + size])
    z = rng.normal(0, 1, (n, n_classes))
    true_class = np.argmax(z + rng.gumbel(size=z.shape), axis=1)  # a draw from softmax(z)
    q = rng.uniform(0.05, 0.95, n)
    correct = rng.random(n) < q
    sigma = np.tile(size, 2) * rng.uniform(0.02, 0.08, (n, 1))
    pred_xyxy = np.where(correct[:, None], truth_xyxy + rng.normal(0, sigma), truth_xyxy + 1.5 * np.tile(size, 2))
    pred_xyxy = np.hstack([np.minimum(pred_xyxy[:, :2], pred_xyxy[:, 2:]), np.maximum(pred_xyxy[:, :2], pred_xyxy[:, 2:])])
    score = 1 / (1 + np.exp(-OVERCONFIDENCE * np.log(q / (1 - q))))
    probs = apply_temperature(OVERCONFIDENCE * z, 1.0)
    predictions = Detections(frame=frame, xyxy=pred_xyxy, score=score, class_id=true_class, probs=probs, box_std=0.4 * sigma)
    truth = Detections(frame=frame, xyxy=truth_xyxy, score=np.ones(n), class_id=true_class)
    return predictions, truth


TRAIN, TEST = synthetic_detector(1), synthetic_detector(2)


def score_ece(predictions, truth):
    return confidence_metrics(predictions.score, match_detections(predictions, truth).correct)["ece"]


def probs_ece(predictions, truth):
    located = match_detections(predictions, truth, same_class=False)
    p = predictions.probs[located.correct]
    return confidence_metrics(p.max(axis=1), p.argmax(axis=1) == truth.class_id[located.truth[located.correct]])["ece"]


def box_report(predictions, truth):
    matched = match_detections(predictions, truth)
    rows = np.flatnonzero(matched.correct)
    return box_metrics(predictions.box_std[rows], predictions.xyxy[rows] - truth.xyxy[matched.truth[rows]])


@pytest.mark.parametrize("method", ["temperature", "isotonic"])
@pytest.mark.parametrize("scope", ["global", "per_class"])
def test_calibration_lowers_the_ece_of_scores_and_class_probabilities(method, scope):
    calibrator = fit_calibrator(TRAIN[0], TRAIN[1], score_method=method, score_scope=scope, probs_method=method, probs_scope=scope)
    calibrated = calibrator.apply(TEST[0])
    before, after = score_ece(*TEST), score_ece(calibrated, TEST[1])
    assert after < before / 2, (before, after)
    assert probs_ece(calibrated, TEST[1]) < probs_ece(*TEST) / 2


@pytest.mark.parametrize("method, target", [("temperature", "absolute"), ("isotonic", "absolute"), ("isotonic", "squared")])
@pytest.mark.parametrize("scope", ["global", "per_coordinate", "per_class_coordinate"])
@pytest.mark.parametrize("relative", [False, True])
def test_box_calibration_lowers_the_regression_ece(method, target, scope, relative):
    calibrator = fit_calibrator(
        TRAIN[0],
        TRAIN[1],
        score_method=None,
        box_method=method,
        box_scope=scope,
        box_relative=relative,
        box_target=target,
    )
    before, after = box_report(*TEST), box_report(calibrator.apply(TEST[0]), TEST[1])
    assert after["ece"] < before["ece"] / 2 and after["nll"] < before["nll"]
    assert abs(after["coverage"] - 0.683) < abs(before["coverage"] - 0.683)


def test_temperature_scaling_recovers_the_known_distortion():
    calibrator = fit_calibrator(TRAIN[0], TRAIN[1], score_method="temperature", probs_method="temperature")
    assert calibrator.score.lookup("all") == pytest.approx(OVERCONFIDENCE, rel=0.15)
    assert calibrator.probs.lookup("all") == pytest.approx(OVERCONFIDENCE, rel=0.15)


def test_fit_temperature_per_class_and_degenerate_input():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 1, (4000, 3))
    labels = np.array([rng.choice(3, p=np.exp(r) / np.exp(r).sum()) for r in z])
    assert fit_temperature(2 * z, labels, per_class=True) == pytest.approx([2, 2, 2], rel=0.2)
    assert fit_temperature(np.zeros((0, 3)), np.zeros(0), per_class=False) == 1.0


def test_saved_calibrator_gives_the_same_predictions(tmp_path):
    calibrator = fit_calibrator(
        TRAIN[0],
        TRAIN[1],
        score_method="isotonic",
        score_scope="per_class",
        probs_method="temperature",
        probs_scope="per_class",
        box_method="isotonic",
        box_scope="per_class_coordinate",
        box_relative=True,
    )
    path = tmp_path / "calibrator.json"
    calibrator.save(path)
    loaded = Calibrator.load(path)
    a, b = calibrator.apply(TEST[0]), loaded.apply(TEST[0])
    for name in ("score", "probs", "box_std"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert not (tmp_path / "calibrator.json.partial").exists()


def test_calibrator_file_errors(tmp_path):
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    with pytest.raises(SchemaError, match="thresher-calibrator"):
        Calibrator.load(tmp_path / "bad.json")
    with pytest.raises(SchemaError, match="cannot read"):
        Calibrator.load(tmp_path / "missing.json")


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"score_method": "platt"}, "score_method"),
        ({"box_scope": "per_box", "box_method": "isotonic"}, "box_scope"),
        ({"box_target": "cubic"}, "box_target"),
    ],
)
def test_bad_settings_are_named(kwargs, word):
    with pytest.raises(ConfigError, match=word):
        fit_calibrator(TRAIN[0], TRAIN[1], **kwargs)


def test_parts_that_need_missing_columns_say_so():
    bare = Detections(frame=[0], xyxy=[[0, 0, 1, 1]], score=[0.5], class_id=[0])
    with pytest.raises(SchemaError, match="probs"):
        fit_calibrator(bare, bare, probs_method="isotonic")
    with pytest.raises(SchemaError, match="box_std"):
        fit_calibrator(bare, bare, box_method="isotonic")


def test_isotonic_pools_adjacent_violators_by_hand():
    fitted = fit_isotonic([1, 2, 3, 4], [1.0, 3.0, 2.0, 4.0])
    assert fitted.y.tolist() == [1.0, 2.5, 2.5, 4.0]
    assert fitted([0.0, 2.5, 9.0]).tolist() == [1.0, 2.5, 4.0]  # clipped outside, linear inside
    weighted = fit_isotonic([1, 2], [2.0, 0.0], weights=[3, 1])
    assert weighted.y.tolist() == [1.5, 1.5]
    ties = fit_isotonic([1, 1, 2], [0.0, 1.0, 0.2])
    assert ties.x.tolist() == [1.0, 2.0] and ties.y == pytest.approx([0.4, 0.4])  # (2 x 0.5 + 0.2) / 3


def test_isotonic_fit_is_monotone_and_keeps_the_mean():
    rng = np.random.default_rng(0)
    x, y = rng.random(500), rng.random(500)
    fitted = fit_isotonic(x, y)
    assert (np.diff(fitted.y) >= 0).all()
    assert fitted(np.sort(x)).mean() == pytest.approx(y.mean())


def test_matching_gives_each_truth_box_to_the_best_scoring_prediction():
    truth = Detections(frame=[0, 0], xyxy=[[0, 0, 10, 10], [20, 20, 30, 30]], score=[1, 1], class_id=[1, 2])
    predictions = Detections(
        frame=[0, 0, 0, 1],
        xyxy=[[0, 0, 10, 9], [0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 10, 10]],
        score=[0.6, 0.9, 0.8, 0.9],
        class_id=[1, 1, 1, 1],
    )
    matches = match_detections(predictions, truth)
    assert matches.correct.tolist() == [False, True, False, False]
    assert matches.truth.tolist() == [-1, 0, -1, -1]
    any_class = match_detections(predictions, truth, same_class=False)
    assert any_class.truth.tolist() == [-1, 0, 1, -1] and any_class.iou[2] == 1.0


def test_reliability_by_hand():
    bins = reliability([0.05, 0.15, 0.95, 1.0], [0, 1, 1, 1])
    assert bins.count.tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert bins.ece == pytest.approx((0.05 + 0.85 + 2 * 0.025) / 4)
    assert bins.mce == pytest.approx(0.85)
    metrics = box_metrics([[1.0, 1.0]], [[0.5, 2.0]])
    assert metrics["coverage"] == 0.5 and metrics["sharpness"] == 1.0


def test_a_sharp_temperature_maps_extreme_scores_without_overflow():
    """A fitted temperature far below 1 makes logit/T huge for scores near 0 and 1: the map
    stays in [0, 1] and raises no overflow warning."""
    import warnings

    from thresher.scorers.calibration import _apply_score_map

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mapped = _apply_score_map(0.001, np.array([1e-9, 0.2, 0.5, 0.8, 1 - 1e-9]))
    assert mapped.tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]
