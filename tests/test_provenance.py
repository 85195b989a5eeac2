"""Predictions are reused by content: the same model and options, whoever wrote them (predict or a run)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from thresher.run import run

SELECTION = {"n_samples": 3, "strategies": [{"input": {"type": "SCORES", "task": "lightly_pretagging", "score": "uncertainty_margin"}, "strategy": {"type": "WEIGHTS"}}]}


def config(object_level: bool = False, confidence: float = 0.1) -> dict:
    worker = {"pretagging": True, "enable_corruptness_check": False}
    if object_level:
        worker["object_level"] = {"task_name": "lightly_pretagging"}
    return {"worker_config": worker, "selection_config": SELECTION, "thresher": {"every": 10, "pretagging": {"confidence": confidence}}}


def predict(datasource, *options: str) -> str:
    result = subprocess.run([sys.executable, "-m", "thresher", "predict", str(datasource), "--every", "10", *options], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_a_run_reuses_what_predict_wrote_and_the_object_level_switch_reuses_the_run(tmp_path, carphone_mp4):
    (tmp_path / "ds").mkdir()
    shutil.copyfile(carphone_mp4, tmp_path / "ds" / "car.mp4")
    assert "task lightly_pretagging: predicted 12 frames, reused 0" in predict(tmp_path / "ds")
    frame_level = run(tmp_path / "ds", config())
    assert (frame_level.counts["pretagged frames"], frame_level.counts["pretagged frames reused"]) == (0, 12)
    object_level = run(tmp_path / "ds", config(object_level=True))
    assert (object_level.counts["pretagged frames"], object_level.counts["pretagged frames reused"]) == (0, 12)
    assert "predicted 0 frames, reused 12" in predict(tmp_path / "ds")  # and back: predict reuses the runs' files


@pytest.mark.slow
def test_other_options_predict_the_whole_task_again(tmp_path, carphone_mp4):
    (tmp_path / "ds").mkdir()
    shutil.copyfile(carphone_mp4, tmp_path / "ds" / "car.mp4")
    predict(tmp_path / "ds")
    stricter = run(tmp_path / "ds", config(confidence=0.5))
    assert stricter.counts["pretagged frames"] == 12  # never a task mixing two confidences
    assert "predicted 12 frames, reused 0" in predict(tmp_path / "ds")


@pytest.mark.slow
def test_embedding_after_predicting_counts_the_prediction_files_reused(tmp_path, carphone_mp4):
    """`predict --embed` after `predict`: every prediction file is kept, every frame embedded."""
    (tmp_path / "ds").mkdir()
    shutil.copyfile(carphone_mp4, tmp_path / "ds" / "car.mp4")
    predict(tmp_path / "ds")
    assert "task lightly_pretagging: predicted 0 frames, reused 12, embedded 12" in predict(tmp_path / "ds", "--embed")
    assert "task lightly_pretagging: predicted 0 frames, reused 12, embedded 0" in predict(tmp_path / "ds", "--embed")
