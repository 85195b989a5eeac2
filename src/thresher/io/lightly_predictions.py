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

from collections.abc import Callable
from pathlib import Path
from dataclasses import dataclass, field

import numpy as np
import orjson

from thresher.boxes import xyxy_to_xywh
from thresher.detections import Detections
from thresher.errors import DatasourceError, SchemaError, did_you_mean
from thresher.frames import Frames
from thresher.io import lightly_cache
from thresher.io.file_cache import CachedFiles, Listing
from thresher.io.lightly_checks import UNCERTAINTY_KEYS, check_boxes, gather
from thresher.io.lightly_schema import (
    PREDICTIONS_DIR,
    PredictionSchema,
    add_task_name,
    parse_json,
    read_schema,
    write_schema,
)
from thresher.io.names import json_name, parse_frame_name
from thresher.io.problems import Problem, Problems, collector, shown
from thresher.io.storage import Location, safe_name
from thresher.table import lookup


@dataclass(frozen=True)
class PredictionTask:
    """A prediction task read from (or to be written to) a Lightly datasource.

    `frames` holds every sample the task covers; `detections.frame` indexes it. Samples
    whose prediction file was unusable are listed in `invalid` (their boxes are left out);
    samples of a given datasource with no prediction file at all are listed in `missing`
    (`predicted_frames` tells which of them count as "predicted, no object"). `files_digest`
    changes whenever the task's files, schema or frames change (reuse checks keep it).
    `problems`: what `read_predictions` found wrong in the files, when it collected problems
    (`invalid_reasons` and `files_for_no_sample` sort them out).
    """

    name: str
    schema: PredictionSchema
    frames: Frames
    detections: Detections
    invalid: tuple[str, ...] = field(default=())
    missing: tuple[str, ...] = field(default=())
    files_digest: str = ""  # of the files read, their schema and frames (`lightly_cache.listing_digest`); "" when not read
    problems: tuple[Problem, ...] = field(default=(), compare=False)


def invalid_reasons(task: PredictionTask) -> dict[str, str]:
    """For each sample of `task.invalid`, what is wrong with its prediction file (its first
    problem, without the file name; "" when the task was read without collecting problems)."""
    first: dict[str, str] = {}
    for problem in task.problems:
        first.setdefault(problem.file, problem.reason)
    return {name: first.get(prediction_file(task.name, name), "") for name in task.invalid}


def files_for_no_sample(task: PredictionTask) -> list[str]:
    """The prediction files of `task.invalid` whose `file_name` is no sample of `task.frames`."""
    stray = np.setdiff1d(np.asarray(task.invalid, dtype=str), task.frames.file_name)
    return [prediction_file(task.name, name) for name in stray.tolist()]


def predicted_frames(task: PredictionTask) -> np.ndarray:
    """Boolean per row of `task.frames`: the task has a prediction for this frame (see
    `thresher.io.coverage`): its valid file, or no file in a video the task predicted (read
    as "no object", as LightlyOne reads it). Frames with an invalid file are left out."""
    from thresher.io.coverage import covered_frames

    has_file = ~np.isin(task.frames.file_name, np.asarray(task.missing, dtype=str))
    return covered_frames(task.frames, has_file) & ~np.isin(task.frames.file_name, np.asarray(task.invalid, dtype=str))


def predicted_part(task: PredictionTask, keep: np.ndarray | None = None) -> tuple[Frames, Detections]:
    """The frames a task has predictions for (`predicted_frames`, or the rows of `task.frames`
    that `keep` marks) and their boxes re-indexed.

    A frame of a predicted video without a prediction file is kept, with no box.
    """
    keep = predicted_frames(task) if keep is None else keep
    new_row = np.cumsum(keep) - 1
    dets = task.detections[keep[task.detections.frame]] if len(task.detections) else task.detections
    return task.frames[keep], dets.replace(frame=new_row[dets.frame])


def task_dir(task: str) -> str:
    return f"{PREDICTIONS_DIR}/{task}"


def prediction_file(task: str, sample_name: str) -> str:
    return f"{task_dir(task)}/{json_name(sample_name)}"


def read_predictions(
    lightly: Location,
    task: str,
    frames: Frames | None = None,
    problems: Problems | None = None,
    *,
    cache: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
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
        cache: a local folder for the columnar cache (`thresher.io.lightly_cache`): the files
            whose size and modification time did not change since they were read without a
            problem are loaded from arrays, only the others are parsed.
        progress: called with (files parsed, files to parse) while files are parsed.

    Example (a task written by `write_predictions`, read back with its frames)::

        >>> import tempfile
        >>> from thresher import Detections, Frames, PredictionSchema, PredictionTask, write_predictions
        >>> from thresher.io.storage import Location
        >>> lightly = Location(tempfile.mkdtemp())
        >>> frames = Frames.build(["a.jpg"], width=640, height=480)
        >>> boxes = Detections(frame=[0], xyxy=[[10, 20, 110, 220]], score=[0.9], class_id=[0])
        >>> write_predictions(lightly, PredictionTask("det", PredictionSchema.detection(["car"]), frames, boxes))
        >>> read_predictions(lightly, "det", frames).detections.xyxy.tolist()
        [[10.0, 20.0, 110.0, 220.0]]
    """
    problems = collector(problems)
    start = len(problems)
    schema = read_schema(lightly, task, problems)
    if schema is None:
        raise SchemaError(f"task {task!r} has no usable schema: {problems[-1] if problems else ''}")
    if schema.task_type != "object-detection":
        raise SchemaError(f"task {task!r}: reading {schema.task_type} predictions is not supported yet, only object-detection")
    listing = prediction_listing(lightly, task)
    cached = lightly_cache.load(cache, lightly, task, schema) if cache is not None else None
    found = _read_files(lightly, task, schema, listing, cached, frames, problems, progress, cache is not None)
    if found is None:  # the changed files disagree with the cached ones on the task's optional fields: parse all
        found = _read_files(lightly, task, schema, listing, None, frames, problems, progress, cache is not None)
    assert found is not None  # nothing cached: the parsed files cannot disagree with cached ones
    digest = lightly_cache.listing_digest(listing, schema, frames)
    matched, detections, invalid, missing, clean = found
    if cache is not None and clean is not None:
        lightly_cache.store(cache, lightly, task, schema, clean)
    return PredictionTask(task, schema, matched, detections, invalid, missing, files_digest=digest, problems=tuple(problems[start:]))


def prediction_listing(lightly: Location, task: str) -> Listing:
    """The task's prediction files with their sizes and modification times (one walk of its folder)."""
    base = task_dir(task)
    return Listing.of(lightly, base, keep=lambda names: np.char.endswith(names, ".json") & (names != f"{base}/schema.json") & ~_hidden(names))


OPTIONAL_FIELDS = ("probabilities", *UNCERTAINTY_KEYS)  # per-box fields a task has on every box or on none


def optional_fields(lightly: Location, task: str, batch: int = 64, cache: Path | None = None) -> frozenset[str]:
    """The optional per-box fields (`OPTIONAL_FIELDS`) of the task's prediction files, read from
    the first file that has a prediction (a task has each field on every box or on none); empty
    when no file has one. Cheap: it stops at that file, without checking the task's files.
    `cache`: the folder of the columnar cache (`thresher.io.lightly_cache`); a cached file with
    boxes that did not change since tells the fields without reading any prediction file.

    Example::

        >>> import tempfile
        >>> from thresher import Detections, Frames, PredictionSchema, PredictionTask, write_predictions
        >>> lightly = Location(tempfile.mkdtemp())
        >>> boxes = Detections(frame=[0], xyxy=[[10, 20, 110, 220]], score=[0.9], class_id=[0], probs=[[1.0]])
        >>> write_predictions(lightly, PredictionTask("det", PredictionSchema.detection(["car"]), Frames.build(["a.jpg"], width=640, height=480), boxes))
        >>> sorted(optional_fields(lightly, "det"))
        ['probabilities']
    """
    listing = prediction_listing(lightly, task)
    known = _cached_fields(lightly, task, listing, cache) if cache is not None else None
    if known is not None:
        return known
    names = listing.name.tolist()
    for start in range(0, len(names), batch):
        contents = lightly.read_many(names[start : start + batch])
        for name in names[start : start + batch]:
            box = _first_prediction(contents.get(name))
            if box is not None:
                return frozenset(key for key in OPTIONAL_FIELDS if key in box)
    return frozenset()


def _cached_fields(lightly: Location, task: str, listing: Listing, cache: Path) -> frozenset[str] | None:
    """`optional_fields` from the task's columnar cache: the fields its cached boxes carry, when
    a cached file with boxes has the size and time it has now; None otherwise (then read)."""
    schema = read_schema(lightly, task, Problems())
    table = lightly_cache.load(cache, lightly, task, schema) if schema is not None else None
    if table is None:
        return None
    with_boxes = np.flatnonzero(table.counts > 0)
    rows, found = lookup(listing.name, table.name[with_boxes])
    same = found & (listing.size[rows] == table.size[with_boxes]) & (listing.mtime_ns[rows] == table.mtime_ns[with_boxes])
    if not same.any():
        return None
    return frozenset(key for key in OPTIONAL_FIELDS if key in table.per_item)


def _first_prediction(raw: bytes | Exception | None) -> dict | None:
    """The first prediction (a dict) of a prediction file's bytes, None when it has none or does not parse."""
    if not isinstance(raw, bytes):
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    predictions = data.get("predictions") if isinstance(data, dict) else None
    first = predictions[0] if isinstance(predictions, list) and predictions else None
    return first if isinstance(first, dict) else None


def _hidden(names: np.ndarray) -> np.ndarray:
    """Names whose last part starts with a dot."""
    return np.char.startswith(np.char.rpartition(names, "/")[:, 2], ".") if len(names) else np.zeros(0, bool)


def _read_files(
    lightly: Location, task: str, schema: PredictionSchema, listing: Listing, cached: CachedFiles | None, frames: Frames | None, problems: Problems, progress, caching: bool
) -> tuple | None:
    """(frames, detections, invalid, missing, rows to cache) of the listed files, parsing only
    those the cache does not hold unchanged. The rows to cache are the files read without a
    problem, None when `caching` is off or nothing changed. None instead of the tuple when the
    parsed files and the cached ones disagree on the optional fields (problems found on the way
    are withdrawn: parse all again)."""
    before = len(problems)
    kept, fresh = CachedFiles.split(cached, listing)
    names = listing.name[fresh].tolist()
    read = {}
    for done, (name, raw) in enumerate(lightly.read_many(names).items(), 1):
        read[name] = _parse_file(name, raw, task, problems)
        if progress and (done % 1000 == 0 or done == len(names)):
            progress(done, len(names))
    parsed = [p for p in read.values() if p is not None]
    after_parse = len(problems)
    n_kept = 0 if kept is None else len(kept)
    parsed_files, parsed_samples = np.array([p.file for p in parsed], dtype=str), np.array([p.sample for p in parsed], dtype=str)
    files = parsed_files if kept is None else np.concatenate([kept.name, parsed_files]).astype(str)
    samples = parsed_samples if kept is None else np.concatenate([kept.per_file["sample"], parsed_samples]).astype(str)
    order = np.argsort(files, kind="stable")
    files, samples = files[order], samples[order]
    frames, rows, missing = _match_frames(files, samples, frames, problems)
    after_match = len(problems)
    columns = gather(parsed, np.zeros(len(parsed), np.int64), len(schema.categories), problems)
    after_gather = len(problems)
    fresh_table = lightly_cache.to_rows(parsed_files, parsed_samples, listing, columns, len(parsed))
    table = _joined(kept, fresh_table, order)
    if table is None:
        del problems[before:]
        return None
    invalid_file = np.concatenate([np.zeros(n_kept, bool), np.array([p.invalid for p in parsed], dtype=bool)])[order]
    boxes = lightly_cache.to_columns(table, rows, len(schema.categories))
    good_file = check_boxes(boxes, files, invalid_file, rows, frames, schema, problems)
    unreadable = _samples_of_files([name for name, p in read.items() if p is None], task, frames)
    invalid = tuple(sorted(set(samples[~good_file].tolist()) | unreadable))
    detections = boxes.detections(good_file)
    changed = caching and (cached is None or bool(fresh.any()) or n_kept != len(cached))
    dirty = {p.file for p in [*problems[before:after_parse], *problems[after_match:after_gather]]}
    clean = table.take(np.flatnonzero(~np.isin(table.name, list(dirty)) & ~invalid_file)) if changed else None
    return frames, detections, invalid, missing, clean


def _joined(kept: CachedFiles | None, fresh: CachedFiles, order: np.ndarray) -> CachedFiles | None:
    """The cached and parsed files in `order`; None when one part has boxes with an optional
    field (probabilities, per-box uncertainty) the other part's boxes lack."""
    if kept is None:
        return fresh.take(order)
    parts = [kept, fresh]
    keys = set(parts[0].per_item) | set(parts[1].per_item)
    for key in keys:
        lacking = [p for p in parts if key not in p.per_item]
        if not lacking:
            continue
        if any(p.counts.sum() for p in lacking):
            return None
        having = next(p for p in parts if key in p.per_item).per_item[key]
        for i, p in enumerate(parts):
            if key not in p.per_item:
                parts[i] = CachedFiles(p.name, p.size, p.mtime_ns, p.per_file, p.counts, {**p.per_item, key: np.zeros((0, *having.shape[1:]), having.dtype)})
    return CachedFiles.concat(parts).take(order)


def _samples_of_files(files: list[str], task: str, frames: Frames) -> set[str]:
    """The samples whose prediction file is one of `files` (used for unparseable files)."""
    if not files:
        return set()
    by_file = {prediction_file(task, name): name for name in frames.file_name.tolist()}
    return {by_file[f] for f in files if f in by_file}


@dataclass
class ParsedFile:
    """One prediction file whose structure is sound; its predictions are checked task-wide."""

    file: str
    sample: str
    predictions: list
    invalid: bool = False
    positions: list[int] | None = None  # original index of each kept prediction, after diagnosis


def _parse_file(file: str, raw: bytes | Exception, task: str, problems: Problems) -> ParsedFile | None:
    data = parse_json(raw, file, problems)
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("predictions"), list):
        got = data.get("predictions") if isinstance(data, dict) else data
        problems.add(file, "predictions", "a JSON object with a 'predictions' list", shown(got))
        return None
    sample = _sample_name(data.get("file_name"), file, task, problems)
    if sample is None:
        return None
    for key in sorted(set(data) - {"file_name", "predictions"}):
        problems.add(file, key, "only file_name and predictions", f"unknown key {key!r}{did_you_mean(key, ['file_name', 'predictions'])}")
    return ParsedFile(file, sample, data["predictions"])


def _sample_name(file_name: object, file: str, task: str, problems: Problems) -> str | None:
    if not isinstance(file_name, str):
        problems.add(file, "file_name", "the sample's name, a string", shown(file_name))
        return None
    try:
        name = safe_name(file_name)
    except DatasourceError as exc:
        problems.add(file, "file_name", "a name inside the datasource", str(exc))
        return None
    if prediction_file(task, name) != file:
        stem = file[len(task_dir(task)) + 1 : -len(".json")]
        problems.add(file, "file_name", f"the name of the sample this file is for ({stem}.<ext>)", repr(file_name))
        return None
    return name


def _match_frames(files: np.ndarray, samples: np.ndarray, frames: Frames | None, problems: Problems) -> tuple[Frames, np.ndarray, tuple[str, ...]]:
    """The frames table and, for each file (its sample's name in `samples`), its row (-1 when it has no sample)."""
    names = samples if len(samples) else np.zeros(0, "<U1")
    if frames is None:
        frames = frames_from_names(names)
    rows, found = lookup(frames.file_name, names)
    for i in np.flatnonzero(~found).tolist():
        problems.add(str(files[i]), "file_name", "the name of an image or video frame of the datasource", f"{str(samples[i])!r}, which is not one")
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


def write_predictions(lightly: Location, task: PredictionTask, *, bbox_decimals: int = 3, skip_unchanged: bool = False) -> None:
    """Write a task: schema.json, one file per frame of `task.frames` (empty lists too), tasks.json last.

    Boxes are written as [x, y, w, h] rounded to `bbox_decimals` (integers when all are
    whole numbers); scores and probabilities keep every digit. Each file is written whole
    (temporary name, then rename); the task appears in tasks.json only once its files exist.
    `skip_unchanged`: files that already hold the same bytes are not written again.

    Example (write a task, then read it back)::

        >>> import tempfile
        >>> from thresher import Detections, Frames, PredictionSchema, PredictionTask
        >>> from thresher.io.storage import Location
        >>> lightly = Location(tempfile.mkdtemp())
        >>> frames = Frames.build(["a.jpg"], width=640, height=480)
        >>> boxes = Detections(frame=[0], xyxy=[[10, 20, 110, 220]], score=[0.9], class_id=[0])
        >>> write_predictions(lightly, PredictionTask("det", PredictionSchema.detection(["car"]), frames, boxes))
        >>> sorted(name.rsplit("/", 1)[-1] for name in lightly.files(".lightly/predictions/det"))
        ['a.json', 'schema.json']
    """
    write_schema(lightly, task.name, task.schema)
    write_prediction_files(lightly, task.name, task.frames, task.detections, bbox_decimals=bbox_decimals, skip_unchanged=skip_unchanged)
    add_task_name(lightly, task.name)


def write_prediction_files(
    lightly: Location,
    task: str,
    frames: Frames,
    detections: Detections,
    *,
    rows: np.ndarray | None = None,
    bbox_decimals: int = 3,
    skip_unchanged: bool = False,
) -> None:
    """Write the prediction file of each frame in `rows` (default: all), each file whole.

    `detections.frame` indexes `frames`; a frame with no box gets an empty predictions list.
    `skip_unchanged`: read the existing files first and leave those with the same bytes alone
    (cheaper than rewriting when most files are the same, e.g. imputed boxes of a rerun).
    """
    rows = np.arange(len(frames)) if rows is None else np.asarray(rows, dtype=np.int64)
    dets = detections.sorted_by_frame()
    xywh = np.round(xyxy_to_xywh(dets.xyxy), bbox_decimals)
    boxes = xywh.astype(np.int64).tolist() if np.array_equal(xywh, np.round(xywh)) else xywh.tolist()
    starts = np.searchsorted(dets.frame, np.arange(len(frames) + 1))
    score, category = dets.score.tolist(), dets.class_id.tolist()
    probs = None if dets.probs is None else dets.probs.tolist()
    extras = {key: getattr(dets, key).tolist() for key in UNCERTAINTY_KEYS if getattr(dets, key) is not None}
    present = _existing_files(lightly, task, frames, rows) if skip_unchanged else {}
    for row in rows.tolist():
        name = str(frames.file_name[row])
        span = range(starts[row], starts[row + 1])
        preds = [_prediction(category[j], boxes[j], score[j], None if probs is None else probs[j], {k: v[j] for k, v in extras.items()}) for j in span]
        file, payload = prediction_file(task, name), orjson.dumps({"file_name": name, "predictions": preds})
        if present.get(file) != payload:
            lightly.write_bytes(file, payload)


def _existing_files(lightly: Location, task: str, frames: Frames, rows: np.ndarray) -> dict[str, bytes]:
    """Bytes of the rows' prediction files that exist (unreadable ones are simply rewritten)."""
    on_disk = set(lightly.files(task_dir(task)))
    wanted = [f for f in (prediction_file(task, str(frames.file_name[r])) for r in rows.tolist()) if f in on_disk]
    return {f: data for f, data in lightly.read_many(wanted).items() if isinstance(data, bytes)}


def _prediction(category: int, bbox: list, score: float, probs: list | None, extras: dict | None = None) -> dict:
    pred = {"category_id": category, "bbox": bbox, "score": score}
    if probs is not None:
        pred["probabilities"] = probs
    pred.update(extras or {})
    return pred
