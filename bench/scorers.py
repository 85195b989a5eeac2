"""Benchmark: every Lightly detection score, thresher's columnar scorers vs a per-image loop.

1,000,000 boxes with 91-class probability vectors over 100,000 frames (5 % of them empty).
The baseline is written the way lightly 1.4.6's scorers run (lightly itself is not imported):
one output object per image holding box objects, per-image numpy for the classification
scores (a classification scorer per image, normalized with the scores of a one-hot and a
uniform vector computed per image), a dict per image for the object frequency and `np.mean`
per image for the objectness. As in lightly, an output object holds Python lists (lightly's
`ObjectDetectionOutput` needs them) and the scorer turns each image's list into a numpy array;
a second, more generous baseline gets those per-image arrays made beforehand. Every side gets
its inputs ready-made (the output objects, the `Detections` table) and is timed on scoring
alone, in the same process; all must give the same numbers bit for bit.

    python bench/scorers.py                 # full size, median of 5 (thresher) / 3 (baseline)
    python bench/scorers.py --boxes 100000  # smaller
    python bench/scorers.py --write         # also write bench/results/scorers.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from thresher import Detections
from thresher.scorers.detection import SCORE_NAMES, detection_scores

N_CLASSES = 91


class Box:
    def __init__(self, x0, y0, x1, y1):
        self.x0, self.y0, self.x1, self.y1 = x0, y0, x1, y1


class ImageOutput:
    """One image's detections, as lightly's ObjectDetectionOutput holds them."""

    def __init__(self, boxes, object_probabilities, class_probabilities):
        self.boxes = boxes
        self.object_probabilities = object_probabilities
        self.class_probabilities = class_probabilities  # a list of n lists of 91 floats
        self.scores = [o * max(c) for o, c in zip(object_probabilities, class_probabilities)]
        self.labels = [c.index(max(c)) for c in class_probabilities]
        self.class_array = None  # the generous baseline's per-image numpy array, made beforehand


def _raw_classification(probs):
    top = np.max(probs, axis=1)
    ordered = np.partition(probs, -2, axis=1)
    logs = np.log2(probs, out=np.zeros_like(probs), where=probs > 0)
    return {
        "uncertainty_least_confidence": 1 - top,
        "uncertainty_margin": 1 - (ordered[:, -1] - ordered[:, -2]),
        "uncertainty_entropy": -1 * np.sum(probs * logs, axis=1),
    }


def _classification_scores(probs):
    """A per-image classification scorer: raw scores, NaN -> 0, mapped by np.interp to [0, 1]."""
    scores = {k: np.nan_to_num(v) for k, v in _raw_classification(probs).items()}
    one_hot = np.zeros((1, probs.shape[1]))
    one_hot[0, 0] = 1
    low = {k: np.nan_to_num(v) for k, v in _raw_classification(one_hot).items()}
    high = {k: np.nan_to_num(v) for k, v in _raw_classification(np.ones_like(one_hot) / probs.shape[1]).items()}
    return {k: np.interp(v, [float(low[k][0]), float(high[k][0])], [0, 1]) for k, v in scores.items()}


def baseline_scores(outputs, frequency_penalty=0.25, min_score=0.9):
    """Every score, image by image, as lightly's ScorerObjectDetection computes them."""
    n_objects = []
    for output in outputs:
        per_class = {}
        for label in output.labels:
            per_class[label] = per_class[label] + frequency_penalty if label in per_class else 1
        total = 0
        for value in per_class.values():
            total += value
        n_objects.append(total)
    low, high = min(n_objects), max(n_objects)
    result = {
        "object_frequency": np.nan_to_num(np.asarray([np.interp(x, (low, high), (min_score, 1.0)) for x in n_objects])),
        "objectness_least_confidence": np.nan_to_num(np.asarray([1.0 - np.mean(o.scores) if len(o.scores) else 0.0 for o in outputs])),
    }
    per_image = [_classification_scores(np.array(o.class_probabilities) if o.class_array is None else o.class_array) if len(o.scores) else None for o in outputs]
    for name in ("uncertainty_least_confidence", "uncertainty_margin", "uncertainty_entropy"):
        result[name] = np.array([float(np.max(s[name])) if s is not None else 0.0 for s in per_image])
    return result


def make_data(n_boxes, n_frames, seed=0):
    rng = np.random.default_rng(seed)
    frame = np.sort(rng.integers(0, int(n_frames * 0.95), n_boxes))  # the last 5 % of frames stay empty
    probs = rng.random((n_boxes, N_CLASSES)) ** 4
    probs /= probs.sum(axis=1, keepdims=True)
    objectness = rng.random(n_boxes)
    corner = rng.uniform(0, 600, (n_boxes, 2))
    xyxy = np.hstack([corner, corner + rng.uniform(5, 100, (n_boxes, 2))])
    return frame, probs, objectness, xyxy


def build_outputs(frame, probs, objectness, xyxy, n_frames):
    counts = np.bincount(frame, minlength=n_frames)
    starts = np.cumsum(counts) - counts
    outputs = []
    for f in range(n_frames):
        rows = slice(starts[f], starts[f] + counts[f])
        boxes = [Box(*b) for b in (xyxy[rows] / 700).tolist()]
        outputs.append(ImageOutput(boxes, objectness[rows].tolist(), probs[rows].tolist()))
    return outputs


def with_arrays(outputs):
    """The same outputs, each holding its class probabilities as a numpy array already."""
    arrays = []
    for output in outputs:
        copy = ImageOutput.__new__(ImageOutput)
        copy.__dict__.update(output.__dict__)
        copy.class_array = np.array(output.class_probabilities)
        arrays.append(copy)
    return arrays


def box_scores(outputs, n_boxes):
    """The per-box scores the output objects computed (objectness x max class probability)."""
    return np.fromiter((s for o in outputs for s in o.scores), dtype=np.float64, count=n_boxes)


def timed(function, repeats):
    """Median wall-clock and median CPU seconds (this process, all threads) over the runs.

    On a shared host the wall clock includes the time other processes held the cores; the CPU
    time does not, so it is the steadier figure of the two.
    """
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), walls, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, default=1_000_000)
    parser.add_argument("--frames", type=int, default=None, help="default: boxes / 10")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline-repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="write bench/results/scorers.md")
    args = parser.parse_args()
    n_frames = args.frames or args.boxes // 10

    frame, probs, objectness, xyxy = make_data(args.boxes, n_frames)
    outputs = build_outputs(frame, probs, objectness, xyxy, n_frames)
    score, class_id = box_scores(outputs, len(frame)), probs.argmax(axis=1)
    _, _, build_all, detections = timed(lambda: Detections(frame=frame, xyxy=xyxy, score=score, class_id=class_id, probs=probs), 1)
    ids = np.array([f"frame-{i:06d}.png" for i in range(n_frames)])

    load_before = os.getloadavg()[0]
    rows = {
        "thresher `detection_scores` (columnar, one thread, the default)": timed(lambda: detection_scores(detections, ids), args.repeats),
        "thresher `detection_scores`, two threads": timed(lambda: detection_scores(detections, ids, threads=2), args.repeats),
        "per-image loop written like lightly 1.4.6": timed(lambda: baseline_scores(outputs), args.baseline_repeats),
    }
    prepared = with_arrays(outputs)
    rows["the same loop, per-image numpy arrays made beforehand"] = timed(lambda: baseline_scores(prepared), args.baseline_repeats)
    results = [r[3] for r in rows.values()]
    identical = all(results[0][n].tobytes() == np.asarray(r[n]).tobytes() for n in SCORE_NAMES for r in results)
    (one_wall, one_cpu, *_), (two_wall, _, *_), (base_wall, base_cpu, *_), (gen_wall, gen_cpu, *_) = rows.values()

    lines = [
        f"## bench/scorers.py: all Lightly detection scores, {args.boxes:,} boxes x {N_CLASSES} classes, {n_frames:,} frames",
        "",
        f"Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, numpy {np.__version__}; medians of {args.repeats} "
        f"(thresher) and {args.baseline_repeats} (baseline) runs in one process; load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (a shared host: the wall clock counts "
        "the time other processes held the cores, the CPU time does not).",
        "",
        "| | wall s (median) | CPU s (median) | wall s, every run |",
        "| --- | ---: | ---: | --- |",
        *(f"| {name} | {wall:.3f} | {cpu:.3f} | {', '.join(f'{t:.3f}' for t in walls)} |" for name, (wall, cpu, walls, _) in rows.items()),
        f"| (building and validating the `Detections` table, once) | {build_all[0]:.3f} | | |",
        "",
        f"Speed-up (thresher's default, one thread), wall clock: **{base_wall / one_wall:.1f}x** "
        f"({gen_wall / one_wall:.1f}x against the generous baseline; two threads: {base_wall / two_wall:.1f}x).",
        f"Speed-up, CPU time: **{base_cpu / one_cpu:.1f}x** ({gen_cpu / one_cpu:.1f}x against the generous baseline).",
        f"Results bit-identical to the baseline's: **{identical}**.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        out = Path(__file__).parent / "results" / "scorers.md"
        out.parent.mkdir(exist_ok=True)
        out.write_text(text + "\n")
    if not identical:
        raise SystemExit("results differ")


if __name__ == "__main__":
    main()
