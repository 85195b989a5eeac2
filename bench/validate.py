"""Benchmark: `thresher validate` on 10,000 video frames and 200,000 boxes (issue 2).

Builds a datasource of 40 copies of the real bikes.mp4 (250 frames each) with one Lightly
prediction file per frame of 20 boxes each (with 3-class probability vectors), then times, in
one process: the floor (reading and parsing with orjson every prediction file, nothing else) and
`validate` with full checks (every video decoded to its last frame) and with --quick.
Run: .venv/bin/python bench/validate.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

from thresher.io.datasource import Datasource
from thresher.samples import sample_video
from thresher.validate import validate

VIDEOS, FRAMES, BOXES = 40, 250, 20


def build(root: Path) -> None:
    rng = np.random.default_rng(0)
    task = root / ".lightly/predictions/det"
    task.mkdir(parents=True)
    (root / ".lightly/predictions/tasks.json").write_text('["det"]')
    schema = {"task_type": "object-detection", "categories": [{"id": i, "name": n} for i, n in enumerate(["person", "bicycle", "car"])]}
    (task / "schema.json").write_text(json.dumps(schema))
    for v in range(VIDEOS):
        shutil.copyfile(sample_video("bikes.mp4"), root / f"cam{v:02d}.mp4")
        for i in range(FRAMES):
            xy = rng.uniform(0, [500, 150], (BOXES, 2)).round(2)
            wh = rng.uniform(1, 100, (BOXES, 2)).round(2)
            p = rng.dirichlet(np.ones(3), BOXES)
            preds = [
                {"category_id": int(c), "bbox": [*a.tolist(), *b.tolist()], "score": float(s), "probabilities": q.tolist()}
                for a, b, c, s, q in zip(xy, wh, p.argmax(1), rng.uniform(0, 1, BOXES), p)
            ]
            name = f"cam{v:02d}-{i:03d}-mp4"
            (task / f"{name}.json").write_text(json.dumps({"file_name": f"{name}.png", "predictions": preds}))


def parse_floor(root: Path) -> None:
    for path in (root / ".lightly/predictions/det").iterdir():
        orjson.loads(path.read_bytes())


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root)
        source = Datasource(root)
        report = validate(source)
        assert report.ok and report.frames == VIDEOS * FRAMES and report.tasks[0].boxes == VIDEOS * FRAMES * BOXES
        floor = [timed(lambda: parse_floor(root)) for _ in range(runs)]
        full = [timed(lambda: validate(source)) for _ in range(runs)]
        quick = [timed(lambda: validate(source, decode=False)) for _ in range(runs)]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{VIDEOS * FRAMES} frames, {VIDEOS * FRAMES * BOXES} boxes; median of {runs} runs")
    f, v, q = statistics.median(floor), statistics.median(full), statistics.median(quick)
    print(f"floor (read + orjson.loads of every prediction file): {f:.2f} s")
    print(f"validate, full (videos decoded to their last frame): {v:.2f} s  ({v / f:.1f}x the floor)")
    print(f"validate --quick (headers only):                     {q:.2f} s  ({q / f:.1f}x the floor)")
    print("target: < 10 s for the full validation:", "met" if v < 10 else "NOT met")


if __name__ == "__main__":
    main()
