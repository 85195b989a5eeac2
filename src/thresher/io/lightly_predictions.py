"""Read and write the object-detection predictions of a Lightly datasource.

One file per image or video frame, named after the sample with `.json`:

```
.lightly/predictions/my_task/clips/bikes-012-mp4.json
{"file_name": "clips/bikes-012-mp4.png",
 "predictions": [{"category_id": 2, "bbox": [x, y, w, h], "score": 0.81,
                  "probabilities": [...]}]}          # optional, in schema category order
```

`bbox` is top-left x, y, width, height in pixels (x, y >= 0; w, h >= 1); `score` is in [0, 1].
Reading parses every file once, checks the structure per file and the numbers for all boxes
at once, and returns columnar `Frames` + `Detections`.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field

import numpy as np

from thresher.boxes import xyxy_to_xywh
from thresher.detections import Detections
from thresher.errors import DatasourceError, SchemaError, did_you_mean
from thresher.frames import Frames
from thresher.io.lightly_checks import BoxColumns, check_boxes
from thresher.io.lightly_schema import (
    PREDICTIONS_DIR,
    PredictionSchema,
    add_task_name,
    parse_json,
    read_schema,
    write_schema,
)
from thresher.io.names import json_name, parse_frame_name
from thresher.io.problems import Problems, collector, shown
from thresher.io.storage import Location, safe_name
from thresher._table import lookup

PREDICTION_KEYS = ("category_id", "bbox", "score", "probabilities")
NUMBER = (int, float)


@dataclass(frozen=True)
class PredictionTask:
    """A prediction task read from (or to be written to) a Lightly datasource.

    `frames` holds every sample the task covers; `detections.frame` indexes it. Samples
    whose prediction file was unusable are listed in `invalid` (their boxes are left out);
    samples of a given datasource with no prediction file at all are listed in `missing`.
    """

    name: str
    schema: PredictionSchema
    frames: Frames
    detections: Detections
    invalid: tuple[str, ...] = field(default=())
    missing: tuple[str, ...] = field(default=())


def task_dir(task: str) -> str:
    return f"{PREDICTIONS_DIR}/{task}"


def prediction_file(task: str, sample_name: str) -> str:
    return f"{task_dir(task)}/{json_name(sample_name)}"


def read_predictions(
    lightly: Location, task: str, frames: Frames | None = None, problems: Problems | None = None
) -> PredictionTask:
    """Load an object-detection task.

    Args:
        lightly: the location holding `.lightly/` (the datasource itself, or a separate
            LIGHTLY location as in the seeds' INPUT / LIGHTLY split).
        task: the task name, as in tasks.json.
        frames: the samples of the datasource; prediction files are matched to them by name
            and image sizes are checked. Without it, the samples are made from the file names.
        problems: a `Problems` collector to record every problem and go on; None raises
            `SchemaError` at the first.
    """
    problems = collector(problems)
    schema = read_schema(lightly, task, problems)
    if schema is None:
        raise SchemaError(f"task {task!r} has no usable schema: {problems[-1] if problems else ''}")
    if schema.task_type != "object-detection":
        raise SchemaError(f"task {task!r}: reading {schema.task_type} predictions is not supported yet, only object-detection")
    files = _prediction_files(lightly, task)
    read = {name: _parse_file(name, raw, task, problems) for name, raw in lightly.read_many(files).items()}
    parsed = [p for p in read.values() if p is not None]
    frames, rows, missing = _match_frames(parsed, frames, problems)
    columns = BoxColumns.gather(parsed, rows)
    good_file = check_boxes(columns, parsed, rows, frames, schema, problems)
    unreadable = _samples_of_files([name for name, p in read.items() if p is None], task, frames)
    invalid = tuple(sorted({p.sample for p, ok in zip(parsed, good_file) if not ok} | unreadable))
    detections = columns.detections(good_file)
    return PredictionTask(task, schema, frames, detections, invalid, missing)


def _samples_of_files(files: list[str], task: str, frames: Frames) -> set[str]:
    """The samples whose prediction file is one of `files` (used for unparseable files)."""
    if not files:
        return set()
    by_file = {prediction_file(task, name): name for name in frames.file_name.tolist()}
    return {by_file[f] for f in files if f in by_file}


def _prediction_files(lightly: Location, task: str) -> list[str]:
    base = task_dir(task)
    names = lightly.files(base)
    return [n for n in names if n.endswith(".json") and n != f"{base}/schema.json" and not posixpath.basename(n).startswith(".")]


@dataclass
class ParsedFile:
    """The prediction lists of one file, before the task-wide numeric checks."""

    file: str
    sample: str
    category_id: list
    bbox: list
    score: list
    probabilities: list | None
    invalid: bool = False


def _parse_file(file: str, raw: bytes | Exception, task: str, problems: Problems) -> ParsedFile | None:
    data = parse_json(raw, file, problems)
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("predictions"), list):
        problems.add(file, "predictions", "a JSON object with a 'predictions' list", shown(data if not isinstance(data, dict) else data.get("predictions")))
        return None
    sample = _sample_name(data.get("file_name"), file, task, problems)
    if sample is None:
        return None
    for key in sorted(set(data) - {"file_name", "predictions"}):
        problems.add(file, key, "only file_name and predictions", f"unknown key {key!r}{did_you_mean(key, ['file_name', 'predictions'])}")
    preds = data["predictions"]
    columns = _fast_columns(preds)
    if columns is not None:
        return ParsedFile(file, sample, *columns)
    return ParsedFile(file, sample, *_diagnose(preds, file, problems), invalid=True)


def _sample_name(file_name: object, file: str, task: str, problems: Problems) -> str | None:
    if not isinstance(file_name, str):
        problems.add(file, "file_name", "the sample's name, a string", shown(file_name))
        return None
    try:
        name = safe_name(file_name)
    except DatasourceError as exc:
        problems.add(file, "file_name", "a name inside the datasource", str(exc))
        return None
    expected_file = prediction_file(task, name)
    if expected_file != file:
        problems.add(file, "file_name", f"the name of the sample this file is for ({file[len(task_dir(task)) + 1:-5]}.<ext>)", repr(file_name))
        return None
    return name


def _fast_columns(preds: list) -> tuple | None:
    """The columns of a well-formed predictions list, or None when anything is off."""
    try:
        if not all(p.keys() <= _ALLOWED for p in preds):
            return None
        category = [p["category_id"] for p in preds]
        bbox = [p["bbox"] for p in preds]
        score = [p["score"] for p in preds]
    except (AttributeError, KeyError, TypeError):
        return None
    probs = [p.get("probabilities") for p in preds]
    ok = (
        all(type(c) is int for c in category)
        and all(type(s) in NUMBER for s in score)
        and all(type(b) is list and len(b) == 4 and all(type(v) in NUMBER for v in b) for b in bbox)
        and _probabilities_ok(probs)
    )
    if not ok:
        return None
    return category, bbox, score, (None if probs and probs[0] is None else probs) if preds else None


_ALLOWED = frozenset(PREDICTION_KEYS)


def _probabilities_ok(probs: list) -> bool:
    if all(p is None for p in probs):
        return True
    return all(type(p) is list and all(type(v) in NUMBER for v in p) for p in probs)


def _diagnose(preds: list, file: str, problems: Problems) -> tuple:
    """Record what is wrong with each prediction of a malformed list.

    Returns the columns of the well-formed predictions, so their numbers are checked too.
    """
    good = [p for i, p in enumerate(preds) if _prediction_ok(p, f"predictions[{i}]", file, problems)]
    kinds = {p.get("probabilities") is None for p in preds if isinstance(p, dict)}
    if len(kinds) > 1:
        problems.add(file, "predictions[*].probabilities", "probabilities on every prediction or on none", "a mix")
        good = [{k: v for k, v in p.items() if k != "probabilities"} for p in good]
    return _fast_columns(good) or ([], [], [], None)


_FIELD_RULES = (
    ("category_id", "an integer category id", lambda v: type(v) is int),
    ("score", "a number in [0, 1]", lambda v: type(v) in NUMBER),
    ("bbox", "[x, y, w, h], four numbers in pixels", lambda v: type(v) is list and len(v) == 4 and all(type(x) in NUMBER for x in v)),
    ("probabilities", "a list of numbers", lambda v: v is None or _probabilities_ok([v])),
)


def _prediction_ok(p: object, where: str, file: str, problems: Problems) -> bool:
    if not isinstance(p, dict):
        problems.add(file, where, "an object {category_id, bbox, score}", shown(p))
        return False
    ok = True
    for key in sorted(set(p) - _ALLOWED):
        problems.add(file, f"{where}.{key}", f"only {', '.join(PREDICTION_KEYS)}", f"unknown key {key!r}{did_you_mean(key, PREDICTION_KEYS)}")
        ok = False
    for key, expected, valid in _FIELD_RULES:
        if key not in p and key != "probabilities":
            problems.add(file, f"{where}.{key}", expected, "nothing")
            ok = False
        elif not valid(p.get(key)):
            problems.add(file, f"{where}.{key}", expected, shown(p[key]))
            ok = False
    return ok


def _match_frames(parsed: list[ParsedFile], frames: Frames | None, problems: Problems) -> tuple[Frames, np.ndarray, tuple[str, ...]]:
    """The frames table and, for each parsed file, its row (-1 when it has no sample)."""
    names = np.array([p.sample for p in parsed], dtype=str) if parsed else np.zeros(0, "<U1")
    if frames is None:
        frames = frames_from_names(names)
    rows, found = lookup(frames.file_name, names)
    for p, ok in zip(parsed, found):
        if not ok:
            problems.add(p.file, "file_name", "the name of an image or video frame of the datasource", f"{p.sample!r}, which is not one")
    rows = np.where(found, rows, -1)
    has_file = np.zeros(len(frames), bool)
    has_file[rows[rows >= 0]] = True
    return frames, rows, tuple(frames.file_name[~has_file].tolist())


def frames_from_names(names: np.ndarray) -> Frames:
    """Frames made from sample names alone: `<video>-<i>-<ext>.png` are frames, others images."""
    parsed = [parse_frame_name(n) for n in names]
    return Frames.build(
        names,
        kind=["frame" if p else "image" for p in parsed],
        video=[p[0] if p else n for p, n in zip(parsed, names)],
        frame_index=[p[1] if p else 0 for p in parsed],
    )


def write_predictions(lightly: Location, task: PredictionTask, *, bbox_decimals: int = 3) -> None:
    """Write a task: schema.json, one file per frame of `task.frames` (empty lists too), tasks.json last.

    Boxes are written as [x, y, w, h] rounded to `bbox_decimals` (integers when all are
    whole numbers); scores and probabilities keep every digit. Each file is written whole
    (temporary name, then rename); the task appears in tasks.json only once its files exist.
    """
    write_schema(lightly, task.name, task.schema)
    dets = task.detections.sorted_by_frame()
    xywh = np.round(xyxy_to_xywh(dets.xyxy), bbox_decimals)
    boxes = xywh.astype(np.int64).tolist() if np.array_equal(xywh, np.round(xywh)) else xywh.tolist()
    starts = np.searchsorted(dets.frame, np.arange(len(task.frames) + 1))
    score, category = dets.score.tolist(), dets.class_id.tolist()
    probs = None if dets.probs is None else dets.probs.tolist()
    for row, name in enumerate(task.frames.file_name.tolist()):
        span = range(starts[row], starts[row + 1])
        preds = [_prediction(category[j], boxes[j], score[j], None if probs is None else probs[j]) for j in span]
        payload = {"file_name": name, "predictions": preds}
        lightly.write_bytes(prediction_file(task.name, name), json.dumps(payload).encode())
    add_task_name(lightly, task.name)


def _prediction(category: int, bbox: list, score: float, probs: list | None) -> dict:
    pred = {"category_id": category, "bbox": bbox, "score": score}
    if probs is not None:
        pred["probabilities"] = probs
    return pred
