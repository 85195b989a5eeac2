"""COCO detection results → a Lightly prediction task.

A COCO results file is a JSON list of detections:

```
[{"image_id": 42, "category_id": 3, "bbox": [x, y, w, h], "score": 0.81}, ...]
```

`bbox` is top-left x, y, width, height in pixels, as in the Lightly format, so boxes are copied
(then clipped to the image). Results carry no image names and no category names: both come
from the COCO annotations file of the same images (`images`: id, file_name, width, height;
`categories`: id, name). Every image of the annotations file must be a sample of the
datasource; images without any result get an empty prediction file. Other keys of a result
(`id`, `area`, `segmentation`, …) are ignored; COCO results have no class probabilities.
"""

from __future__ import annotations

import posixpath

import numpy as np

from thresher.boxes import xywh_to_xyxy
from thresher.errors import DatasourceError, SchemaError
from thresher.frames import Frames
from thresher.io.conversion import Boxes, MediaIndex, add_each, assemble_task, number, outside_image
from thresher.io.lightly_predictions import PredictionTask
from thresher.io.lightly_schema import Category, PredictionSchema
from thresher.io.names import frame_digits, frame_name, parse_frame_name
from thresher.io.problems import Problems, collector, shown
from thresher.io.storage import safe_name

INT64 = 2**63


def _is_int(value: object) -> bool:
    return type(value) is int and -INT64 <= value < INT64


def _is_number(value: object) -> bool:
    return type(value) is float or _is_int(value)


def coco_to_task(
    results: object,
    annotations: object,
    frames: Frames,
    *,
    task: str,
    strip: str = "",
    prefix: str = "",
    results_file: str = "results.json",
    annotations_file: str = "annotations.json",
    problems: Problems | None = None,
) -> PredictionTask:
    """Convert parsed COCO results and annotations into a prediction task of the datasource.

    Args:
        results: the parsed results file (a list of detections).
        annotations: the parsed COCO annotations file (its `images` and `categories`).
        frames: the datasource's samples (`Datasource.frames()`), with their sizes.
        task: the name of the task to create.
        strip, prefix: COCO file names are mapped to datasource names by removing the
            leading `strip` then adding `prefix` ('val2017/a.jpg', strip='val2017/' → 'a.jpg').
        results_file, annotations_file: the names used in messages.
        problems: a collector to record every problem and skip what is unusable (an image
            with any bad result is left out and listed in `invalid`); None raises
            `SchemaError` at the first.
    """
    problems = collector(problems)
    schema = _schema(annotations, annotations_file, problems)
    images = _images(annotations, annotations_file, frames, strip, prefix, problems)
    if schema is None or images is None:
        raise SchemaError(f"cannot convert: {problems[-1]}")
    if not isinstance(results, list):
        problems.add(results_file, "", "a JSON list of {image_id, category_id, bbox, score}", shown(results))
        raise SchemaError(f"cannot convert: {problems[-1]}")
    index, columns = _columns(results, results_file, problems)
    boxes, invalid = _boxes(index, columns, images, frames, schema, results_file, annotations_file, problems)
    covered = np.zeros(len(frames), bool)
    covered[list(images.rows.values())] = True
    return assemble_task(task, schema, frames, covered, boxes, invalid | images.invalid)


def _schema(annotations: object, file: str, problems: Problems) -> PredictionSchema | None:
    value = annotations.get("categories") if isinstance(annotations, dict) else None
    if not isinstance(value, list) or not value:
        problems.add(file, "categories", "a non-empty list of {id, name}", shown(value))
        return None
    categories, seen = [], set()
    for i, item in enumerate(value):
        ok = isinstance(item, dict) and type(item.get("id")) is int and item["id"] >= 0
        if not ok or not isinstance(item.get("name"), str) or not item["name"].strip():
            problems.add(file, f"categories[{i}]", "{id: integer >= 0, name: non-empty string}", shown(item))
        elif item["id"] in seen:
            problems.add(file, f"categories[{i}].id", "unique category ids", f"{item['id']} again")
        else:
            seen.add(item["id"])
            categories.append(Category(item["id"], item["name"]))
    return PredictionSchema("object-detection", tuple(categories)) if len(categories) == len(value) else None


class _Images:
    """The annotations' images: id → datasource row, and rows whose image entry had a problem."""

    def __init__(self, n_frames: int):
        self.rows: dict[int, int] = {}
        self.unusable: set[int] = set()  # ids whose entry was reported already
        self.invalid = np.zeros(n_frames, bool)


def _images(annotations: object, file: str, frames: Frames, strip: str, prefix: str, problems: Problems) -> _Images | None:
    value = annotations.get("images") if isinstance(annotations, dict) else None
    if not isinstance(value, list):
        problems.add(file, "images", "a list of {id, file_name, width, height}", shown(value))
        return None
    images, index = _Images(len(frames)), MediaIndex(frames)
    taken: dict[int, int] = {}  # datasource row -> its images[] entry
    for i, item in enumerate(value):
        where = f"images[{i}]"
        if not isinstance(item, dict) or type(item.get("id")) is not int or not isinstance(item.get("file_name"), str):
            problems.add(file, where, "{id: integer, file_name: string, width, height}", shown(item))
            if isinstance(item, dict) and type(item.get("id")) is int:
                images.unusable.add(item["id"])
            continue
        image_id = item["id"]
        if image_id in images.rows or image_id in images.unusable:
            problems.add(file, f"{where}.id", "unique image ids", f"{image_id} again")
            continue
        row = _row(item["file_name"], strip, prefix, index, file, where, problems)
        if row is None or row in taken:
            if row is not None:
                problems.add(file, f"{where}.file_name", "one image entry per datasource sample", f"{item['file_name']!r} again (as images[{taken[row]}])")
            images.unusable.add(image_id)
            continue
        taken[row] = i
        images.rows[image_id] = row
        if not _size_ok(item, frames, row, file, where, problems):
            images.invalid[row] = True
    return images


def _row(file_name: str, strip: str, prefix: str, index: MediaIndex, file: str, where: str, problems: Problems) -> int | None:
    """The datasource row of a COCO file name, or None after recording why there is none."""
    name = prefix + (file_name[len(strip) :] if strip and file_name.startswith(strip) else file_name)
    try:
        name = safe_name(name)
    except DatasourceError as exc:
        problems.add(file, f"{where}.file_name", "a name relative to the datasource (see --strip, --prefix)", f"{exc}{_strip_hint(name, index)}")
        return None
    row = index.row(name)
    if row is None:
        frame = _frame_problem(name, index)
        if frame is not None:
            problems.add(file, f"{where}.file_name", frame[0], f"{file_name!r} ({frame[1]})")
        else:
            problems.add(file, f"{where}.file_name", "the name of an image of the datasource", f"{file_name!r}{_hint(name, index)}")
    return row


def _strip_hint(name: str, index: MediaIndex) -> str:
    """A suggested --strip for a name that is no relative path (an absolute path, `../x`) but
    ends with the name of a datasource sample: the shortest part cut off that leaves one."""
    parts = name.replace("\\", "/").split("/")
    for k in range(1, len(parts)):
        rest = "/".join(parts[k:])
        if rest and index.row(rest) is not None:
            return f" (the datasource has {rest!r}: try --strip {name[: -len(rest)]!r})"
    return ""


def _frame_problem(name: str, index: MediaIndex) -> tuple[str, str] | None:
    """(expected, why) for a frame name of a datasource video that is no frame of it: past its
    last frame, or with the frame number padded to other than the video's number of digits."""
    parsed = parse_frame_name(name)
    if parsed is None or parsed[0] not in index.videos:
        return None
    video, number, digits = parsed
    n = index.videos[video]
    expected = f"a frame of {video} ({n} frames), {frame_name(video, 0, n)} to {frame_name(video, n - 1, n)}"
    if number >= n:
        return expected, f"frame {number} is past its last frame, {n - 1}"
    if digits == frame_digits(n):
        return None
    return expected, f"frame numbers are zero-padded to {frame_digits(n)} digits: {frame_name(video, number, n)!r}"


def _hint(name: str, index: MediaIndex) -> str:
    """A suggested --strip or --prefix when a datasource file has the same trailing name."""
    if name in index.videos:
        return f" (a video: its frames are named {frame_name(name, 0, index.videos[name])}, …)"
    shorter = index.by_path(name)
    if shorter is not None and shorter != name and shorter in index.images:
        return f" (the datasource has {shorter!r}: try --strip {name[: -len(shorter)]!r})"
    longer = [m for m in index.by_stem(posixpath.splitext(name)[0]) if m.endswith("/" + name) and m in index.images]
    if len(longer) == 1:
        return f" (the datasource has {longer[0]!r}: try --prefix {longer[0][: -len(name)]!r})"
    return ""


def _size_ok(item: dict, frames: Frames, row: int, file: str, where: str, problems: Problems) -> bool:
    """Whether the image's width and height, when given, are the datasource sample's (after EXIF rotation)."""
    width, height = item.get("width"), item.get("height")
    if width is None and height is None:
        return True
    expected = (int(frames.width[row]), int(frames.height[row]))
    if (width, height) != expected:
        problems.add(
            file,
            f"{where}.width, height",
            f"the size of {frames.file_name[row]!s} after EXIF rotation, {expected[0]}x{expected[1]}",
            f"{shown(width)}x{shown(height)}",
        )
        return False
    return True


def _columns(results: list, file: str, problems: Problems) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Positions and columns (image_id, category_id, bbox, score) of the well-formed results."""
    columns = _fast_columns(results)
    if columns is not None:
        return np.arange(len(results)), columns
    good = [i for i, r in enumerate(results) if _result_ok(r, f"[{i}]", file, problems)]
    good_columns = _fast_columns([results[i] for i in good])
    assert good_columns is not None  # each result passed `_result_ok`: int64 ids, four numbers
    return np.array(good, dtype=np.int64), good_columns


def _fast_columns(results: list) -> dict[str, np.ndarray] | None:
    """The columns of a list of well-formed results, or None when any result is off."""
    try:
        columns = {key: np.array([r[key] for r in results]) for key in ("image_id", "category_id", "bbox", "score")}
    except (KeyError, TypeError, ValueError):  # ValueError: bboxes of different lengths
        return None
    n = len(results)
    ok = (
        columns["image_id"].dtype.kind == "i"
        and columns["category_id"].dtype.kind == "i"
        and columns["score"].dtype.kind in "if"
        and columns["bbox"].dtype.kind in "if"
        and columns["bbox"].shape == (n, 4)
    )
    if not ok and n:
        return None
    found = {
        "image_id": columns["image_id"].astype(np.int64).reshape(n),
        "category_id": columns["category_id"].astype(np.int64).reshape(n),
        "bbox": columns["bbox"].astype(np.float64).reshape(n, 4),
        "score": columns["score"].astype(np.float64).reshape(n),
    }
    return {**found, **_uncertainty_columns(results)}


def _uncertainty_columns(results: list) -> dict[str, np.ndarray]:
    """thresher's optional per-box uncertainty (as `coco_dataset` writes it), kept when every
    result carries it as finite numbers >= 0 of the right shape; otherwise left out."""
    found = {}
    for key, shape in (("box_std", (4,)), ("box_spread", (4,)), ("class_spread", ())):
        if not results or not all(isinstance(r, dict) and key in r for r in results):
            continue
        try:
            values = np.array([r[key] for r in results], dtype=np.float64)
        except (TypeError, ValueError):
            continue
        if values.shape == (len(results), *shape) and np.isfinite(values).all() and (values >= 0).all():
            found[key] = values
    return found


_RULES = (
    ("image_id", "an integer image id", _is_int),
    ("category_id", "an integer category id", _is_int),
    ("bbox", "[x, y, w, h], four numbers in pixels", lambda v: type(v) is list and len(v) == 4 and all(_is_number(x) for x in v)),
    ("score", "a number in [0, 1]", _is_number),
)


def _result_ok(result: object, where: str, file: str, problems: Problems) -> bool:
    if not isinstance(result, dict):
        problems.add(file, where, "an object {image_id, category_id, bbox, score}", shown(result))
        return False
    ok = True
    for key, expected, valid in _RULES:
        if key not in result or not valid(result[key]):
            problems.add(file, f"{where}.{key}", expected, shown(result[key]) if key in result else "nothing")
            ok = False
    return ok


def _boxes(index, columns, images: _Images, frames: Frames, schema, file: str, annotations_file: str, problems: Problems):
    """The boxes of usable results, and the datasource rows made invalid by a bad result."""
    ids = np.array(sorted(images.rows), dtype=np.int64)
    rows_of_ids = np.array([images.rows[i] for i in ids.tolist()], dtype=np.int64)
    position, known = _positions(ids, columns["image_id"])
    skipped = np.isin(columns["image_id"], list(images.unusable))  # their image entry was reported
    got = lambda name: lambda i: number(columns[name][i])  # noqa: E731
    add_each(problems, ~known & ~skipped, file, lambda i: f"[{index[i]}].image_id", f"an image id of {annotations_file}'s images", got("image_id"))
    rows = np.where(known, rows_of_ids[position] if len(ids) else 0, -1)
    xywh, score = columns["bbox"], columns["score"]
    xyxy = xywh_to_xyxy(xywh)
    width, height = frames.width[np.maximum(rows, 0)], frames.height[np.maximum(rows, 0)]
    box = lambda i: "[" + ", ".join(number(v) for v in xywh[i]) + "]"  # noqa: E731
    finite = np.isfinite(xywh).all(axis=1)
    sized = finite & (xywh[:, 2] >= 0) & (xywh[:, 3] >= 0)
    checks = (
        ("category_id", f"one of {annotations_file}'s category ids {_ids(schema)}", ~np.isin(columns["category_id"], schema.ids), got("category_id")),
        ("bbox", "[x, y, w, h] with finite numbers, w >= 0 and h >= 0", ~sized, box),
        ("bbox", "a box overlapping its image", sized & outside_image(xyxy, width, height), lambda i: f"{box(i)} in an image of {width[i]}x{height[i]}"),
        ("score", "a number in [0, 1]", ~((score >= 0) & (score <= 1)), got("score")),
    )
    bad = np.zeros(len(rows), bool)
    for field, expected, wrong, shown_value in checks:
        wrong = wrong & known
        add_each(problems, wrong, file, lambda i, f=field: f"[{index[i]}].{f} (of {frames.file_name[rows[i]]})", expected, shown_value)
        bad |= wrong
    invalid = np.zeros(len(frames), bool)
    invalid[rows[bad]] = True
    usable = known & ~bad
    extras = {key: columns[key][usable] for key in ("box_std", "box_spread", "class_spread") if key in columns}
    boxes = Boxes(rows[usable], np.where(finite[:, None], xyxy, 0)[usable], score[usable], columns["category_id"][usable], extras)
    return boxes, invalid


def _positions(ids: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(ids) == 0:
        return np.zeros(len(queries), np.int64), np.zeros(len(queries), bool)
    position = np.minimum(np.searchsorted(ids, queries), len(ids) - 1)
    return position, ids[position] == queries


def _ids(schema: PredictionSchema) -> str:
    ids = schema.ids.tolist()
    return str(ids) if len(ids) <= 8 else f"[{ids[0]}, ..., {ids[-1]}]"
