"""The shared mechanics of the columnar types: equal-length numpy columns in a frozen dataclass.

A subclass declares its columns as dataclass fields marked with `column()`; rows are taken
with a boolean mask, an index array or a slice (`table[table.score > 0.5]`), tables of one
type are joined with `concat`, and `empty()` gives a table of zero rows. Optional columns
are `None` when absent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

from thresher.errors import SchemaError

T = TypeVar("T", bound="Table")


def column(*, optional: bool = False) -> Any:
    """A per-row column field; optional columns default to None."""
    if optional:
        return dataclasses.field(default=None, metadata={"column": True})
    return dataclasses.field(metadata={"column": True})


def as_str_array(values: Any, name: str) -> np.ndarray:
    """A 1-D numpy unicode array, for ids and names (sortable and comparable in bulk)."""
    array = np.asarray(values)
    if array.size == 0:
        return np.zeros(0, dtype="<U1")
    if array.ndim != 1:
        raise SchemaError(f"{name}: expected a 1-D sequence of strings, got shape {array.shape}")
    if array.dtype.kind != "U":
        array = array.astype(str)
    return array


def as_array(values: Any, name: str, dtype: Any, ndim: int) -> np.ndarray:
    """Coerce to a numpy array of the given dtype and number of dimensions, or raise."""
    try:
        array = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{name}: expected numbers of type {np.dtype(dtype)}, got {exc}") from exc
    if array.ndim != ndim:
        raise SchemaError(f"{name}: expected {ndim} dimension(s), got shape {array.shape}")
    return array


class Table:
    """Base class of the columnar types (a frozen dataclass with `column()` fields)."""

    @classmethod
    def _column_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls) if f.metadata.get("column")]

    def _columns(self) -> dict[str, np.ndarray | None]:
        return {name: getattr(self, name) for name in self._column_names()}

    def _length(self) -> int:
        first = self._column_names()[0]
        return len(getattr(self, first))

    def __len__(self) -> int:
        return self._length()

    def _check_lengths(self) -> None:
        n = self._length()
        for name, values in self._columns().items():
            if values is not None and len(values) != n:
                raise SchemaError(
                    f"{type(self).__name__}.{name}: expected {n} rows like the other columns, "
                    f"got {len(values)}"
                )

    def __getitem__(self: T, rows: Any) -> T:
        """Rows by boolean mask, index array or slice; the result is a new table."""
        if isinstance(rows, (int, np.integer)):
            rows = [rows]
        if not isinstance(rows, slice):
            rows = np.asarray(rows)
            if rows.dtype == bool and rows.shape != (len(self),):
                raise SchemaError(
                    f"{type(self).__name__}: boolean mask of shape {rows.shape} "
                    f"for {len(self)} rows"
                )
        taken = {k: None if v is None else v[rows] for k, v in self._columns().items()}
        return dataclasses.replace(self, **taken)

    @classmethod
    def concat(cls: type[T], tables: Sequence[T]) -> T:
        """Join tables row-wise; an optional column must be present in all or none of them."""
        if not tables:
            return cls.empty()
        joined: dict[str, np.ndarray | None] = {}
        for name in cls._column_names():
            parts = [getattr(t, name) for t in tables]
            present = [p is not None for p in parts]
            if all(present):
                joined[name] = np.concatenate(parts)
            elif any(present):
                raise SchemaError(
                    f"{cls.__name__}.concat: column {name!r} is present in some tables only"
                )
            else:
                joined[name] = None
        return dataclasses.replace(tables[0], **joined)

    @classmethod
    def empty(cls: type[T]) -> T:  # pragma: no cover - each type defines its own
        raise NotImplementedError


def lookup(keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row of each query in `keys` (unique strings) and whether it was found.

    Rows of queries that are not found are 0 and must be masked with `found`.
    """
    if len(keys) == 0:
        return np.zeros(len(queries), np.int64), np.zeros(len(queries), bool)
    order = np.argsort(keys, kind="stable")
    pos = np.minimum(np.searchsorted(keys, queries, sorter=order), len(keys) - 1)
    rows = order[pos].astype(np.int64)
    return rows, keys[rows] == queries
