"""Seed-002 uncertainties: values by hand from docs/formulas.md §2."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thresher import Detections
from thresher.errors import SchemaError
from thresher.scorers import uncertainty as u


def test_entropy_of_softmax_logits():
    assert u.softmax_entropy([[0.0, 0.0, 0.0, 0.0]])[0] == pytest.approx(2.0)
    p = [0.7, 0.2, 0.1]
    assert u.entropy([p])[0] == pytest.approx(-sum(x * math.log2(x) for x in p))
    # probabilities below 1e-7 count with log2(1e-7)
    assert u.entropy([[1.0, 0.0]])[0] == pytest.approx(0.0)
    logits = [[2.0, 1.0, 0.0]]
    e = np.exp([2.0, 1.0, 0.0])
    assert u.softmax_entropy(logits)[0] == pytest.approx(-sum(x / e.sum() * math.log2(x / e.sum()) for x in e))


def test_mc_class_and_box_uncertainty_by_hand():
    class_passes = np.array([[[1.0, 2.0]], [[3.0, 2.0]]])  # T=2, M=1, K=2: std per class 1 and 0
    assert u.mc_class_uncertainty(class_passes).tolist() == [0.5]
    box_passes = np.array([[[0.0, 0.0, 10.0, 10.0]], [[2.0, 0.0, 10.0, 14.0]]])
    assert u.mc_box_uncertainty(box_passes).tolist() == [[1.0, 0.0, 0.0, 2.0]]
    with pytest.raises(SchemaError, match="box_passes"):
        u.mc_box_uncertainty(np.zeros((2, 3)))


def test_relative_box_uncertainty_divides_by_width_and_height():
    rel = u.relative_box_uncertainty([[0, 0, 10, 20]], [[1.0, 2.0, 3.0, 4.0]])
    assert rel.tolist() == [[0.1, 0.1, 0.3, 0.2]]
    assert u.box_uncertainty_per_detection([[0, 0, 10, 20]], [[1.0, 2.0, 3.0, 4.0]])[0] == pytest.approx(0.175)
    assert u.relative_box_uncertainty([[5, 5, 5, 9]], [[1.0, 0.0, 0.0, 0.0]]).tolist() == [[np.inf, 0.0, 0.0, 0.0]]


def test_aggregation_per_frame_and_nan_for_empty_frames():
    table = Detections(frame=[0, 0, 2], xyxy=np.tile([0.0, 0.0, 1.0, 1.0], (3, 1)), score=[1, 1, 1], class_id=[0, 0, 0])
    values = [0.2, 0.6, 0.3]
    got_max = u.aggregate(values, table, ["a", "b", "c"], how="max")
    got_mean = u.aggregate(values, table, ["a", "b", "c"], how="mean")
    assert got_max[0] == 0.6 and np.isnan(got_max[1]) and got_max[2] == 0.3
    assert got_mean[0] == pytest.approx(0.4)


def test_min_max_and_z_score():
    assert u.min_max([1.0, 3.0, np.nan, 2.0])[[0, 1, 3]].tolist() == [0.0, 1.0, 0.5]
    assert u.min_max([2.0, 2.0]).tolist() == [0.0, 0.0]
    assert u.z_score([1.0, 3.0]).tolist() == [-1.0, 1.0]
    assert u.z_score([5.0, 5.0]).tolist() == [0.0, 0.0]


def test_combinations_by_hand():
    frames = {
        "entropy": np.array([0.0, 1.0, 2.0]),
        "albox": np.array([0.1, 0.3, 0.2]),
        "mcbox": np.array([1.0, 2.0, 3.0]),
        "mcclass": np.array([0.5, 0.5, 1.0]),
    }
    assert u.combine("ental", frames) == pytest.approx([0.0, 1.5, 1.5])
    assert u.combine("epuncert", frames) == pytest.approx([0.0, 0.5, 2.0])
    assert u.combine("alluncert", frames) == pytest.approx([0.0, 1.5, 2.5])
    assert u.combine("highep_lowal", frames) == pytest.approx([0.0, -0.5, 1.5])
    z = lambda x: (x - x.mean()) / x.std()  # noqa: E731
    want = np.max([z(frames["mcbox"]), z(frames["albox"]), z(frames["mcclass"])], axis=0)
    assert u.combine("sota", frames) == pytest.approx(want)
    with pytest.raises(SchemaError, match="epuncert"):
        u.combine("epuncrt", frames)
    with pytest.raises(SchemaError, match="missing"):
        u.combine("ental", {"entropy": frames["entropy"]})


def test_combo_weights_entropy_and_albox():
    assert u.combo_uncertainty([1.0, 2.0], [0.5, 0.0], (0.3, 2.0)).tolist() == pytest.approx([1.3, 0.6])


def test_class_balance_weights_by_hand():
    # 4 detections: class 0 three times, class 1 once -> w0 = 4/3, w1 = 4
    table = Detections(frame=[0, 0, 1, 2], xyxy=np.tile([0.0, 0.0, 1.0, 1.0], (4, 1)), score=[1] * 4, class_id=[0, 1, 0, 0])
    weights = u.class_balance_weights(table, ["a", "b", "c", "d"])
    assert weights[:3] == pytest.approx([(4 / 3 + 4) / 2, 4 / 3, 4 / 3]) and np.isnan(weights[3])


def test_seed_scores_give_every_column_the_inputs_allow():
    table = Detections(
        frame=[0, 1],
        xyxy=[[0, 0, 10, 10], [0, 0, 20, 20]],
        score=[0.9, 0.8],
        class_id=[0, 1],
        probs=[[0.9, 0.1], [0.5, 0.5]],
        box_std=[[1, 1, 1, 1], [1, 1, 1, 1]],
    )
    scores = u.seed_scores(table, ["a", "b"], box_spread=np.ones((2, 4)), class_spread=[0.1, 0.2])
    assert {
        "entropy",
        "albox",
        "mcbox",
        "mcclass",
        "ental",
        "epuncert",
        "alluncert",
        "highep_lowal",
        "sota",
        "class_balance_weight",
    } == set(scores.names)
    assert scores["albox"] == pytest.approx([0.1, 0.05])
    with pytest.raises(SchemaError, match="one value per detection"):
        u.seed_scores(table, ["a", "b"], class_spread=[0.1])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.0, 5.0), min_size=3, max_size=3), st.floats(0.0, 3.0))
def test_more_spread_over_the_passes_never_lowers_mcclass(logits, noise):
    base = np.array(logits)
    calm = np.stack([base, base + 0.1])[:, None, :]
    wild = np.stack([base, base + 0.1 + noise])[:, None, :]
    assert u.mc_class_uncertainty(wild)[0] >= u.mc_class_uncertainty(calm)[0] - 1e-12
