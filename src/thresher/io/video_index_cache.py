"""Each video's index (`VideoInfo`) kept on disk between runs, in one columnar `.npz` file.

A run's enumeration demuxes every new or changed video once (every packet is read: for a
long video, the whole file). This file keeps what that pass learned, by the video's size and
modification time, so that a later run, `thresher serve` or the report can seek to any frame
of an unchanged video without reading it whole again. Columns, one row per video:

- `name`, `size`, `mtime` (the video's `Location.stat` when it was read), the scalars of
  `VideoInfo` (`n_frames`, `width`, `height`, `fps`, `header_frames`, `container`,
  `pts_reliable`, `corrupt_packets`, `discarded_packets`, `header_seconds` (NaN: unknown),
  `time_base`, `rotation`);
- `pts`: every video's frame timestamps one after the other, `n_frames[i]` of them for video i;
- `keyframes`: (pts, seek timestamp) rows, `n_keyframes[i]` for video i;
- the packet layouts (`thresher.io.packet_layout`), for the videos with one (`has_layout`):
  `packets` (offset, size, pts, dts) rows, `n_frames[i] + discarded_packets[i]` of them for
  video i (an edit list's discarded packets are decoded too), and per video
  `codec` ("" without layout), `extradata` (bytes one after the other, `n_extradata[i]` for
  video i), `layout_time_base` (numerator, denominator), `colour` and `reorder_depth`.

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
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from thresher.io.packet_layout import PacketLayout
from thresher.io.temporary import replacing
from thresher.io.video import VideoInfo

FORMAT = "thresher video index 4"  # 3: an edit list's discarded packets counted, in the layouts and keyframes; 4: rotation
Entry = tuple[Sequence[float], VideoInfo]  # (size in bytes, modification time in seconds), index
SCALARS = ("n_frames", "width", "height", "fps", "header_frames", "corrupt_packets", "discarded_packets", "time_base", "rotation")


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
    columns.update(_layout_columns([i.layout for i in infos]))
    with replacing(path) as handle:
        np.savez(handle, **columns)  # type: ignore[arg-type]  # numpy's stub lets **kwds fill allow_pickle; these are array names


def _layout_columns(layouts: Sequence[PacketLayout | None]) -> dict[str, np.ndarray]:
    """The columns of the videos' packet layouts (a video without one has `codec` "")."""
    present = [layout for layout in layouts if layout is not None]
    return {
        "has_layout": np.array([layout is not None for layout in layouts], bool),
        "codec": np.array([layout.codec if layout else "" for layout in layouts], dtype=str),
        "packets": np.concatenate([np.c_[x.offset, x.size, x.pts, x.dts] for x in present]) if present else np.zeros((0, 4), np.int64),
        "extradata": np.frombuffer(b"".join(x.extradata for x in present), np.uint8),
        "n_extradata": np.array([len(x.extradata) for x in present], np.int64),
        "layout_time_base": np.array([x.time_base for x in present], np.int64).reshape(-1, 2),
        "colour": np.array([x.colour for x in present], np.int64).reshape(-1, 4),
        "reorder_depth": np.array([x.reorder_depth for x in present], np.int64),
    }


def _layouts(columns: dict[str, np.ndarray]) -> list[PacketLayout | None]:
    """The packet layout of each video (None where it has none), from `_layout_columns`."""
    has, n_packets = columns["has_layout"], columns["n_frames"] + columns["discarded_packets"]
    packets, extradata = columns["packets"], columns["extradata"].tobytes()
    if int(n_packets[has].sum()) != len(packets) or int(columns["n_extradata"].sum()) != len(extradata):
        raise ValueError("inconsistent video index cache")
    layouts: list[PacketLayout | None] = []
    row = byte = k = 0
    for i in range(len(has)):
        if not has[i]:
            layouts.append(None)
            continue
        rows, n_bytes = packets[row : row + n_packets[i]], int(columns["n_extradata"][k])
        layouts.append(
            PacketLayout(
                codec=str(columns["codec"][i]),
                extradata=extradata[byte : byte + n_bytes],
                time_base=(int(columns["layout_time_base"][k, 0]), int(columns["layout_time_base"][k, 1])),
                colour=tuple(int(c) for c in columns["colour"][k]),  # type: ignore[arg-type]  # four numbers, as written
                reorder_depth=int(columns["reorder_depth"][k]),
                offset=rows[:, 0].copy(),
                size=rows[:, 1].copy(),
                pts=rows[:, 2].copy(),
                dts=rows[:, 3].copy(),
            )
        )
        row, byte, k = row + int(n_packets[i]), byte + n_bytes, k + 1
    return layouts


def _entries(columns: dict[str, np.ndarray]) -> dict[str, tuple[tuple[float, ...], VideoInfo]]:
    """Rows back into `VideoInfo`s; ValueError when the columns do not fit together."""
    n_frames, n_keyframes = columns["n_frames"], columns["n_keyframes"]
    if int(n_frames.sum()) != len(columns["pts"]) or int(n_keyframes.sum()) != len(columns["keyframes"]):
        raise ValueError("inconsistent video index cache")
    pts_ends, key_ends = np.cumsum(n_frames), np.cumsum(n_keyframes)
    layouts = _layouts(columns)
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
            discarded_packets=int(columns["discarded_packets"][i]),
            header_seconds=None if math.isnan(seconds) else seconds,
            time_base=float(columns["time_base"][i]),
            layout=layouts[i],
            rotation=int(columns["rotation"][i]),
        )
        entries[name] = ((float(columns["size"][i]), float(columns["mtime"][i])), info)
    return entries
