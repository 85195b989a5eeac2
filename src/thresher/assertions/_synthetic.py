"""Synthetic traffic for tests and benchmarks: boxes moving linearly, with random dropouts.

Forty lanes of objects: twenty are always occupied (one object after another), twenty half
of the time, so a frame shows 20-40 objects before dropouts. Each object keeps its class,
moves at a constant speed with a pixel of jitter, and lives 20-120 frames. Each box is then
dropped with the video's dropout rate, the false negatives that flicker looks for.
"""

from __future__ import annotations

import numpy as np

from thresher.detections import Detections
from thresher.frames import Frames


def synthetic_traffic(
    n_frames: int,
    *,
    n_videos: int = 1,
    dropout: tuple[float, float] = (0.05, 0.10),
    n_classes: int = 3,
    size: tuple[int, int] = (1920, 1080),
    seed: int = 0,
) -> tuple[Detections, Frames]:
    """(Detections, Frames) of `n_frames` frames split into `n_videos` videos.

    Boxes have integer pixel corners; within a frame they come in random order. Each video
    draws its dropout rate uniformly from `dropout`.
    """
    rng = np.random.default_rng(seed)
    lanes = [_lane(rng, n_frames, always=lane < 20) for lane in range(40)]
    obj_start = np.concatenate([s for s, _ in lanes])
    obj_length = np.concatenate([n for _, n in lanes])
    n_obj = len(obj_start)
    width, height = size
    wh = rng.uniform(30, 300, (n_obj, 2))
    xy = rng.uniform(0, 1, (n_obj, 2)) * (np.array([width, height]) - wh)
    velocity = rng.uniform(-1, 1, (n_obj, 2)) * [4.0, 2.0]
    obj = np.repeat(np.arange(n_obj), obj_length)
    age = np.arange(len(obj)) - np.repeat(np.cumsum(obj_length) - obj_length, obj_length)
    frame = obj_start[obj] + age
    inside = frame < n_frames
    obj, age, frame = obj[inside], age[inside], frame[inside]
    top_left = xy[obj] + velocity[obj] * age[:, None] + rng.normal(0, 0.5, (len(obj), 2))
    xyxy = np.round(np.concatenate([top_left, top_left + wh[obj]], axis=1))
    xyxy = np.clip(xyxy, 0, [width, height, width, height])
    video = np.minimum(frame * n_videos // max(n_frames, 1), n_videos - 1)
    rate = rng.uniform(*dropout, n_videos)
    kept = rng.random(len(frame)) >= rate[video]
    order = np.lexsort((rng.random(len(frame)), frame))
    order = order[kept[order]]
    class_id = rng.integers(0, n_classes, n_obj)[obj]
    score = rng.uniform(0.3, 1.0, len(frame))
    detections = Detections(frame=frame[order], xyxy=xyxy[order], score=score[order], class_id=class_id[order])
    return detections, _frames(n_frames, n_videos)


def _lane(rng: np.random.Generator, n_frames: int, always: bool) -> tuple[np.ndarray, np.ndarray]:
    """Start frames and lengths of the objects of one lane (back to back, or with gaps)."""
    n = n_frames // 20 + 2
    length = rng.integers(20, 121, n)
    pause = np.zeros(n, np.int64) if always else rng.integers(20, 121, n)
    start = np.cumsum(length + pause) - length - pause - rng.integers(0, 120)
    keep = (start + length > 0) & (start < n_frames)
    start, length = start[keep], length[keep]
    return np.maximum(start, 0), length - (np.maximum(start, 0) - start)


def _frames(n_frames: int, n_videos: int) -> Frames:
    """Frames of `n_videos` videos named like Lightly frames, "<video>-<index>-mp4.png"."""
    t = np.arange(n_frames)
    video = np.minimum(t * n_videos // max(n_frames, 1), n_videos - 1)
    first = np.searchsorted(video, np.arange(n_videos))
    index = t - first[video]
    names = np.char.add("traffic", video.astype(str))
    ids = np.char.add(np.char.add(np.char.add(names, "-"), np.char.zfill(index.astype(str), 6)), "-mp4.png")
    return Frames.build(ids, kind="frame", video=np.char.add(names, ".mp4"), frame_index=index)
