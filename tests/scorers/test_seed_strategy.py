"""Seed 002's stacked strategy names: every part the seed lists, accepted or refused with a reason."""

from __future__ import annotations

import numpy as np
import pytest

from thresher import Detections
from thresher.frames import Frames
from thresher.scorers.seed_strategy import SeedStrategyError, parse_seed_strategy, seed_strategy_scores

# the seed's README, "Possible options" of active_learning_loop.py
SCORES = ["random", "entropy", "mcbox", "albox", "mcclass", "ental", "alluncert", "highep_lowal", "epuncert", "sota"]
OPTIONS = {"perc": "perc", "norm": "relative", "box": None, "prune": "prune", "bottomk": "rule", "nee": "rule", "mean": "how"}
REFUSED = {"baseline": "training setup", "lossatt": "training setup", "calib": "calibrator fitted on labeled frames", "full_prune": "training schedule", "combo": "fusion weights"}


@pytest.mark.parametrize("score", SCORES)
def test_each_score_of_the_seed_is_accepted(score):
    assert parse_seed_strategy(score).score == score


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_each_option_of_the_seed_is_accepted(option):
    parsed = parse_seed_strategy(f"{option}_mcbox")
    expected = {
        "perc": ("perc", True),
        "norm": ("relative", True),
        "box": ("score", "mcbox"),
        "prune": ("prune", True),
        "bottomk": ("rule", "bottomk"),
        "nee": ("rule", "nee"),
        "mean": ("how", "mean"),
    }[option]
    assert getattr(parsed, expected[0]) == expected[1]


@pytest.mark.parametrize("part", sorted(REFUSED))
def test_each_part_thresher_does_not_run_is_refused_with_its_reason(part):
    name = "combo" if part == "combo" else f"{part}_entropy"
    with pytest.raises(SeedStrategyError, match=REFUSED[part]):
        parse_seed_strategy(name)


def test_the_readme_examples_and_mistakes():
    full = parse_seed_strategy("perc_norm_box_prune_bottomk_mean_mcbox")
    assert (full.score, full.perc, full.relative, full.prune, full.rule, full.how) == ("mcbox", True, True, True, "bottomk", "mean")
    with pytest.raises(SeedStrategyError, match="'calib' is not run by thresher"):
        parse_seed_strategy("calib_perc_norm_box_prune_bottomk_mean_mcbox")
    with pytest.raises(SeedStrategyError, match=r"no score at its end .*did you mean \"mcbox\""):
        parse_seed_strategy("perc_mcbxo")
    with pytest.raises(SeedStrategyError, match=r"unknown option 'percc' \(did you mean \"perc\"\?\)"):
        parse_seed_strategy("percc_mcbox")
    with pytest.raises(SeedStrategyError, match="two batch rules"):
        parse_seed_strategy("bottomk_nee_entropy")
    assert parse_seed_strategy("mean_uncertainty_margin", ["uncertainty_margin"]).score == "uncertainty_margin"


def test_scores_by_hand():
    """perc_mean_mcbox on 3 frames: mean over boxes of the absolute mcbox, times N_det / N_class averaged per frame."""
    frames = Frames.build(np.array(["a.png", "b.png", "c.png"]))
    spread = np.array([[1, 1, 1, 1], [2, 2, 2, 2], [4, 4, 4, 4.0]])
    boxes = Detections(frame=[0, 0, 1], xyxy=[[0, 0, 10, 10], [0, 0, 20, 20], [0, 0, 8, 8]], score=[0.9, 0.8, 0.7], class_id=[1, 2, 1], box_spread=spread)
    got = seed_strategy_scores(parse_seed_strategy("perc_mean_mcbox"), boxes, frames)
    # class weights: 3 detections, class 1 twice -> 1.5, class 2 once -> 3; frame a has both (mean 2.25), b class 1 (1.5)
    assert np.allclose(got[:2], [(1 + 2) / 2 * 2.25, 4 * 1.5]) and np.isnan(got[2])
    relative = seed_strategy_scores(parse_seed_strategy("norm_box_mcbox"), boxes, frames)
    # the maximum over the frame's boxes of mean(sigma / [h, w, h, w])
    assert np.allclose(relative[:2], [max(1 / 10, 2 / 20), 4 / 8])


def test_a_score_the_files_cannot_give_says_which_field_is_missing():
    frames = Frames.build(np.array(["a.png"]))
    boxes = Detections(frame=[0], xyxy=[[0, 0, 10, 10]], score=[0.9], class_id=[1])
    with pytest.raises(SeedStrategyError, match="no box_spread"):
        seed_strategy_scores(parse_seed_strategy("mcbox"), boxes, frames)


def test_a_stacked_name_as_the_score_of_a_selection_config(tmp_path, bikes_datasource_copy):
    """SCORES inputs accept a stacked name (scored as the seed scores it, WEIGHTS picking the top);
    a batch rule or a refused part in it fails before anything runs, naming the way out."""
    from thresher.errors import ConfigError
    from thresher.io.datasource import Datasource
    from thresher.io.lightly_predictions import predicted_part, read_predictions
    from thresher.run.select_only import select_only

    def config(score: str) -> dict:
        return {"n_samples": 5, "strategies": [{"input": {"type": "SCORES", "task": "ssd", "score": score}, "strategy": {"type": "WEIGHTS"}}]}

    source = Datasource(bikes_datasource_copy)
    outcome = select_only(source, config("perc_mean_entropy"), tmp_path / "out", every=10)
    frames, detections = predicted_part(read_predictions(source.lightly, "ssd"))
    every10 = frames.frame_index % 10 == 0
    values = seed_strategy_scores(parse_seed_strategy("perc_mean_entropy"), detections, frames)
    best = np.flatnonzero(every10)[np.argsort(-values[every10], kind="stable")][:5]
    assert sorted(outcome.selection.ids.tolist()) == sorted(frames.id[best].tolist())
    with pytest.raises(ConfigError, match=r"score 'perc_bottomk_entropy': bottomk is a batch rule.*--seed-strategy perc_bottomk_entropy"):
        select_only(source, config("perc_bottomk_entropy"), tmp_path / "out2")
    with pytest.raises(ConfigError, match="'calib' is not run by thresher"):
        select_only(source, config("calib_entropy"), tmp_path / "out3")
