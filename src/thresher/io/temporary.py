"""Files and folders written whole: under a temporary name beside the final one, then renamed.

A temporary is named `.<final name>.<8 hex digits>.tmp` (`TEMPORARY_NAME`), and the process
writing it holds an exclusive `flock` on it until it is renamed; the kernel drops that lock when
the process ends, however it ends (SIGKILL included). A temporary whose lock is free was left by
a process killed while writing it: `remove_stale` deletes those, never one a live process is
writing (another command working in the same folder keeps its own).

    with replacing("cache/frames.npz") as handle:   # cache/.frames.npz.1a2b3c4d.tmp, locked
        handle.write(payload)                       # renamed to cache/frames.npz on success
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

TEMPORARY_NAME = re.compile(r"\..+\.[0-9a-f]{8}\.tmp")  # `.<final name>.<8 hex digits>.tmp`
ATTEMPTS = 3  # a temporary removed before it was locked is made again under another name


def temporary_name(name: str) -> str:
    """A fresh temporary name for the final file name `name` (no folder).

    >>> bool(TEMPORARY_NAME.fullmatch(temporary_name("schema.json")))
    True
    >>> temporary_name("schema.json").startswith(".schema.json.")
    True
    """
    return f".{name}.{uuid.uuid4().hex[:8]}.tmp"


@contextmanager
def replacing(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file to write `path` whole: a locked temporary beside it, renamed over `path`
    when the block ends without an error, deleted when it raises. Missing folders are made.

    An interrupted write leaves the old file or none, never half of one.
    Example: `with replacing("out/a.json") as handle: handle.write(b"{}")`.
    """
    path = os.fspath(path)
    temporary, descriptor = _locked(path, _new_file)
    with os.fdopen(descriptor, "wb") as handle:  # closing it drops the lock: after the rename
        try:
            yield handle
            handle.flush()
            os.replace(temporary, path)
        except BaseException:
            _unlink(temporary)
            raise


@contextmanager
def replacing_folder(path: str | os.PathLike) -> Iterator[str]:
    """The path of a locked temporary folder beside `path` to fill, renamed to `path` (which
    must not exist) when the block ends without an error, deleted when it raises.

    Example: `with replacing_folder("embeddings/m/shard-00001") as folder: np.save(f"{folder}/ids.npy", ids)`.
    """
    path = os.fspath(path)
    temporary, descriptor = _locked(path, _new_folder)
    try:
        yield temporary
        os.rename(temporary, path)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    finally:
        os.close(descriptor)


def copy_file(source: str | os.PathLike, path: str | os.PathLike) -> None:
    """Copy the file `source` to `path` through a temporary (`replacing`): a copy interrupted
    midway never leaves a truncated file at `path`. OSError when `source` cannot be read.

    Example: `copy_file("runs/r1/images/a.png", "runs/r2/images/a.png")`.
    """
    with open(source, "rb") as original, replacing(path) as handle:
        shutil.copyfileobj(original, handle)


def remove_stale(folder: str | os.PathLike) -> list[str]:
    """Delete the temporaries below `folder` (recursively) whose writer is dead; returns their
    paths. A missing folder has none; links to folders are not followed.

    Example: `remove_stale("data/.lightly/predictions")` → `[".../.schema.json.1a2b3c4d.tmp"]`.
    """
    removed: list[str] = []
    pending = [os.fspath(folder)]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            if entry.name.endswith(".tmp") and TEMPORARY_NAME.fullmatch(entry.name):
                if not entry.is_symlink() and _remove_if_free(entry.path, entry.is_dir(follow_symlinks=False)):
                    removed.append(entry.path)
            elif entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
    return sorted(removed)


def _new_file(temporary: str) -> int:
    return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)


def _new_folder(temporary: str) -> int:
    os.mkdir(temporary)
    return os.open(temporary, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def _locked(path: str, make: Callable[[str], int]) -> tuple[str, int]:
    """(temporary, its descriptor, locked): a new temporary for `path` made by `make`, which
    returns a descriptor of it; a missing folder is made.

    Between its creation and the lock, another command's `remove_stale` may have taken the lock
    first and deleted it: the temporary then has no name left (no link), and another is made.
    """
    folder, name = os.path.split(path)
    for _ in range(ATTEMPTS):
        temporary = os.path.join(folder, temporary_name(name))
        try:
            descriptor = make(temporary)
        except FileNotFoundError:  # the folder is missing (or was removed since)
            os.makedirs(folder or ".", exist_ok=True)
            continue
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        if os.fstat(descriptor).st_nlink > 0:
            return temporary, descriptor
        os.close(descriptor)
    raise FileNotFoundError(f"{path}: its temporary vanished {ATTEMPTS} times before it could be written (is another program deleting files there?)")


def _remove_if_free(path: str, is_folder: bool) -> bool:
    """Delete the temporary `path` if no live process holds its lock; whether it did. The lock
    is held while deleting, so a writer that locks it afterwards sees it gone (`_locked`)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:  # gone since it was listed, or unreadable: not ours to judge
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return False
    try:
        if is_folder:
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except OSError:  # renamed to its final name by its writer just before the lock was dropped, or not ours to delete
        return False
    finally:
        os.close(descriptor)
    return True


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
