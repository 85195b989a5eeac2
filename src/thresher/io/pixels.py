"""Decode the pixels of many samples in batches, video by video, skipping what cannot be read.

Rows of a `Frames` table are read grouped by video in frame order, so each video is opened
once and decoded forward (seeking only to the keyframe before a group of wanted frames, e.g.
with `--every N`; `thresher.io.video.VideoReader.frames`). A file that cannot be opened is
recorded as a problem and its frames are skipped; a frame that cannot be decoded (past the end
of a video cut since it was listed, or broken) is recorded too, and the frames after it that
decode are still given. No file stops the other files.
With `readers=N`, N threads decode ahead (several videos, or groups of images, at once) and
the pixels still come in reading order, with the problems in the same order as with one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import numpy as np

from thresher.errors import DatasourceError
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.images import load_rgb
from thresher.io.problems import Problems

T = TypeVar("T")


def reading_order(frames: Frames, rows: np.ndarray) -> np.ndarray:
    """`rows` sorted by video, then frame index (the order that decodes each video forward)."""
    rows = np.asarray(rows, dtype=np.int64)
    return rows[np.lexsort((frames.frame_index[rows], frames.video[rows]))]


IMAGES_PER_GROUP = 8  # images a reading thread decodes in a row


def iter_pixels(
    source: Datasource,
    frames: Frames,
    rows: np.ndarray,
    problems: Problems,
    infos: Mapping[str, Any] | None = None,
    readers: int = 0,
) -> Iterator[tuple[int, np.ndarray]]:
    """(row, RGB uint8 array) for each readable row, in `reading_order`.

    Args:
        infos: already probed `VideoInfo`s by file name (saves opening each video's index again).
        readers: 0 decodes in the calling thread; N >= 1 decodes on N threads ahead of the
            caller (one video or `IMAGES_PER_GROUP` images per thread at a time).

    Example: `dict(iter_pixels(source, frames, [0, 5], Problems(), readers=2))` → {0: array, 5: array}.
    """
    makers = pixel_groups(source, frames, rows, infos)
    if readers < 1:
        for make in makers:
            for item in make():
                if isinstance(item, Problems):
                    problems.extend(item)
                else:
                    yield item
        return
    from thresher.parallel import ordered_chain

    for item in ordered_chain(makers, readers):
        if isinstance(item, Problems):
            problems.extend(item)  # each group's problems, in reading order
        else:
            yield item


def pixel_groups(
    source: Datasource, frames: Frames, rows: np.ndarray, infos: Mapping[str, Any] | None = None, frames_per_piece: int | None = None
) -> list[Callable[[], Iterator[tuple[int, np.ndarray] | Problems]]]:
    """The reading of `rows` cut into independent pieces, in `reading_order`: one per video
    (or per `frames_per_piece` of its rows, so that several threads can share one long
    video; not MPEG-PS or AVI files, which may be read by counting frames from the start)
    and one per `IMAGES_PER_GROUP` consecutive images. Calling a piece gives its (row, RGB
    array) items, then the piece's own `Problems` (naming an unreadable file, or the frames
    that did not decode: every other frame of the piece is given). Pieces run on any thread, several at once (`iter_pixels`; the
    extraction of frames runs each piece to its PNG files on one thread).

    Example: `[list(piece())[-1] for piece in pixel_groups(source, frames, rows)]` → each piece's problems.
    """
    groups = _groups(frames, reading_order(frames, rows))
    if frames_per_piece is not None:
        groups = [part for group in groups for part in _cut(group, frames_per_piece if _cuttable(source, frames, group) else len(group))]
    return [_maker(source, frames, group, infos) for group in groups]


# containers whose frames may be counted from the start rather than found by timestamp
# (`thresher.io.video`): a piece of such a video would decode it from its first frame again
COUNTED_FROM_START = (".mpg", ".mpeg", ".avi")


def _cuttable(source: Datasource, frames: Frames, group: np.ndarray) -> bool:
    """Whether a group's video can be read in pieces: its index says its frames are found by
    timestamp, or, with no index known yet, its extension is not one of `COUNTED_FROM_START`."""
    if frames.kind[group[0]] != "frame":
        return False
    name = str(frames.video[group[0]])
    info = source.video_infos.hint(name)  # a stale index only changes how the video is shared
    return info.pts_reliable if info is not None else not name.lower().endswith(COUNTED_FROM_START)


def _cut(group: np.ndarray, size: int) -> list[np.ndarray]:
    return [group[start : start + size] for start in range(0, len(group), max(1, size))]


def _groups(frames: Frames, ordered: np.ndarray) -> list[np.ndarray]:
    """Rows cut into one group per video and groups of `IMAGES_PER_GROUP` consecutive images."""
    if len(ordered) == 0:
        return []
    videos = frames.video[ordered]
    starts = np.flatnonzero(np.r_[True, videos[1:] != videos[:-1]])
    groups: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    for group in np.split(ordered, starts[1:]):
        if frames.kind[group[0]] == "frame":
            groups.extend([np.concatenate(pending)] if pending else [])
            pending = []
            groups.append(group)
        else:
            pending.append(group)
            if sum(len(g) for g in pending) >= IMAGES_PER_GROUP:
                groups.append(np.concatenate(pending))
                pending = []
    groups.extend([np.concatenate(pending)] if pending else [])
    return groups


def _maker(source: Datasource, frames: Frames, group: np.ndarray, infos: Mapping[str, Any] | None):
    """A function giving the group's (row, pixels) items, then the group's own `Problems`."""

    def make() -> Iterator[tuple[int, np.ndarray] | Problems]:
        found = Problems()
        if frames.kind[group[0]] == "frame":
            yield from _video_pixels(source, frames, group, found, (infos or {}).get(str(frames.video[group[0]])))
        else:
            yield from _image_pixels(source, frames, group, found)
        yield found

    return make


def _image_pixels(source: Datasource, frames: Frames, rows: np.ndarray, problems: Problems) -> Iterator[tuple[int, np.ndarray]]:
    for row in rows:
        name = str(frames.video[row])
        try:
            yield int(row), load_rgb(source.input.read_bytes(name), name)
        except DatasourceError as exc:
            problems.add(name, "", "an image that decodes", str(exc).removeprefix(f"{name}: "))


def _video_pixels(source: Datasource, frames: Frames, rows: np.ndarray, problems: Problems, info: Any = None) -> Iterator[tuple[int, np.ndarray]]:
    """(row, pixels) of each of `rows` (one video's, in frame order) that decodes; a problem for
    the video when it cannot be opened, and one naming the frames that do not decode."""
    from thresher.io.video import VideoReader

    name = str(frames.video[rows[0]])
    try:
        stat = source.video_infos.stat(name)
        known = info or source.video_infos.known(name, stat)
        reader = VideoReader(source.input, name, known)
    except DatasourceError as exc:
        problems.add(name, "", "a video whose frames all decode", f"{exc}; its frames are skipped")
        return
    with reader:
        if known is None:  # the reader demuxed the video: keep what it found
            source.video_infos.remember(name, reader.info, stat)
        indices = frames.frame_index[rows]
        inside = indices < len(reader)  # a video cut short since it was listed has fewer frames now
        yield from _decodable(reader, rows[inside], indices[inside], problems)
        if not inside.all():
            past = f"{_named(indices[~inside].tolist())} out of range 0..{len(reader) - 1}"
            problems.add(name, "", "a video whose frames all decode", f"{name}: {past} (the video is shorter than when it was listed)")


def _decodable(reader: Any, rows: np.ndarray, indices: np.ndarray, problems: Problems) -> Iterator[tuple[int, np.ndarray]]:
    """(row, pixels) of each frame of `reader` at `indices` (ascending, in range) that decodes.
    The reading goes on after a frame that fails (a broken frame takes down only the frames
    decoded from it); one problem names the first failure and the other frames that failed."""
    failed: list[tuple[int, str]] = []  # (frame index, the reader's reason)
    at = 0
    while at < len(rows):
        try:
            for pixels in reader.frames(indices[at:].tolist()):
                yield int(rows[at]), pixels
                at += 1
        except DatasourceError as exc:
            failed.append((int(indices[at]), str(exc)))
            at += 1
    if failed:
        others = [index for index, _ in failed[1:]]
        either = f"; {_named(others)} could not be decoded either" if others else ""
        problems.add(reader.name, "", "a video whose frames all decode", failed[0][1] + either)


def _named(indices: list[int]) -> str:
    """Frame indices for a message: all of a few, the first and last of many.

    >>> _named([118]), _named([118, 120]), _named(list(range(118, 250, 2)))
    ('frame 118', 'frames 118, 120', '66 frames, 118 to 248')
    """
    if len(indices) == 1:
        return f"frame {indices[0]}"
    if len(indices) <= 4:
        return "frames " + ", ".join(map(str, indices))
    return f"{len(indices)} frames, {indices[0]} to {indices[-1]}"


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of `size` items (the last may be shorter)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
