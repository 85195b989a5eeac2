"""A prediction task (labels) → a YOLO dataset Ultralytics trains from: `labels/`, `train.txt`, `data.yaml`.

One `labels/<sample name without extension>.txt` per sample of the task, one line per box,
`class cx cy w h` normalized to [0, 1] and centre-based (the inverse of `thresher.io.yolo`):
cx = (x0 + x1) / 2 / W, cy = (y0 + y1) / 2 / H, w = (x1 - x0) / W, h = (y1 - y0) / H, 6 decimals.
A sample with no box gets an empty file (labeled, nothing on it). YOLO classes are 0, 1, … in
the order of the schema's ids (`car` with id 3 alone is class 0).

`train.txt` lists `./images/<name>` for each sample of the task whose image is in the folder's
`images/` (a run folder's), one a line: only labeled images, so that the run's other images
(selected, never labeled) are not read as "no object". Ultralytics reads a line starting with
`./` relative to the list's folder, and finds an image's labels by replacing the last
`/images/` of its path with `/labels/` and the extension with `.txt`: `images/img/a.jpg` →
`labels/img/a.txt`, the file written here. A sample for which Ultralytics would derive another
path (a name with a folder `images/` in it, or with `./`) or whose line it would not read back
(spaces at either end) is left out of the list, as is one without an image.
`data.yaml` holds `path` (the folder, absolute: Ultralytics reads a relative `path` below its own
datasets folder), `train: train.txt`, `val: train.txt` (no split: make one before judging a
model), `nc` and `names` in class order.

Example: a 640x480 image `img/a.jpg` with a car [240, 120, 400, 360] (x0, y0, x1, y1) →
`labels/img/a.txt` holding `0 0.500000 0.500000 0.250000 0.500000` and the line
`./images/img/a.jpg` of `train.txt`.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from thresher.boxes import xyxy_to_cxcywh
from thresher.io.lightly_predictions import PredictionTask

LABELS_DIR = "labels"
IMAGES_DIR = "images"  # a run's images/ (thresher.run.images)
DATA_YAML = "data.yaml"
TRAIN_LIST = "train.txt"


@dataclass(frozen=True)
class YoloDataset:
    """The files of a YOLO dataset ({relative path: text}) and the samples `train.txt` leaves out."""

    files: dict[str, str]
    listed: list[str]  # names of the samples train.txt lists
    no_image: list[str]  # samples without an image in images/
    unpaired: list[str]  # samples whose labels Ultralytics would look for elsewhere


def yolo_files(task: PredictionTask) -> dict[str, str]:
    """{relative path: text}: `labels/<stem>.txt` of every sample of `task`."""
    frames, dets = task.frames, task.detections.sorted_by_frame()
    classes = np.searchsorted(task.schema.ids, dets.class_id)
    width, height = frames.width[dets.frame].astype(float), frames.height[dets.frame].astype(float)
    rows = xyxy_to_cxcywh(dets.xyxy) / np.column_stack([width, height, width, height])
    lines: dict[int, list[str]] = {}
    for frame, cls, values in zip(dets.frame.tolist(), classes.tolist(), rows.tolist()):
        lines.setdefault(frame, []).append(f"{cls} " + " ".join(f"{v:.6f}" for v in values))
    return {label_path(name): "".join(f"{line}\n" for line in lines.get(row, [])) for row, name in enumerate(frames.file_name.tolist())}


def yolo_dataset(task: PredictionTask, folder: Path) -> YoloDataset:
    """The labels of `task`, `train.txt` of its samples with an image in `folder/images/`, and
    `data.yaml` naming `folder` (module docstring)."""
    return yolo_layout(yolo_files(task), task.frames.file_name.tolist(), [c.name for c in task.schema.categories], folder)


def yolo_layout(labels: dict[str, str], samples: list[str], names: list[str], folder: Path) -> YoloDataset:
    """`labels` ({`labels/<stem>.txt`: text}) with `train.txt` of the `samples` (Lightly names, in
    order) that have an image in `folder/images/`, and `data.yaml` naming `folder` and the
    class `names` in class order (module docstring)."""
    files = dict(labels)
    listed, no_image, unpaired = [], [], []
    for name in samples:
        if not (folder / IMAGES_DIR / name).is_file():
            no_image.append(name)
        elif not pairs_in_ultralytics(name):
            unpaired.append(name)
        else:
            listed.append(name)
    files[TRAIN_LIST] = "".join(f"./{IMAGES_DIR}/{name}\n" for name in listed)
    layout = {"path": os.path.abspath(folder), "train": TRAIN_LIST, "val": TRAIN_LIST, "nc": len(names), "names": names}
    files[DATA_YAML] = yaml.safe_dump(layout, sort_keys=False, allow_unicode=True)
    return YoloDataset(files, listed, no_image, unpaired)


def label_path(name: str) -> str:
    """`labels/<name without extension>.txt`: where the labels of the sample `name` go."""
    return posixpath.join(LABELS_DIR, posixpath.splitext(name)[0] + ".txt")


def pairs_in_ultralytics(name: str) -> bool:
    """Whether Ultralytics reads the line `./images/<name>` of train.txt back as that image and
    looks for its labels at `label_path(name)` (module docstring).

    >>> pairs_in_ultralytics("img/a.jpg"), pairs_in_ultralytics("images/a.jpg"), pairs_in_ultralytics("v1./a.jpg")
    (True, False, False)
    """
    line = f"./{IMAGES_DIR}/{name}"
    if "./" in line[2:] or line != line.strip() or len(line.splitlines()) != 1:
        return False
    derived = f"/{LABELS_DIR}/".join(f"/{line[2:]}".rsplit(f"/{IMAGES_DIR}/", 1)).rsplit(".", 1)[0] + ".txt"
    return derived == f"/{label_path(name)}"
