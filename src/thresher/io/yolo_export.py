"""A prediction task (labels) → a YOLO dataset's `labels/` and `data.yaml`, as Ultralytics trains from.

One `labels/<sample name without extension>.txt` per sample of the task, one line per box,
`class cx cy w h` normalized to [0, 1] and centre-based (the inverse of `thresher.io.yolo`):
cx = (x0 + x1) / 2 / W, cy = (y0 + y1) / 2 / H, w = (x1 - x0) / W, h = (y1 - y0) / H, 6 decimals.
A sample with no box gets an empty file (labeled, nothing on it). YOLO classes are 0, 1, … in
the order of the schema's ids (`car` with id 3 alone is class 0); `data.yaml` lists the names in
that order. Ultralytics finds `labels/x.txt` for `images/x.png` of the same folder, so writing
into a run folder puts the labels beside its `images/`.

Example: a 640x480 image `img/a.jpg` with a car [240, 120, 400, 360] (x0, y0, x1, y1) →
`labels/img/a.txt` holding `0 0.500000 0.500000 0.250000 0.500000`.
"""

from __future__ import annotations

import posixpath

import numpy as np
import yaml

from thresher.boxes import xyxy_to_cxcywh
from thresher.io.lightly_predictions import PredictionTask

LABELS_DIR = "labels"
DATA_YAML = "data.yaml"


def yolo_files(task: PredictionTask) -> dict[str, str]:
    """{relative path: text}: `labels/<stem>.txt` of every sample of `task`, and `data.yaml`."""
    frames, dets = task.frames, task.detections.sorted_by_frame()
    classes = np.searchsorted(task.schema.ids, dets.class_id)
    width, height = frames.width[dets.frame].astype(float), frames.height[dets.frame].astype(float)
    rows = xyxy_to_cxcywh(dets.xyxy) / np.column_stack([width, height, width, height])
    lines: dict[int, list[str]] = {}
    for frame, cls, values in zip(dets.frame.tolist(), classes.tolist(), rows.tolist()):
        lines.setdefault(frame, []).append(f"{cls} " + " ".join(f"{v:.6f}" for v in values))
    files = {}
    for row, name in enumerate(frames.file_name.tolist()):
        text = "".join(f"{line}\n" for line in lines.get(row, []))
        files[posixpath.join(LABELS_DIR, posixpath.splitext(name)[0] + ".txt")] = text
    names = [c.name for c in task.schema.categories]
    files[DATA_YAML] = yaml.safe_dump({"nc": len(names), "names": names}, sort_keys=False, allow_unicode=True)
    return files
