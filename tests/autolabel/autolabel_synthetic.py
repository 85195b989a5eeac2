"""Small synthetic detection sets whose correct and false detections are known by construction."""

from __future__ import annotations

import numpy as np

from thresher import Detections


def boxes_at(x: np.ndarray, size: float = 40.0) -> np.ndarray:
    return np.stack([x, np.full_like(x, 10.0), x + size, np.full_like(x, 10.0 + size)], axis=1)


def labeled_set(n_frames: int = 60, seed: int = 0, n_classes: int = 3):
    """Truth: 3 boxes per frame, far apart. Predictions: each truth box found exactly (CD), plus
    one false box per frame away from every truth box (FD). Column "signal" is higher on FDs;
    "noise" is random. Returns predictions, truth, signal, noise."""
    rng = np.random.default_rng(seed)
    frame = np.repeat(np.arange(n_frames), 3)
    x = np.tile([0.0, 100.0, 200.0], n_frames)
    cls = rng.integers(0, n_classes, len(frame))
    truth = Detections(frame, boxes_at(x), np.ones(len(frame)), cls)
    fd_frame = np.arange(n_frames)
    frames = np.concatenate([frame, fd_frame])
    xyxy = np.concatenate([boxes_at(x), boxes_at(np.full(n_frames, 400.0))])
    classes = np.concatenate([cls, rng.integers(0, n_classes, n_frames)])
    is_fd = np.r_[np.zeros(len(frame), bool), np.ones(n_frames, bool)]
    score = np.where(is_fd, rng.uniform(0.55, 0.95, len(frames)), rng.uniform(0.6, 1.0, len(frames)))
    probs = rng.dirichlet(np.ones(n_classes), len(frames))
    predictions = Detections(frames, xyxy, score, classes, probs=probs)
    signal = is_fd + rng.normal(0, 0.35, len(frames))
    noise = rng.random(len(frames))
    return predictions, truth, signal, noise
