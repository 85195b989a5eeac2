"""Problems found in input data: each names the file, the field, what was expected and what came.

Readers take `problems: Problems | None`. With None they raise `SchemaError` at the first
problem; with a `Problems` collector they record every problem, skip what is unusable, and go on.
"""

from __future__ import annotations

from dataclasses import dataclass

from thresher.errors import SchemaError

MAX_SHOWN = 80  # characters of an offending value shown in a message


@dataclass(frozen=True)
class Problem:
    """One problem: `file: field: expected …, got …`."""

    file: str
    field: str
    expected: str
    got: str

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"

    @property
    def reason(self) -> str:
        """The problem without its file: `field: expected …, got …`."""
        where = f"{self.field}: " if self.field else ""
        return f"{where}expected {self.expected}, got {self.got}"


def shown(value: object) -> str:
    """A short printable form of an offending value."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


class Problems(list):
    """A list of `Problem`s; `add` raises instead when `strict` is set."""

    def __init__(self, strict: bool = False):
        super().__init__()
        self.strict = strict

    def add(self, file: str, field: str, expected: str, got: str) -> None:
        problem = Problem(file, field, expected, got)
        if self.strict:
            raise SchemaError(str(problem))
        self.append(problem)


def collector(problems: Problems | None) -> Problems:
    """The given collector, or a strict one that raises at the first problem."""
    return Problems(strict=True) if problems is None else problems
