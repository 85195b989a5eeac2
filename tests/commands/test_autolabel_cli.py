"""`thresher autolabel fit|apply` and `thresher simulate` on small datasources and arrays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from thresher import Detections
from thresher.io.lightly_predictions import PredictionTask, read_predictions, write_predictions
from thresher.io.lightly_schema import PredictionSchema
from thresher.io.storage import Location
from thresher.io.lightly_predictions import frames_from_names
from tests.autolabel.autolabel_synthetic import labeled_set
from tests.test_validate import run_cli

N_IMAGES = 40
SCHEMA = PredictionSchema.detection({0: "person", 1: "car", 2: "dog"})


@pytest.fixture
def datasource(tmp_path: Path) -> Path:
    """40 images of 480x80; task det: every truth box found plus a false one per image;
    task gt: the truth (score 1) on the first 30 images only."""
    root = tmp_path / "ds"
    root.mkdir()
    rng = np.random.default_rng(0)
    names = [f"img_{i:02d}.png" for i in range(N_IMAGES)]
    for name in names:
        Image.fromarray(rng.integers(0, 255, (80, 480, 3), dtype=np.uint8)).save(root / name)
    predictions, truth, _, _ = labeled_set(n_frames=N_IMAGES)
    frames = frames_from_names(np.array(names))
    lightly = Location(root)
    write_predictions(lightly, PredictionTask("det", SCHEMA, frames, predictions))
    labeled = truth[truth.frame < 30]
    write_predictions(lightly, PredictionTask("gt", SCHEMA, frames[:30], Detections(labeled.frame, labeled.xyxy, np.ones(len(labeled)), labeled.class_id)))
    coco = {
        "images": [{"id": i + 1, "file_name": n, "width": 480, "height": 80} for i, n in enumerate(names[:30])],
        "categories": [{"id": k, "name": v} for k, v in SCHEMA.names.items()],
        "annotations": [{"id": j + 1, "image_id": int(f) + 1, "category_id": int(c), "bbox": [float(v) for v in b]}
                        for j, (f, c, b) in enumerate(zip(labeled.frame, labeled.class_id, labeled.xywh))],
    }  # fmt: skip
    (tmp_path / "gt_coco.json").write_text(json.dumps(coco))
    return root


def test_fit_then_apply(datasource, tmp_path, capsys):
    model = tmp_path / "out" / "labeler.json"
    code, output = run_cli(["autolabel", "fit", str(datasource), "--task", "det", "--truth", "gt", "--output", str(model), "--score-threshold", "0.1"], capsys)
    assert code in (0, None), output
    assert "FD@CD(0.95)" in output and model.exists() and (tmp_path / "out" / "labeler-report.csv").exists()
    out = tmp_path / "apply"
    code, output = run_cli(["autolabel", "apply", str(datasource), "--task", "det", "--model", str(model), "--output", str(out), "--labels-task", "auto"], capsys)
    assert code in (0, None), output
    rows = (out / "split.csv").read_text().splitlines()
    assert rows[0] == "id,status,frame_uncertainty,boxes,uncertain_boxes" and len(rows) == N_IMAGES + 1
    labeled = [r.split(",")[0] for r in rows[1:] if ",labeled," in r]
    coco = json.loads((out / "labels_coco.json").read_text())
    assert sorted(i["file_name"] for i in coco["images"]) == sorted(labeled)
    review = json.loads((out / "review_label_studio.json").read_text())
    assert len(review) == N_IMAGES - len(labeled) > 0
    task = read_predictions(Location(datasource), "auto")
    assert sorted(task.frames.file_name.tolist()) == sorted(labeled)
    assert f"{len(labeled)} of {N_IMAGES} frames auto-labeled" in output


def test_coco_ground_truth_gives_the_same_auto_labeler(datasource, tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    base = ["autolabel", "fit", str(datasource), "--task", "det", "--score-threshold", "0.1"]
    assert run_cli([*base, "--truth", "gt", "--output", str(a)], capsys)[0] in (0, None)
    assert run_cli([*base, "--truth-coco", str(tmp_path / "gt_coco.json"), "--output", str(b)], capsys)[0] in (0, None)
    assert json.loads(a.read_text()) == json.loads(b.read_text())


def test_fit_with_calibration_and_per_class_weights(datasource, tmp_path, capsys):
    model = tmp_path / "m.json"
    args = ["autolabel", "fit", str(datasource), "--task", "det", "--truth", "gt", "--output", str(model), "--score-threshold", "0.1",
            "--calibrate", "isotonic", "--per-class", "--metric", "cd@fd", "--budget", "0.9"]  # fmt: skip
    code, output = run_cli(args, capsys)
    assert code in (0, None), output
    saved = json.loads(model.read_text())
    assert saved["calibrator"]["probs"]["method"] == "isotonic" and saved["metric"] == "cd@fd" and "CD@FD(0.9)" in output


def test_fit_needs_exactly_one_ground_truth(datasource, tmp_path, capsys):
    code, output = run_cli(["autolabel", "fit", str(datasource), "--task", "det", "--output", str(tmp_path / "m.json")], capsys)
    assert code == 2 and "exactly one of --truth" in output


def test_simulate_on_an_npz(tmp_path, capsys):
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 40)
    features = rng.normal(0, 1, (120, 4)) + labels[:, None] * 2.0
    np.savez(tmp_path / "data.npz", features=features, labels=labels)
    out = tmp_path / "sim"
    args = ["simulate", "--data", str(tmp_path / "data.npz"), "--strategies", "random,margin,coreset,weighted_kmeans", "--start", "6",
            "--budget", "6", "--rounds", "3", "--seeds", "2", "--first-seed", "7", "--scaling", "zscore", "--target-labels", "18",
            "--output", str(out)]  # fmt: skip
    code, output = run_cli(args, capsys)
    assert code in (0, None), output
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    curves = (out / "curves.csv").read_text().splitlines()
    assert curves[0] == "strategy,seed,n_labels,accuracy" and {line.split(",")[1] for line in curves[1:]} == {"7", "8"}
    summary = (out / "summary.csv").read_text().splitlines()[0].split(",")
    assert summary[:5] == ["strategy", "final", "final_std", "area", "area_ratio"]
    assert {"median_labels_to_target", "area_vs_reference", "area_vs_reference_se"} <= set(summary)
    paired = (out / "paired.csv").read_text().splitlines()
    assert paired[0] == "strategy,reference,n_labels,difference,se,seeds" and len(paired) == 1 + 3 * 4  # 3 strategies x 4 label counts
    assert "weighted_kmeans" in output and "labels to reach" in output and "area vs margin" in output
    code, output = run_cli(args[:-2] + ["--scaling", "minmax", "--output", str(out)], capsys)
    assert code == 2 and 'did you mean "none"' not in output and "scaling: expected one of none, zscore" in output
    code, output = run_cli(["simulate", "--data", str(tmp_path / "missing.npz")], capsys)
    assert code == 2 and "--data" in output
