"""What a run writes into its folder: removed samples, extracted frames and crops.

The run folder is written as `<id>.partial/` and renamed when complete, so a folder without
the suffix is always whole; each file inside is also written to a temporary name first.
Frames are decoded with `iter_pixels` (each video once, forward, seeking only to the keyframe
before a group of wanted frames) on one thread per core, and encoded as PNG
(`thresher.io.png`) on as many threads, in the order of the rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import orjson
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.pixels import iter_pixels
from thresher.io.png import encode_png
from thresher.io.problems import Problems
from thresher.io.storage import write_file
from thresher.objects import cut
from thresher.parallel import cores, ordered_map


def write_json(path: Path, data: object) -> None:
    """`data` as indented UTF-8 JSON (orjson: ten times faster than `json` on the exports of
    1,000 tasks; numpy values and non-string keys are written too, NaN as null).

    Example: `write_json(run / "run.json", {"counts": {"frames": 250}})`.
    """
    write_file(path, orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY))


def write_removed(path: Path, removed: Sequence[tuple[str, str, str]]) -> None:
    """`removed_samples.csv`: file_name, reason (corrupt, duplicate, invalid prediction, …), detail."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["file_name", "reason", "detail"])
    writer.writerows(sorted(removed))
    write_file(path, buffer.getvalue().encode())


def png(image: np.ndarray) -> bytes:
    """Lossless PNG bytes of an RGB uint8 array (`thresher.io.png`)."""
    return encode_png(np.ascontiguousarray(image))


def extract_frames(source: Datasource, frames: Frames, rows: np.ndarray, folder: Path, progress=None, threads: int | None = None) -> list[str]:
    """Write the video frames among `rows` as PNG files named by their Lightly names; returns
    the names written, in reading order. `progress`: called with (frames written, frames to
    write); `threads`: decoding and encoding threads each (default: one per core)."""
    rows = np.asarray(rows, dtype=np.int64)
    rows = rows[frames.kind[rows] == "frame"]
    threads = threads or cores()

    def write(_: None, item: tuple[int, np.ndarray]) -> str:
        row, image = item
        name = str(frames.file_name[row])
        write_file(folder / name, png(image))
        return name

    written = []
    for name in ordered_map(write, iter_pixels(source, frames, rows, Problems(), readers=threads), [None] * threads):
        written.append(name)
        if progress:
            progress(len(written), len(rows))
    return written


def write_crops(source: Datasource, frames: Frames, crops: Frames, boxes: np.ndarray, chosen: np.ndarray, folder: Path, progress=None, threads: int | None = None) -> list[str]:
    """Write the chosen crops (rows of `crops`) as PNG files named by their crop names; each
    parent frame is decoded once. `progress`: called with (crops written, crops to write);
    `threads`: decoding and encoding threads each (default: one per core)."""
    chosen = np.asarray(chosen, dtype=np.int64)
    parents = frames.index_of(crops.parent_id[chosen])
    by_parent: dict[int, list[int]] = {}
    for crop, parent in zip(chosen.tolist(), parents.tolist()):
        by_parent.setdefault(parent, []).append(crop)
    threads = threads or cores()

    def write(_: None, item: tuple[int, np.ndarray]) -> list[str]:
        parent, image = item
        members = by_parent[parent]
        names = []
        for crop, pixels in zip(members, cut(image, boxes[members])):
            write_file(folder / str(crops.file_name[crop]), png(pixels))
            names.append(str(crops.file_name[crop]))
        return names

    written: list[str] = []
    pixels = iter_pixels(source, frames, np.array(sorted(by_parent), dtype=np.int64), Problems(), readers=threads)
    for names in ordered_map(write, pixels, [None] * threads):
        written.extend(names)
        if progress:
            progress(len(written), len(chosen))
    return written
