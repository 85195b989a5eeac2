"""`thresher score` and `thresher select` on the built-in detector's predictions for bikes.mp4."""

from __future__ import annotations

import csv
import json

import numpy as np

from tests.test_validate import run_cli


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_score_writes_every_score_of_every_predicted_frame(bikes_datasource_copy, tmp_path, capsys):
    out, objects = tmp_path / "scores.csv", tmp_path / "objects.csv"
    code, output = run_cli(["score", str(bikes_datasource_copy), "--task", "ssd", "--out", str(out), "--objects", str(objects)], capsys)
    assert code in (0, None), output
    rows = read_csv(out)
    assert len(rows) == 250 and rows[0]["id"] == "bikes-000-mp4.png"
    for name in ("objectness_least_confidence", "uncertainty_entropy", "uncertainty_margin", "object_frequency"):
        values = np.array([float(r[name]) for r in rows])
        assert ((values >= 0) & (values <= 1)).all() and values.std() > 0
    boxes = read_csv(objects)
    assert len(boxes) > 250 and boxes[0]["id"].startswith("bikes-000-mp4-0-png")


def test_select_writes_the_selection_in_pick_order(bikes_datasource_copy, tmp_path, capsys):
    config = tmp_path / "selection.json"
    config.write_text(json.dumps({"n_samples": 7, "strategies": [
        {"input": {"type": "SCORES", "task": "ssd", "score": "uncertainty_margin"}, "strategy": {"type": "WEIGHTS"}},
        {"input": {"type": "SCORES", "task": "ssd", "score": "objectness_least_confidence"}, "strategy": {"type": "THRESHOLD", "threshold": 0.3, "operation": "BIGGER"}},
    ]}))
    out = tmp_path / "out"
    code, output = run_cli(["select", str(bikes_datasource_copy), "--config", str(config), "--out", str(out)], capsys)
    assert code in (0, None), output
    rows = read_csv(out / "selection.csv")
    assert len(rows) == 7 and all(r["kind"] == "frame" and r["video"] == "bikes.mp4" for r in rows)
    margins = [float(r["weights:scores:ssd/uncertainty_margin"]) for r in rows]
    assert margins == sorted(margins, reverse=True)  # WEIGHTS alone picks by decreasing value
    summary = json.loads((out / "selection.json").read_text())
    assert summary["seed"] == 0 and summary["counts"]


def test_frames_without_a_prediction_file_get_the_empty_frame_scores(bikes_datasource_copy, tmp_path, capsys):
    """Seed 000 writes no file for a frame without a box: `thresher score` scores that frame as
    an empty frame (as the same frame with an empty file), it does not drop it."""
    root = bikes_datasource_copy
    files = sorted((root / ".lightly/predictions/ssd").glob("bikes-*.json"))
    removed = [p for p in files if int(p.stem.split("-")[1]) % 10 == 3]
    empty_file = root / ".lightly/predictions/ssd/bikes-005-mp4.json"
    empty_file.write_text(json.dumps({"file_name": "bikes-005-mp4.png", "predictions": []}))
    for path in removed:
        path.unlink()
    out = tmp_path / "scores.csv"
    code, output = run_cli(["score", str(root), "--task", "ssd", "--out", str(out)], capsys)
    assert code in (0, None), output
    rows = {r["id"]: r for r in read_csv(out)}
    assert len(rows) == 250
    for path in removed:
        assert rows[f"{path.stem}.png"] == {**rows["bikes-005-mp4.png"], "id": f"{path.stem}.png"}
