"""Test-time augmentation with the built-in detector: fused passes with their spread, to files and scores."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.models.real_images import real_image
from thresher.errors import UsageError
from thresher.models.tta import TTADetector, parse_views
from thresher.scorers import fuse_passes


def test_views_parse_and_bad_ones_say_why():
    assert parse_views("flip, scale:0.5") == [("flip", 0.0), ("scale", 0.5)]
    for spec, message in (("flop", 'did you mean "flip"'), ("scale:1.5", r"in \(0, 1\)"), ("scale:x", "needs a factor"), ("flip:2", "takes no value")):
        with pytest.raises(UsageError, match=message):
            parse_views(spec)


def test_fused_boxes_are_the_fusion_of_the_passes_mapped_back(ssd):
    image = real_image("chelsea")
    tta = TTADetector(ssd, "flip,scale:0.75")
    fused = tta.predict([image])
    plain = ssd.predict([image])
    flipped = ssd.predict([np.ascontiguousarray(image[:, ::-1])])
    width = image.shape[1]
    back = flipped.replace(xyxy=np.stack([width - flipped.xyxy[:, 2], flipped.xyxy[:, 1], width - flipped.xyxy[:, 0], flipped.xyxy[:, 3]], axis=1))
    from thresher.models.tta import _shrink, _unshrink

    shrunk = _unshrink(ssd.predict([_shrink(image, 0.75)]), 0.75, [image])
    expected = fuse_passes([plain, back, shrunk], iou_threshold=0.5).detections
    assert np.allclose(fused.xyxy, expected.xyxy) and np.allclose(fused.box_spread, expected.box_spread)
    assert np.allclose(fused.class_spread, expected.class_spread)
    cat = int(np.argmax(fused.score))
    assert fused.box_spread[cat].max() < 0.1 * (fused.xyxy[cat, 2] - fused.xyxy[cat, 0])  # the cat is found in every view
    assert (fused.xyxy[:, [0, 2]] <= width + 1e-9).all() and tta.name == "ssd-mobilenet-v2-coco+tta:flip,scale:0.75"


def test_a_box_found_in_the_grey_canvas_of_a_shrunk_view_is_dropped(ssd):
    """On the astronaut at scale 0.75 the detector finds a box right of the shrunk image: cut at
    the image's edge it is 0 pixels wide, so it is dropped (a prediction file needs w, h >= 1)."""
    from thresher.models.tta import _shrink, _unshrink

    image = real_image("astronaut")
    height, width = image.shape[:2]
    found = ssd.predict([_shrink(image, 0.75)])
    in_canvas = (found.xyxy[:, 0] / 0.75 >= width) | (found.xyxy[:, 1] / 0.75 >= height)
    assert in_canvas.any()  # the situation this test is about
    back = _unshrink(found, 0.75, [image])
    size = back.xyxy[:, 2:] - back.xyxy[:, :2]
    assert len(back) == int((~in_canvas).sum()) and (size >= 1).all()
    assert np.allclose(back.score, found.score[~in_canvas])
    fused = TTADetector(ssd, "scale:0.75").predict([image])
    assert (fused.xyxy[:, 2:] - fused.xyxy[:, :2] >= 1).all()


@pytest.mark.slow
def test_predict_with_tta_writes_the_spreads_and_score_computes_the_seed_scores_from_them(tmp_path, carphone_mp4):
    from thresher.io.datasource import Datasource
    from thresher.io.lightly_predictions import predicted_part, read_predictions
    from thresher.scorers.uncertainty import seed_scores

    (tmp_path / "ds").mkdir()
    shutil.copyfile(carphone_mp4, tmp_path / "ds" / "car.mp4")
    command = [sys.executable, "-m", "thresher"]
    subprocess.run([*command, "predict", "ds", "--every", "20", "--tta", "flip,scale:0.75", "--task", "tta"], cwd=tmp_path, check=True, capture_output=True)
    subprocess.run([*command, "score", "ds", "--task", "tta", "--families", "seed", "--out", "scores.csv"], cwd=tmp_path, check=True, capture_output=True)
    import csv

    with open(tmp_path / "scores.csv", newline="") as file:
        rows = {r["id"]: r for r in csv.DictReader(file)}
    frames, detections = predicted_part(read_predictions(Datasource(tmp_path / "ds").lightly, "tta"))
    assert detections.box_spread is not None and detections.class_spread is not None and len(detections) > 0
    expected = seed_scores(detections, frames)
    assert {"mcbox", "mcclass", "epuncert"} <= set(expected.names) and len(rows) == len(frames) == 6
    for name in ("entropy", "mcbox", "mcclass", "epuncert"):
        got = np.array([float(rows[i][name]) if rows[i][name] else np.nan for i in expected.ids])
        assert np.allclose(got, expected[name], equal_nan=True), name


@pytest.mark.slow
def test_select_with_a_stacked_seed_strategy_on_a_tta_task(tmp_path, carphone_mp4):
    """predict --tta, then `thresher select --seed-strategy`: the picks are the rule applied to the
    scores the Python functions give on the same arrays."""
    import csv

    from thresher.io.datasource import Datasource
    from thresher.io.lightly_predictions import predicted_part, read_predictions
    from thresher.run.resolver import SCORE_FAMILIES
    from thresher.scorers import score_frames
    from thresher.scorers.seed_strategy import parse_seed_strategy, seed_strategy_scores

    (tmp_path / "ds").mkdir()
    shutil.copyfile(carphone_mp4, tmp_path / "ds" / "car.mp4")
    command = [sys.executable, "-m", "thresher"]
    subprocess.run([*command, "predict", "ds", "--every", "10", "--tta", "flip,scale:0.75", "--task", "tta"], cwd=tmp_path, check=True, capture_output=True)
    name = "perc_norm_box_bottomk_mean_mcbox"
    select = [*command, "select", "ds", "--seed-strategy", name, "--task", "tta", "--n", "5", "--out", "picked"]
    done = subprocess.run(select, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "picked" / "selection.csv", newline="") as file:
        picked = [(r["file_name"], float(r["objective"])) for r in csv.DictReader(file)]
    frames, detections = predicted_part(read_predictions(Datasource(tmp_path / "ds").lightly, "tta"))
    values = seed_strategy_scores(parse_seed_strategy(name), detections, frames, score_frames(detections, frames, SCORE_FAMILIES))
    order = np.lexsort((frames.id, values))  # bottom-k: lowest first, ties by id
    expected = [(str(frames.id[r]), float(values[r])) for r in order if np.isfinite(values[r])][:5]
    assert [p[0] for p in picked] == [e[0] for e in expected] and np.allclose([p[1] for p in picked], [e[1] for e in expected])
    calibrated = [*command, "select", "ds", "--seed-strategy", "calib_" + name, "--task", "tta", "--n", "5", "--out", "x"]
    refused = subprocess.run(calibrated, cwd=tmp_path, capture_output=True, text=True)
    assert refused.returncode == 2 and "error: seed strategy 'calib_perc_norm_box_bottomk_mean_mcbox': 'calib' is not run by thresher" in refused.stderr
