"""Benchmark: `thresher predict` / `embed` / both on bikes.mp4, end to end, vs the bare forward (issue 3).

In one process, on the frames of the real bikes.mp4 (all 250, or every N-th with --every N):
- bare: frames decoded beforehand (not timed), then blobFromImage + forward of the same
  OpenCV net to its own `detection_out`, one frame at a time (the model alone);
- thresher, end to end through `run_models`: enumerating the datasource, decoding the video,
  the forward, decoding the raw heads + NMS, writing one Lightly file per frame and/or the
  embedding shard.
Prints frames/s and thresher's overhead over the bare forward, in wall-clock and in CPU time
(the steadier measure on a shared machine). Run: .venv/bin/python bench/predict.py [--every 1] [--runs 3]
With --every N > 1, thresher still decodes the frames in between (that is part of its cost).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import av
import cv2

from thresher.embedding_store import EmbeddingStore
from thresher.infer import run_models
from thresher.io.datasource import Datasource
from thresher.models import SSDMobileNetV2
from thresher.samples import sample_video


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    model = SSDMobileNetV2()
    with av.open(str(sample_video("bikes.mp4"))) as container:
        frames = [f.to_ndarray(format="rgb24") for i, f in enumerate(container.decode(video=0)) if i % args.every == 0]

    def bare() -> None:
        for frame in frames:
            model.net.setInput(cv2.dnn.blobFromImage(frame, 1.0, (300, 300), (0, 0, 0), False, False))
            model.net.forward()

    def thresher(kind: str):
        def run() -> None:
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                shutil.copyfile(sample_video("bikes.mp4"), root / "bikes.mp4")
                source = Datasource(root)
                store = EmbeddingStore(root / "emb")
                detector = model if kind in ("predict", "both") else None
                embedder = model if kind in ("embed", "both") else None
                run_models(
                    source,
                    detector=detector,
                    task="t" if detector else None,
                    embedder=embedder,
                    store=store if embedder else None,
                    every=args.every,
                )

        return run

    model.predict(frames[:1])  # load the net outside the timings
    n = len(frames)
    results = {"bare forward": [], "predict": [], "embed": [], "predict + embed": []}
    for _ in range(args.runs):  # interleaved, so load changes hit every variant alike
        results["bare forward"].append((*timed(bare), len(frames)))
        results["predict"].append((*timed(thresher("predict")), n))
        results["embed"].append((*timed(thresher("embed")), n))
        results["predict + embed"].append((*timed(thresher("both")), n))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, OpenCV {cv2.__version__}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}; median of {args.runs} runs")
    base_wall = statistics.median(w / k for w, _, k in results["bare forward"])
    base_cpu = statistics.median(c / k for _, c, k in results["bare forward"])
    for name, runs in results.items():
        wall = statistics.median(w / k for w, _, k in runs)
        cpu = statistics.median(c / k for _, c, k in runs)
        print(f"{name:16s} {1 / wall:6.1f} frames/s wall ({100 * (wall / base_wall - 1):+5.1f} %)   {1 / cpu:6.1f} frames/s CPU ({100 * (cpu / base_cpu - 1):+5.1f} %)")


if __name__ == "__main__":
    main()
