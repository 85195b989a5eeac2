"""`thresher score --objects`: one row per box with the per-box scores of the asked families."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from tests.conftest import write_json
from tests.test_validate import run_cli
from thresher.scorers.uncertainty import box_uncertainty_per_detection, entropy

SCHEMA = {"task_type": "object-detection", "categories": [{"id": 0, "name": "car"}, {"id": 1, "name": "person"}]}
# image a.png: two boxes with every uncertainty field of docs/datasource.md
BOXES = [
    {
        "category_id": 0,
        "bbox": [2, 4, 20, 10],
        "score": 0.9,
        "probabilities": [0.7, 0.3],
        "box_std": [1.0, 2.0, 0.5, 0.5],
        "box_spread": [0.2, 0.4, 1.0, 2.0],
        "class_spread": 0.25,
    },
    {
        "category_id": 1,
        "bbox": [30, 8, 10, 30],
        "score": 0.4,
        "probabilities": [0.2, 0.8],
        "box_std": [3.0, 1.0, 1.0, 2.0],
        "box_spread": [0.5, 0.5, 0.5, 0.5],
        "class_spread": 0.5,
    },
]


@pytest.fixture
def datasource(tmp_path):
    from PIL import Image

    root = tmp_path / "ds"
    root.mkdir()
    Image.new("RGB", (64, 48)).save(root / "a.png")
    write_json(root / ".lightly" / "predictions" / "tasks.json", ["det"])
    write_json(root / ".lightly" / "predictions" / "det" / "schema.json", SCHEMA)
    write_json(root / ".lightly" / "predictions" / "det" / "a.json", {"file_name": "a.png", "predictions": BOXES})
    return root


def objects_csv(datasource, tmp_path, capsys, *options: str) -> list[dict]:
    out = tmp_path / "objects.csv"
    code, output = run_cli(["score", str(datasource), "--task", "det", "--out", str(tmp_path / "scores.csv"), "--objects", str(out), *options], capsys)
    assert code in (0, None), output
    with open(out) as f:
        return list(csv.DictReader(f))


def test_the_seed_family_gives_each_box_its_entropy_albox_mcbox_and_mcclass(datasource, tmp_path, capsys):
    rows = objects_csv(datasource, tmp_path, capsys)
    assert [r["id"] for r in rows] == ["a-0-png.png", "a-1-png.png"]
    xyxy = np.array([[2, 4, 22, 14], [30, 8, 40, 38]], dtype=float)
    expected = {
        "entropy": entropy(np.array([b["probabilities"] for b in BOXES])),
        "albox": box_uncertainty_per_detection(xyxy, np.array([b["box_std"] for b in BOXES])),
        "mcbox": box_uncertainty_per_detection(xyxy, np.array([b["box_spread"] for b in BOXES])),
        "mcclass": [0.25, 0.5],
    }
    for name, values in expected.items():
        assert [float(r[name]) for r in rows] == pytest.approx(list(values)), name
    assert [float(r["objectness_least_confidence"]) for r in rows] == pytest.approx([0.1, 0.6])


def test_only_the_asked_families_give_columns(datasource, tmp_path, capsys):
    lightly = objects_csv(datasource, tmp_path, capsys, "--families", "lightly")
    assert "entropy" not in lightly[0] and "objectness_least_confidence" in lightly[0]
    seed = objects_csv(datasource, tmp_path, capsys, "--families", "seed")
    assert {"entropy", "albox", "mcbox", "mcclass"} <= set(seed[0]) and "objectness_least_confidence" not in seed[0]
    assert "ental" not in seed[0] and "class_balance_weight" not in seed[0]  # compare frames: per frame only


def test_each_object_row_says_which_box_and_class_it_is(datasource, tmp_path, capsys):
    rows = objects_csv(datasource, tmp_path, capsys)
    assert list(rows[0])[:7] == ["id", "x1", "y1", "x2", "y2", "class", "score"]
    assert [[float(r[k]) for k in ("x1", "y1", "x2", "y2")] for r in rows] == [[2, 4, 22, 14], [30, 8, 40, 38]]
    assert [(r["class"], float(r["score"])) for r in rows] == [("car", 0.9), ("person", 0.4)]
