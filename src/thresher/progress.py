"""Progress of the long stages of a run: a callback the library calls, and the displays the CLI uses.

The library reports progress by calling `progress(stage, done, total)`: `stage` names the work
("pretagging", "embeddings", "frames", …), `done` and `total` count its units (frames, files,
crops). `run(..., progress=callback)` takes any such callable; `None` reports nothing.

The CLI shows it with `display(quiet)`: on a terminal a `rich` bar per stage with counts and
time left; when stderr is not a terminal (a pipe, a log file, CI) one line per stage each time
it passes another ~10 % ("pretagging: 40 % (100 of 250), 8 s, about 12 s left"); nothing with
`--quiet`. The same display prints the run's log lines, above the bars.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.progress import TaskID

Progress = Callable[[str, int, int], None]  # (stage, units done, units in all)


def for_stage(progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    """A `(done, total)` callback reporting to `progress` under `stage`; None when `progress` is None.

    >>> seen = []
    >>> for_stage(lambda *a: seen.append(a), "frames")(3, 10); seen
    [('frames', 3, 10)]
    """
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)


class LineProgress:
    """One line per stage at each new tenth of its work, at most one a second, and one when it
    completes: for logs and pipes."""

    def __init__(self, stream: TextIO | None = None, step: float = 0.1, min_interval: float = 1.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.step, self.min_interval = step, min_interval
        self._started: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._shown: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        start = self._started.setdefault(stage, now)
        if total <= 0 or self._shown.get(stage) == -1:
            return
        tenth = int(done / total / self.step + 1e-9)
        if done < total and (tenth <= self._shown.get(stage, 0) or now - self._last.get(stage, start) < self.min_interval):
            return
        self._shown[stage] = -1 if done >= total else tenth
        self._last[stage] = now
        elapsed = now - start
        left = f", about {_seconds(elapsed * (total - done) / done)} left" if 0 < done < total else ""
        print(f"{stage}: {100 * done // total} % ({done} of {total}), {_seconds(elapsed)}{left}", file=self.stream, flush=True)

    def log(self, line: str) -> None:
        print(line, file=self.stream, flush=True)


class TerminalProgress:
    """A rich bar per stage (counts, elapsed, time left) on a terminal; log lines print above the bars."""

    def __init__(self, stream: TextIO | None = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        console = Console(file=stream if stream is not None else sys.stderr)
        self.bars = Progress(
            TextColumn("{task.description:<18}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console,
        )
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self._tasks:
            self._tasks[stage] = self.bars.add_task(stage, total=total)
        self.bars.update(self._tasks[stage], completed=done, total=total)

    def log(self, line: str) -> None:
        self.bars.console.print(line, markup=False, highlight=False)


class QuietProgress:
    """Nothing at all (`--quiet`)."""

    def __call__(self, stage: str, done: int, total: int) -> None:
        pass

    def log(self, line: str) -> None:
        pass


@contextmanager
def display(quiet: bool = False, stream: TextIO | None = None) -> Iterator[LineProgress | TerminalProgress | QuietProgress]:
    """The CLI's progress display for `stream` (stderr): quiet, a terminal's bars, or lines."""
    stream = stream if stream is not None else sys.stderr
    if quiet:
        yield QuietProgress()
    elif stream.isatty():
        shown = TerminalProgress(stream)
        with shown.bars:
            yield shown
    else:
        yield LineProgress(stream)


def _seconds(value: float) -> str:
    """12 s, 3 min 05 s, 1 h 02 min."""
    value = int(round(value))
    if value < 60:
        return f"{value} s"
    if value < 3600:
        return f"{value // 60} min {value % 60:02d} s"
    return f"{value // 3600} h {value % 3600 // 60:02d} min"
