"""What a run writes into its folder: removed samples, extracted frames and crops.

The run folder is written as `<id>.partial/` and renamed when complete, so a folder without
the suffix is always whole; each file inside is also written to a temporary name first.
Frames are decoded video by video (`pixel_groups`: each video once, forward, seeking only to
the keyframe before a group of wanted frames), one video per core at once, and each frame is
encoded as PNG (`thresher.io.png`) and written by the thread that decoded it. A frame that cannot
be decoded (its video truncated, replaced or removed since it was enumerated) is not written:
it comes back as `Unwritten`, with the reader's reason (`thresher.run.unwritten`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.pixels import pixel_groups, reading_order
from thresher.io.png import encode_png
from thresher.io.problems import Problems
from thresher.io.storage import write_file
from thresher.objects import cut
from thresher.parallel import cores, ordered_map
from thresher.run.unwritten import Extraction, unwritten


# frames of one video a thread extracts in a row: a long video is shared by every thread,
# at the cost of one more open and keyframe decode each 32 frames (progress comes as often)
FRAMES_PER_PIECE = 32


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


def extract_frames(source: Datasource, frames: Frames, rows: np.ndarray, folder: Path, progress=None, threads: int | None = None) -> Extraction:
    """Write the video frames among `rows` as PNG files named by their Lightly names; returns
    the names written, in reading order, and the frames that could not be decoded (`failed`,
    each with its video and the reader's reason). `progress`: called with (frames written,
    frames to write); `threads`: videos decoded and encoded at once (default: one per core).
    Video indexes come from `source.video_infos` (no video is demuxed twice in a run).

    Example: `extract_frames(source, frames, selected_rows, run / "images").written` → `["v-000042-mp4.png", ...]`.
    """
    rows = np.asarray(rows, dtype=np.int64)
    rows = rows[frames.kind[rows] == "frame"]

    def write(item: tuple[int, np.ndarray]) -> list[str]:
        row, image = item
        name = str(frames.file_name[row])
        write_file(folder / name, png(image))
        return [name]

    written, problems = _write_pieces(pixel_groups(source, frames, rows, frames_per_piece=FRAMES_PER_PIECE), write, len(rows), progress, threads)
    asked = [(str(frames.file_name[row]), str(frames.video[row])) for row in reading_order(frames, rows).tolist()]
    return Extraction(written, unwritten(asked, written, problems))


def write_crops(source: Datasource, frames: Frames, crops: Frames, boxes: np.ndarray, chosen: np.ndarray, folder: Path, progress=None, threads: int | None = None) -> Extraction:
    """Write the chosen crops (rows of `crops`) as PNG files named by their crop names; each
    parent frame is decoded once. Returns the crops written and those whose frame could not be
    decoded (`failed`). `progress`: called with (crops written, crops to write); `threads`:
    videos decoded and encoded at once (default: one per core).

    Example: `write_crops(source, frames, crops, boxes, [0, 3], run / "ds-crops").failed` → `[]`.
    """
    chosen = np.asarray(chosen, dtype=np.int64)
    parents = frames.index_of(crops.parent_id[chosen])
    by_parent: dict[int, list[int]] = {}
    for crop, parent in zip(chosen.tolist(), parents.tolist()):
        by_parent.setdefault(parent, []).append(crop)

    def write(item: tuple[int, np.ndarray]) -> list[str]:
        parent, image = item
        members = by_parent[parent]
        names = []
        for crop, pixels in zip(members, cut(image, boxes[members])):
            write_file(folder / str(crops.file_name[crop]), png(pixels))
            names.append(str(crops.file_name[crop]))
        return names

    pieces = pixel_groups(source, frames, np.array(sorted(by_parent), dtype=np.int64), frames_per_piece=FRAMES_PER_PIECE)
    written, problems = _write_pieces(pieces, write, len(chosen), progress, threads)
    asked = [(str(crops.file_name[crop]), str(crops.video[crop])) for crop in chosen.tolist()]
    return Extraction(written, unwritten(asked, written, problems))


def _write_pieces(
    pieces: Sequence[Callable[[], Iterable[Any]]], write: Callable[[tuple[int, np.ndarray]], list[str]], total: int, progress, threads: int | None
) -> tuple[list[str], Problems]:
    """Run each piece of reading (`pixel_groups`: one video, or a few images) to its files on
    one thread, `threads` pieces at once: a frame is decoded, encoded and written by the same
    thread, with no hand-over between threads (0.5 s of 5 s at 1,000 frames from 363 videos).
    Returns the names `write` gave, in reading order, and the pieces' problems (a file that
    cannot be read: its frames are not written), in reading order."""

    def run_piece(_: None, piece: Callable[[], Iterable[Any]]) -> tuple[list[str], Problems]:
        names, problems = [], Problems()
        for item in piece():
            if isinstance(item, Problems):
                problems.extend(item)
            else:
                names.extend(write(item))
        return names, problems

    threads = threads or cores()
    written: list[str] = []
    problems = Problems()
    for names, found in ordered_map(run_piece, pieces, [None] * threads, ahead=4 * threads):
        written.extend(names)
        problems.extend(found)
        if progress and names:
            progress(len(written), total)
    return written, problems
