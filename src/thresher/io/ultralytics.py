"""Ultralytics `Results` → a Lightly prediction task, duck-typed: ultralytics is never imported.

What is read of each result (`model.predict(...)` gives one per image or video frame):

- `path`: the image or video it came from, matched to the datasource by its longest trailing
  part that names a datasource file ('/home/me/ds/img/a.jpg' → 'img/a.jpg');
- `orig_shape`: (height, width) of the image as Ultralytics read it (EXIF rotation applied),
  which must be the datasource sample's size;
- `names`: {class id: name}, the same for every result;
- `boxes.xyxy` (pixels, corners), `boxes.conf`, `boxes.cls` (a float tensor of class ids):
  torch tensors, on any device, or numpy arrays. `boxes.xywh` is centre-based and not used.

Results of a video come one per frame read, in order: the n-th (from 0) is frame
(n + 1)·vid_stride - 1 of the video, named `<video>-<index>-<ext>.png` as in the Lightly format.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from thresher.boxes import ordered
from thresher.errors import SchemaError, UsageError
from thresher.frames import Frames
from thresher.io.conversion import Boxes, MediaIndex, add_each, assemble_task, number
from thresher.io.lightly_predictions import PredictionTask
from thresher.io.lightly_schema import PredictionSchema
from thresher.io.problems import Problems, collector, shown


def as_numpy(values: object) -> np.ndarray:
    """A float64 numpy array from a torch tensor (any device) or anything array-like."""
    return np.asarray(values.cpu() if hasattr(values, "cpu") else values, dtype=np.float64)


def ultralytics_to_task(
    results: Iterable,
    frames: Frames,
    *,
    task: str,
    vid_stride: int = 1,
    problems: Problems | None = None,
) -> PredictionTask:
    """Convert Ultralytics detection `Results` into a prediction task of the datasource.

    Args:
        results: the results, in the order Ultralytics gave them (a list or a stream).
        frames: the datasource's samples (`Datasource.frames()`), with their sizes.
        task: the name of the task to create.
        vid_stride: the `vid_stride` the videos were predicted with.
        problems: a collector to record every problem and skip what is unusable (a sample
            with a bad result is left out and listed in `invalid`); None raises `SchemaError`
            at the first.

    Every sample with a result gets a prediction file (an empty one when nothing was found);
    scores are `boxes.conf`; detection results carry no class probabilities.
    """
    problems = collector(problems)
    if type(vid_stride) is not int or vid_stride < 1:
        raise UsageError(f"vid_stride: expected an integer >= 1, got {vid_stride!r}")
    converter = _Converter(frames, vid_stride, problems)
    for i, result in enumerate(results):
        converter.add(i, result)
    if converter.names is None:
        raise SchemaError("results: expected at least one Results object with names, got none")
    schema = PredictionSchema.detection(converter.names)
    return assemble_task(task, schema, frames, converter.covered, converter.checked_boxes(), converter.invalid)


class _Converter:
    """Reads results one at a time, keeping the frame count of each video; checks all boxes at the end."""

    def __init__(self, frames: Frames, vid_stride: int, problems: Problems):
        self.frames, self.index, self.vid_stride, self.problems = frames, MediaIndex(frames), vid_stride, problems
        self.covered = np.zeros(len(frames), bool)
        self.invalid = np.zeros(len(frames), bool)
        self.read_per_video: Counter[str] = Counter()
        self.names: dict[int, str] | None = None
        self._names_seen: object = None  # Ultralytics hands every result the same dict
        self.boxes: list[Boxes] = []
        self.labels: list[str] = []  # the result each part of `boxes` came from, for messages

    def add(self, i: int, result: object) -> None:
        row = self._row(result, f"results[{i}]")
        if row is None:
            return
        self.covered[row] = True
        where = f"results[{i}] ({self.frames.file_name[row]})"
        boxes = self._boxes(result, where, row) if self._names_ok(result, where) and self._shape_ok(result, where, row) else None
        if boxes is None:
            self.invalid[row] = True
        else:
            self.boxes.append(boxes)
            self.labels.append(where)

    def _row(self, result: object, where: str) -> int | None:
        path = str(getattr(result, "path", ""))
        media = self.index.by_path(path)
        if media is None:
            self.problems.add(where, "path", "the path of an image or video of the datasource", shown(path))
            return None
        if media in self.index.images:
            row = self.index.images[media]
            if self.covered[row]:
                self.problems.add(where, "path", "one result per image", f"a second result for {media}")
                return None
            return row
        self.read_per_video[media] += 1
        row = self.index.frame_row(media, self.read_per_video[media] * self.vid_stride - 1)
        if row is None:
            limit = self.index.videos[media] // self.vid_stride
            self.problems.add(where, "path", f"at most {limit} results for {media} (one per frame read, vid_stride {self.vid_stride})", f"result {self.read_per_video[media]}")
        return row

    def _names_ok(self, result: object, where: str) -> bool:
        names = getattr(result, "names", None)
        if names is self._names_seen:
            return True
        if not (isinstance(names, dict) and names and all(isinstance(k, int) and k >= 0 and isinstance(v, str) for k, v in names.items())):
            self.problems.add(where, "names", "a dict {class id: name}", shown(names))
            return False
        if self.names is None:
            self.names = dict(names)
        elif dict(names) != self.names:
            self.problems.add(where, "names", "the same class names in every result", f"{shown(names)}, not {shown(self.names)}")
            return False
        self._names_seen = names
        return True

    def _shape_ok(self, result: Any, where: str, row: int) -> bool:  # an untyped ultralytics Results
        expected = (int(self.frames.height[row]), int(self.frames.width[row]))
        try:
            shape = tuple(int(v) for v in result.orig_shape[:2])
        except (AttributeError, TypeError, ValueError):
            shape = None
        if shape != expected:
            self.problems.add(
                where,
                "orig_shape",
                f"(height, width) of {self.frames.file_name[row]} after EXIF rotation, {expected}",
                shown(getattr(result, "orig_shape", None)),
            )
            return False
        return True

    def _boxes(self, result: object, where: str, row: int) -> Boxes | None:
        boxes = getattr(result, "boxes", None)
        if boxes is None:
            self.problems.add(where, "boxes", "detection boxes (Results of a detection model)", "None")
            return None
        try:
            xyxy, conf, cls = (as_numpy(getattr(boxes, name)) for name in ("xyxy", "conf", "cls"))
        except (AttributeError, TypeError, ValueError) as exc:
            self.problems.add(where, "boxes", "xyxy, conf and cls arrays", f"{type(exc).__name__}: {exc}")
            return None
        n = len(conf.reshape(-1))
        if xyxy.size != 4 * n or cls.size != n:
            self.problems.add(where, "boxes", "xyxy of shape (N, 4), conf and cls of N values", f"shapes {xyxy.shape}, {conf.shape}, {cls.shape}")
            return None
        return Boxes(np.full(n, row, dtype=np.int64), xyxy.reshape(-1, 4), conf.reshape(-1), cls.reshape(-1))

    def checked_boxes(self) -> Boxes:
        """Every box read, checked at once; a sample with a bad box becomes invalid."""
        boxes = Boxes.concat(self.boxes)
        counts = np.array([len(b.row) for b in self.boxes], dtype=np.int64)
        part = np.repeat(np.arange(len(counts)), counts)
        j = np.arange(len(part)) - np.repeat(np.cumsum(counts) - counts, counts)
        xyxy, conf, cls = boxes.xyxy, boxes.score, boxes.class_id
        box = lambda i: "[" + ", ".join(number(v) for v in xyxy[i]) + "]"  # noqa: E731
        ids = sorted(self.names or {})
        checks = (
            ("xyxy", "finite corners x0 <= x1, y0 <= y1 in pixels", ~(np.isfinite(xyxy).all(axis=1) & ordered(xyxy)), box),
            ("conf", "a confidence in [0, 1]", ~((conf >= 0) & (conf <= 1)), lambda i: number(conf[i])),
            ("cls", f"a class id of names {ids}", ~np.isin(cls, np.array(ids, dtype=np.float64)), lambda i: number(cls[i])),
        )
        for name, expected, bad, got in checks:
            add_each(self.problems, bad, lambda i: self.labels[part[i]], lambda i, name=name: f"boxes.{name}[{j[i]}]", expected, got)
            self.invalid[boxes.row[bad]] = True
        known = np.isin(cls, np.array(ids, dtype=np.float64))
        return Boxes(boxes.row, xyxy, conf, np.where(known, cls, -1).astype(np.int64))
