"""A run's `<id>.partial/` folder: claimed by the live run, removed once its run is dead.

A run writes into `runs/<id>.partial/` and renames it to `runs/<id>/` when complete. While it
works it holds an exclusive `flock` on `<id>.partial/.lock`; the kernel drops the lock when the
process ends, however it ends (SIGKILL included). A run that fails with an error removes its own
folder; the next run's start removes every other `.partial` folder whose lock it can take (a run
killed or interrupted): their runs are dead, and what they computed is reused from the workspace,
never read from there.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
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
        """Rename to the run's final folder, drop the lock file and release the lock."""
        os.replace(self.path, final)
        (final / LOCK).unlink(missing_ok=True)
        self.release()

    def discard(self) -> None:
        """Delete the folder (a failed run): nothing in it is reused."""
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
