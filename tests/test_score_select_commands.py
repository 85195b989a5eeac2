"""`thresher score` and `thresher select` on the built-in detector's predictions for bikes.mp4."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

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
    config.write_text(
        json.dumps(
            {
                "n_samples": 7,
                "strategies": [
                    {"input": {"type": "SCORES", "task": "ssd", "score": "uncertainty_margin"}, "strategy": {"type": "WEIGHTS"}},
                    {
                        "input": {"type": "SCORES", "task": "ssd", "score": "objectness_least_confidence"},
                        "strategy": {"type": "THRESHOLD", "threshold": 0.3, "operation": "BIGGER"},
                    },
                ],
            }
        )
    )
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


def test_select_weighted_kmeans_on_the_video_is_the_same_twice_and_draws_from_the_most_uncertain(bikes_datasource_copy, tmp_path, capsys):
    """WEIGHTED_KMEANS (a thresher extension) from a YAML selection config on bikes.mp4, every 10th
    frame: the built-in detector's embeddings, margins as weights, THRESHOLD on objectness."""
    config = tmp_path / "selection.yaml"
    config.write_text(
        "n_samples: 5\n"
        "strategies:\n"
        "  - input: {type: EMBEDDINGS}\n"
        "    strategy:\n"
        "      type: WEIGHTED_KMEANS\n"
        "      weights: {type: SCORES, task: ssd, score: uncertainty_margin}\n"
        "      candidates_per_pick: 2\n"
        "  - input: {type: SCORES, task: ssd, score: objectness_least_confidence}\n"
        "    strategy: {type: THRESHOLD, threshold: 0.1, operation: BIGGER}\n"
    )
    outputs = []
    for run in ("first", "second"):
        out = tmp_path / run
        code, output = run_cli(["select", str(bikes_datasource_copy), "--config", str(config), "--out", str(out),
                                "--every", "10", "--seed", "3"], capsys)  # fmt: skip
        assert code in (0, None), output
        outputs.append(read_csv(out / "selection.csv"))
    assert outputs[0] == outputs[1]  # the same samples, in the same order, with the same values
    rows = outputs[0]
    assert len(rows) == 5 and all(r["kind"] == "frame" and int(r["frame_index"]) % 10 == 0 for r in rows)
    objective = [float(r["objective"]) for r in rows]
    assert objective == sorted(objective, reverse=True)  # clusters by decreasing weight
    scores = read_csv_scores(bikes_datasource_copy, tmp_path, capsys)
    candidates = {k: v for k, v in scores.items() if int(k.split("-")[1]) % 10 == 0 and v[1] > 0.1}
    top = sorted(candidates, key=lambda k: (-candidates[k][0], k))[: 2 * 5]  # the 2 x 5 highest margins
    picked = [r["file_name"] for r in rows]
    assert set(picked) <= set(top) and len(set(picked)) == 5 and len(candidates) > 10
    assert [float(r["weighted_kmeans:embeddings"]) for r in rows] == pytest.approx([candidates[p][0] for p in picked])


def read_csv_scores(datasource, tmp_path, capsys) -> dict[str, tuple[float, float]]:
    """(uncertainty_margin, objectness_least_confidence) of every frame, from `thresher score`."""
    out = tmp_path / "scores.csv"
    code, output = run_cli(["score", str(datasource), "--task", "ssd", "--out", str(out)], capsys)
    assert code in (0, None), output
    return {r["id"]: (float(r["uncertainty_margin"]), float(r["objectness_least_confidence"])) for r in read_csv(out)}


def test_score_refuses_a_task_tasks_json_does_not_list_as_select_does(tmp_path, capsys):
    from PIL import Image

    from thresher import Datasource, Detections
    from thresher.io.lightly_predictions import write_prediction_files
    from thresher.io.lightly_schema import PredictionSchema, write_schema

    root = tmp_path / "ds"
    root.mkdir()
    for k in range(3):
        Image.fromarray(np.full((16, 16, 3), 50 * k, np.uint8)).save(root / f"s{k}.png")
    source = Datasource(root)
    # what a predict killed before its last step leaves: schema and files, no tasks.json entry
    write_schema(source.lightly, "det", PredictionSchema.detection(["car"]))
    write_prediction_files(source.lightly, "det", source.frames(), Detections(frame=[0], xyxy=[[1, 1, 5, 5]], score=[0.5], class_id=[0]))
    message = f"task 'det': no such prediction task; tasks: []; {root}/.lightly/predictions/det exists but tasks.json does not list it"
    code, output = run_cli(["score", str(root), "--task", "det", "--out", str(tmp_path / "scores.csv")], capsys)
    assert code == 2 and f"error: {message}" in output and not (tmp_path / "scores.csv").exists()
    config = tmp_path / "selection.json"
    config.write_text(json.dumps({"n_samples": 1, "strategies": [{"input": {"type": "SCORES", "task": "det", "score": "uncertainty_margin"}, "strategy": {"type": "WEIGHTS"}}]}))
    code, output = run_cli(["select", str(root), "--config", str(config), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and f"error: strategies[0].input: {message}" in output
