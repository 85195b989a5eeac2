"""What routing box math through `thresher.boxes` costs: IoU, areas and conversions, old against new.

    python bench/boxes.py                       # 1,000,000 boxes
    python bench/boxes.py --boxes 100000 --repeats 9

Baseline: `thresher/boxes.py` and the inline code it replaced, as they were at `--baseline`
(default fb8e411, main before issue 18): the old `boxes` module loaded from git into
this process, and the inline forms of SSD decoding, the YOLO export's centre boxes, TTA's
flip and the assertions' box widths copied here from that commit. thresher: today's
`thresher.boxes`. Interleaved on the same arrays; medians of `--repeats` runs, the ratio
thresher / baseline and the load average. Boxes: corners from a fixed random generator,
640 x 480 pixels (the cost does not depend on the values).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def old_boxes(commit: str) -> types.ModuleType:
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:src/thresher/boxes.py"], capture_output=True, text=True, check=True).stdout
    module = types.ModuleType("baseline_boxes")
    exec(compile(source, f"<{commit}:boxes.py>", "exec"), module.__dict__)  # noqa: S102 - the project's own code at an older commit
    return module


def old_ssd_decode(encodings, priors, variances):
    """models/ssd.py's decode_boxes at fb8e411 (inline centre-size math)."""
    size = priors[:, 2:] - priors[:, :2]
    centre = priors[:, :2] + size * 0.5
    new_centre = variances[:, :2] * encodings[..., :2] * size + centre
    new_size = np.exp(variances[:, 2:] * encodings[..., 2:]) * size
    return np.concatenate([new_centre - new_size * 0.5, new_centre + new_size * 0.5], axis=-1)


def old_yolo_rows(xyxy, width, height):
    """io/yolo_export.py's normalized centre boxes at fb8e411."""
    x0, y0, x1, y1 = xyxy.T
    return np.column_stack([(x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height])


def old_flip(xyxy, width):
    """models/tta.py's _unflip at fb8e411."""
    return np.stack([width - xyxy[:, 2], xyxy[:, 1], width - xyxy[:, 0], xyxy[:, 3]], axis=1)


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--boxes", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--baseline", default="fb8e411")
    args = parser.parse_args()
    from thresher import boxes
    from thresher.models.ssd import decode_boxes

    old = old_boxes(args.baseline)
    n = args.boxes
    rng = np.random.default_rng(0)

    def corners(count):
        start = rng.uniform(0, 600, (count, 2))
        return np.concatenate([start, start + rng.uniform(1, 80, (count, 2))], axis=1)

    a, b = corners(n), corners(n)
    m = int(np.sqrt(n))  # an m x m IoU matrix holds about n pairs
    width, height = np.full(n, 640.0), np.full(n, 480.0)
    anchors = max(1, n // 8)
    encodings = rng.standard_normal((8, anchors, 4)).astype(np.float32)
    priors = (corners(anchors) / 700).astype(np.float32)
    variances = np.tile(np.array([[0.1, 0.1, 0.2, 0.2]], np.float32), (anchors, 1))
    cases = {
        "iou, n pairs": (lambda: old.iou(a, b), lambda: boxes.iou(a, b)),
        "iou_matrix, m x m": (lambda: old.iou_matrix(a[:m], b[:m]), lambda: boxes.iou_matrix(a[:m], b[:m])),
        "area": (lambda: old.area(a), lambda: boxes.area(a)),
        "widths (assertions)": (lambda: a[:, 2] - a[:, 0], lambda: boxes.widths(a)),
        "SSD decode, 8 images": (lambda: old_ssd_decode(encodings, priors, variances), lambda: decode_boxes(encodings, priors, variances)),
        "YOLO export rows": (lambda: old_yolo_rows(a, width, height), lambda: boxes.xyxy_to_cxcywh(a) / np.column_stack([width, height, width, height])),
        "TTA flip": (lambda: old_flip(a, width), lambda: boxes.flip_x(a, width)),
    }
    print(f"{n:,} boxes, median of {args.repeats}; load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'operation':<22} {'baseline s':>10} {'thresher s':>10} {'ratio':>6}")
    for label, (before_fn, after_fn) in cases.items():
        np.testing.assert_allclose(after_fn(), before_fn(), rtol=1e-6, atol=1e-9)  # the same numbers
        before, after = [], []
        for _ in range(args.repeats):  # interleaved
            before.append(timed(before_fn))
            after.append(timed(after_fn))
        b_s, a_s = statistics.median(before), statistics.median(after)
        print(f"{label:<22} {b_s:>10.4f} {a_s:>10.4f} {a_s / b_s:>6.2f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
