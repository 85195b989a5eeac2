"""Read and write the custom metadata of a Lightly datasource.

```
.lightly/metadata/schema.json   [{"name": "Flickering", "path": "flickering",
                                  "defaultValue": 0.5, "valueDataType": "NUMERIC_FLOAT"}]
.lightly/metadata/clips/bikes-012-mp4.json
    {"file_name": "clips/bikes-012-mp4.png", "type": "frame", "metadata": {"flickering": 1.0}}
```

`type` is image, video or frame; a video's metadata applies to each of its frames unless the
frame has its own value. `path` is a dotted path into `metadata` (`weather.temperature`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

from thresher.errors import did_you_mean
from thresher.table import lookup
from thresher.frames import Frames
from thresher.io import metadata_cache
from thresher.io.file_cache import CachedFiles, Listing
from thresher.io.lightly_schema import load_json, parse_json
from thresher.io.names import json_name
from thresher.io.problems import Problems, collector, shown
from thresher.io.storage import Location, safe_name

METADATA_DIR = ".lightly/metadata"
METADATA_SCHEMA = f"{METADATA_DIR}/schema.json"
_INT = lambda v: type(v) is int  # noqa: E731
_NUMBER = lambda v: type(v) in (int, float)  # noqa: E731
_STRING = lambda v: isinstance(v, str)  # noqa: E731
VALUE_TYPES = {
    "NUMERIC_INT": (_INT, "an integer"),
    "NUMERIC_FLOAT": (_NUMBER, "a number"),
    "CATEGORICAL_INT": (_INT, "an integer"),
    "CATEGORICAL_STRING": (_STRING, "a string"),
    "CATEGORICAL_BOOLEAN": (lambda v: type(v) is bool, "true or false"),
    "CATEGORICAL_DATETIME": (_STRING, "a date-time string"),
    "CATEGORICAL_TIMESTAMP": (_INT, "an integer timestamp"),
    "OTHER_STRING": (_STRING, "a string"),
}
SAMPLE_TYPES = ("image", "video", "frame")


@dataclass(frozen=True)
class MetadataField:
    name: str
    path: str
    default: object
    value_type: str

    @property
    def numeric(self) -> bool:
        return self.value_type.startswith("NUMERIC")

    def to_json(self) -> dict:
        return {"name": self.name, "path": self.path, "defaultValue": self.default, "valueDataType": self.value_type}


@dataclass(frozen=True)
class Metadata:
    """Metadata values per sample: numeric fields as float64, categorical ones as object arrays."""

    ids: np.ndarray
    fields: tuple[MetadataField, ...]
    columns: dict[str, np.ndarray]

    def __getitem__(self, path: str) -> np.ndarray:
        if path not in self.columns:
            raise KeyError(f"no metadata key {path!r}{did_you_mean(path, self.columns)}; have {sorted(self.columns)}")
        return self.columns[path]


def read_metadata_schema(lightly: Location, problems: Problems | None = None) -> tuple[MetadataField, ...]:
    problems = collector(problems)
    if not lightly.exists(METADATA_SCHEMA):
        return ()
    data = load_json(lightly, METADATA_SCHEMA, problems)
    if data is None:
        return ()
    if not isinstance(data, list):
        problems.add(METADATA_SCHEMA, "", "a list of {name, path, defaultValue, valueDataType}", shown(data))
        return ()
    fields = [_field(item, i, problems) for i, item in enumerate(data)]
    return tuple(f for f in fields if f is not None)


def _field(item: object, i: int, problems: Problems) -> MetadataField | None:
    where = f"[{i}]"
    keys = ("name", "path", "defaultValue", "valueDataType")
    if not isinstance(item, dict) or not all(k in item for k in keys):
        problems.add(METADATA_SCHEMA, where, "{name, path, defaultValue, valueDataType}", shown(item))
        return None
    value_type = item["valueDataType"]
    if value_type not in VALUE_TYPES:
        problems.add(METADATA_SCHEMA, f"{where}.valueDataType", f"one of {', '.join(VALUE_TYPES)}", f"{shown(value_type)}{did_you_mean(str(value_type), VALUE_TYPES)}")
        return None
    valid, expected = VALUE_TYPES[value_type]
    if item["defaultValue"] is not None and not valid(item["defaultValue"]):
        problems.add(METADATA_SCHEMA, f"{where}.defaultValue", f"{expected} ({value_type})", shown(item["defaultValue"]))
        return None
    if not isinstance(item["path"], str) or not item["path"] or item["path"].split(".")[0] == "lightly":
        problems.add(METADATA_SCHEMA, f"{where}.path", "a dotted path not under the reserved 'lightly'", shown(item["path"]))
        return None
    return MetadataField(str(item["name"]), item["path"], item["defaultValue"], value_type)


def read_metadata(lightly: Location, frames: Frames, problems: Problems | None = None, *, cache: Path | None = None) -> Metadata:
    """Metadata of every sample of `frames` (defaults where a sample has no value).

    cache: a local folder for the columnar cache (`thresher.io.metadata_cache`): only the files
    that are new or whose size or modification time changed are parsed.
    """
    problems = collector(problems)
    fields = read_metadata_schema(lightly, problems)
    listing = Listing.of(lightly, METADATA_DIR, keep=lambda names: np.char.endswith(names, ".json") & (names != METADATA_SCHEMA))
    cached = metadata_cache.load(cache, lightly, fields) if cache is not None else None
    kept, fresh = CachedFiles.split(cached, listing)
    before = len(problems)
    entries = [_entry(name, raw, fields, problems) for name, raw in lightly.read_many(listing.name[fresh].tolist()).items()]
    dirty = {p.file for p in problems[before:]}
    parsed = metadata_cache.to_rows([e for e in entries if e is not None], listing, fields)
    table = parsed if kept is None else CachedFiles.concat([kept, parsed])
    table = table.sorted()
    columns = _columns(table, fields, frames, problems)
    n_kept = 0 if kept is None else len(kept)  # None: nothing cached (or an empty cache)
    if cache is not None and (cached is None or fresh.any() or n_kept != len(cached)):
        metadata_cache.store(cache, lightly, fields, table.take(np.flatnonzero(~np.isin(table.name, list(dirty)))))
    return Metadata(frames.id, fields, columns)


def _columns(table: CachedFiles, fields: tuple[MetadataField, ...], frames: Frames, problems: Problems) -> dict[str, np.ndarray]:
    """Each field over `frames`: a video's value on each of its frames, a frame's or image's own
    value over it; a file naming no sample of the datasource is reported."""
    kind, sample = table.per_file["type"], table.per_file["sample"]
    is_video = kind == "video"
    own_row, own = lookup(frames.file_name, sample)
    own &= ~is_video
    in_video = np.isin(sample, frames.video) & is_video
    for i in np.flatnonzero(~(own | in_video)).tolist():
        problems.add(str(table.name[i]), "file_name", f"the name of a {kind[i]} of the datasource", f"{str(sample[i])!r}, which is not one")
    video_rows = np.flatnonzero(is_video)
    at, of_video = lookup(sample[video_rows], frames.video)
    video_entry = video_rows[at] if len(video_rows) else np.zeros(len(frames), np.int64)  # the video file of each frame
    columns = {}
    for f in fields:
        has, values = table.per_file[f"has:{f.path}"], table.per_file[f"value:{f.path}"]
        source = np.full(len(frames), -1, dtype=np.int64)  # the file whose value each frame takes
        from_video = of_video & has[video_entry] if len(video_rows) else np.zeros(len(frames), bool)
        source[from_video] = video_entry[from_video]
        set_here = own & has
        source[own_row[set_here]] = np.flatnonzero(set_here)  # a frame's own value wins over its video's
        columns[f.path] = _column(values, source, f)
    return columns


def _entry(file: str, raw: bytes | Exception, fields: tuple[MetadataField, ...], problems: Problems):
    data = parse_json(raw, file, problems)
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) != {"file_name", "type", "metadata"}:
        problems.add(file, "", "an object {file_name, type, metadata}", shown(data))
        return None
    if data["type"] not in SAMPLE_TYPES:
        problems.add(file, "type", f"one of {', '.join(SAMPLE_TYPES)}", shown(data["type"]))
        return None
    name = data["file_name"]
    try:
        name = safe_name(name)
    except Exception as exc:  # noqa: BLE001 - reported
        problems.add(file, "file_name", "a name inside the datasource", str(exc))
        return None
    if f"{METADATA_DIR}/{json_name(name)}" != file:
        problems.add(file, "file_name", "the name of the sample this file is for", repr(name))
        return None
    if not isinstance(data["metadata"], dict):
        problems.add(file, "metadata", "an object", shown(data["metadata"]))
        return None
    return file, data["type"], name, _values(data["metadata"], file, fields, problems)


def _values(metadata: dict, file: str, fields: tuple[MetadataField, ...], problems: Problems) -> dict:
    found = {}
    known = {f.path for f in fields}
    for path in _leaf_paths(metadata):
        if path not in known and not any(k.startswith(path + ".") for k in known):
            problems.add(file, f"metadata.{path}", "a key listed in .lightly/metadata/schema.json", f"{path!r}{did_you_mean(path, known)}")
    for f in fields:
        value = _get(metadata, f.path)
        if value is _MISSING:
            continue
        valid, expected = VALUE_TYPES[f.value_type]
        if not valid(value):
            problems.add(file, f"metadata.{f.path}", f"{expected} ({f.value_type})", shown(value))
            continue
        found[f.path] = value
    return found


_MISSING = object()


def has_path(metadata: dict, path: str) -> bool:
    """Whether a metadata file's `metadata` object holds the dotted `path` (any value, null included).

    >>> has_path({"weather": {"rain": None}}, "weather.rain"), has_path({"weather": 1}, "weather.rain")
    (True, False)
    """
    return _get(metadata, path) is not _MISSING


def _get(metadata: dict, path: str) -> object:
    value: object = metadata
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


def _leaf_paths(metadata: dict, prefix: str = "") -> list[str]:
    paths = []
    for key, value in metadata.items():
        path = f"{prefix}{key}"
        paths.extend(_leaf_paths(value, path + ".") if isinstance(value, dict) and value else [path])
    return paths


def _column(values: np.ndarray, source: np.ndarray, field: MetadataField) -> np.ndarray:
    """The values of rows `source` (-1: the field's default): float64 for numeric fields
    (NaN when the default is null), Python objects otherwise."""
    taken = source >= 0
    if field.numeric:  # its default is None or a number (`VALUE_TYPES` checked it)
        column = np.full(len(source), np.nan if field.default is None else float(cast(float, field.default)), dtype=np.float64)
        column[taken] = values[source[taken]].astype(np.float64)
        return column
    column = np.empty(len(source), dtype=object)
    column.fill(field.default)
    if taken.any():
        column[np.flatnonzero(taken)] = values[source[taken]].tolist()
    return column


def write_metadata(lightly: Location, fields: tuple[MetadataField, ...], frames: Frames, values: dict[str, np.ndarray]) -> None:
    """Write schema.json and one metadata file per sample of `frames` (type image or frame).

    `values` maps each field path to one value per row of `frames`. Other schema fields and
    other keys already in a sample's file are kept; a file whose content would not change
    (schema.json included) is not written again.
    """
    existing = {f.path: f for f in read_metadata_schema(lightly)}
    merged = {**existing, **{f.path: f for f in fields}}
    lightly.write_changed(METADATA_SCHEMA, json.dumps([f.to_json() for f in merged.values()], indent=2).encode())
    columns = {path: np.asarray(v).tolist() for path, v in values.items()}
    files = [f"{METADATA_DIR}/{json_name(n)}" for n in frames.file_name.tolist()]
    on_disk = set(lightly.files(METADATA_DIR))
    present = lightly.read_many([f for f in files if f in on_disk])
    for row, (file, name, kind) in enumerate(zip(files, frames.file_name.tolist(), frames.kind.tolist())):
        old = parse_json(present[file], file, collector(None)) if file in present else None
        metadata = old["metadata"] if isinstance(old, dict) and isinstance(old.get("metadata"), dict) else {}
        for path, column in columns.items():
            _set(metadata, path, column[row])
        payload = json.dumps({"file_name": name, "type": "frame" if kind == "frame" else "image", "metadata": metadata}).encode()
        if present.get(file) != payload:  # a rerun with the same values rewrites nothing
            lightly.write_bytes(file, payload)


def _set(metadata: dict, path: str, value: object) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        metadata = metadata.setdefault(key, {})
    metadata[leaf] = value
