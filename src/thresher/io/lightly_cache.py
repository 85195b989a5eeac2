"""A columnar cache of prediction tasks: parse the per-frame JSON once, load arrays after.

The key is a digest of the task's files (names, sizes, modification times) and of the frames
they are matched to; any change to either misses the cache. Only tasks read without a single
problem are cached, so reading from the cache never hides a problem the files would report.
Parsing 100,000 Lightly files takes seconds; loading the same boxes from the cache takes
milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

import numpy as np

from thresher.detections import Detections
from thresher.frames import Frames
from thresher.io.lightly_schema import Category, PredictionSchema
from thresher.io.storage import Location

_FRAME_COLUMNS = ("id", "kind", "file_name", "video", "frame_index", "parent_id", "width", "height")


def cache_key(lightly: Location, task_folder: str, frames: Frames | None) -> str:
    digest = hashlib.sha256(task_folder.encode() + b"\0format 2")  # 2: the per-box uncertainty columns
    digest.update(json.dumps(lightly.file_stats(task_folder)).encode())
    if frames is None:
        digest.update(b"no frames")
    else:
        for name in _FRAME_COLUMNS:
            digest.update(np.ascontiguousarray(getattr(frames, name)).tobytes())
    return digest.hexdigest()[:32]


def load(folder: Path, key: str):
    """(schema, frames, detections, invalid, missing) from the cache, or None."""
    path = folder / f"{key}.npz"
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        schema = PredictionSchema(meta["task_type"], tuple(Category(i, n) for i, n in meta["categories"]))
        frames = Frames.build(**{c: data[f"frames_{c}"] for c in _FRAME_COLUMNS})
        probs = data["probs"] if meta["has_probs"] else None
        extras = {key: data[key] for key in meta.get("uncertainty", [])}
        detections = Detections(frame=data["frame"], xyxy=data["xyxy"], score=data["score"], class_id=data["class_id"], probs=probs, **extras)
        return schema, frames, detections, tuple(meta["invalid"]), tuple(meta["missing"])


def store(folder: Path, key: str, schema: PredictionSchema, frames: Frames, detections: Detections, invalid, missing) -> None:
    """Save a task's arrays (written whole: temporary name, then rename)."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "task_type": schema.task_type,
        "categories": [[c.id, c.name] for c in schema.categories],
        "has_probs": detections.probs is not None,
        "uncertainty": [key for key in ("box_std", "box_spread", "class_spread") if getattr(detections, key) is not None],
        "invalid": list(invalid),
        "missing": list(missing),
    }
    arrays = {f"frames_{c}": getattr(frames, c) for c in _FRAME_COLUMNS}
    arrays.update(frame=detections.frame, xyxy=detections.xyxy, score=detections.score, class_id=detections.class_id)
    if detections.probs is not None:
        arrays["probs"] = detections.probs
    arrays.update({key: getattr(detections, key) for key in meta["uncertainty"]})
    tmp = folder / f".{key}.{uuid.uuid4().hex[:8]}.npz"
    np.savez(tmp, meta=np.array(json.dumps(meta)), **arrays)
    os.replace(tmp, folder / f"{key}.npz")
