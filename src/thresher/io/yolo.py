"""YOLO txt predictions → a Lightly prediction task.

One `<stem>.txt` per image, one line per box, as Ultralytics writes with `save_txt=True`:

```
class cx cy w h [conf [track_id]]        # cx, cy, w, h normalized to [0, 1], centre-based
```

Pixels: x0 = (cx - w/2)·W, y0 = (cy - h/2)·H, x1 = (cx + w/2)·W, y1 = (cy + h/2)·H with W, H the
image size after EXIF rotation (the frame Ultralytics reads images in); boxes are then clipped
to the image. A line without `conf` (saved without `save_conf=True`) gets score 1.0. A 7th
number (the track id of `model.track`) is ignored.

Names: a txt is matched to the image whose path without extension is the txt's path (relative
to the labels folder) without `.txt`, or, for the flat `labels/` folder of Ultralytics, to the
one image whose path ends with it. Video frames are `<video stem>_<n>.txt`, where Ultralytics
counts the frames it reads from 1: with `vid_stride` k, file n is frame n·k - 1 (0-based).
Images and frames without a txt had no detections (Ultralytics writes no empty file).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping

import numpy as np
import yaml

from thresher.boxes import cxcywh_to_xyxy, scale
from thresher.errors import SchemaError, UsageError
from thresher.frames import Frames
from thresher.io.conversion import Boxes, MediaIndex, add_each, assemble_task, number
from thresher.io.lightly_predictions import PredictionTask
from thresher.io.lightly_schema import PredictionSchema
from thresher.io.number_lines import parse_number_lines
from thresher.io.problems import Problems, collector, shown
from thresher.io.storage import Location

FIELDS = ("class", "cx", "cy", "w", "h", "conf", "track_id")
MISSING_CONF = 1.0  # the score of a line saved without its confidence
LINE_FORMAT = "5 to 7 numbers: class cx cy w h [conf [track_id]]"
_FRAME_FILE = re.compile(r"^(?P<video>.+)_(?P<number>\d+)$")


def read_class_names(raw: bytes, file: str, problems: Problems | None = None) -> dict[int, str]:
    """Class names {id: name} of a `data.yaml` (`names:` list or mapping) or a text file, one name a line."""
    problems = collector(problems)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.add(file, "", "a UTF-8 text file", str(exc))
        raise SchemaError(f"{file}: no usable class names") from exc
    if posixpath.splitext(file)[1].lower() in (".yaml", ".yml"):
        names = _yaml_names(text, file, problems)
    else:
        names = _text_names(text, file, problems)
    if not names:
        raise SchemaError(f"{file}: no usable class names: {problems[-1] if problems else 'the file is empty'}")
    return names


def _yaml_names(text: str, file: str, problems: Problems) -> dict[int, str] | None:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problems.add(file, "", "valid YAML", f"malformed YAML ({str(exc).splitlines()[0]})")
        return None
    value = data.get("names") if isinstance(data, dict) else None
    expected = "a list of class names or a mapping {id: name}"
    items = enumerate(value) if isinstance(value, list) else value.items() if isinstance(value, dict) else None
    if not value or items is None:
        problems.add(file, "names", expected, shown(value))
        return None
    names = {}
    for key, name in items:
        class_id = int(key) if isinstance(key, int) or (isinstance(key, str) and key.isdigit()) else -1
        if class_id < 0 or not isinstance(name, (str, int, float)) or not str(name).strip():
            problems.add(file, f"names[{key!r}]", "a class id >= 0 and a non-empty name", f"{shown(key)}: {shown(name)}")
            return None
        names[class_id] = str(name)
    return names


def _text_names(text: str, file: str, problems: Problems) -> dict[int, str] | None:
    lines = [line.strip() for line in text.rstrip().splitlines()]
    for i, line in enumerate(lines):
        if not line:
            problems.add(file, f"line {i + 1}", "a class name on every line (line n is class n - 1)", "an empty line")
            return None
    return dict(enumerate(lines))


def read_label_files(labels: Location, exclude: tuple[str, ...] = ()) -> dict[str, bytes | Exception]:
    """The `.txt` files below a labels folder (relative names → contents or the read error).

    Hidden files, the names in `exclude` and a `classes.txt` at the top (the Darknet class
    list kept among the labels) are left out.
    """
    skipped = {*exclude, "classes.txt"}
    names = [n for n in labels.files() if n.endswith(".txt") and n not in skipped and not posixpath.basename(n).startswith(".")]
    return labels.read_many(names)


def check_label_folder(names: list[str], frames: Frames, labels_dir: str) -> None:
    """UsageError when the labels folder cannot be the one meant: it holds no txt file, or every
    txt is under `labels/` while no sample is (the Ultralytics run folder instead of its labels/).

    `names`: the txt files, relative to the folder (`read_label_files`).
    """
    shown_dir = labels_dir.rstrip("/") or "."
    if not names:
        raise UsageError(f"--input: expected a folder of YOLO txt files, got {shown_dir}, which holds none (pass the labels/ folder of the Ultralytics run)")
    media_in_labels = any(f"/{media}".find("/labels/") >= 0 for media in np.unique(frames.video).tolist())
    if all(n.startswith("labels/") for n in names) and not media_in_labels:
        raise UsageError(f"--input: every .txt of {shown_dir} is under labels/ and no sample of the datasource is: pass --input {shown_dir}/labels")


def yolo_to_task(
    labels: Mapping[str, str | bytes | Exception],
    frames: Frames,
    names: Mapping[int, str] | list[str],
    *,
    task: str,
    vid_stride: int = 1,
    all_frames: bool = True,
    labels_dir: str = "",
    names_file: str = "names",
    problems: Problems | None = None,
) -> PredictionTask:
    """Convert YOLO txt predictions into a prediction task of the datasource.

    Args:
        labels: txt files, by name relative to the labels folder ('a.txt', 'bikes_12.txt').
        frames: the datasource's samples (`Datasource.frames()`), with their sizes.
        names: class names, a list (ids 0, 1, …) or {id: name}; see `read_class_names`.
        task: the name of the task to create.
        vid_stride: the `vid_stride` Ultralytics predicted videos with.
        all_frames: True: every image and video frame gets a prediction file (no txt = no
            detections); False: only images with a txt, and every frame of a video with one.
        labels_dir, names_file: shown in messages before the txt names and for the names.
        problems: a collector to record every problem and skip what is unusable (a sample
            whose txt has any bad line is left out and listed in `invalid`); None raises
            `SchemaError` at the first.
    """
    problems = collector(problems)
    if type(vid_stride) is not int or vid_stride < 1:
        raise UsageError(f"vid_stride: expected an integer >= 1, got {vid_stride!r}")
    if not names:
        raise UsageError("names: expected at least one class name, got none")
    schema = PredictionSchema.detection(dict(names) if isinstance(names, Mapping) else list(names))
    shown_name = lambda name: f"{labels_dir.rstrip('/')}/{name}" if labels_dir else name  # noqa: E731
    rows, taken = _match_files(list(labels), MediaIndex(frames), vid_stride, shown_name, problems)
    contents = [labels[n] if row != -1 else "" for n, row in zip(labels, rows)]  # a txt of no sample: reported once
    lines = _Lines(contents, [shown_name(n) for n in labels], problems)
    good_line = lines.check(schema, names_file, problems)
    invalid = np.zeros(len(frames), bool)
    invalid[[row for row, i in taken.items() if rows[i] == -2]] = True
    rows = np.maximum(rows, -1)
    line_rows = rows[lines.file]
    invalid[line_rows[(line_rows >= 0) & ~good_line]] = True
    invalid[rows[(rows >= 0) & lines.unreadable]] = True
    usable = good_line & (line_rows >= 0)
    values, box_rows = lines.values[usable], line_rows[usable]
    xyxy = normalized_to_pixels(values[:, 1:5], frames.width[box_rows], frames.height[box_rows])
    score = np.where(np.isnan(values[:, 5]), MISSING_CONF, values[:, 5])
    boxes = Boxes(box_rows, xyxy, score, values[:, 0].astype(np.int64))
    return assemble_task(task, schema, frames, _covered(frames, rows, all_frames), boxes, invalid)


def normalized_to_pixels(cxcywh: np.ndarray, width: np.ndarray, height: np.ndarray) -> np.ndarray:
    """(M, 4) corners in pixels of normalized centre boxes: x0 = (cx - w/2)·W, y0 = (cy - h/2)·H, …"""
    return scale(cxcywh_to_xyxy(np.asarray(cxcywh, dtype=np.float64).reshape(-1, 4)), width, height)


def _covered(frames: Frames, rows: np.ndarray, all_frames: bool) -> np.ndarray:
    if all_frames:
        return np.ones(len(frames), bool)
    matched = rows[rows >= 0]
    videos = np.unique(frames.video[matched][frames.kind[matched] == "frame"])
    covered = np.isin(frames.video, videos) & (frames.kind == "frame")
    covered[matched] = True
    return covered


def _match_files(names: list[str], index: MediaIndex, vid_stride: int, shown_name, problems: Problems) -> tuple[np.ndarray, dict]:
    """The datasource row of each txt file (-1: no sample, after recording why; -2: a sample
    claimed by two files) and {row: first file claiming it}."""
    rows = np.full(len(names), -1, dtype=np.int64)
    taken: dict[int, int] = {}
    for i, name in enumerate(names):
        row = _match(name, index, vid_stride, shown_name(name), problems)
        if row is not None and row in taken:
            problems.add(shown_name(name), "", "one txt file per image or video frame", f"the same sample as {shown_name(names[taken[row]])}: {index.frames.file_name[row]}")
            rows[taken[row]] = -2  # neither file is trusted: the sample becomes invalid
        elif row is not None:
            rows[i], taken[row] = row, i
    return rows, taken


def _match(name: str, index: MediaIndex, vid_stride: int, shown: str, problems: Problems) -> int | None:
    key = name[: -len(".txt")] if name.endswith(".txt") else name
    images = [m for m in index.by_stem(key) if m in index.images]
    if len(images) == 1:
        return index.images[images[0]]
    if len(images) > 1:
        problems.add(shown, "", "a txt name that matches one image", f"{len(images)} images: {', '.join(images[:5])}")
        return None
    frame = _FRAME_FILE.match(key)
    videos = [m for m in index.by_stem(frame["video"]) if m in index.videos] if frame else []
    if frame is None or len(videos) != 1:  # (no frame: no videos)
        got = f"{len(videos)} videos: {', '.join(videos[:5])}" if videos else "no such sample"
        problems.add(shown, "", f"an image named {key}.<ext> or a video frame <video stem>_<frame number>.txt of the datasource", got)
        return None
    video, number_read = videos[0], int(frame["number"])
    row = index.frame_row(video, number_read * vid_stride - 1)
    if row is None:
        last = index.videos[video] // vid_stride
        problems.add(shown, "", f"a frame number from 1 to {last} of {video} (vid_stride {vid_stride})", str(number_read))
    return row


class _Lines:
    """Every line of every txt file: its file, line number and up to 7 numbers (NaN = absent)."""

    def __init__(self, contents: list, names: list[str], problems: Problems):
        texts = [_text(content, name, problems) for content, name in zip(contents, names)]
        self.unreadable = np.array([t is None for t in texts], dtype=bool)
        parsed = parse_number_lines([t or "" for t in texts], len(FIELDS))
        self.file, self.line, self.n_fields, self.values, self.names = parsed.file, parsed.line, parsed.n_fields, parsed.values, names
        self.ok = (self.n_fields >= 5) & (self.n_fields <= 7)
        add_each(problems, ~self.ok, self._where, lambda i: f"line {self.line[i]}", LINE_FORMAT, lambda i: f"{self.n_fields[i]} fields: {shown(parsed.text[i])}")
        for i, j, token in parsed.bad_tokens:
            if self.ok[i]:
                problems.add(self._where(i), f"line {self.line[i]}: {FIELDS[j]}", "a number", shown(token))
                self.ok[i] = False

    def _where(self, i: int) -> str:
        return self.names[self.file[i]]

    def check(self, schema: PredictionSchema, names_file: str, problems: Problems) -> np.ndarray:
        """Whether each line is a usable box; a problem for each value that is not."""
        v, ok = self.values, self.ok
        field = lambda name: lambda i: f"line {self.line[i]}: {name}"  # noqa: E731
        got = lambda j: lambda i: number(v[i, j])  # noqa: E731
        cls = v[:, 0]
        known = np.isin(cls, schema.ids)
        add_each(problems, ok & ~known, self._where, field("class"), f"a class id of {names_file} {_ids(schema)}", got(0))
        good = ok & known
        for j in range(1, 5):
            wrong = ok & ~((v[:, j] >= 0) & (v[:, j] <= 1))
            add_each(problems, wrong, self._where, field(FIELDS[j]), "a normalized value in [0, 1]", got(j))
            good &= ~wrong
        has_conf = self.n_fields >= 6
        wrong = ok & has_conf & ~((v[:, 5] >= 0) & (v[:, 5] <= 1))
        add_each(problems, wrong, self._where, field("conf"), "a confidence in [0, 1]", lambda i: number(v[i, 5]) + _track_hint(float(v[i, 5]), int(self.n_fields[i])))
        return good & ~wrong


def _text(content: object, name: str, problems: Problems) -> str | None:
    if isinstance(content, Exception):
        problems.add(name, "", "a readable file", f"{type(content).__name__}: {content}")
        return None
    if isinstance(content, bytes):
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.add(name, "", "a UTF-8 text file", str(exc))
            return None
    return str(content)


def _track_hint(value: float, n_fields: int) -> str:
    if n_fields == 6 and value > 1 and float(value).is_integer():
        return " (a track id? save tracks with save_conf=True so the 6th number is the confidence)"
    return ""


def _ids(schema: PredictionSchema) -> str:
    ids = schema.ids.tolist()
    return f"({ids[0]} to {ids[-1]})" if ids == list(range(ids[0], ids[-1] + 1)) and len(ids) > 2 else str(ids)
