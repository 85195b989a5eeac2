"""Thumbnails for the report: small JPEGs of frames, decoded once from the datasource.

Frames are read with `iter_pixels` (each video opened once and decoded forward), scaled so
the longer side is `THUMB_SIDE` pixels, and kept as JPEG bytes; boxes stay in the frame's own
pixels and are drawn over the image by the page (predicted and imputed boxes in two styles).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from thresher.detections import Detections
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.pixels import iter_pixels
from thresher.io.problems import Problems
from thresher.report.data import Thumbnails
from thresher.report.thumb_cache import ThumbnailCache, cached_items

THUMB_SIDE = 200
JPEG_QUALITY = 72


def jpeg_thumbnail(image: np.ndarray, side: int = THUMB_SIDE, quality: int = JPEG_QUALITY) -> bytes:
    """JPEG bytes of an RGB uint8 image scaled to `side` pixels on its longer side (never up)."""
    picture = Image.fromarray(np.ascontiguousarray(image))
    picture.thumbnail((side, side), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def _pixels(source: Datasource, frames: Frames, rows: np.ndarray, extracted: Path | None, infos: dict) -> Iterator[tuple[int, np.ndarray]]:
    """(row, RGB) of each row: from the run's extracted frame PNG when there is one, else decoded
    (videos whose VideoInfo is in `infos` are opened without another demux pass)."""
    decode: list[int] = []
    known: dict[str, list[int]] = {}  # video -> its rows to decode with the VideoInfo of `infos`
    for row in rows.tolist():
        png = extracted / str(frames.file_name[row]) if extracted is not None and frames.kind[row] == "frame" else None
        if png is not None and png.is_file():
            with Image.open(png) as image:
                yield row, np.asarray(image.convert("RGB"))
        elif frames.kind[row] == "frame" and str(frames.video[row]) in infos:
            known.setdefault(str(frames.video[row]), []).append(row)
        else:
            decode.append(row)
    for video, mine in known.items():
        yield from _video_rows(source, frames, video, mine, infos[video])
    yield from iter_pixels(source, frames, np.array(decode, dtype=np.int64), Problems())


def _video_rows(source: Datasource, frames: Frames, video: str, rows: list[int], info) -> Iterator[tuple[int, np.ndarray]]:
    from thresher.errors import DatasourceError
    from thresher.io.video import VideoReader

    rows = sorted(rows, key=lambda r: int(frames.frame_index[r]))
    try:
        reader = VideoReader(source.input, video, info=info)
    except DatasourceError:
        return  # a video that does not open gets no thumbnails
    with reader:
        for row in rows:
            try:
                pixels = reader[int(frames.frame_index[row])]
            except (DatasourceError, IndexError):
                continue  # a frame that does not decode gets no thumbnail; the next ones may
            yield row, pixels


def make_thumbnails(
    source: Datasource,
    frames: Frames,
    frame_ids: np.ndarray,
    boxes: Sequence[tuple[Frames, Detections, dict[int, str], bool]] = (),
    extracted: Path | None = None,
    video_infos: dict | None = None,
    side: int = THUMB_SIDE,
    cache: ThumbnailCache | None = None,
) -> Thumbnails:
    """Thumbnails of the frames `frame_ids` (rows of `frames`) with their boxes.

    boxes: (frames the detections index, detections, class names by id, imputed?) per task;
    extracted: a folder of frames the run already wrote as `<file_name>` PNG (read instead of
    decoding the video again); video_infos: VideoInfo of videos already probed; side: the
    longer side of each JPEG in pixels; cache: thumbnails of the last report, reused while
    their source file is unchanged (`thresher.report.thumb_cache`). Frames that cannot be
    decoded are left out.
    """
    rows = frames.index_of(np.unique(np.asarray(frame_ids, dtype=str)))
    kept, fresh, listing = cache.split(source, frames, rows) if cache is not None else (None, np.ones(len(rows), bool), None)
    ids, jpegs, sizes = [], [], []
    for row, image in _pixels(source, frames, rows[fresh], extracted, video_infos or {}):
        ids.append(str(frames.id[row]))
        jpegs.append(jpeg_thumbnail(image, side))
        sizes.append((image.shape[1], image.shape[0]))
    if cache is not None and listing is not None and (len(ids) or kept is None or len(kept) != len(rows)):  # listing: set with cache
        cache.store(listing, ids, jpegs, sizes, kept)
    for cached_id, jpeg, size in cached_items(kept):
        ids.append(cached_id)
        jpegs.append(jpeg)
        sizes.append(size)
    if not ids:
        return Thumbnails.empty()
    order = np.argsort(np.array(ids, dtype=str), kind="stable")  # sorted by frame id, whatever the reading order
    ids, jpegs, sizes = [ids[i] for i in order], [jpegs[i] for i in order], [sizes[i] for i in order]
    lengths = np.array([len(j) for j in jpegs], dtype=np.int64)
    offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    data = np.frombuffer(b"".join(jpegs), np.uint8).copy()
    frame_id = np.array(ids, dtype=str)
    return Thumbnails(frame_id, data, offsets, np.array(sizes, dtype=np.int64), *_boxes(frame_id, boxes))


def read_boxes(lightly, task: str, frames: Frames) -> tuple[Detections, dict[int, str]] | None:
    """The boxes of `task` on just these frames (their prediction files only, not the task's
    every file), and its class names; None when the task has no schema.

    For drawing only: a box that is not [x, y, w, h] numbers with a score is skipped (the run
    reported bad files already).
    """
    import orjson

    from thresher.io.lightly_predictions import prediction_file
    from thresher.io.lightly_schema import read_schema

    schema = read_schema(lightly, task, Problems())
    if schema is None:
        return None
    files = {prediction_file(task, str(name)): row for row, name in enumerate(frames.file_name.tolist())}
    rows, boxes, scores, classes = [], [], [], []
    for file, raw in lightly.read_many(list(files)).items():
        try:
            predictions = orjson.loads(raw)["predictions"] if not isinstance(raw, Exception) else []
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue
        for p in predictions if isinstance(predictions, list) else []:
            try:
                x, y, w, h = (float(v) for v in p["bbox"])
                score, category = float(p["score"]), int(p["category_id"])
            except (KeyError, TypeError, ValueError):
                continue
            rows.append(files[file])
            boxes.append((x, y, w, h))
            scores.append(score)
            classes.append(category)
    detections = Detections.from_xywh(np.array(rows, np.int64), np.array(boxes, np.float64).reshape(-1, 4), np.array(scores), np.array(classes, np.int64))
    return detections, schema.names


def _boxes(frame_id: np.ndarray, tasks) -> tuple[np.ndarray, ...]:
    """Box columns (labels, thumb, xyxy, label, score, imputed) of the thumbnailed frames."""
    labels: list[str] = []
    parts = []
    order = np.argsort(frame_id)
    for task_frames, detections, names, imputed in tasks:
        owner = task_frames.id[detections.frame] if len(detections) else np.zeros(0, str)
        position = np.searchsorted(frame_id[order], owner)
        position = np.minimum(position, len(frame_id) - 1)
        keep = frame_id[order][position] == owner
        kept = detections[keep]
        label_of = {}
        for class_id in np.unique(kept.class_id).tolist():
            name = names.get(class_id, str(class_id))
            if name not in labels:
                labels.append(name)
            label_of[class_id] = labels.index(name)
        label = np.array([label_of[c] for c in kept.class_id.tolist()], dtype=np.int64)
        parts.append((order[position[keep]], kept.xyxy.astype(np.float32), label, kept.score.astype(np.float32), np.full(len(kept), imputed)))
    if not parts:
        none = np.zeros(0, np.int64)
        return np.array(labels, dtype=str), none, np.zeros((0, 4), np.float32), none, np.zeros(0, np.float32), np.zeros(0, bool)
    columns = [np.concatenate([p[k] for p in parts]) for k in range(5)]
    labels_array = np.array(labels, dtype=str) if labels else np.zeros(0, "<U1")
    return (labels_array, columns[0].astype(np.int64), columns[1].reshape(-1, 4), columns[2], columns[3], columns[4].astype(bool))
