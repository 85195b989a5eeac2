"""Lightly sample names: images keep their path; video frames are `<video>-<index>-<ext>.png`.

The frame index is zero-padded to `len(str(number of frames))` digits, as the seeds' code does
(250 frames: `bikes-000-mp4.png` … `bikes-249-mp4.png`), and the name ends in `.png` because
extracted frames are PNG files. A sample's prediction or metadata file is its name with the
extension replaced by `.json`.
"""

from __future__ import annotations

import posixpath
import re

IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "bmp", "tif", "tiff", "webp"})
VIDEO_EXTENSIONS = frozenset({"mp4", "mov", "avi", "mkv", "webm", "m4v", "mpg", "mpeg", "ts", "wmv", "flv"})

_FRAME_NAME = re.compile(r"^(?P<stem>.+)-(?P<index>\d+)-(?P<ext>[A-Za-z0-9]+)\.png$")


def extension(name: str) -> str:
    """Lower-case extension without the dot ('' when none)."""
    return posixpath.splitext(name)[1][1:].lower()


def is_image(name: str) -> bool:
    return extension(name) in IMAGE_EXTENSIONS


def is_video(name: str) -> bool:
    return extension(name) in VIDEO_EXTENSIONS


def frame_digits(n_frames: int) -> int:
    """Digits of the zero-padded frame index of a video with `n_frames` frames."""
    return len(str(n_frames))


def frame_name(video: str, index: int, n_frames: int) -> str:
    """The Lightly name of frame `index` of `video` ('clips/bikes.mp4', 12, 250 → 'clips/bikes-012-mp4.png')."""
    stem, ext = posixpath.splitext(video)
    return f"{stem}-{index:0{frame_digits(n_frames)}d}-{ext[1:]}.png"


def frame_names(video: str, n_frames: int) -> list[str]:
    """The Lightly names of every frame of a video, in order."""
    stem, ext = posixpath.splitext(video)
    digits = frame_digits(n_frames)
    return [f"{stem}-{i:0{digits}d}-{ext[1:]}.png" for i in range(n_frames)]


def parse_frame_name(name: str) -> tuple[str, int, int] | None:
    """(video name, frame index, digits) of a Lightly frame name, or None if it is not one."""
    match = _FRAME_NAME.match(name)
    if match is None or match["ext"].lower() not in VIDEO_EXTENSIONS:
        return None
    return f"{match['stem']}.{match['ext']}", int(match["index"]), len(match["index"])


def json_name(sample_name: str) -> str:
    """The prediction or metadata file of a sample: its name with the extension → `.json`."""
    return posixpath.splitext(sample_name)[0] + ".json"
