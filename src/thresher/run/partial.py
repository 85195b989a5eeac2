"""A run's `<id>.partial/` folder: claimed by the live run, removed once its run is dead.

A run writes into `runs/<id>.partial/` and renames it to `runs/<id>/` when complete, then the
catalog records it, then the lock file goes. While it works it holds an exclusive `flock` on
`.lock` in its folder; the kernel drops the lock when the process ends, however it ends (SIGKILL
included). A run that fails with an error removes its own folder; the next run's start removes
every other `.partial` folder whose lock it can take (a run killed or interrupted), and every
final folder still holding a free lock file whose run the catalog has not recorded (killed
between the rename and the record): their runs are dead, and what they computed is reused from
the workspace, never read from there.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

LOCK = ".lock"
YOUNG_SECONDS = 60  # a folder without a lock file this young may be a run between mkdir and lock


class PartialFolder:
    """A new `<id>.partial/` folder, locked for this process until `release()`.

    >>> partial = PartialFolder(Path(tmp) / "runs" / "r1.partial")  # doctest: +SKIP
    >>> partial.release()  # doctest: +SKIP
    """

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=False)
        self.path = path
        self._fd: int | None = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def finish(self, final: Path) -> None:
        """Rename to the run's final folder, keeping the lock file and the lock until `done()`:
        a final folder still holding a lock file nobody holds is a run killed before the catalog
        recorded it (`remove_unrecorded`)."""
        os.replace(self.path, final)
        self.path = final

    def done(self) -> None:
        """The catalog recorded the run: drop the lock file and release the lock."""
        (self.path / LOCK).unlink(missing_ok=True)
        self.release()

    def discard(self) -> None:
        """Delete the folder, wherever it is (a failed run): nothing in it is reused."""
        shutil.rmtree(self.path, ignore_errors=True)
        self.release()

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def remove_dead_partials(runs_folder: Path) -> list[Path]:
    """Delete the `.partial` folders of runs that are no longer running; returns them.

    A folder is dead when its lock can be taken (its process ended) or, without a lock file,
    when it is older than a minute (left by an older thresher, or killed before locking).
    """
    removed = []
    for folder in sorted(runs_folder.glob("*.partial")) if runs_folder.is_dir() else []:
        if folder.is_dir() and _is_dead(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def remove_unrecorded(runs_folder: Path, statuses: Mapping[str, str]) -> list[Path]:
    """Delete the final run folders whose run died between the rename and the catalog's record;
    returns them. Such a folder still holds the lock file, its lock is free, and its name is a
    run of `statuses` (run id -> catalog status) not `done`. A done run's folder only loses its
    leftover lock file; folders of names the catalog does not know are left alone."""
    removed = []
    for lock in sorted(runs_folder.glob(f"*/{LOCK}")) if runs_folder.is_dir() else []:
        folder = lock.parent
        if folder.suffix == ".partial" or folder.name not in statuses or not _is_dead(folder):
            continue
        if statuses[folder.name] == "done":
            lock.unlink(missing_ok=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _is_dead(folder: Path) -> bool:
    try:
        fd = os.open(folder / LOCK, os.O_RDWR)
    except FileNotFoundError:
        return time.time() - folder.stat().st_mtime > YOUNG_SECONDS
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True
