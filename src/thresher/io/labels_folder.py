"""The labels folder `thresher convert labelstudio` writes, fresh or merged into an earlier one.

The folder holds `labels_coco.json` (COCO, `thresher.io.coco_export`), `labels/`, `train.txt` and
`data.yaml` (a YOLO dataset, `thresher.io.yolo_export`), over the samples of a converted task in
the datasource's order.

Merged (`--merge`) into a folder that holds an earlier conversion, the result is exactly the
folder that converting both exports at once would give, the later export winning per sample:

- the export's samples get its labels;
- a sample the export holds without an annotation (deleted, or skipped) loses its earlier labels;
- the folder's other samples keep theirs: their label files and their COCO image and boxes are
  copied as they are (only COCO ids are numbered again).

The earlier samples are those `labels_coco.json` lists; a folder with labels but without that
file cannot be merged into (which of its labels are whose is unknown).

Example: round 1 labeled a.jpg and b.jpg, round 2's export holds b.jpg (boxes changed) and c.jpg
→ the folder holds a.jpg (round 1's), b.jpg and c.jpg (round 2's).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thresher.errors import UsageError
from thresher.frames import Frames
from thresher.io.coco_export import coco_dataset
from thresher.io.lightly_predictions import PredictionTask
from thresher.io.yolo_export import DATA_YAML, LABELS_DIR, TRAIN_LIST, YoloDataset, label_path, yolo_files, yolo_layout

LABELS_COCO = "labels_coco.json"  # not coco.json: a run folder (--out) holds its pre-labels under that name
ENTRIES = [LABELS_COCO, DATA_YAML, TRAIN_LIST, LABELS_DIR]  # what the folder holds of ours
INTO_ANOTHER = "--out another folder, or --overwrite without --merge to replace them with this export's labels alone"


@dataclass(frozen=True)
class LabelsFolder:
    """The folder's files ({relative path: bytes}), its YOLO dataset and the earlier samples kept."""

    files: dict[str, bytes]
    dataset: YoloDataset
    kept: int = 0  # samples of the earlier folder kept as they were (merge)


def labels_folder(task: PredictionTask, folder: Path) -> LabelsFolder:
    """The files of a fresh folder holding the labels of `task`."""
    return _assembled(_coco(task), yolo_files(task), task.frames.file_name.tolist(), task, folder)


def merged_labels_folder(task: PredictionTask, folder: Path, frames: Frames, cleared: Sequence[str] = ()) -> LabelsFolder:
    """The files of `folder` with the labels of `task` merged in (module docstring).

    Args:
        frames: the datasource's samples, whose order the folder's samples take.
        cleared: samples the export holds without labels: removed from the folder.
    """
    earlier = _earlier_coco(folder)
    if earlier is None:
        return labels_folder(task, folder)
    coco = _coco(task)
    if earlier["categories"] != coco["categories"]:
        names = [c.get("name") if isinstance(c, dict) else c for c in earlier["categories"]]
        raise UsageError(f"{folder / LABELS_COCO}: expected the classes {list(task.schema.names.values())} of the export's labels, got {names}; {INTO_ANOTHER}")
    earlier_images = _images_by_name(earlier, folder)
    taken = set(task.frames.file_name.tolist()) | set(cleared)
    kept = [name for name in earlier_images if name not in taken]
    samples = _in_datasource_order([*task.frames.file_name.tolist(), *kept], frames, folder)
    labels = {**yolo_files(task), **{label_path(name): _label_text(folder, name) for name in kept}}
    images = {**earlier_images, **_images_by_name(coco, folder)}
    return _assembled(_numbered([images[name] for name in samples], coco["categories"]), labels, samples, task, folder, len(kept))


def _coco(task: PredictionTask) -> dict:
    return coco_dataset(task.frames, range(len(task.frames)), task.detections, task.schema.names)


def _assembled(coco: dict, labels: dict[str, str], samples: list[str], task: PredictionTask, folder: Path, kept: int = 0) -> LabelsFolder:
    dataset = yolo_layout(labels, samples, [c.name for c in task.schema.categories], folder)
    files = {LABELS_COCO: json.dumps(coco, indent=2).encode(), **{path: text.encode() for path, text in dataset.files.items()}}
    return LabelsFolder(files, dataset, kept)


def _earlier_coco(folder: Path) -> dict | None:
    """The folder's `labels_coco.json`, None when the folder holds none of our files."""
    path = folder / LABELS_COCO
    if not path.is_file():
        others = [name for name in ENTRIES[1:] if (folder / name).exists()]
        if others:
            raise UsageError(f"{path}: expected the list of the samples {folder} holds labels of (to merge into), got no file beside {', '.join(others)}; {INTO_ANOTHER}")
        return None
    try:
        coco = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: expected the COCO json of an earlier conversion, got malformed JSON ({exc}); {INTO_ANOTHER}") from exc
    if not isinstance(coco, dict) or not all(isinstance(coco.get(key), list) for key in ("images", "annotations", "categories")):
        raise UsageError(f"{path}: expected the COCO json of an earlier conversion (images, annotations, categories), got {type(coco).__name__}; {INTO_ANOTHER}")
    return coco


def _images_by_name(coco: dict, folder: Path) -> dict[str, tuple[dict, list[dict]]]:
    """{file_name: (image, its annotations in order)}, in the order of `coco["images"]`."""
    found: dict[str, tuple[dict, list[dict]]] = {}
    by_id: dict[object, list[dict]] = {}
    for image in coco["images"]:
        if not isinstance(image, dict) or not isinstance(image.get("file_name"), str):
            raise UsageError(f"{folder / LABELS_COCO}: images: expected objects with a file_name, got {image!r}; {INTO_ANOTHER}")
        found[image["file_name"]] = (image, by_id.setdefault(image.get("id"), []))
    for annotation in coco["annotations"]:
        if not isinstance(annotation, dict) or annotation.get("image_id") not in by_id:
            raise UsageError(f"{folder / LABELS_COCO}: annotations: expected objects with the image_id of an image, got {annotation!r}; {INTO_ANOTHER}")
        by_id[annotation["image_id"]].append(annotation)
    return found


def _in_datasource_order(names: list[str], frames: Frames, folder: Path) -> list[str]:
    rows = dict(zip(frames.file_name.tolist(), range(len(frames))))
    gone = [name for name in names if name not in rows]
    if gone:
        raise UsageError(f"{folder / LABELS_COCO}: expected samples of the datasource, got {gone[0]!r} ({len(gone)} not in it); {INTO_ANOTHER}")
    order = np.argsort([rows[name] for name in names], kind="stable")
    return [names[k] for k in order.tolist()]


def _label_text(folder: Path, name: str) -> str:
    path = folder / label_path(name)
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: expected the YOLO labels of {name} ({folder / LABELS_COCO} lists it), got {type(exc).__name__}; {INTO_ANOTHER}") from exc


def _numbered(images: list[tuple[dict, list[dict]]], categories: list) -> dict:
    """A COCO dict of `images` (each with its annotations) numbered 1, 2, … as `coco_dataset` does."""
    coco: dict = {"images": [], "annotations": [], "categories": categories}
    for image_id, (image, boxes) in enumerate(images, start=1):
        coco["images"].append({**image, "id": image_id})
        coco["annotations"] += [{**box, "image_id": image_id} for box in boxes]
    for annotation_id, annotation in enumerate(coco["annotations"], start=1):
        annotation["id"] = annotation_id
    return coco
