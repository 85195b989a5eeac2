"""`Location`: a folder on a local disk or in a bucket, through fsspec.

Every read and write of thresher goes through a `Location`, so a datasource in `s3://`,
`gs://` or `az://` behaves like a local folder. Names given to a `Location` are relative,
`/`-separated, and may not escape it (see `safe_name`).
"""

from __future__ import annotations

import os
import posixpath
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import fsspec
import numpy as np

from thresher.errors import DatasourceError
from thresher.io.temporary import replacing

PROTOCOL_EXTRAS = {"s3": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs"}

# botocore's settings for an S3 bucket where the user's `config_kwargs` do not give them: an
# endpoint that accepts connections but never answers fails within about a minute and a half
# (the defaults of s3fs and botocore retry it 25 times, about 7 minutes), and a slow answer
# still has 20 s between two reads of its bytes.
S3_CONFIG_DEFAULTS: dict[str, Any] = {"connect_timeout": 10, "read_timeout": 20, "retries": {"total_max_attempts": 2, "mode": "standard"}}
S3FS_RETRIES = 2  # s3fs's own retries of a timed-out request (its default: 5), with the retries above


def safe_name(name: object) -> str:
    """Check that `name` is a relative path inside its folder; return it normalized.

    Raises DatasourceError for absolute paths, `..` components, backslashes, drive letters
    and empty names: such a name would read or write outside the datasource.
    """
    if not isinstance(name, str) or not name.strip():
        raise DatasourceError(f"expected a relative file name, got {name!r}")
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":") or "\0" in name:
        raise DatasourceError(f"file name {name!r} is not a relative '/'-separated path inside the datasource")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts or not parts:
        raise DatasourceError(f"file name {name!r} escapes the datasource")
    return "/".join(parts)


def is_url(path: str) -> bool:
    return "://" in str(path)


def with_bucket_defaults(url: str, storage_options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The storage options for `url`, an `s3://` URL's `config_kwargs` completed with
    `S3_CONFIG_DEFAULTS` where the user's options do not set them (theirs always win).

    >>> with_bucket_defaults("s3://b/data", {"config_kwargs": {"read_timeout": 2}})["config_kwargs"]
    {'connect_timeout': 10, 'read_timeout': 2, 'retries': {'total_max_attempts': 2, 'mode': 'standard'}}
    >>> with_bucket_defaults("photos", None)
    {}
    """
    options = dict(storage_options or {})
    if str(url).split("://", 1)[0] not in ("s3", "s3a"):
        return options
    given = options.get("config_kwargs") or {}
    options["config_kwargs"] = {**S3_CONFIG_DEFAULTS, **given}
    return options


def _limit_s3fs_retries(fs: Any) -> None:
    """Lower s3fs's own retries to `S3FS_RETRIES` where botocore's are thresher's defaults (a
    user who sets `config_kwargs.retries` keeps s3fs's as they are)."""
    config = getattr(fs, "config_kwargs", None)
    if isinstance(config, dict) and config.get("retries") == S3_CONFIG_DEFAULTS["retries"] and hasattr(fs, "retries"):
        fs.retries = min(fs.retries, S3FS_RETRIES)


class Location:
    """A folder, local or remote, addressed by relative `/`-separated names."""

    def __init__(self, url: str | os.PathLike, storage_options: Mapping[str, Any] | None = None):
        self.url = str(url)
        self.storage_options = dict(storage_options or {})  # as the user gave them (no defaults)
        try:
            self.fs, root = fsspec.core.url_to_fs(self.url, **with_bucket_defaults(self.url, storage_options))
        except ImportError as exc:
            protocol = self.url.split("://", 1)[0]
            package = PROTOCOL_EXTRAS.get(protocol, protocol)
            raise DatasourceError(f"reading {self.url} needs the package {package}: pip install {package}") from exc
        except ValueError as exc:
            raise DatasourceError(f"cannot open {self.url}: {exc}") from exc
        _limit_s3fs_retries(self.fs)
        self.root = root.rstrip("/") or "/"
        self.is_local = "file" in self.fs.protocol or "local" in self.fs.protocol
        self._listings: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None  # folder -> its walk, inside `kept_listings`

    def __repr__(self) -> str:
        return f"Location({self.url!r})"

    def path(self, name: str) -> str:
        """The filesystem path of a relative name (checked with `safe_name`)."""
        return posixpath.join(self.root, safe_name(name))

    def display(self, name: str) -> str:
        """The name as shown to users: the full local path or URL."""
        base = self.url.rstrip("/")
        return f"{base}/{name}" if name else base

    def child(self, name: str) -> "Location":
        """The sub-folder `name` of this location."""
        sub = Location.__new__(Location)
        sub.url, sub.fs, sub.is_local = self.display(safe_name(name)), self.fs, self.is_local
        sub.storage_options = self.storage_options
        sub.root = self.path(name)
        sub._listings = None
        return sub

    def exists(self, name: str = "") -> bool:
        return self.fs.exists(self.path(name) if name else self.root)

    def isdir(self, name: str = "") -> bool:
        return self.fs.isdir(self.path(name) if name else self.root)

    def open(self, name: str):
        """A binary file object for reading (seekable, also for bucket objects)."""
        try:
            return self.fs.open(self.path(name), "rb")
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            raise DatasourceError(f"{self.display(name)}: cannot read ({type(exc).__name__})") from exc

    def read_bytes(self, name: str) -> bytes:
        try:
            return self.fs.cat_file(self.path(name))
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            raise DatasourceError(f"{self.display(name)}: cannot read ({type(exc).__name__})") from exc

    def read_many(self, names: Iterable[str]) -> dict[str, bytes | Exception]:
        """Contents of many files at once (concurrently on object stores); errors as values."""
        names = list(names)
        if not names:
            return {}
        paths = [self.path(n) for n in names]
        if self.is_local:
            return {n: _read_local(p) for n, p in zip(names, paths)}
        found = self.fs.cat(paths, on_error="return")
        return {n: found.get(p, FileNotFoundError(p)) for n, p in zip(names, paths)}

    def files(self, under: str = "", *, skip: tuple[str, ...] = ()) -> list[str]:
        """Relative names of every file below `under` (recursively), sorted.

        Folders named in `skip` and hidden folders (`.name`) below `under` are not entered.
        """
        base = self.path(under) if under else self.root
        if self.is_local:
            return sorted(self._local_files(base, skip))
        if not self.fs.isdir(base):
            return []
        prefix = self.root.rstrip("/") + "/"
        names = [p[len(prefix) :] if p.startswith(prefix) else p for p in self.fs.find(base)]
        start = len(under.strip("/").split("/")) if under else 0
        return sorted(n for n in names if not _in_skipped(n.split("/")[start:-1], skip))

    def file_stats(self, under: str = "") -> list[tuple[str, int, float]]:
        """(relative name, size, modification time) of every file below `under`, sorted."""
        base = self.path(under) if under else self.root
        prefix = self.root.rstrip("/") + "/"
        if self.is_local:
            found = []
            for folder, _, files in os.walk(base):
                for name in files:
                    path = os.path.join(folder, name)
                    info = os.stat(path)
                    found.append((path[len(prefix) :], info.st_size, info.st_mtime))
            return sorted(found)
        if not self.fs.isdir(base):
            return []
        details = self.fs.find(base, detail=True)
        return sorted((p[len(prefix) :], int(d.get("size") or 0), float(_modified(d))) for p, d in details.items())

    def file_listing(self, under: str = "") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(relative names, sizes in bytes, modification times in ns) of every file below `under`,
        sorted by name, as arrays; hidden folders below `under` are not entered (as `files`). A
        bucket's times are its objects' times in seconds, scaled to ns.

        Example: `names, sizes, times = lightly.file_listing(".lightly/metadata")`.
        """
        kept = self._listings
        if kept is not None and under in kept:
            return kept[under]
        found = self._listing(under)
        for array in found:
            array.flags.writeable = False  # shared by the callers inside `kept_listings`
        if kept is not None:
            kept[under] = found
        return found

    @contextmanager
    def kept_listings(self) -> Iterator["Location"]:
        """Inside, `file_listing` walks each folder once and answers again from that walk; a write
        through this location (`write_bytes`) forgets the folders it touches. For stretches where
        nothing else writes the folders read, e.g. a run's stages after its models ran.

        Example: `with lightly.kept_listings(): ...` (the folders are listed once inside).
        """
        self._listings = {}
        try:
            yield self
        finally:
            self._listings = None

    def _forget_listings(self, name: str) -> None:
        kept = self._listings
        if kept:
            for under in [u for u in kept if not u or name.startswith(u.rstrip("/") + "/")]:
                del kept[under]

    def _listing(self, under: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        base = self.path(under) if under else self.root
        names: list[str] = []
        sizes: list[int] = []
        times: list[int] = []
        if not self.is_local:
            start = len(under.strip("/").split("/")) if under else 0
            for n, size, t in self.file_stats(under):
                if not _in_skipped(n.split("/")[start:-1], ()):
                    names.append(n)
                    sizes.append(size)
                    times.append(int(round(t * 1e9)))
        else:
            add_name, add_size, add_time = names.append, sizes.append, times.append
            pending = [(base, f"{safe_name(under)}/" if under.strip("/") else "")]
            while pending:
                folder, relative = pending.pop()
                try:
                    entries = list(os.scandir(folder))
                except (FileNotFoundError, NotADirectoryError):
                    continue
                for entry in entries:
                    if entry.is_dir():  # as os.walk: a link to a folder is not entered
                        if not entry.name.startswith(".") and not entry.is_symlink():
                            pending.append((entry.path, f"{relative}{entry.name}/"))
                        continue
                    try:
                        info = entry.stat()
                    except FileNotFoundError:  # removed since the folder was read
                        continue
                    add_name(relative + entry.name), add_size(info.st_size), add_time(info.st_mtime_ns)
        name = np.array(names, dtype=str) if names else np.zeros(0, "<U1")
        order = np.argsort(name, kind="stable")
        return name[order], np.array(sizes, dtype=np.int64)[order], np.array(times, dtype=np.int64)[order]

    def _local_files(self, base: str, skip: tuple[str, ...]) -> list[str]:
        prefix = self.root.rstrip("/") + "/"
        found: list[str] = []
        for folder, dirs, files in os.walk(base):
            dirs[:] = [d for d in dirs if not _in_skipped([d], skip)]
            rel = folder[len(prefix) :] if folder.startswith(prefix) else ""
            found.extend(f"{rel}/{f}" if rel else f for f in files)
        return found

    def write_bytes(self, name: str, data: bytes) -> None:
        """Write a file whole: to a temporary name, then renamed (local, `write_file`), or one
        put (buckets)."""
        path = self.path(name)
        self._forget_listings(safe_name(name))
        if not self.is_local:
            self.fs.pipe_file(path, data)
            return
        write_file(path, data)

    def write_changed(self, name: str, data: bytes) -> bool:
        """`write_bytes` unless the file already holds exactly `data`; returns whether it wrote.

        One read instead of a write, so a rerun leaves the user's file alone: its modification
        time, a bucket object's versions and the notifications a put would send. A file that
        is missing or cannot be read is written.

        Example: `lightly.write_changed(".lightly/metadata/schema.json", payload)` is False the
        second time.
        """
        if self.read_many([name])[name] == data:
            return False
        self.write_bytes(name, data)
        return True

    def remove(self, names: Iterable[str]) -> None:
        """Delete these files (one missing already is fine)."""
        for name in names:
            self._forget_listings(safe_name(name))
            try:
                if self.is_local:
                    os.remove(self.path(name))
                else:
                    self.fs.rm_file(self.path(name))
            except FileNotFoundError:
                pass

    def stat(self, name: str) -> tuple[int, float]:
        """(size in bytes, modification time in seconds; 0 when the store gives none)."""
        if self.is_local:
            info = os.stat(self.path(name))
            return info.st_size, info.st_mtime
        info = self.fs.info(self.path(name))
        return int(info.get("size") or 0), _modified(info)

    def local_path(self, name: str) -> str | None:
        """The path on the local disk, or None for remote locations."""
        return self.path(name) if self.is_local else None


# fields of an fsspec info dict holding a modification time (S3, Azure, GCS, memory, HTTP), and,
# where a store gives no time, fields that change whenever the object's content does
TIME_FIELDS = ("mtime", "LastModified", "last_modified", "updated", "created", "Last-Modified")
IDENTITY_FIELDS = ("ETag", "etag", "md5Hash", "crc32c", "generation", "Content-MD5", "Digest")


def _modified(info: dict) -> float:
    """Modification time in seconds from an fsspec info dict, made to change whenever the
    content does (every cache compares these values for equality only):

    - a time given to the whole second (S3, an HTTP server) carries, in its microseconds, a
      digest of the content's identity when the store gives one (ETag, checksum, generation),
      so that a same-size replacement within the same second is still seen;
    - where the store gives no time, a number standing for that identity (below 2**32);
    - 0 when it gives neither.

    Example: `_modified({"Last-Modified": "Sat, 05 Dec 2026 21:00:00 GMT"})` → 1796504400.0.
    """
    modified = next((info[f] for f in TIME_FIELDS if info.get(f)), None)
    if isinstance(modified, str):
        modified = _parse_time(modified)
    identity = next((str(info[f]) for f in IDENTITY_FIELDS if info.get(f)), None)
    digest = zlib.crc32(identity.encode()) if identity is not None else None
    if modified is None:
        return float(digest) if digest is not None else 0.0
    seconds = float(modified.timestamp() if hasattr(modified, "timestamp") else modified)
    if digest is not None and seconds.is_integer():
        return seconds + (digest % 1_000_000) / 1e6
    return seconds


def _parse_time(text: str) -> Any:
    """A time written as ISO 8601 (object stores) or as an HTTP date, or None."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None


def _in_skipped(folders: list[str], skip: tuple[str, ...]) -> bool:
    return any(f in skip or f.startswith(".") for f in folders)


def _read_local(path: str) -> bytes | Exception:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        return exc


def write_file(path: str | os.PathLike, data: bytes) -> None:
    """Write a local file whole: to a locked temporary beside it, then renamed over it (an
    interrupted write leaves the old file or none, never half a file; the temporary of a killed
    write is removed by the next run, `thresher.io.temporary`). Missing folders are made.

    Example: `write_file("data/.lightly/predictions/tasks.json", b'["cars"]')`.
    """
    with replacing(path) as handle:
        handle.write(data)
