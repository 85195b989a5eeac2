"""What a run writes into its folder: removed samples, extracted frames and crops.

The run folder is written as `<id>.partial/` and renamed when complete, so a folder without
the suffix is always whole; each file inside is also written to a temporary name first.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.pixels import iter_pixels
from thresher.io.problems import Problems
from thresher.io.storage import write_file
from thresher.objects import cut


def write_json(path: Path, data: object) -> None:
    write_file(path, json.dumps(data, indent=2).encode())


def write_removed(path: Path, removed: Sequence[tuple[str, str, str]]) -> None:
    """`removed_samples.csv`: file_name, reason (corrupt, duplicate, invalid prediction, …), detail."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["file_name", "reason", "detail"])
    writer.writerows(sorted(removed))
    write_file(path, buffer.getvalue().encode())


PNG_COMPRESS_LEVEL = 1  # lossless either way; level 1 encodes 3x faster than Pillow's 6 for ~30 % more bytes


def png(image: np.ndarray) -> bytes:
    """Lossless PNG bytes of an RGB uint8 array (fast zlib level: extraction is encode-bound)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def extract_frames(source: Datasource, frames: Frames, rows: np.ndarray, folder: Path, progress=None) -> list[str]:
    """Write the video frames among `rows` as PNG files named by their Lightly names;
    `progress`: called with (frames written, frames to write)."""
    rows = np.asarray(rows, dtype=np.int64)
    rows = rows[frames.kind[rows] == "frame"]
    written = []
    for row, image in iter_pixels(source, frames, rows, Problems()):
        name = str(frames.file_name[row])
        write_file(folder / name, png(image))
        written.append(name)
        if progress:
            progress(len(written), len(rows))
    return written


def write_crops(source: Datasource, frames: Frames, crops: Frames, boxes: np.ndarray, chosen: np.ndarray, folder: Path, progress=None) -> list[str]:
    """Write the chosen crops (rows of `crops`) as PNG files named by their crop names;
    `progress`: called with (crops written, crops to write)."""
    chosen = np.asarray(chosen, dtype=np.int64)
    parents = frames.index_of(crops.parent_id[chosen])
    by_parent: dict[int, list[int]] = {}
    for crop, parent in zip(chosen.tolist(), parents.tolist()):
        by_parent.setdefault(parent, []).append(crop)
    written = []
    for parent, image in iter_pixels(source, frames, np.array(sorted(by_parent), dtype=np.int64), Problems()):
        members = by_parent[parent]
        for crop, pixels in zip(members, cut(image, boxes[members])):
            write_file(folder / str(crops.file_name[crop]), png(pixels))
            written.append(str(crops.file_name[crop]))
        if progress:
            progress(len(written), len(chosen))
    return written
