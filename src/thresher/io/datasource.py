"""`Datasource`: a folder or bucket of images and videos, and where its `.lightly/` lives.

As in the seeds' INPUT / LIGHTLY split, the media (`input`) and the `.lightly/` folder with
predictions and metadata (`lightly`) may be two locations; by default both are the input.
Enumerating gives one `Frames` row per image and per video frame, with Lightly names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from thresher.errors import DatasourceError, UsageError
from thresher.frames import Frames
from thresher.io.images import image_size
from thresher.io.names import frame_names, is_image, is_video, json_name
from thresher.io.problems import Problems, collector
from thresher.io.storage import Location

SKIPPED_DIRS = (".lightly", ".thresher")
IO_THREADS = 8  # header reads are I/O bound; more threads than cores pays off on buckets


@dataclass(frozen=True)
class MediaFiles:
    """The media files of a datasource, relative names, sorted."""

    images: tuple[str, ...]
    videos: tuple[str, ...]


class Datasource:
    """Images and videos in a local folder or an fsspec URL (`s3://`, `gs://`, `az://`).

    Args:
        input: where the media are.
        lightly: where `.lightly/` (predictions, metadata) is; defaults to `input`.
        storage_options: passed to fsspec for both locations (credentials, endpoint, …).
    """

    def __init__(
        self,
        input: str | os.PathLike,
        lightly: str | os.PathLike | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ):
        self.input = Location(input, storage_options)
        self.lightly = Location(lightly, storage_options) if lightly is not None else self.input
        if not self.input.isdir():
            raise UsageError(f"{self.input.url}: no such folder")
        if lightly is not None and not self.lightly.isdir():
            raise UsageError(f"{self.lightly.url}: no such folder (the LIGHTLY location holding .lightly/)")

    @classmethod
    def of_locations(cls, input: Location, lightly: Location | None = None) -> "Datasource":
        """A datasource over locations already opened and checked (e.g. in a worker process,
        where a LIGHTLY bucket that is still empty must not be refused)."""
        source = cls.__new__(cls)
        source.input, source.lightly = input, input if lightly is None else lightly
        return source

    def __repr__(self) -> str:
        return f"Datasource({self.input.url!r}, lightly={self.lightly.url!r})"

    def media_files(self) -> MediaFiles:
        """Images and videos, skipping `.lightly/`, `.thresher/` and hidden files."""
        names = [n for n in self.input.files(skip=SKIPPED_DIRS) if not n.rsplit("/", 1)[-1].startswith(".")]
        return MediaFiles(tuple(n for n in names if is_image(n)), tuple(n for n in names if is_video(n)))

    def frames(self, problems: Problems | None = None) -> Frames:
        """One row per image and video frame, sorted by Lightly name.

        Unreadable images and videos are recorded in `problems` (or raise without a
        collector) and left out; of samples that would share a prediction file
        (`a.jpg` and `a.png`), the first by name is kept and the others reported.
        """
        problems = collector(problems)
        media = self.media_files()
        with ThreadPoolExecutor(IO_THREADS) as pool:
            images = list(pool.map(lambda n: self._image_rows(n, problems), media.images))
            videos = list(pool.map(lambda n: self._video_rows(n, problems), media.videos))
        rows = [r for r in images + videos if r is not None]
        if not rows:
            return Frames.empty()
        columns = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
        order = np.argsort(columns["id"], kind="stable")
        columns = {k: v[order] for k, v in columns.items()}
        keep = _first_of_clashes(columns["id"], problems)
        return Frames.build(**{k: v[keep] for k, v in columns.items()})

    def _image_rows(self, name: str, problems: Problems) -> dict | None:
        try:
            with self.input.open(name) as f:
                width, height = image_size(f, name)
        except DatasourceError as exc:
            problems.add(name, "", "a readable image", str(exc).removeprefix(f"{name}: "))
            return None
        return _rows([name], "image", name, [0], width, height)

    def _video_rows(self, name: str, problems: Problems) -> dict | None:
        from thresher.io.video import video_info

        try:
            info = video_info(self.input, name)
        except DatasourceError as exc:
            problems.add(name, "", "a readable video", str(exc).removeprefix(f"{name}: "))
            return None
        return _rows(frame_names(name, info.n_frames), "frame", name, np.arange(info.n_frames), info.width, info.height)


def _rows(names: list[str], kind: str, video: str, index: object, width: int, height: int) -> dict:
    n = len(names)
    return {
        "id": np.array(names, dtype=str),
        "kind": np.full(n, kind),
        "video": np.full(n, video),
        "frame_index": np.asarray(index, dtype=np.int64),
        "width": np.full(n, width, dtype=np.int64),
        "height": np.full(n, height, dtype=np.int64),
    }


def _first_of_clashes(names: np.ndarray, problems: Problems) -> np.ndarray:
    """Rows to keep: the first of names sharing a prediction file (`a.jpg`, `a.png`)."""
    keys = np.array([json_name(n) for n in names.tolist()], dtype=str)
    _, first = np.unique(keys, return_index=True)
    keep = np.zeros(len(names), bool)
    keep[first] = True
    for row in np.flatnonzero(~keep):
        twin = str(names[np.flatnonzero(keys == keys[row])[0]])
        problems.add(
            str(names[row]), "", "a name whose prediction file is its own",
            f"the same prediction file {str(keys[row])!r} as {twin!r}; it is left out",
        )
    return keep
