"""What writing images could not do: each image not written, the media file it comes from, and why.

Frames are extracted (`thresher.run.outputs`) and stills linked or copied (`thresher.run.images`)
from files enumerated earlier; a file truncated, replaced or removed since cannot give them.
Writing never stops for it: it writes what it can and returns the rest as `Unwritten` entries
(an `Extraction`), so that each caller keeps its outputs to the images that exist and says
once per media file what it left out (`by_file`).

Example:
    >>> failed = unwritten([("v-003-mp4.png", "v.mp4"), ("w-001-mp4.png", "w.mp4")], ["w-001-mp4.png"], [])
    >>> failed
    [Unwritten(name='v-003-mp4.png', file='v.mp4', problem='expected the frame to decode, got nothing from the decoder')]
    >>> by_file(failed)["v.mp4"][0].name
    'v-003-mp4.png'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from thresher.io.problems import Problem

NOT_DECODED = "expected the frame to decode, got nothing from the decoder"  # a reader that stopped without saying why


@dataclass(frozen=True)
class Unwritten:
    """An image not written: `name` its Lightly name (a frame's PNG, a still, a crop), `file`
    the media file it comes from, `problem` why (`expected …, got …`, the reader's words)."""

    name: str
    file: str
    problem: str


@dataclass(frozen=True)
class Extraction:
    """What a call that writes images did: `written` the names written (in writing order),
    `failed` the ones it could not write (in reading order)."""

    written: list[str]
    failed: list[Unwritten] = field(default_factory=list)


def unwritten(asked: Iterable[tuple[str, str]], written: Iterable[str], problems: Iterable[Problem]) -> list[Unwritten]:
    """The (name, media file) pairs of `asked` whose name is not in `written`, each with the
    first of `problems` its file had (the reader reports a file's problems in reading order;
    `NOT_DECODED` when it reported none)."""
    why: dict[str, str] = {}
    for problem in problems:
        why.setdefault(problem.file, problem.reason)
    done = set(written)
    return [Unwritten(name, file, why.get(file, NOT_DECODED)) for name, file in asked if name not in done]


def by_file(failed: Iterable[Unwritten]) -> dict[str, list[Unwritten]]:
    """`failed` grouped by media file, files in order of first appearance."""
    found: dict[str, list[Unwritten]] = {}
    for entry in failed:
        found.setdefault(entry.file, []).append(entry)
    return found


def counted(number: int, noun: str) -> str:
    """`1 frame`, `3 frames`.

    >>> counted(1, "frame"), counted(3, "crop")
    ('1 frame', '3 crops')
    """
    return f"{number} {noun}{'' if number == 1 else 's'}"
