"""Benchmark: thresher's vectorized flicker against seed 000's per-frame algorithm.

The baseline follows the seed's `compute_flickering_assertion` step by step, one frame at a
time with torch int32 tensors (torchvision's `box_iou` written out in torch, since
torchvision is not available), with the seed's counter defect fixed (reset per frame) so
that the outputs are comparable. Both run in this process on the same synthetic traffic
(20-40 moving boxes per frame, 5-10 % dropouts); the outputs must be identical.

    python bench/flicker.py                      # 100,000 frames, writes nothing
    python bench/flicker.py --frames 10000 --repeats 5 --write bench/results/flicker.md
    python bench/flicker.py --no-baseline --write bench/results/flicker_default.md   # thresher only

torch is only needed for the baseline (pip install torch); without it the script says so and
stops, unless --no-baseline.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time

import numpy as np

from thresher.assertions import compute_flickering_assertion, flicker, seed_flicker
from thresher.assertions._predictions import to_predictions_list
from thresher.assertions._synthetic import synthetic_traffic


def box_iou_torch(boxes1, boxes2):
    """torchvision.ops.box_iou, as its source computes it (int32 stays int32)."""
    import torch

    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    lt = torch.max(boxes1[:, None, :2], boxes2[:, :2])
    rb = torch.min(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    union = area1[:, None] + area2 - inter
    return inter / union


def bbox_converter(bbox):
    x, y, w, h = bbox
    return [x, y, x + w, y + h]


def seed_flicker_torch(predictions_list, iou_thresh_tracking=0.9, iou_thresh_assertion=0.6):
    """Seed 000's compute_flickering_assertion, line for line, counter reset per frame."""
    import torch

    flickering_assertions = [False for _ in predictions_list]
    imputed_bounding_boxes = [[] for _ in predictions_list]
    for i in range(1, len(predictions_list) - 1):
        assertions = 0  # the seed resets this only when some pair matches (defect a)
        if predictions_list[i - 1]["predictions"] and predictions_list[i + 1]["predictions"]:
            prev_bboxes = [bbox_converter(x["bbox"]) for x in predictions_list[i - 1]["predictions"]]
            next_bboxes = [bbox_converter(x["bbox"]) for x in predictions_list[i + 1]["predictions"]]
            curr_bboxes = [bbox_converter(x["bbox"]) for x in predictions_list[i]["predictions"]]
            prev_bboxes = torch.tensor(prev_bboxes, dtype=torch.int)
            next_bboxes = torch.tensor(next_bboxes, dtype=torch.int)
            curr_bboxes = torch.tensor(curr_bboxes, dtype=torch.int)
            iou_prev_next = box_iou_torch(prev_bboxes, next_bboxes)
            if torch.any(iou_prev_next > iou_thresh_tracking):
                for prev_index, next_index in torch.nonzero(iou_prev_next > iou_thresh_tracking):
                    matching_boxes = torch.cat((prev_bboxes[prev_index].unsqueeze(0), next_bboxes[next_index].unsqueeze(0)))
                    matching_boxes_mean = torch.mean(matching_boxes, dim=0, dtype=torch.float32).unsqueeze(0).int()
                    if len(curr_bboxes) == 0:
                        assertions += 1
                        imputed_bounding_boxes[i].append(matching_boxes_mean.tolist())
                        continue
                    iou_curr_mean = box_iou_torch(curr_bboxes, matching_boxes_mean)
                    if torch.all(iou_curr_mean < iou_thresh_assertion):
                        assertions += 1
                        imputed_bounding_boxes[i].append(matching_boxes_mean.tolist())
        if assertions > 0:
            flickering_assertions[i] = True
    return flickering_assertions, imputed_bounding_boxes


def timed(function, *args, **kwargs):
    """(result, (wall seconds, CPU seconds of this process)); both sides run on one thread."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, (time.perf_counter() - wall, time.process_time() - cpu)


def median_time(repeats, function, *args, **kwargs):
    times = [timed(function, *args, **kwargs)[1] for _ in range(repeats)]
    return median_pair(times)


def median_pair(times):
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def fmt(pair):
    return f"{pair[0]:.3f} / {pair[1]:.3f} s"


def ratio(baseline, ours):
    return f"{baseline[0] / ours[0]:.0f}x / {baseline[1] / ours[1]:.0f}x"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5, help="runs of each thresher variant (median)")
    parser.add_argument("--baseline-repeats", type=int, default=1, help="runs of the torch baseline (median)")
    parser.add_argument("--thresholds", default="0.9,0.6;0.8,0.6", help="tracking,assertion pairs separated by ;")
    parser.add_argument("--write", help="write the results as markdown to this file")
    parser.add_argument("--no-baseline", action="store_true", help="time thresher's flickers only (no torch needed)")
    args = parser.parse_args(argv)
    if args.no_baseline:
        return thresher_only(args)
    try:
        import torch
    except ImportError:
        print("bench/flicker.py needs torch for the seed baseline: pip install torch (skipped)")
        return 0
    torch.set_num_threads(1)
    detections, frames = synthetic_traffic(args.frames, seed=0)
    predictions_list = to_predictions_list(detections, frames)
    counts = detections.counts_per_frame(len(frames))
    lines = [
        f"frames: {len(frames):,}, boxes: {len(detections):,} ({counts.min()}-{counts.max()} per frame, "
        f"mean {counts.mean():.1f}), torch {torch.__version__}, numpy {np.__version__}, "
        f"python {platform.python_version()}, 2 cores",
        "",
        "Times are medians, wall / CPU seconds; ratios are baseline over thresher (wall / CPU).",
        "",
        "| thresholds (tracking, assertion) | flagged frames | imputed boxes | seed per-frame (torch) | "
        "thresher `seed_flicker` on Detections | ratio | `compute_flickering_assertion` on the list | ratio | identical |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for pair in args.thresholds.split(";"):
        track, assertion = (float(v) for v in pair.split(","))
        expected, first = timed(seed_flicker_torch, predictions_list, track, assertion)
        more = [timed(seed_flicker_torch, predictions_list, track, assertion)[1] for _ in range(args.baseline_repeats - 1)]
        baseline = median_pair([first, *more])
        got = compute_flickering_assertion(predictions_list, track, assertion)
        identical = got == expected
        result = seed_flicker(detections, frames, track, assertion)
        identical &= result.flagged.tolist() == expected[0]
        columnar = median_time(args.repeats, seed_flicker, detections, frames, track, assertion)
        wrapper = median_time(args.repeats, compute_flickering_assertion, predictions_list, track, assertion)
        lines.append(
            f"| {track}, {assertion} | {sum(expected[0]):,} | {sum(map(len, expected[1])):,} | {fmt(baseline)} | "
            f"{fmt(columnar)} | {ratio(baseline, columnar)} | {fmt(wrapper)} | {ratio(baseline, wrapper)} | {identical} |"
        )
        print(lines[-1], flush=True)
    better = median_time(args.repeats, flicker, detections, frames)
    better3 = median_time(args.repeats, flicker, detections, frames, max_gap=3)
    lines += [
        "",
        f"thresher `flicker` (Hungarian, class-aware), same data: max_gap=1 {fmt(better)}, max_gap=3 {fmt(better3)}.",
    ]
    print("\n".join(lines[:1] + lines[-2:]))
    if args.write:
        with open(args.write, "w") as f:
            f.write("\n".join(lines) + "\n")
    return 0


def thresher_only(args) -> int:
    """Wall / CPU time of thresher's flickers on the synthetic traffic (median of --repeats)."""
    detections, frames = synthetic_traffic(args.frames, seed=0)
    counts = detections.counts_per_frame(len(frames))
    variants = [
        ("`flicker()` (defaults: coverage presence, duplicates and boxes over 60 % of the frame carry no track)", {}),
        ("`flicker(max_gap=3)`", {"max_gap": 3}),
        (
            "`flicker(class_aware=True, presence='iou', present_overlap=0.5, duplicate_coverage=0, max_box_share=1)` (the flicker before issue 16)",
            {"class_aware": True, "presence": "iou", "present_overlap": 0.5, "duplicate_coverage": 0, "max_box_share": 1.0},
        ),
    ]
    lines = [
        f"frames: {len(frames):,}, boxes: {len(detections):,} ({counts.min()}-{counts.max()} per frame, mean {counts.mean():.1f}), "
        f"numpy {np.__version__}, python {platform.python_version()}, 2 cores; median of {args.repeats} runs, wall / CPU seconds",
        "",
        "| variant | flagged frames | time |",
        "| --- | --- | --- |",
    ]
    for title, options in variants:
        flagged = int(flicker(detections, frames, **options).flagged.sum())
        lines.append(f"| {title} | {flagged:,} | {fmt(median_time(args.repeats, flicker, detections, frames, **options))} |")
        print(lines[-1], flush=True)
    seed = median_time(args.repeats, seed_flicker, detections, frames, 0.9, 0.6)
    lines.append(f"| `seed_flicker` (0.9, 0.6) | {int(seed_flicker(detections, frames, 0.9, 0.6).flagged.sum()):,} | {fmt(seed)} |")
    print(lines[-1])
    if args.write:
        with open(args.write, "w") as f:
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
