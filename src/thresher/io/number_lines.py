"""Whitespace-separated numbers, one record a line, in many small text files (YOLO txt), parsed at once.

The common case, files written by a program (single spaces, ASCII), is parsed with one C call
over all files (`np.fromstring`); anything else falls back to splitting line by line, which
also finds the tokens that are not numbers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NumberLines:
    """The non-blank lines of some texts.

    file: index of the text of each line; line: its 1-based line number in that text;
    n_fields: its number of tokens; values: (L, max_fields) float64, NaN where a line has fewer
    tokens or a token is not a number; text: the lines; bad_tokens: (line row, field, token)
    of every token that is not a number (fields beyond max_fields are not read).
    """

    file: np.ndarray
    line: np.ndarray
    n_fields: np.ndarray
    values: np.ndarray
    text: list[str]
    bad_tokens: list[tuple[int, int, str]]


def parse_number_lines(texts: list[str], max_fields: int) -> NumberLines:
    """Parse every non-blank line of every text into up to `max_fields` numbers."""
    per_text = [t.splitlines() for t in texts]
    counts = np.array([len(lines) for lines in per_text], dtype=np.int64)
    lines = [line for text_lines in per_text for line in text_lines]
    file = np.repeat(np.arange(len(texts)), counts)
    number = np.arange(len(lines)) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    filled = np.array([bool(line) and not line.isspace() for line in lines], dtype=bool)
    lines = [line for line, keep in zip(lines, filled) if keep]
    file, number = file[filled], number[filled]
    parsed = _fast(lines, max_fields)
    n_fields, values, bad = parsed if parsed is not None else _slow(lines, max_fields)
    return NumberLines(file, number, n_fields, values, lines, bad)


def _fast(lines: list[str], max_fields: int) -> tuple | None:
    """(n_fields, values, []) for ASCII lines of single-space-separated numbers; None otherwise."""
    joined = "\n".join(lines)
    irregular = "  " in joined or "\t" in joined or " \n" in joined or "\n " in joined or joined[:1] == " " or joined[-1:] == " "
    if irregular or not joined.isascii():
        return None
    n_fields = np.array([line.count(" ") for line in lines], dtype=np.int64) + 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns, rather than raises, at a token that is not a number
        try:
            flat = np.fromstring(joined, dtype=np.float64, sep=" ")
        except (DeprecationWarning, ValueError):
            return None
    if len(flat) != int(n_fields.sum()):
        return None
    values = np.full((len(lines), max_fields), np.nan)
    row = np.repeat(np.arange(len(lines)), n_fields)
    column = np.arange(len(flat)) - np.repeat(np.cumsum(n_fields) - n_fields, n_fields)
    inside = column < max_fields
    values[row[inside], column[inside]] = flat[inside]
    return n_fields, values, []


def _slow(lines: list[str], max_fields: int) -> tuple:
    tokens = [line.split() for line in lines]
    values = np.full((len(lines), max_fields), np.nan)
    bad = []
    for i, parts in enumerate(tokens):
        for j, token in enumerate(parts[:max_fields]):
            try:
                values[i, j] = float(token)
            except ValueError:
                bad.append((i, j, token))
    return np.array([len(t) for t in tokens], dtype=np.int64), values, bad
