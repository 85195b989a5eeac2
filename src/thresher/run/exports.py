"""The hand-off of a run: Label Studio tasks and labeling config, COCO json, file names.

Every export lists the run's new picks only (with the datapool, the earlier picks are in
`datapool.csv` and are never exported for labeling again), names each image by its Lightly name
inside the run's `images/` folder, and carries the boxes of one prediction task (the task the
run read, `thresher.run.export_task`) plus that task's imputed boxes (`<task>-imputed`,
marked). Label Studio loads each image from the local-files URL of its path in the final run
folder (after the `.partial` rename) relative to `local_files_root` (Label Studio's
LOCAL_FILES_DOCUMENT_ROOT; default: the parent of the runs folder, i.e. the workspace), or from
`image_root/<name>` when `image_root` is set.

Example: a run `runs/r1` of the workspace `ds/.thresher` exports a frame as
`/data/local-files/?d=runs/r1/images/data/bikes-007-mp4.png`; Label Studio started with
`LOCAL_FILES_DOCUMENT_ROOT=ds/.thresher` and a local-files storage on `ds/.thresher/runs` opens it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thresher.assertions.task import IMPUTED_SUFFIX
from thresher.detections import Detections
from thresher.errors import ConfigError, did_you_mean
from thresher.frames import Frames
from thresher.io.coco_export import coco_dataset
from thresher.io.datasource import Datasource
from thresher.io.labelstudio import label_studio_tasks
from thresher.io.labelstudio_config import labeling_config
from thresher.io.labelstudio_urls import local_files_url, served_url
from thresher.io.lightly_predictions import read_predictions
from thresher.io.lightly_schema import read_task_names
from thresher.io.problems import Problems
from thresher.io.storage import write_file
from thresher.objects import box_index_in_frame
from thresher.run.config import ExportOptions
from thresher.run.outputs import write_json

TASKS_FILE = "label_studio_tasks.json"
CONFIG_FILE = "label_studio_config.xml"


@dataclass(frozen=True)
class ExportBoxes:
    """The boxes the exports carry: `detections.frame` and `imputed.frame` index the frames."""

    task: str | None
    detections: Detections
    names: dict[int, str]
    imputed: Detections | None = None


@dataclass(frozen=True)
class LabelStudioRoot:
    """Where Label Studio finds a run's images: its LOCAL_FILES_DOCUMENT_ROOT and the path of
    the local-files storage to add to the project (a folder below the root holding the run)."""

    document_root: Path
    storage_path: Path


def label_studio_root(
    run_folder: Path, options: ExportOptions, *, default_root: Path | None = None, setting: str = "thresher.exports.local_files_root", holder: str = "the run folder"
) -> LabelStudioRoot:
    """The document root (`options.local_files_root`, else `default_root`, else the runs
    folder's parent) and the storage path for `run_folder` (its final name): the folder just
    below the root that holds it. ConfigError, naming `setting`, when the root does not hold it.

    `thresher autolabel apply` passes its output folder, its parent as `default_root` and its
    option `--local-files-root` as `setting` ("the output folder" as `holder`).
    """
    folder = Path(os.path.abspath(run_folder))
    fallback = Path(os.path.abspath(default_root)) if default_root is not None else folder.parent.parent
    root = Path(os.path.abspath(options.local_files_root)) if options.local_files_root else fallback
    if root not in folder.parents:
        raise ConfigError(
            f"{setting}: expected a folder that holds {holder} {folder} "
            f"(Label Studio serves files below its LOCAL_FILES_DOCUMENT_ROOT only), got {options.local_files_root!r}; "
            f"leave it unset to use {fallback}"
        )
    first = folder.relative_to(root).parts[0]
    return LabelStudioRoot(root, root / first)


def check_export_task(source: Datasource, task: str | None, created_by_run: set[str]) -> None:
    """ConfigError when `task` is neither a prediction task of the datasource nor one the run creates."""
    if task is None or task in created_by_run:
        return
    known = read_task_names(source.lightly, Problems())
    if task not in known:
        raise ConfigError(
            f"thresher.exports.task: expected a prediction task of {source.lightly.display('.lightly/predictions')}, got {task!r}{did_you_mean(task, known)}; tasks: {known}"
        )


def load_export_boxes(source: Datasource, frames: Frames, task: str | None, cache: Path | None = None, read=None) -> ExportBoxes:
    """The boxes of `task` and of `<task>-imputed` (when that task exists) over `frames`;
    `read`: name -> PredictionTask when the caller keeps the tasks it read."""
    if task is None:
        return ExportBoxes(None, Detections.empty(), {})
    read = read or (lambda name: read_predictions(source.lightly, name, frames, Problems(), cache=cache))
    loaded = read(task)
    imputed = None
    if f"{task}{IMPUTED_SUFFIX}" in read_task_names(source.lightly, Problems()):
        imputed = read(f"{task}{IMPUTED_SUFFIX}").detections
    return ExportBoxes(task, loaded.detections, loaded.schema.names, imputed)


def image_urls(names: Sequence[str], images_folder: Path, options: ExportOptions, root: LabelStudioRoot | None) -> list[str]:
    """The URL Label Studio loads each image from (module docstring); `images_folder` is final,
    `root` is None when `options.image_root` is set (served URLs need no document root)."""
    if options.image_root is not None:
        return [served_url(options.image_root, name) for name in names]
    assert root is not None, "the config check plans a document root whenever image_root is unset"
    return [local_files_url(images_folder / name, root.document_root) for name in names]


def write_exports(
    folder: Path,
    frames: Frames,
    rows: np.ndarray,
    urls: Sequence[str],
    boxes: ExportBoxes,
    options: ExportOptions,
    *,
    priority: np.ndarray,
    selected: dict[int, list[tuple[str, int | None]]] | None = None,
    selected_boxes: np.ndarray | None = None,
) -> dict[str, str]:
    """Write the exports `options` asks for into `folder`; returns {export: file name}.

    Args:
        rows: the frames to export (rows of `frames`), in pick order.
        urls: where Label Studio loads each row's image.
        selected, selected_boxes: object level: the selected objects per row (see
            `label_studio_tasks`) and one bool per box of `boxes.detections`.
    """
    written: dict[str, str] = {}
    picked = np.asarray(rows).tolist()
    if options.label_studio:
        tasks = label_studio_tasks(frames, picked, urls, boxes.detections, boxes.names, priority=priority.tolist(), imputed=boxes.imputed, task_name=boxes.task, selected=selected)
        write_json(folder / TASKS_FILE, tasks)
        write_file(folder / CONFIG_FILE, labeling_config(name for _, name in sorted(boxes.names.items())).encode())
        written.update(label_studio=TASKS_FILE, label_studio_config=CONFIG_FILE)
    if options.coco:
        write_json(folder / "coco.json", coco_dataset(frames, picked, boxes.detections, boxes.names, imputed=boxes.imputed, selected=selected_boxes))
        written["coco"] = "coco.json"
    if options.filenames:
        write_file(folder / "filenames.txt", "".join(f"{frames.file_name[r]}\n" for r in picked).encode())
        written["filenames"] = "filenames.txt"
    return written


def selected_objects(frames: Frames, crops: Frames, picks: np.ndarray, boxes: ExportBoxes, object_task: str | None):
    """Object level: {frame row: [(object id, k)]} of the picked crops, and a bool per exported box.

    k is the object's box among the frame's boxes of `boxes` when they are the object-level
    task's boxes (the crop id is `<frame>-<k>-<ext>.png`), else None (and no box is marked).
    """
    from thresher.scorers import default_object_ids

    rows = crops.index_of(picks)
    parents = frames.index_of(crops.parent_id[rows])
    same = boxes.task is not None and boxes.task == object_task
    ids = default_object_ids(boxes.detections, frames) if same and len(boxes.detections) else np.zeros(0, str)
    position = {object_id: j for j, object_id in enumerate(ids.tolist())}
    within = box_index_in_frame(boxes.detections) if len(ids) else np.zeros(0, np.int64)
    mask = np.zeros(len(boxes.detections), bool)
    found: dict[int, list[tuple[str, int | None]]] = {}
    for object_id, parent in zip(np.asarray(picks).tolist(), parents.tolist()):
        j = position.get(object_id)
        if j is not None:
            mask[j] = True
        found.setdefault(parent, []).append((object_id, None if j is None else int(within[j])))
    return found, mask


def label_studio_hint(artifacts: dict, tasks_file: str = TASKS_FILE) -> list[str]:
    """How to open the tasks in Label Studio (docs/run.md), when they use local-files URLs."""
    root, storage = artifacts.get("label_studio_document_root"), artifacts.get("label_studio_storage_path")
    if not root or "label_studio" not in artifacts:
        return []
    return [
        "Label Studio (docs/run.md): start it with LOCAL_FILES_SERVING_ENABLED=true "
        f"LOCAL_FILES_DOCUMENT_ROOT={root}, add a local-files storage with path {storage} to the project, "
        f"paste {CONFIG_FILE} into its labeling interface, then import {tasks_file}",
    ]
