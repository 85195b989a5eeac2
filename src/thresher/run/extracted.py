"""Video frames earlier runs extracted, copied rather than decoded again while their video is unchanged.

A run writes each selected video frame as a PNG into its `images/`. The workspace remembers where
(`<workspace>/cache/extracted.json`): per video its size and modification time, per frame index
the PNG's path, size and modification time in ns. A later run that selects the same frame of
the unchanged video copies that PNG (the same bytes: a PNG is a function of the decoded pixels)
instead of decoding the video again; a PNG removed or changed since (or a video whose size or
time changed) is extracted again. Deleting the file forgets every entry; deleting a run folder
forgets its frames.

Example: `ExtractedFrames(workspace / "cache" / "extracted.json").reusable(source, frames, rows)` → {row: Path}.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.provenance import read_json_cache, write_json_cache


class ExtractedFrames:
    """The record of extracted frames in one JSON file (read and written whole)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def reusable(self, source: Datasource, frames: Frames, rows: np.ndarray) -> dict[int, Path]:
        """{row: PNG of an earlier run} for the video frames among `rows` that can be copied."""
        known = read_json_cache(self.path)
        found: dict[int, Path] = {}
        stats: dict[str, list | None] = {}  # None: the video cannot be stat'ed
        for row in np.asarray(rows, dtype=np.int64).tolist():
            video = str(frames.video[row])
            entry = known.get(video)
            if frames.kind[row] != "frame" or not isinstance(entry, dict):
                continue
            if video not in stats:
                stats[video] = _stat(source, video)
            hit = entry.get("frames", {}).get(str(int(frames.frame_index[row])))
            if entry.get("video") == stats[video] and isinstance(hit, list) and len(hit) == 3 and _png_stat(hit[0]) == hit[1:]:
                found[row] = Path(hit[0])
        return found

    def record(self, source: Datasource, frames: Frames, rows: np.ndarray, folder: Path, final: Path) -> None:
        """Remember the PNGs of the video frames among `rows`, written into `folder` by their Lightly
        names and found later under `final` (the run folder once renamed); entries of run folders
        that no longer exist are dropped."""
        known = {v: e for v, e in read_json_cache(self.path).items() if isinstance(e, dict) and isinstance(e.get("frames"), dict)}
        folders: dict[str, bool] = {}
        for cached in known.values():
            cached["frames"] = {i: hit for i, hit in cached["frames"].items() if isinstance(hit, list) and hit and _folder_exists(str(hit[0]), folders)}
        for row in np.asarray(rows, dtype=np.int64).tolist():
            if frames.kind[row] != "frame":
                continue
            video, name = str(frames.video[row]), str(frames.file_name[row])
            png = _png_stat(str(folder / name))
            if png is None:
                continue
            stat = _stat(source, video)
            entry = known.get(video)
            if entry is None or entry.get("video") != stat:
                entry = known[video] = {"video": stat, "frames": {}}
            entry["frames"][str(int(frames.frame_index[row]))] = [str(final / name), *png]
        write_json_cache(self.path, {v: e for v, e in known.items() if e["frames"]})


def _stat(source: Datasource, video: str) -> list | None:
    try:
        return list(source.input.stat(video))
    except OSError:
        return None


def _png_stat(path: str) -> list | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns]


def _folder_exists(path: str, known: dict[str, bool]) -> bool:
    folder = os.path.dirname(path)
    if folder not in known:
        known[folder] = os.path.isdir(folder)
    return known[folder]
