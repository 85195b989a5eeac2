"""`Datasource`: a folder or bucket of images and videos, and where its `.lightly/` lives.

As in the seeds' INPUT / LIGHTLY split, the media (`input`) and the `.lightly/` folder with
predictions and metadata (`lightly`) may be two locations; by default both are the input.
Enumerating gives one `Frames` row per image and per video frame, with Lightly names.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from thresher.errors import DatasourceError, ThresherError, UsageError
from thresher.frames import Frames
from thresher.io.images import image_size
from thresher.io.names import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, frame_names, is_image, is_video, json_name
from thresher.io.problems import Problems, collector
from thresher.io.storage import Location
from thresher.io.video_infos import VideoInfos

SKIPPED_DIRS = (".lightly", ".thresher")
IO_THREADS = 8  # header reads are I/O bound; more threads than cores pays off on buckets
SUPPORTED = " ".join(f".{e}" for e in sorted(IMAGE_EXTENSIONS)) + " (images), " + " ".join(f".{e}" for e in sorted(VIDEO_EXTENSIONS)) + " (videos)"


@dataclass(frozen=True)
class MediaFiles:
    """The media files of a datasource, relative names, sorted; `unsupported`: the other files."""

    images: tuple[str, ...]
    videos: tuple[str, ...]
    unsupported: tuple[str, ...] = ()

    def unsupported_by_extension(self) -> dict[str, int]:
        """{".gif": 2, "(none)": 1}: how many files of each extension were skipped, most first.

        >>> MediaFiles((), (), ("a.gif", "b.GIF", "notes")).unsupported_by_extension()
        {'.gif': 2, '(none)': 1}
        """
        counts = Counter("." + n.rsplit(".", 1)[1].lower() if "." in n.rsplit("/", 1)[-1] else "(none)" for n in self.unsupported)
        return dict(counts.most_common())


def describe_unsupported(counts: dict[str, int]) -> str:
    """One line for a summary: "skipped 3 files of unsupported types (.gif 2, .txt 1)"; "" when none."""
    if not counts:
        return ""
    total = sum(counts.values())
    listed = ", ".join(f"{ext} {n}" for ext, n in counts.items())
    return f"skipped {total} file{'s' if total > 1 else ''} of unsupported types ({listed}); thresher reads {SUPPORTED}"


class Datasource:
    """Images and videos in a local folder or an fsspec URL (`s3://`, `gs://`, `az://`).

    Args:
        input: where the media are.
        lightly: where `.lightly/` (predictions, metadata) is; defaults to `input`.
        storage_options: passed to fsspec for both locations (credentials, endpoint, …).

    `video_infos` keeps the index of each video this object has read (`thresher.io.video_infos`).
    """

    def __init__(
        self,
        input: str | os.PathLike,
        lightly: str | os.PathLike | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ):
        self.input = Location(input, storage_options)
        self.lightly = Location(lightly, storage_options) if lightly is not None else self.input
        self.video_infos = VideoInfos(self.input)
        _check_folder(self.input, "")
        if lightly is not None:
            _check_folder(self.lightly, " (the LIGHTLY location holding .lightly/)")

    @classmethod
    def of_locations(cls, input: Location, lightly: Location | None = None) -> "Datasource":
        """A datasource over locations already opened and checked (e.g. in a worker process,
        where a LIGHTLY bucket that is still empty must not be refused)."""
        source = cls.__new__(cls)
        source.input, source.lightly = input, input if lightly is None else lightly
        source.video_infos = VideoInfos(input)
        return source

    def __repr__(self) -> str:
        return f"Datasource({self.input.url!r}, lightly={self.lightly.url!r})"

    def media_files(self) -> MediaFiles:
        """Images and videos, skipping `.lightly/`, `.thresher/` and hidden files; the other files
        are listed as unsupported."""
        with remote_errors(self.input):
            names = [n for n in self.input.files(skip=SKIPPED_DIRS) if not n.rsplit("/", 1)[-1].startswith(".")]
        images = tuple(n for n in names if is_image(n))
        videos = tuple(n for n in names if is_video(n))
        return MediaFiles(images, videos, tuple(n for n in names if not is_image(n) and not is_video(n)))

    def frames(
        self,
        problems: Problems | None = None,
        media: MediaFiles | None = None,
        progress: Callable[[int, int], None] | None = None,
        cache: Path | None = None,
    ) -> Frames:
        """One row per image and video frame, sorted by Lightly name.

        Unreadable images and videos are recorded in `problems` (or raise without a
        collector) and left out; of samples that would share a prediction file
        (`a.jpg` and `a.png`), the first by name is kept and the others reported.
        `media`: the listing when the caller has it already (`media_files()`); `progress`:
        called with (files read, files in all); `cache`: a local `.npz` file keeping each
        readable video's index by its file size and modification time
        (`thresher.io.video_index_cache`): a video whose size and time did not change is not
        demuxed again, and its index serves `video_infos` (seeking to its frames later).
        """
        from thresher.io.video_index_cache import load_video_indexes, save_video_indexes

        problems = collector(problems)
        media = media if media is not None else self.media_files()
        counted = _counter(progress, len(media.images) + len(media.videos))
        known = load_video_indexes(cache) if cache is not None else {}
        found: dict[str, tuple] = {}
        with ThreadPoolExecutor(IO_THREADS) as pool:
            images = list(pool.map(counted(lambda n: self._image_rows(n, problems)), media.images))
            videos = list(pool.map(counted(lambda n: self._video_rows(n, problems, known, found)), media.videos))
        if cache is not None and (found.keys() != known.keys() or any(found[n][1] is not known[n][1] for n in found)):
            save_video_indexes(cache, found)
        rows = [r for r in images + videos if r is not None]
        if not rows:
            return Frames.empty()
        columns = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
        order = np.argsort(columns["id"], kind="stable")
        columns = {k: v[order] for k, v in columns.items()}
        keep = _first_of_clashes(columns, problems)
        return Frames.build(**{k: v[keep] for k, v in columns.items()})

    def _image_rows(self, name: str, problems: Problems) -> dict | None:
        try:
            with self.input.open(name) as f:
                width, height = image_size(f, name)
        except DatasourceError as exc:
            problems.add(name, "", "a readable image", str(exc).removeprefix(f"{name}: "))
            return None
        return _rows([name], "image", name, [0], width, height)

    def _video_rows(self, name: str, problems: Problems, known: dict, found: dict) -> dict | None:
        """The frames of a video, from its index in `known` when its size and time match (the
        index is then remembered in `video_infos`), else from a demux pass; the index used goes
        into `found` as ((size, time), VideoInfo)."""
        try:
            stat = tuple(self.input.stat(name))
            entry = known.get(name)
            if entry is not None and entry[0] == stat:
                info = entry[1]
                self.video_infos.remember(name, info, stat)
            else:
                info = self.video_infos.get(name, stat)
        except (DatasourceError, OSError) as exc:
            problems.add(name, "", "a readable video", str(exc).removeprefix(f"{name}: "))
            return None
        found[name] = (stat, info)
        return _rows(frame_names(name, info.n_frames), "frame", name, np.arange(info.n_frames), info.width, info.height)


def _counter(progress: Callable[[int, int], None] | None, total: int):
    """Wrap per-file functions so that each finished call reports (files done, total) to `progress`."""
    if progress is None:
        return lambda function: function
    lock, done = threading.Lock(), [0]

    def wrap(function):
        def counted(name):
            value = function(name)
            with lock:
                done[0] += 1
                progress(done[0], total)
            return value

        return counted

    return wrap


def _check_folder(location: Location, role: str) -> None:
    """UsageError unless `location` is an existing folder: a file or a missing path is named as such."""
    with remote_errors(location):
        if location.isdir():
            return
        is_file = location.exists()
    if is_file:
        parent = location.url.rstrip("/").rsplit("/", 1)[0] if "/" in location.url.rstrip("/") else "."
        raise UsageError(f"{location.url}: a file, not a folder{role}; give the folder that holds the images and videos, e.g. {parent}")
    bucket = _missing_bucket(location)
    if bucket is not None:
        raise UsageError(f"{location.url}: no bucket named {bucket!r}{role} (or these credentials cannot see it); check the bucket's name in the URL")
    raise UsageError(f"{location.url}: no such folder{role}")


def _missing_bucket(location: Location) -> str | None:
    """The bucket's name when `location` is in a bucket that does not exist, else None."""
    if location.is_local:
        return None
    bucket = location.root.strip("/").split("/", 1)[0]
    with remote_errors(location):
        return None if not bucket or location.fs.exists(bucket) else bucket


@contextmanager
def remote_errors(location: Location):
    """Turn a bucket's failures (missing credentials, access denied, unreachable endpoint) into one
    DatasourceError line naming the location and what to do; local folders are left alone."""
    try:
        yield
    except ThresherError:
        raise
    except Exception as exc:  # noqa: BLE001 - fsspec backends raise their own types (botocore, google, azure)
        if location.is_local:
            raise
        raise DatasourceError(describe_remote_error(location.url, exc)) from exc


def describe_remote_error(url: str, exc: Exception) -> str:
    """`s3://b: no credentials found (NoCredentialsError); set …`: one line, with the fix."""
    kind = type(exc).__name__
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else kind
    if "Credentials" in kind or "credential" in detail.lower():
        fix = CREDENTIALS_HINT.get(url.split("://", 1)[0], "pass credentials with --storage-options")
        return f"{url}: no credentials found ({kind}: {detail}); {fix}"
    if isinstance(exc, PermissionError) or "AccessDenied" in detail or "Forbidden" in detail:
        return f"{url}: access denied ({kind}: {detail}); check that these credentials may list and read it"
    return f"{url}: cannot read the bucket ({kind}: {detail}); check the URL, the network and --storage-options"


CREDENTIALS_HINT = {
    "s3": "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or pass --storage-options '{\"anon\": true}' for a public bucket",
    "gs": 'set GOOGLE_APPLICATION_CREDENTIALS, or pass --storage-options \'{"token": "anon"}\' for a public bucket',
    "gcs": 'set GOOGLE_APPLICATION_CREDENTIALS, or pass --storage-options \'{"token": "anon"}\' for a public bucket',
    "az": "pass --storage-options with account_name and account_key (or a sas_token)",
    "abfs": "pass --storage-options with account_name and account_key (or a sas_token)",
}


# where each store's client finds credentials without storage options: environment variables,
# and files given by a variable or at their default place below the home folder
CREDENTIAL_VARIABLES = {
    "s3": (
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ),
    "gs": ("GOOGLE_APPLICATION_CREDENTIALS",),
    "az": ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_CLIENT_SECRET"),
}
CREDENTIAL_FILES = {
    "s3": (("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"), ("AWS_CONFIG_FILE", ".aws/config")),
    "gs": ((None, ".config/gcloud/application_default_credentials.json"),),
    "az": (),
}
PROTOCOL_FAMILY = {"s3": "s3", "s3a": "s3", "gs": "gs", "gcs": "gs", "az": "az", "abfs": "az", "abfss": "az"}


def credentials_in_environment(url: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether the client of `url`'s store finds credentials with no storage options: one of its
    variables is set or one of its credentials files exists (True for stores not known here;
    a cloud machine's own role, which only the network tells, is not seen).

    >>> credentials_in_environment("s3://b/data", {"AWS_PROFILE": "work"})
    True
    >>> credentials_in_environment("s3://b/data", {"HOME": "/nonexistent"})
    False
    """
    environ = os.environ if environ is None else environ
    family = PROTOCOL_FAMILY.get(url.split("://", 1)[0])
    if family is None:
        return True
    if any(environ.get(name) for name in CREDENTIAL_VARIABLES[family]):
        return True
    home = environ.get("HOME")
    paths = [environ.get(variable or "") or (os.path.join(home, default) if home else "") for variable, default in CREDENTIAL_FILES[family]]
    return any(path and os.path.isfile(path) for path in paths)


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


NAME_CLASH = "a name whose prediction file is its own"  # `Problem.expected` of a sample left out by `_first_of_clashes`


def _first_of_clashes(columns: dict[str, np.ndarray], problems: Problems) -> np.ndarray:
    """Rows to keep of the (sorted) `columns`: the first of the samples sharing a prediction file
    (`a.jpg`, `a.png`; an image named like a video frame, whose name ends in `.png`,
    `thresher.io.names`). Each other one is a problem `NAME_CLASH` naming the one kept."""
    names, frame = columns["id"], columns["kind"] == "frame"
    keys = np.array([n[:-4] + ".json" if f else json_name(n) for n, f in zip(names.tolist(), frame.tolist())], dtype=str)
    _, first = np.unique(keys, return_index=True)
    keep = np.zeros(len(names), bool)
    keep[first] = True

    def sample(row: int) -> str:
        return f"frame {int(columns['frame_index'][row])} of {str(columns['video'][row])!r}" if frame[row] else f"the image {str(names[row])!r}"

    for row in np.flatnonzero(~keep).tolist():
        kept = int(np.flatnonzero(keys == keys[row])[0])
        problems.add(
            str(names[row]),
            "",
            NAME_CLASH,
            f"the same prediction file {str(keys[row])!r} as {sample(kept)}, which is kept; {sample(row)} is left out",
        )
    return keep
