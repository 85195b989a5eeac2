"""Each video's index (`VideoInfo`) kept on disk between runs, in one columnar `.npz` file.

A run's enumeration demuxes every new or changed video once (every packet is read: for a
long video, the whole file). This file keeps what that pass learned, by the video's size and
modification time, so that a later run, `thresher serve` or the report can seek to any frame
of an unchanged video without reading it whole again. Columns, one row per video:

- `name`, `size`, `mtime` (the video's `Location.stat` when it was read), the scalars of
  `VideoInfo` (`n_frames`, `width`, `height`, `fps`, `header_frames`, `container`,
  `pts_reliable`, `corrupt_packets`, `header_seconds` (NaN: unknown), `time_base`);
- `pts`: every video's frame timestamps one after the other, `n_frames[i]` of them for video i;
- `keyframes`: (pts, seek timestamp) rows, `n_keyframes[i]` for video i.

The file is written whole (a temporary name, then renamed); one that is missing, unreadable,
of another format or inconsistent reads as empty and is rebuilt, never trusted.

A workspace keeps one such file per datasource (`video_index_path`): a catalog shared by
several datasources (`--catalog`) keeps each one's indexes apart.

Example:

    cache = video_index_path(workspace, source.input.url)   # <workspace>/cache/videos-<digest>.npz
    indexes = load_video_indexes(cache)          # {name: ((size, mtime), VideoInfo)}
    save_video_indexes(cache, {"clip.mp4": ((1024.0, 1.7e9), info)})
"""

from __future__ import annotations

import hashlib
import math
import os
import uuid
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from thresher.io.video import VideoInfo

FORMAT = "thresher video index 1"
Entry = tuple[Sequence[float], VideoInfo]  # (size in bytes, modification time in seconds), index
SCALARS = ("n_frames", "width", "height", "fps", "header_frames", "corrupt_packets", "time_base")


def video_index_path(workspace: Path, input_url: str) -> Path:
    """Where `workspace` keeps the video indexes of the datasource whose media are at `input_url`.

    Example: `video_index_path(Path("ds/.thresher"), "/data/ds")` → `ds/.thresher/cache/videos-….npz`.
    """
    return Path(workspace) / "cache" / f"videos-{hashlib.sha256(input_url.encode()).hexdigest()[:16]}.npz"


def load_video_indexes(path: Path) -> dict[str, tuple[tuple[float, ...], VideoInfo]]:
    """The indexes stored at `path` by video name; {} when the file is missing or not sound."""
    try:
        with open(path, "rb") as file, np.load(file, allow_pickle=False) as data:  # closed even when not a zip
            columns = {key: data[key] for key in data.files}
        return _entries(columns) if str(columns.get("format")) == FORMAT else {}
    except (OSError, ValueError, KeyError, IndexError, TypeError, zipfile.BadZipFile, EOFError):
        return {}


def save_video_indexes(path: Path, entries: Mapping[str, Entry]) -> None:
    """Store `entries` at `path` (replacing it atomically: a temporary name, then a rename)."""
    names = sorted(entries)
    stats = [tuple(entries[n][0]) for n in names]
    infos = [entries[n][1] for n in names]
    columns: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "name": np.array(names, dtype=str),
        "size": np.array([s[0] for s in stats], np.float64),
        "mtime": np.array([s[1] for s in stats], np.float64),
        "container": np.array([i.container for i in infos], dtype=str),
        "pts_reliable": np.array([i.pts_reliable for i in infos], bool),
        "header_seconds": np.array([math.nan if i.header_seconds is None else i.header_seconds for i in infos], np.float64),
        "pts": np.fromiter((t for i in infos for t in i.pts), np.int64),
        "keyframes": np.array([k for i in infos for k in i.keyframes], np.int64).reshape(-1, 2),
        "n_keyframes": np.array([len(i.keyframes) for i in infos], np.int64),
    }
    for key in SCALARS:
        columns[key] = np.array([getattr(i, key) for i in infos], np.float64 if key in ("fps", "time_base") else np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.npz")
    try:
        np.savez(tmp, **columns)  # type: ignore[arg-type]  # numpy's stub lets **kwds fill allow_pickle; these are array names
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _entries(columns: dict[str, np.ndarray]) -> dict[str, tuple[tuple[float, ...], VideoInfo]]:
    """Rows back into `VideoInfo`s; ValueError when the columns do not fit together."""
    n_frames, n_keyframes = columns["n_frames"], columns["n_keyframes"]
    if int(n_frames.sum()) != len(columns["pts"]) or int(n_keyframes.sum()) != len(columns["keyframes"]):
        raise ValueError("inconsistent video index cache")
    pts_ends, key_ends = np.cumsum(n_frames), np.cumsum(n_keyframes)
    entries: dict[str, tuple[tuple[float, ...], VideoInfo]] = {}
    for i, name in enumerate(columns["name"].tolist()):
        seconds = float(columns["header_seconds"][i])
        info = VideoInfo(
            n_frames=int(n_frames[i]),
            width=int(columns["width"][i]),
            height=int(columns["height"][i]),
            fps=float(columns["fps"][i]),
            header_frames=int(columns["header_frames"][i]),
            container=str(columns["container"][i]),
            pts=tuple(columns["pts"][pts_ends[i] - n_frames[i] : pts_ends[i]].tolist()),
            keyframes=tuple(map(tuple, columns["keyframes"][key_ends[i] - n_keyframes[i] : key_ends[i]].tolist())),
            pts_reliable=bool(columns["pts_reliable"][i]),
            corrupt_packets=int(columns["corrupt_packets"][i]),
            header_seconds=None if math.isnan(seconds) else seconds,
            time_base=float(columns["time_base"][i]),
        )
        entries[name] = ((float(columns["size"][i]), float(columns["mtime"][i])), info)
    return entries
