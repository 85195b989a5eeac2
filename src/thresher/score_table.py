"""`Scores`: named float columns over sample ids. Higher means more worth labeling."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import numpy as np
from numpy.typing import ArrayLike

from thresher.errors import SchemaError, did_you_mean
from thresher.table import Table, as_str_array, column, column_group, lookup

if TYPE_CHECKING:
    from thresher.table import Column, ColumnGroup


@dataclass(frozen=True, eq=False)
class Scores(Table):
    """Sample ids and named float64 score columns of the same length.

    Every column follows one direction: **higher means more worth labeling**. NaN means
    "not applicable" (e.g. a box score of a frame with no box, where a scorer says so);
    it is never silently turned into 0.

    `scores["entropy"]` is a column; rows, `concat` (same column names), `empty`, `replace`
    and `index_of` as every `thresher.table.Table`; `align` fills NaN for ids it lacks.

    >>> scores = Scores(["a", "b"], {"entropy": [0.5, 0.1]})
    >>> scores.align(["b", "x"])["entropy"]
    array([0.1, nan])
    """

    _key = "ids"

    ids: Column = column(str)
    columns: ColumnGroup = column_group(np.float64)

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    @overload
    def __getitem__(self, key: str) -> np.ndarray: ...

    @overload
    def __getitem__(self, key: int | slice | np.ndarray | Sequence[int] | Sequence[bool]) -> Scores: ...

    def __getitem__(self, key: Any) -> np.ndarray | Scores:
        """`scores["entropy"]` gives a column; an integer, slice, mask or index array gives rows."""
        if isinstance(key, str):
            if key not in self.columns:
                raise SchemaError(f"Scores: no column {key!r}{did_you_mean(key, self.columns)}; have {self.names}")
            return self.columns[key]
        return super().__getitem__(key)

    def with_column(self, name: str, values: ArrayLike) -> "Scores":
        """A copy with one column added or replaced."""
        return self.replace(columns={**self.columns, name: values})

    def align(self, ids: ArrayLike) -> "Scores":
        """Rows in the order of `ids`; ids this table does not hold get NaN."""
        ids = as_str_array(ids, "ids")
        rows, found = lookup(self.ids, ids)
        columns = {k: np.where(found, v[rows] if len(v) else np.nan, np.nan) for k, v in self.columns.items()}
        return Scores(ids, columns)

    @classmethod
    def empty(cls, names: Sequence[str] = ()) -> "Scores":
        """Zero rows, with the columns `names` (none by default)."""
        return cls(np.zeros(0, dtype="<U1"), {n: np.zeros(0) for n in names})

    def join(self, other: "Scores") -> "Scores":
        """Columns of both tables over this table's ids (missing ids of `other` are NaN)."""
        clash = set(self.names) & set(other.names)
        if clash:
            raise SchemaError(f"Scores.join: both tables have column(s) {sorted(clash)}")
        return Scores(self.ids, {**self.columns, **other.align(self.ids).columns})
