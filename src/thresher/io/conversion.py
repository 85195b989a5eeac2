"""What the converters into the Lightly format share: finding samples, fitting boxes, saving a task.

- `MediaIndex` finds the datasource sample an input names: by path (Ultralytics `Results.path`,
  matched on its longest trailing part that is a datasource file) or by stem (YOLO txt names,
  matched on the file's path without extension, or a unique trailing part of it).
- `assemble_task` turns boxes in pixels, one row per box with the datasource row of its frame,
  into a `PredictionTask` over the frames the input covers; boxes are fitted to their image; a
  video with a bad frame is left out whole (`whole_videos`).
- `save_task` writes a task next to the others, refusing to replace one unless asked, and
  replacing it whole (written aside first, then moved into place).
"""

from __future__ import annotations

import json
import posixpath
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import SupportsFloat

import fsspec
import numpy as np

from thresher.boxes import fit, outside
from thresher.detections import Detections
from thresher.errors import DatasourceError, UsageError
from thresher.frames import Frames
from thresher.io.lightly_predictions import PredictionTask, task_dir, write_predictions
from thresher.io.lightly_schema import PredictionSchema, add_task_name, read_task_names
from thresher.io.names import frame_name
from thresher.io.problems import Problems, collector, shown
from thresher.io.storage import Location, safe_name

MIN_BOX_SIZE = 1.0  # pixels; Lightly requires bbox w and h >= 1
SIZE_TOLERANCE = 1e-9  # pixels
SCRATCH_DIR = ".thresher/tmp"


def fit_boxes(xyxy: np.ndarray, width: np.ndarray, height: np.ndarray) -> np.ndarray:
    """Boxes clipped to their image and grown to at least 1 x 1 pixel around their centre
    (`thresher.boxes.fit` with Lightly's minimum size).

    Args:
        xyxy: (M, 4) corners in pixels.
        width, height: (M,) size of each box's image in pixels (>= 1).
    """
    return fit(xyxy, width, height, MIN_BOX_SIZE, SIZE_TOLERANCE)  # a box fitted once stays as it is (float rounding)


@dataclass(frozen=True)
class Boxes:
    """Converted boxes before they become `Detections`: `row` is the datasource row of the frame."""

    row: np.ndarray
    xyxy: np.ndarray
    score: np.ndarray
    class_id: np.ndarray
    extras: dict = field(default_factory=dict)  # optional Detections columns (per-box uncertainty)

    @classmethod
    def concat(cls, parts: list["Boxes"]) -> "Boxes":
        if not parts:
            return cls(np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64))
        shared = set.intersection(*(set(p.extras) for p in parts))
        extras = {k: np.concatenate([p.extras[k] for p in parts]) for k in shared}
        row, xyxy, score, class_id = (np.concatenate([getattr(p, k) for p in parts]) for k in ("row", "xyxy", "score", "class_id"))
        return cls(row, xyxy, score, class_id, extras)


def assemble_task(name: str, schema: PredictionSchema, frames: Frames, covered: np.ndarray, boxes: Boxes, invalid: np.ndarray) -> PredictionTask:
    """A task over the datasource rows `covered` and not `invalid`, with the boxes of those rows.

    Boxes are clipped to their image and grown to 1 pixel when smaller (`fit_boxes`).
    `invalid` rows (whose input had problems) get no prediction file and are listed in
    `PredictionTask.invalid`; rows neither covered nor invalid are listed in `missing`.
    A video with an invalid frame is left out whole (`whole_videos`).
    """
    invalid = whole_videos(frames, covered, invalid)
    keep = np.asarray(covered, bool) & ~np.asarray(invalid, bool)
    position = np.full(len(frames), -1, dtype=np.int64)
    position[keep] = np.arange(int(keep.sum()))
    rows = np.asarray(boxes.row, dtype=np.int64)
    kept = keep[rows] if len(rows) else np.zeros(0, bool)
    rows = rows[kept]
    _require_sizes(frames, rows)
    detections = Detections(
        frame=position[rows],
        xyxy=fit_boxes(boxes.xyxy[kept], frames.width[rows], frames.height[rows]),
        score=boxes.score[kept],
        class_id=boxes.class_id[kept],
        **{key: values[kept] for key, values in boxes.extras.items()},
    ).sorted_by_frame()
    return PredictionTask(
        name=name,
        schema=schema,
        frames=frames[keep],
        detections=detections,
        invalid=tuple(frames.file_name[invalid].tolist()),
        missing=tuple(frames.file_name[~keep & ~np.asarray(invalid, bool)].tolist()),
    )


def whole_videos(frames: Frames, covered: np.ndarray, invalid: np.ndarray) -> np.ndarray:
    """`invalid` widened to every covered frame of a video that has an invalid frame.

    Readers take a frame of a predicted video without a prediction file for "predicted, no
    object" (`thresher.io.coverage`), so leaving out only the bad frame would turn it into an
    empty frame (fake flicker, zero scores): the whole video is left out instead.

        >>> frames = Frames.build([f"v-{i}" for i in range(3)] + ["a.jpg"], kind=["frame"] * 3 + ["image"], video=["v"] * 3 + ["a.jpg"], frame_index=[0, 1, 2, 0])
        >>> whole_videos(frames, np.ones(4, bool), np.array([0, 1, 0, 0], bool)).astype(int).tolist()
        [1, 1, 1, 0]
    """
    invalid = np.asarray(invalid, bool)
    is_frame = frames.kind == "frame"
    bad_videos = np.unique(frames.video[invalid & is_frame])
    return invalid | (np.asarray(covered, bool) & is_frame & np.isin(frames.video, bad_videos))


def videos_left_out(frames: Frames, invalid: tuple[str, ...] | list[str]) -> dict[str, int]:
    """The videos of `frames` with invalid frames (names from `PredictionTask.invalid`), and how many.

    >>> frames = Frames.build(["v-0", "v-1", "a.jpg"], kind=["frame", "frame", "image"], video=["v", "v", "a.jpg"], frame_index=[0, 1, 0])
    >>> videos_left_out(frames, ("v-0", "v-1", "a.jpg"))
    {'v': 2}
    """
    rows = np.isin(frames.file_name, np.asarray(invalid, dtype=str)) & (frames.kind == "frame")
    names, counts = np.unique(frames.video[rows], return_counts=True)
    return dict(zip(names.tolist(), counts.tolist()))


def _require_sizes(frames: Frames, rows: np.ndarray) -> None:
    unknown = (frames.width[rows] < 1) | (frames.height[rows] < 1)
    if unknown.any():
        name = str(frames.file_name[rows[unknown][0]])
        raise UsageError(f"frames: expected the width and height of every sample (from Datasource.frames()), got none for {name!r}")


class MediaIndex:
    """Finds the images, videos and video frames of a datasource's `Frames` by name."""

    def __init__(self, frames: Frames):
        self.frames = frames
        is_image = frames.kind == "image"
        self.images = dict(zip(frames.file_name[is_image].tolist(), np.flatnonzero(is_image).tolist()))
        videos, counts = np.unique(frames.video[frames.kind == "frame"], return_counts=True)
        self.videos = dict(zip(videos.tolist(), counts.tolist()))
        self._rows: dict[str, int] | None = None  # every sample name → row, built on first use
        self._by_stem: dict[str, list[str]] | None = None  # every trailing part of a path without extension → files

    def by_path(self, path: str) -> str | None:
        """The image or video named by the longest trailing part of `path` ('/data/ds/img/a.jpg' → 'img/a.jpg')."""
        parts = str(path).replace("\\", "/").split("/")
        for k in range(len(parts)):
            candidate = "/".join(parts[k:])
            if candidate in self.images or candidate in self.videos:
                return candidate
        return None

    def by_stem(self, key: str) -> list[str]:
        """Images and videos whose path without extension is `key` or ends with '/' + `key`.

        A file whose path without extension is exactly `key` wins over longer paths.
        """
        if self._by_stem is None:
            self._by_stem = {}
            for media in [*self.images, *self.videos]:
                parts = posixpath.splitext(media)[0].split("/")
                for k in range(len(parts)):
                    self._by_stem.setdefault("/".join(parts[k:]), []).append(media)
        found = self._by_stem.get(key, [])
        exact = [m for m in found if posixpath.splitext(m)[0] == key]
        return exact or found

    def frame_row(self, video: str, index: int) -> int | None:
        """Datasource row of frame `index` (0-based) of `video`, None when out of range."""
        n = self.videos.get(video, 0)
        return self.row(frame_name(video, index, n)) if 0 <= index < n else None

    def row(self, name: str) -> int | None:
        """Datasource row of a sample name (an image, or a Lightly frame name), None if there is none."""
        if self._rows is None:
            self._rows = dict(zip(self.frames.file_name.tolist(), range(len(self.frames))))
        return self._rows.get(name)


def read_input(url: str) -> bytes:
    """The bytes of an input file (local path or fsspec URL)."""
    try:
        with fsspec.open(url, "rb") as f:
            return f.read()
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise UsageError(f"{url}: no such file") from exc
    except PermissionError as exc:
        raise DatasourceError(f"{url}: cannot read ({type(exc).__name__})") from exc


def parse_json_input(raw: bytes, file: str, problems: Problems | None = None) -> object | None:
    """Parsed JSON, or None after recording why it is not JSON (None: raise SchemaError)."""
    problems = collector(problems)
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.add(file, "", "valid JSON", f"malformed JSON ({exc})")
        return None


def check_task_name(task: str) -> str:
    """The task name, if it can name a folder of `.lightly/predictions/`; UsageError otherwise."""
    try:
        name = safe_name(task)
    except DatasourceError as exc:
        raise UsageError(f"task: expected a task name such as 'yolov8_det', got {shown(task)} ({exc})") from exc
    if name != task or any(part.startswith(".") for part in name.split("/")) or name == "tasks.json":
        raise UsageError(f"task: expected a task name such as 'yolov8_det', got {shown(task)}")
    return name


def task_exists(lightly: Location, task: str) -> bool:
    """Whether tasks.json lists `task` or its folder exists (raises SchemaError for a broken tasks.json)."""
    return task in read_task_names(lightly) or lightly.exists(task_dir(task))


def save_task(lightly: Location, task: PredictionTask, *, overwrite: bool = False, bbox_decimals: int = 3) -> None:
    """Write a converted task into `lightly`'s `.lightly/predictions/`.

    Refuses (UsageError) when the task exists, unless `overwrite`; then the old task folder is
    replaced as a whole, so no prediction file of the old task survives. The files are written
    in a scratch folder under `.thresher/tmp/` first and moved into place, and tasks.json lists
    the task last: an interrupted write leaves the previous state.
    """
    check_task_name(task.name)
    exists = task_exists(lightly, task.name)
    if exists and not overwrite:
        raise UsageError(f"task {task.name!r} exists in {lightly.display(task_dir(task.name))}; pass --overwrite (overwrite=True) to replace it")
    scratch_name = f"{SCRATCH_DIR}/convert-{uuid.uuid4().hex[:12]}"
    scratch = lightly.child(scratch_name)
    try:
        write_predictions(scratch, task, bbox_decimals=bbox_decimals)
        target = lightly.path(task_dir(task.name))
        lightly.fs.makedirs(posixpath.dirname(target), exist_ok=True)
        if lightly.exists(task_dir(task.name)):
            lightly.fs.mv(target, lightly.path(f"{scratch_name}/replaced"), recursive=True)
        lightly.fs.mv(scratch.path(task_dir(task.name)), target, recursive=True)
        add_task_name(lightly, task.name)
    finally:
        if lightly.exists(scratch_name):
            lightly.fs.rm(scratch.root, recursive=True)


def merge_tasks(earlier: PredictionTask, new: PredictionTask, frames: Frames, cleared: Sequence[str] = ()) -> tuple[PredictionTask, int, int, int]:
    """`new` plus the samples of `earlier` it does not hold, with their boxes (labels of two
    rounds: the export's files replace those samples, the others are kept), less the samples
    `cleared` (those the new input holds without labels: a label deleted since). Returns the
    merged task over rows of `frames`, and how many samples of `earlier` were replaced, kept
    and removed (cleared).

    Only samples with a valid file of `earlier` count (a frame without a file is no label).
    """
    unfiled = np.union1d(np.asarray(earlier.missing, dtype=str), np.asarray(earlier.invalid, dtype=str))
    old_names = earlier.frames.file_name[~np.isin(earlier.frames.file_name, unfiled)]
    kept = np.setdiff1d(np.setdiff1d(old_names, new.frames.file_name), np.asarray(cleared, dtype=str))
    keep = np.isin(frames.file_name, np.union1d(kept, new.frames.file_name))
    position = dict(zip(frames.file_name[keep].tolist(), range(int(keep.sum()))))
    old_boxes = earlier.detections[np.isin(earlier.frames.file_name, kept)[earlier.detections.frame]] if len(earlier.detections) else earlier.detections
    parts = [
        boxes.replace(frame=np.array([position[n] for n in task.frames.file_name[boxes.frame].tolist()], dtype=np.int64))
        for task, boxes in ((earlier, old_boxes), (new, new.detections))
        if len(boxes)
    ]
    detections = Detections.concat(parts).sorted_by_frame() if parts else Detections.empty()
    merged = PredictionTask(new.name, new.schema, frames[keep], detections, invalid=new.invalid, missing=tuple(frames.file_name[~keep].tolist()))
    replaced = int(np.isin(old_names, new.frames.file_name).sum())
    return merged, replaced, len(kept), len(old_names) - replaced - len(kept)


def outside_image(xyxy: np.ndarray, width: np.ndarray, height: np.ndarray) -> np.ndarray:
    """Boxes that neither overlap nor touch their image (x0 > W, y0 > H, x1 < 0 or y1 < 0)."""
    return outside(xyxy, width, height)


def add_each(problems: Problems, bad: np.ndarray, file, field, expected: str, got) -> None:
    """One problem per True of `bad`; `file`, `field` and `got` map an index to text."""
    for i in np.flatnonzero(bad).tolist():
        problems.add(file(i) if callable(file) else file, field(i), expected, got(i))


def number(value: SupportsFloat) -> str:
    """A number as shown in messages: integers without '.0', others with 6 significant digits.

    Example: `number(3.0)` is "3", `number(np.float32(0.25))` is "0.25".
    """
    x = float(value)
    return str(int(x)) if x.is_integer() else f"{x:.6g}"
