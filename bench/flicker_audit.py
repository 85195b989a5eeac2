"""The flicker audit: run seed 000's, the previous and the new flicker on real clips, draw every
flagged frame (t-1, t, t+1) as PNG for judging by eye, and score them against the verdicts in
tests/data/flicker_audit.csv.

    python bench/flicker_audit.py --work /tmp/audit                       # predict, score, print
    python bench/flicker_audit.py --work /tmp/audit --strips /tmp/audit/strips --write bench/results/flicker_audit.md

Detections: the built-in SSD-MobileNet-v2 COCO on every frame (about 45 s for the three clips
on 2 cores, reused by later runs in the same --work folder), all classes, score > 0.3.
Frames flagged but not in the CSV are listed as "not audited": judge them from their strips
and add them to the CSV.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path

import numpy as np

from thresher.assertions import flicker, seed_flicker
from thresher.infer import run_models
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import predicted_part, read_predictions
from thresher.samples import sample_video

CLIPS = ("bikes.mp4", "carphone_pristine.mp4", "bigbuckbunny.mp4")
AUDIT = Path(__file__).parents[1] / "tests" / "data" / "flicker_audit.csv"
MIN_SCORE = 0.3
MODES = {
    "seed": ("seed 000's flicker (0.8, 0.6)", lambda d, f: seed_flicker(d, f, iou_thresh_tracking=0.8, iou_thresh_assertion=0.6)),
    "old": ("thresher's flicker before the audit", lambda d, f: flicker(d, f, class_aware=True, presence="iou", present_overlap=0.5, duplicate_coverage=0, max_box_share=1.0)),
    "new": ("the default flicker", lambda d, f: flicker(d, f)),
}


def predicted(work: Path, video: str) -> Path:
    """A datasource with `video` and the SSD's predictions (task ssd), made once."""
    from thresher.models.ssd import SSDMobileNetV2

    root = work / video.split(".")[0]
    root.mkdir(parents=True, exist_ok=True)
    if not (root / video).exists():
        shutil.copyfile(sample_video(video), root / video)
    run_models(Datasource(root), detector=SSDMobileNetV2(), task="ssd")
    return root


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="folder for the clips' datasources (reused)")
    parser.add_argument("--strips", type=Path, help="draw every flagged frame here, one folder per flicker and clip")
    parser.add_argument("--write", type=Path, help="write the table as markdown here")
    args = parser.parse_args(argv)
    with open(AUDIT, newline="", encoding="utf-8") as f:
        audit = {(r["video"], int(r["frame"])): r["verdict"] for r in csv.DictReader(f)}
    flagged: dict[str, set] = {mode: set() for mode in MODES}
    for video in CLIPS:
        root = predicted(args.work, video)
        source = Datasource(root)
        task = read_predictions(source.lightly, "ssd", source.frames())
        frames, detections = predicted_part(task)
        detections = detections[detections.score > MIN_SCORE]
        for mode, (_, function) in MODES.items():
            result = function(detections, frames)
            flagged[mode] |= {(video, int(i)) for i in frames.frame_index[result.flagged]}
            if args.strips:
                from thresher.report.strip_png import write_strips

                write_strips(source, frames, detections, result.weak_labels, result.values, task.schema.names, args.strips / mode / video.split(".")[0], limit=len(frames))
    real = {key for key, verdict in audit.items() if verdict == "real miss"}
    lines = [
        f"Clips: {', '.join(CLIPS)}; the built-in SSD on every frame, all COCO classes, score > {MIN_SCORE}.",
        f"Verdicts: {AUDIT.relative_to(AUDIT.parents[2])} ({len(audit)} frames, {len(real)} real misses).",
        "",
        "| flicker | flagged frames | real misses | precision | real misses found (of all found by any) | not audited |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for mode, (title, _) in MODES.items():
        hits = flagged[mode] & real
        unknown = sorted(flagged[mode] - set(audit))
        share = len(hits) / len(flagged[mode]) if flagged[mode] else float("nan")
        lines.append(f"| {title} | {len(flagged[mode])} | {len(hits)} | {share:.0%} | {len(hits)} of {len(real)} | {len(unknown) or '—'} |")
    print("\n".join(lines))
    if args.write:
        args.write.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    np.set_printoptions(linewidth=120)
    sys.exit(main())
