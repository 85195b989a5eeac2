"""`ReportData`: what a run's report shows, saved in the run folder so `thresher report RUN`
can rebuild the page without the run (and `thresher serve` can browse the run).

Two files: `report_data.json` (run id, counts, timings, config, the inputs and their labels,
class names, where the datasource and the embeddings are) and `report_data.npz` (numpy
arrays, no pickle: the samples, every input's value for every sample, colour columns, class
counts, the 2-D projection, near-duplicate pairs, JPEG thumbnails and their boxes). Strings
are stored as UTF-8 blobs of their distinct values plus an index, so 100,000 file names take
a few MB, not the 4 bytes per character of numpy's unicode arrays.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from thresher.errors import UsageError
from thresher.frames import Frames

DATA_JSON = "report_data.json"
DATA_NPZ = "report_data.npz"
FORMAT_VERSION = 1
_SEPARATOR = "\x00"
_FRAME_STRINGS = ("id", "kind", "file_name", "video", "parent_id")
_FRAME_NUMBERS = ("frame_index", "width", "height")


@dataclass(frozen=True, eq=False)
class Thumbnails:
    """Small JPEG images of frames (keyed by frame id) and the boxes drawn on them.

    data/offsets: JPEG bytes of thumbnail t are data[offsets[t]:offsets[t + 1]].
    size: (T, 2) int the frame's width and height in pixels (boxes are in those pixels).
    box_thumb: row of the thumbnail each box belongs to; box_xyxy float32 pixels;
    box_label: index into `labels`; box_score float32; box_imputed True for imputed boxes.
    """

    frame_id: np.ndarray
    data: np.ndarray
    offsets: np.ndarray
    size: np.ndarray
    labels: np.ndarray
    box_thumb: np.ndarray
    box_xyxy: np.ndarray
    box_label: np.ndarray
    box_score: np.ndarray
    box_imputed: np.ndarray

    def __len__(self) -> int:
        return len(self.frame_id)

    def jpeg(self, t: int) -> bytes:
        return self.data[self.offsets[t] : self.offsets[t + 1]].tobytes()

    @classmethod
    def empty(cls) -> "Thumbnails":
        none = np.zeros(0, np.int64)
        return cls(
            np.zeros(0, "<U1"),
            np.zeros(0, np.uint8),
            np.zeros(1, np.int64),
            np.zeros((0, 2), np.int64),
            np.zeros(0, "<U1"),
            none,
            np.zeros((0, 4), np.float32),
            none,
            np.zeros(0, np.float32),
            np.zeros(0, bool),
        )


@dataclass(frozen=True, eq=False)
class Strips:
    """Frames an assertion flagged, worst first, each with the frames before and after it.

    frame_id: the flagged frame t; severity: its severity (higher = worse); neighbours:
    (K, 3) frame ids of t-1, t, t+1 ("" where the video has no such frame); thumbnails: the
    images of those frames with the task's boxes and the imputed ones (`Thumbnails`).
    """

    frame_id: np.ndarray
    severity: np.ndarray
    neighbours: np.ndarray
    thumbnails: Thumbnails

    def __len__(self) -> int:
        return len(self.frame_id)

    @classmethod
    def empty(cls) -> "Strips":
        return cls(np.zeros(0, "<U1"), np.zeros(0), np.zeros((0, 3), "<U1"), Thumbnails.empty())


@dataclass(frozen=True, eq=False)
class SampleObjects:
    """Object level: what each crop sample shows, rows aligned to the samples: its predicted
    box in its frame (`xyxy`, float32 (N, 4) pixels, before padding), its class name (`label`)
    and the detector's `score` (NaN and "" for a crop its task no longer has)."""

    xyxy: np.ndarray
    label: np.ndarray
    score: np.ndarray

    @classmethod
    def of(cls, columns: dict[str, np.ndarray]) -> "SampleObjects":
        """From `thresher.objects.object_columns` (x1 y1 x2 y2 class score)."""
        xyxy = np.stack([columns[k] for k in ("x1", "y1", "x2", "y2")], axis=1) if len(columns["x1"]) else np.zeros((0, 4))
        return cls(xyxy.astype(np.float32), np.asarray(columns["class"], dtype=str), np.asarray(columns["score"], dtype=np.float32))


@dataclass(frozen=True, eq=False)
class ReportData:
    """One run, as its report needs it (all arrays aligned to `samples` where per sample).

    meta: json-ready facts (see `collect.collect`): run_id, counts, timings, stop_reason,
        selection_config, seed, inputs [{label, strategy, kind, class_names}], class_tasks
        [{task, class_names}], colors (names), videos {video: n_frames}, datasource, store …
    samples: the input samples of the selection (frames, or crops at object level).
    selected / objective: the selection in pick order (preselected first, objective NaN).
    preselected: ids selected before this run (datapool); random: a seeded random selection
        of as many samples as were newly selected, from the same candidates.
    inputs: per entry of meta["inputs"], float values (N,) or class mass (N, K); None for
        embedding inputs (shown by `projection` and `nearest`).
    colors: name -> float32 (N,) (scores, numeric metadata, scalar inputs; NaN = no value).
    classes: task -> (row, column, count) objects per predicted class (sparse).
    projection: float32 (N, 2). nearest: set name -> distances of each member to its nearest
        other member (normalized embeddings; higher = more spread out).
    removed: (file_name, reason, detail) string arrays. duplicates: (kept id, other id,
        distance) of near-duplicate pairs, closest first.
    sample_box: float32 (N, 4) the crop box in its frame (object level), else None.
    sample_objects: the box, class and score of each crop (object level), else None.
    strips: the flagged frames with their neighbours (meta["flagged"] describes them).
    """

    meta: dict[str, Any]
    samples: Frames
    selected: np.ndarray
    objective: np.ndarray
    preselected: np.ndarray
    random: np.ndarray
    inputs: list[np.ndarray | None]
    colors: dict[str, np.ndarray]
    classes: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    projection: np.ndarray
    nearest: dict[str, np.ndarray] = field(default_factory=dict)
    removed: tuple[np.ndarray, np.ndarray, np.ndarray] = field(default_factory=lambda: (np.zeros(0, "<U1"),) * 3)
    duplicates: tuple[np.ndarray, np.ndarray, np.ndarray] = field(default_factory=lambda: (np.zeros(0, "<U1"), np.zeros(0, "<U1"), np.zeros(0, np.float32)))
    thumbnails: Thumbnails = field(default_factory=Thumbnails.empty)
    sample_box: np.ndarray | None = None
    strips: Strips = field(default_factory=Strips.empty)
    sample_objects: SampleObjects | None = None

    @property
    def new_picks(self) -> np.ndarray:
        """Ids selected by this run (the selection without the preselected samples)."""
        return self.selected[~np.isin(self.selected, self.preselected)]

    def class_counts(self, task: str) -> np.ndarray:
        """Dense (N, K) object counts per class of `task` over the samples."""
        names = next(t["class_names"] for t in self.meta["class_tasks"] if t["task"] == task)
        row, col, count = self.classes[task]
        dense = np.zeros((len(self.samples), len(names)))
        np.add.at(dense, (row, col), count)
        return dense


# strings ---------------------------------------------------------------------------------


def pack_strings(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(UTF-8 blob of the distinct values, int32 index of each value into them)."""
    values = np.asarray(values, dtype=str)
    distinct, index = np.unique(values, return_inverse=True)
    text = _SEPARATOR.join(distinct.tolist())
    if any(_SEPARATOR in v for v in distinct.tolist()):
        raise ValueError("strings: a value contains a NUL character")
    return np.frombuffer(text.encode("utf-8"), np.uint8).copy(), index.astype(np.int32).ravel()


def unpack_strings(blob: np.ndarray, index: np.ndarray) -> np.ndarray:
    if len(index) == 0:
        return np.zeros(0, "<U1")
    distinct = np.array(blob.tobytes().decode("utf-8").split(_SEPARATOR), dtype=str)
    return distinct[index]


def _put_strings(arrays: dict, key: str, values: np.ndarray) -> None:
    arrays[f"{key}.blob"], arrays[f"{key}.index"] = pack_strings(values)


def _get_strings(arrays, key: str) -> np.ndarray:
    return unpack_strings(arrays[f"{key}.blob"], arrays[f"{key}.index"])


# save / load -----------------------------------------------------------------------------


def _arrays(data: ReportData) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    for name in _FRAME_STRINGS:
        _put_strings(arrays, f"samples.{name}", getattr(data.samples, name))
    for name in _FRAME_NUMBERS:
        arrays[f"samples.{name}"] = getattr(data.samples, name)
    for key in ("selected", "preselected", "random"):
        _put_strings(arrays, key, getattr(data, key))
    arrays["objective"] = data.objective
    for i, values in enumerate(data.inputs):
        if values is not None:
            arrays[f"input.{i}"] = values
    for k, name in enumerate(data.meta.get("colors", [])):
        arrays[f"color.{k}"] = data.colors[name].astype(np.float32)
    for k, entry in enumerate(data.meta.get("class_tasks", [])):
        for part, values in zip(("row", "col", "count"), data.classes[entry["task"]]):
            arrays[f"classes.{k}.{part}"] = values
    arrays["projection"] = data.projection.astype(np.float32)
    for name, values in data.nearest.items():
        arrays[f"nearest.{name}"] = values.astype(np.float32)
    for part, values in zip(("file", "reason", "detail"), data.removed):
        _put_strings(arrays, f"removed.{part}", values)
    _put_strings(arrays, "duplicates.kept", data.duplicates[0])
    _put_strings(arrays, "duplicates.other", data.duplicates[1])
    arrays["duplicates.distance"] = data.duplicates[2].astype(np.float32)
    _put_thumbnails(arrays, "thumbs", data.thumbnails)
    if len(data.strips):
        _put_strings(arrays, "strips.frame_id", data.strips.frame_id)
        arrays["strips.severity"] = data.strips.severity.astype(np.float64)
        _put_strings(arrays, "strips.neighbours", data.strips.neighbours.ravel())
        _put_thumbnails(arrays, "strips.thumbs", data.strips.thumbnails)
    if data.sample_box is not None:
        arrays["sample_box"] = data.sample_box.astype(np.float32)
    if data.sample_objects is not None:
        arrays["objects.xyxy"] = data.sample_objects.xyxy.astype(np.float32)
        _put_strings(arrays, "objects.label", data.sample_objects.label)
        arrays["objects.score"] = data.sample_objects.score.astype(np.float32)
    return arrays


_THUMB_ARRAYS = ("data", "offsets", "size", "box_thumb", "box_xyxy", "box_label", "box_score", "box_imputed")


def _put_thumbnails(arrays: dict, key: str, thumbs: Thumbnails) -> None:
    _put_strings(arrays, f"{key}.frame_id", thumbs.frame_id)
    _put_strings(arrays, f"{key}.labels", thumbs.labels)
    for name in _THUMB_ARRAYS:
        arrays[f"{key}.{name}"] = getattr(thumbs, name)


def _get_thumbnails(a: dict, key: str) -> Thumbnails:
    return Thumbnails(
        _get_strings(a, f"{key}.frame_id"),
        a[f"{key}.data"],
        a[f"{key}.offsets"],
        a[f"{key}.size"],
        _get_strings(a, f"{key}.labels"),
        *(a[f"{key}.{name}"] for name in _THUMB_ARRAYS[3:]),
    )


def _get_strips(a: dict) -> Strips:
    """The bundle's strips (none in bundles written before they existed)."""
    if "strips.severity" not in a:
        return Strips.empty()
    neighbours = _get_strings(a, "strips.neighbours").reshape(-1, 3)
    return Strips(_get_strings(a, "strips.frame_id"), a["strips.severity"], neighbours, _get_thumbnails(a, "strips.thumbs"))


def save_report_data(folder: str | os.PathLike, data: ReportData) -> tuple[Path, Path]:
    """Write `report_data.npz` and `report_data.json` into `folder` (each whole, then renamed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    npz, js = folder / DATA_NPZ, folder / DATA_JSON
    tmp_npz = folder / f".report_data-{tag}.tmp.npz"
    np.savez(tmp_npz, **_arrays(data))  # type: ignore[arg-type]  # numpy's stub lets **kwds fill allow_pickle: bool; these keys are array names
    tmp_js = folder / f".report_data-{tag}.tmp.json"
    tmp_js.write_text(json.dumps({"format": FORMAT_VERSION, **data.meta}, indent=1, default=_json_default), encoding="utf-8")
    os.replace(tmp_npz, npz)
    os.replace(tmp_js, js)
    return npz, js


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def has_report_data(folder: str | os.PathLike) -> bool:
    return (Path(folder) / DATA_NPZ).is_file() and (Path(folder) / DATA_JSON).is_file()


def load_report_data(folder: str | os.PathLike) -> ReportData:
    """Read the bundle a run saved in `folder` (see `save_report_data`)."""
    folder = Path(folder)
    if not has_report_data(folder):
        raise UsageError(f"{folder}: no {DATA_NPZ} and {DATA_JSON} here; is it a thresher run folder?")
    meta = json.loads((folder / DATA_JSON).read_text(encoding="utf-8"))
    if meta.pop("format", None) != FORMAT_VERSION:
        raise UsageError(f"{folder / DATA_JSON}: written by another version of thresher (format {FORMAT_VERSION} expected)")
    with np.load(folder / DATA_NPZ, allow_pickle=False) as z:
        return _from_arrays(meta, {k: z[k] for k in z.files})


def _from_arrays(meta: dict, a: dict[str, np.ndarray]) -> ReportData:
    samples = Frames(**{n: _get_strings(a, f"samples.{n}") for n in _FRAME_STRINGS}, **{n: a[f"samples.{n}"] for n in _FRAME_NUMBERS})
    inputs = [a.get(f"input.{i}") for i in range(len(meta.get("inputs", [])))]
    colors = {name: a[f"color.{k}"] for k, name in enumerate(meta.get("colors", []))}
    classes = {e["task"]: (a[f"classes.{k}.row"], a[f"classes.{k}.col"], a[f"classes.{k}.count"]) for k, e in enumerate(meta.get("class_tasks", []))}
    nearest = {k.removeprefix("nearest."): v for k, v in a.items() if k.startswith("nearest.")}
    thumbs = _get_thumbnails(a, "thumbs")
    return ReportData(
        meta=meta,
        samples=samples,
        selected=_get_strings(a, "selected"),
        objective=a["objective"],
        preselected=_get_strings(a, "preselected"),
        random=_get_strings(a, "random"),
        inputs=inputs,
        colors=colors,
        classes=classes,
        projection=a["projection"],
        nearest=nearest,
        removed=(_get_strings(a, "removed.file"), _get_strings(a, "removed.reason"), _get_strings(a, "removed.detail")),
        duplicates=(_get_strings(a, "duplicates.kept"), _get_strings(a, "duplicates.other"), a["duplicates.distance"]),
        thumbnails=thumbs,
        sample_box=a.get("sample_box"),
        strips=_get_strips(a),
        sample_objects=_get_objects(a),
    )


def _get_objects(a: dict) -> SampleObjects | None:
    """The crops' boxes, classes and scores (None at frame level, and in bundles written before)."""
    if "objects.xyxy" not in a:
        return None
    return SampleObjects(a["objects.xyxy"], _get_strings(a, "objects.label"), a["objects.score"])
