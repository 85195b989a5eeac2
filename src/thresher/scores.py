"""`Scores`: named float columns over sample ids. Higher means more worth labeling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from thresher._table import as_array, as_str_array, lookup
from thresher.errors import SchemaError, did_you_mean


@dataclass(frozen=True, eq=False)
class Scores:
    """Sample ids and named float64 score columns of the same length.

    Every column follows one direction: **higher means more worth labeling**. NaN means
    "not applicable" (e.g. a box score of a frame with no box, where a scorer says so);
    it is never silently turned into 0.
    """

    ids: np.ndarray
    columns: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", as_str_array(self.ids, "Scores.ids"))
        columns = {}
        for name, values in self.columns.items():
            values = as_array(values, f"Scores[{name!r}]", np.float64, 1)
            if len(values) != len(self.ids):
                raise SchemaError(f"Scores[{name!r}]: expected {len(self.ids)} values (one per id), got {len(values)}")
            columns[str(name)] = values
        object.__setattr__(self, "columns", columns)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def __getitem__(self, key: object) -> "np.ndarray | Scores":
        """`scores["entropy"]` gives a column; a mask, index array or slice gives rows."""
        if isinstance(key, str):
            if key not in self.columns:
                raise SchemaError(f"Scores: no column {key!r}{did_you_mean(key, self.columns)}; have {self.names}")
            return self.columns[key]
        return Scores(self.ids[key], {k: v[key] for k, v in self.columns.items()})

    def with_column(self, name: str, values: object) -> "Scores":
        """A copy with one column added or replaced."""
        return Scores(self.ids, {**self.columns, name: values})

    def align(self, ids: object) -> "Scores":
        """Rows in the order of `ids`; ids this table does not hold get NaN."""
        ids = as_str_array(ids, "ids")
        rows, found = lookup(self.ids, ids)
        columns = {k: np.where(found, v[rows] if len(v) else np.nan, np.nan) for k, v in self.columns.items()}
        return Scores(ids, columns)

    @classmethod
    def empty(cls, names: Sequence[str] = ()) -> "Scores":
        return cls(np.zeros(0, dtype="<U1"), {n: np.zeros(0) for n in names})

    @classmethod
    def concat(cls, tables: Sequence["Scores"]) -> "Scores":
        """Join rows; every table must have the same column names."""
        if not tables:
            return cls.empty()
        names = tables[0].names
        for t in tables[1:]:
            if t.names != names:
                raise SchemaError(f"Scores.concat: columns differ: {names} vs {t.names}")
        ids = np.concatenate([t.ids for t in tables])
        return cls(ids, {n: np.concatenate([t.columns[n] for t in tables]) for n in names})

    def join(self, other: "Scores") -> "Scores":
        """Columns of both tables over this table's ids (missing ids of `other` are NaN)."""
        clash = set(self.names) & set(other.names)
        if clash:
            raise SchemaError(f"Scores.join: both tables have column(s) {sorted(clash)}")
        return Scores(self.ids, {**self.columns, **other.align(self.ids).columns})
