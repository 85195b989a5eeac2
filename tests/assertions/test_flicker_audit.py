"""The flicker audit: every frame the old and the new flicker flag on three real clips was
looked at (frames t-1, t, t+1 side by side) and judged a real miss or not; the verdicts are in
tests/data/flicker_audit.csv (docs/assertions.md tells how they were made).

Detections: the built-in SSD on every frame, all COCO classes, score > 0.3. "seed" is seed
000's flicker with the thresholds of its script (0.8, 0.6); "old" is thresher's flicker before
this audit (class-aware tracks and presence, IoU 0.5 for both, no duplicate or size rule);
"new" is the default `flicker`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from thresher.assertions import flicker, seed_flicker
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import predicted_part, read_predictions

pytestmark = pytest.mark.slow

AUDIT = Path(__file__).parents[1] / "data" / "flicker_audit.csv"
MIN_SCORE = 0.3
MODES = {
    "seed": lambda d, f: seed_flicker(d, f, iou_thresh_tracking=0.8, iou_thresh_assertion=0.6),
    "old": lambda d, f: flicker(d, f, class_aware=True, presence="iou", present_overlap=0.5, duplicate_coverage=0, max_box_share=1.0),
    "new": lambda d, f: flicker(d, f),
}


def verdicts() -> dict[tuple[str, int], dict]:
    with open(AUDIT, newline="", encoding="utf-8") as f:
        return {(r["video"], int(r["frame"])): r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def flagged(audited_clips) -> dict[tuple[str, int], set[str]]:
    """{(video, frame index): the modes that flag it} over the audited clips."""
    found: dict[tuple[str, int], set[str]] = {}
    for video, root in audited_clips.items():
        source = Datasource(root)
        frames, detections = predicted_part(read_predictions(source.lightly, "ssd", source.frames()))
        detections = detections[detections.score > MIN_SCORE]
        for mode, function in MODES.items():
            for row in np.flatnonzero(function(detections, frames).flagged).tolist():
                found.setdefault((video, int(frames.frame_index[row])), set()).add(mode)
    return found


def test_every_flagged_frame_was_audited(flagged):
    audit = verdicts()
    assert set(flagged) == set(audit), "frames flagged now and frames audited differ: audit them again"
    assert all(set(audit[key]["flagged_by"].split(";")) == modes for key, modes in flagged.items())
    assert {r["verdict"] for r in audit.values()} == {"real miss", "not a miss"} and all(r["why"] for r in audit.values())


def precision(flagged, mode: str) -> float:
    audit = verdicts()
    hits = [audit[key]["verdict"] == "real miss" for key, modes in flagged.items() if mode in modes]
    return sum(hits) / len(hits)


def test_new_flicker_precision_is_at_least_85_percent(flagged):
    assert precision(flagged, "new") >= 0.85
    assert precision(flagged, "new") > max(precision(flagged, "seed"), precision(flagged, "old")) + 0.3


def test_new_flicker_still_flags_every_real_miss_the_old_ones_found(flagged):
    audit = verdicts()
    real = {key for key, row in audit.items() if row["verdict"] == "real miss"}
    found = {mode: {key for key in real if mode in flagged[key]} for mode in MODES}
    assert found["seed"] | found["old"] <= found["new"]
    assert len(found["new"]) > len(found["old"]) >= len(found["seed"]) > 0
