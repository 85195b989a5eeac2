"""Model assertions on the built-in detector's real predictions for bikes.mp4."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.assertions.seed000_numpy import compute_flickering_assertion as seed_transcription
from tests.conftest import tree_digest
from tests.test_validate import run_cli
from thresher.assertions import compute_flickering_assertion
from thresher.io.datasource import Datasource
from thresher.io.lightly_metadata import read_metadata
from thresher.io.lightly_predictions import read_predictions


def predictions_list(root) -> list[dict]:
    """The seed's predictions_list: Lightly files of every frame, in frame order, int bboxes as the seed writes."""
    files = sorted((root / ".lightly/predictions/ssd").glob("bikes-*.json"))
    out = []
    for path in files:
        data = json.loads(path.read_text())
        for p in data["predictions"]:
            p["bbox"] = [int(v) for v in p["bbox"]]
        out.append(data)
    return out


@pytest.mark.parametrize("tracking, assertion", [(0.9, 0.6), (0.8, 0.6), (0.6, 0.5), (0.5, 0.3)])
def test_flicker_matches_the_seed_on_real_detections(bikes_predicted, tracking, assertion):
    for min_score in (0.1, 0.3):
        preds = [{**d, "predictions": [p for p in d["predictions"] if p["score"] >= min_score]} for d in predictions_list(bikes_predicted)]
        ours = compute_flickering_assertion(preds, iou_thresh_tracking=tracking, iou_thresh_assertion=assertion)
        seed = seed_transcription(preds, iou_thresh_tracking=tracking, iou_thresh_assertion=assertion)
        assert ours == seed


def test_real_video_has_flicker(bikes_predicted):
    preds = predictions_list(bikes_predicted)
    flags, imputed = compute_flickering_assertion(preds, iou_thresh_tracking=0.6, iou_thresh_assertion=0.5)
    assert 0 < sum(flags) < len(flags)
    assert all(len(boxes) > 0 for flag, boxes in zip(flags, imputed) if flag)


def test_assert_command_writes_metadata_and_imputed_task(bikes_datasource_copy, capsys):
    root = bikes_datasource_copy
    media = {k: v for k, v in tree_digest(root).items() if not k.startswith(".lightly")}
    code, output = run_cli(["assert", str(root), "--task", "ssd", "--assertion", "flicker,multibox,class_switch,appear"], capsys)
    assert code in (0, None), output
    assert "flicker:" in output and "imputed boxes to task ssd-imputed" in output
    source = Datasource(root)
    frames = source.frames()
    metadata = read_metadata(source.lightly, frames)
    assert set(np.unique(metadata["flickering"])) <= {0.5, 1.0}
    flagged = metadata["flickering"] == 1.0
    assert (metadata["flicker_severity"][flagged] > 0).all() and (metadata["flicker_severity"][~flagged] == 0).all()
    imputed = read_predictions(source.lightly, "ssd-imputed", frames)
    assert set(np.unique(imputed.detections.frame)) <= set(np.flatnonzero(flagged | (metadata["multibox_severity"] > 0) | (metadata["class_switch_severity"] > 0)))
    schema = json.loads((root / ".lightly/metadata/schema.json").read_text())
    assert {"name": "Flickering", "path": "flickering", "defaultValue": 0.5, "valueDataType": "NUMERIC_FLOAT"} in schema
    assert {k: v for k, v in tree_digest(root).items() if not k.startswith(".lightly")} == media
    code, output = run_cli(["validate", str(root)], capsys)
    assert code == 0, output


def test_seed_compatible_assert_flags_the_seed_frames(bikes_datasource_copy, capsys):
    root = bikes_datasource_copy
    code, output = run_cli(["assert", str(root), "--task", "ssd", "--seed-compatible", "--iou-thresh-tracking", "0.6", "--iou-thresh-assertion", "0.5"], capsys)
    assert code in (0, None), output
    flags, _ = seed_transcription(predictions_list(root), iou_thresh_tracking=0.6, iou_thresh_assertion=0.5)
    source = Datasource(root)
    frames = source.frames()
    flickering = read_metadata(source.lightly, frames)["flickering"]
    assert (flickering == 1.0).tolist() == flags


def test_unknown_assertion_is_a_usage_error(bikes_datasource_copy, capsys):
    code, output = run_cli(["assert", str(bikes_datasource_copy), "--task", "ssd", "--assertion", "flickr"], capsys)
    assert code == 2 and 'did you mean "flicker"' in output


def test_rerun_rewrites_only_what_changed(bikes_datasource_copy):
    """Same task and parameters: no metadata or imputed file is written again; other thresholds
    rewrite exactly the files whose content changes, and the result is as if written fresh."""
    from thresher.assert_task import assert_task

    root = bikes_datasource_copy
    source = Datasource(root)
    assert_task(source, "ssd", ["flicker"])
    outputs = sorted([*(root / ".lightly/metadata").glob("bikes-*.json"), *(root / ".lightly/predictions/ssd-imputed").glob("bikes-*.json")])
    stamps = {p: p.stat().st_mtime_ns for p in outputs}
    before = {p: p.read_bytes() for p in outputs}
    assert_task(source, "ssd", ["flicker"])
    assert {p: p.stat().st_mtime_ns for p in outputs} == stamps
    assert_task(source, "ssd", ["flicker"], parameters={"flicker": {"match_iou": 0.3}})
    changed = {p for p in outputs if p.read_bytes() != before[p]}
    assert changed and changed == {p for p in outputs if p.stat().st_mtime_ns != stamps[p]}
    again = {p: p.read_bytes() for p in outputs}
    for path in outputs:
        path.unlink()
    assert_task(source, "ssd", ["flicker"], parameters={"flicker": {"match_iou": 0.3}})
    assert {p: p.read_bytes() for p in outputs} == again
