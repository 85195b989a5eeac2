"""`Table`: the one base of thresher's columnar types (`Frames`, `Detections`, `Scores`,
`Embeddings`, `Selection`).

A table is a frozen dataclass whose per-row fields are numpy arrays of one length, declared
with `column()` (one array) or `column_group()` (a mapping of named arrays, as `Scores`
holds its score columns) and annotated `Column`, `OptionalColumn` or `ColumnGroup` (for type
checkers: built from any array-like, read as numpy arrays). Other fields (`Selection.config`) travel with the rows unchanged.
Every table behaves the same way:

- `len(t)` rows; `t[i]` (one row, as a table of one row; negative counts from the end),
  `t[a:b]`, `t[mask]` (a boolean array of length `len(t)`) and `t[rows]` (an integer array)
  give a new table of the same type. A wrong-length mask, a row out of range or an index of
  another kind raises `TableIndexError` (a `SchemaError` and an `IndexError`) naming the type
  and both lengths.
- `T.concat([t1, t2, …])` joins rows (an optional column must be present in all tables or in
  none, a column group must have the same names); `T.concat([])` is `T.empty()`.
- `T.empty()` has zero rows; `t.replace(col=…)` rebuilds with some columns replaced and every
  other column kept (optional ones included).
- Types keyed by sample id (`_key`: Frames, Scores, Embeddings, Selection) have
  `t.index_of(ids)` (row of each id) and `t.align(ids)` (rows in the order of `ids`).

Every construction coerces and checks the columns (dtype, dimensions, lengths), then calls the
type's `_check()` for its own rules.

>>> from thresher import Scores
>>> scores = Scores(["a.jpg", "b.jpg", "c.jpg"], {"entropy": [0.9, 0.1, 0.5]})
>>> scores[scores["entropy"] > 0.3].ids.tolist()
['a.jpg', 'c.jpg']
>>> scores[0].ids.tolist(), len(Scores.concat([scores, scores[1:]]))
(['a.jpg'], 5)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Self, cast

import numpy as np
from numpy.typing import ArrayLike

from thresher.errors import SchemaError, TableIndexError, UsageError

__all__ = ["ColumnSpec", "Table", "TableIndexError", "as_array", "as_str_array", "column", "column_group", "lookup"]


if TYPE_CHECKING:
    # The static types of the fields `column()` and `column_group()` declare. A table's
    # constructor (and `replace`) coerces what it is given, so it takes any array-like, and its
    # fields read back as numpy arrays. A dataclass field typed with a descriptor says exactly
    # that to a type checker: the constructor takes what `__set__` takes, reading gives what
    # `__get__` returns (the typing spec's rule for dataclass fields; mypy and pyright follow
    # it). At run time the fields are plain attributes and these classes do not exist.

    class Column:
        """A `column()` field: built from any array-like, read as an array."""

        def __get__(self, instance: object, owner: Any = None) -> np.ndarray: ...

        def __set__(self, instance: object, value: ArrayLike) -> None: ...

    class OptionalColumn:
        """A `column(..., optional=True)` field: an array, or None when absent."""

        def __get__(self, instance: object, owner: Any = None) -> np.ndarray | None: ...

        def __set__(self, instance: object, value: ArrayLike | None) -> None: ...

    class ColumnGroup:
        """A `column_group()` field: named columns, each built from any array-like."""

        def __get__(self, instance: object, owner: Any = None) -> Mapping[str, np.ndarray]: ...

        def __set__(self, instance: object, value: Mapping[str, ArrayLike]) -> None: ...


class ColumnSpec(NamedTuple):
    """How a column is stored: `dtype` (`str` for ids and names), `ndim` 1 or 2, `width` the
    fixed size of the second axis (None: any), `group` a mapping of such columns."""

    dtype: Any
    ndim: int = 1
    width: int | None = None
    group: bool = False


def column(dtype: Any, *, ndim: int = 1, width: int | None = None, optional: bool = False) -> Any:
    """A per-row field of a table: an array of `dtype` (`str` for strings), `ndim` 1 or 2
    (`width`: the fixed size of the second axis). Optional columns default to None. Annotate
    the field `Column` (`OptionalColumn` when optional), so type checkers know the constructor
    takes any array-like and the field reads back as an array.

    >>> import dataclasses
    >>> @dataclasses.dataclass(frozen=True, eq=False)
    ... class Boxes(Table):
    ...     xyxy: "Column" = column(np.float64, ndim=2, width=4)
    >>> len(Boxes([[0, 0, 1, 1], [2, 2, 3, 3]])[1:])
    1
    """
    metadata = {"column": ColumnSpec(dtype, 2 if width is not None else ndim, width)}
    if optional:
        return dataclasses.field(default=None, metadata=metadata)
    return dataclasses.field(metadata=metadata)


def column_group(dtype: Any) -> Any:
    """A per-row field holding any number of named 1-D columns of `dtype` (a mapping name →
    array, empty by default), as `Scores.columns`; annotate it `ColumnGroup`."""
    return dataclasses.field(default_factory=dict, metadata={"column": ColumnSpec(dtype, group=True)})


def as_str_array(values: ArrayLike, name: str) -> np.ndarray:
    """A 1-D numpy unicode array, for ids and names (sortable and comparable in bulk).

    >>> as_str_array([1, "b"], "ids")
    array(['1', 'b'], dtype='<U21')
    """
    array = np.asarray(values)
    if array.size == 0:
        return np.zeros(0, dtype="<U1")
    if array.ndim != 1:
        raise SchemaError(f"{name}: expected a 1-D sequence of strings, got shape {array.shape}")
    if array.dtype.kind != "U":
        array = array.astype(str)
    return array


def as_array(values: ArrayLike, name: str, dtype: Any, ndim: int) -> np.ndarray:
    """Coerce to a numpy array of the given dtype and number of dimensions, or raise SchemaError.

    >>> as_array([1, 2], "score", np.float64, 1)
    array([1., 2.])
    """
    try:
        array = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{name}: expected numbers of type {np.dtype(dtype)}, got {exc}") from exc
    if array.ndim != ndim:
        raise SchemaError(f"{name}: expected {ndim} dimension(s), got shape {array.shape}")
    return array


def lookup(keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row of each query in `keys` (unique strings) and whether it was found.

    Rows of queries that are not found are 0 and must be masked with `found`.

    >>> lookup(np.array(["b", "a"]), np.array(["a", "z"]))
    (array([1, 0]), array([ True, False]))
    """
    if len(keys) == 0:
        return np.zeros(len(queries), np.int64), np.zeros(len(queries), bool)
    order = np.argsort(keys, kind="stable")
    pos = np.minimum(np.searchsorted(keys, queries, sorter=order), len(keys) - 1)
    rows = order[pos].astype(np.int64)
    return rows, keys[rows] == queries


def _coerce(value: Any, spec: ColumnSpec, label: str) -> np.ndarray:
    """One column as its spec says, or SchemaError naming `label`."""
    if spec.dtype is str:
        return as_str_array(value, label)
    if spec.ndim == 2 and np.size(value) == 0 and np.ndim(value) < 2:
        value = np.zeros((0, spec.width or 0))  # [] has no second dimension to check
    array = as_array(value, label, spec.dtype, spec.ndim)
    if spec.width is not None and array.shape[1] != spec.width:
        raise SchemaError(f"{label}: expected shape (M, {spec.width}), got {array.shape}")
    return array


def _empty_column(spec: ColumnSpec) -> Any:
    if spec.group:
        return {}
    if spec.dtype is str:
        return np.zeros(0, dtype="<U1")
    return np.zeros((0, spec.width or 0) if spec.ndim == 2 else 0, dtype=spec.dtype)


_SPECS: dict[type, dict[str, tuple[ColumnSpec, bool]]] = {}


def _specs(cls: type) -> dict[str, tuple[ColumnSpec, bool]]:
    """Column name → (spec, optional) of a table type, in declaration order (computed once)."""
    if cls not in _SPECS:
        fields = dataclasses.fields(cls)
        _SPECS[cls] = {f.name: (f.metadata["column"], f.default is None) for f in fields if "column" in f.metadata}
    return _SPECS[cls]


class Table:
    """Base of the columnar types; see the module docstring for what every table can do.

    A subclass is a `@dataclass(frozen=True, eq=False)` with `column()` fields, sets `_key`
    to its sample-id column when it has one, and puts its own rules in `_check()`.
    """

    _key: ClassVar[str | None] = None  # the column of sample ids (unique), if any
    _missing: ClassVar[str] = "unknown sample id {id!r}"  # what `index_of` / `align` say of an absent id

    def __post_init__(self) -> None:
        name = type(self).__name__
        for column_name, (spec, _) in _specs(type(self)).items():
            value = getattr(self, column_name)
            if value is None:
                continue
            if spec.group:
                value = {str(k): _coerce(v, spec, f"{name}[{str(k)!r}]") for k, v in value.items()}
            else:
                value = _coerce(value, spec, f"{name}.{column_name}")
            object.__setattr__(self, column_name, value)
        self._check_lengths()
        self._check()

    def _check(self) -> None:
        """The type's own rules over its coerced columns (raise SchemaError)."""

    # columns ---------------------------------------------------------------------------

    def _arrays(self) -> dict[str, np.ndarray]:
        """Every present per-row array, by label (`Type.column`, or `Type['name']` in a group)."""
        name = type(self).__name__
        arrays = {}
        for column_name, (spec, _) in _specs(type(self)).items():
            value = getattr(self, column_name)
            if value is None:
                continue
            if spec.group:
                arrays.update({f"{name}[{k!r}]": v for k, v in value.items()})
            else:
                arrays[f"{name}.{column_name}"] = value
        return arrays

    def __len__(self) -> int:
        first = next(iter(_specs(type(self))))
        return len(getattr(self, first))

    def _check_lengths(self) -> None:
        n = len(self)
        for label, values in self._arrays().items():
            if len(values) != n:
                raise SchemaError(f"{label}: expected {n} rows like the other columns, got {len(values)}")

    def replace(self, **columns: Any) -> Self:
        """The same table with some fields replaced (every other column kept, optional ones
        included), checked again.

        >>> from thresher import Selection
        >>> Selection(["a", "b"], [2.0, 1.0], {"n": 2}).replace(objective=[0.0, 0.0]).config
        {'n': 2}
        """
        return cast(Self, dataclasses.replace(cast(Any, self), **columns))

    # rows ------------------------------------------------------------------------------

    def __getitem__(self, rows: Any) -> Self:
        """Rows by integer (a one-row table), slice, boolean mask or integer array, in a new table."""
        taken = self._rows(rows)
        changed = {}
        for column_name, (spec, _) in _specs(type(self)).items():
            value = getattr(self, column_name)
            if value is None:
                continue
            changed[column_name] = {k: v[taken] for k, v in value.items()} if spec.group else value[taken]
        return cast(Self, dataclasses.replace(cast(Any, self), **changed))

    def _rows(self, rows: Any) -> slice | np.ndarray:
        """`rows` as a slice, a boolean mask of length len(self) or an integer array, or
        TableIndexError naming the type and the lengths."""
        n, name = len(self), type(self).__name__
        if isinstance(rows, slice):
            return rows
        if isinstance(rows, (int, np.integer)) and not isinstance(rows, (bool, np.bool_)):
            rows = np.array([rows], dtype=np.int64)
        else:
            rows = np.asarray(rows)
        if rows.dtype == bool:
            if rows.shape != (n,):
                got = f"length {rows.shape[0]}" if rows.ndim == 1 else f"shape {rows.shape}"
                raise TableIndexError(f"{name}: a boolean mask of {got} for {n} rows; expected one value per row (length {n})")
            return rows
        if rows.size == 0:
            return np.zeros(0, np.int64)
        if rows.dtype.kind not in "iu" or rows.ndim != 1:
            raise TableIndexError(f"{name}: rows must be an integer, a slice, a boolean mask or a 1-D integer array, got {rows.dtype} of shape {rows.shape}")
        outside = (rows >= n) | (rows < -n)
        if outside.any():
            raise TableIndexError(f"{name}: row {int(rows[outside][0])} is out of range for {n} rows")
        return rows

    @classmethod
    def concat(cls, tables: Sequence[Self]) -> Self:
        """Rows of every table, one table after the other (other fields of the first table).

        An optional column must be present in all tables or in none, a column group must have
        the same names in all, a 2-D column the same width (tables of zero rows excepted).
        """
        if len(tables) == 0:
            return cls.empty()
        for table in tables:
            if not isinstance(table, cls):
                raise SchemaError(f"{cls.__name__}.concat: expected {cls.__name__} tables, got a {type(table).__name__}")
        joined: dict[str, Any] = {}
        for column_name, (spec, _) in _specs(cls).items():
            parts = [getattr(t, column_name) for t in tables]
            if spec.group:
                joined[column_name] = _concat_group(cls.__name__, parts)
            elif all(p is not None for p in parts):
                joined[column_name] = _concat_column(f"{cls.__name__}.{column_name}", parts)
            elif any(p is not None for p in parts):
                raise SchemaError(f"{cls.__name__}.concat: column {column_name!r} is present in some tables only")
            else:
                joined[column_name] = None
        return cast(Self, dataclasses.replace(cast(Any, tables[0]), **joined))

    @classmethod
    def empty(cls) -> Self:
        """A table of zero rows (optional columns absent, other fields at their defaults)."""
        return cls(**{name: None if optional else _empty_column(spec) for name, (spec, optional) in _specs(cls).items()})

    # sample ids ------------------------------------------------------------------------

    def _key_column(self) -> np.ndarray:
        if self._key is None:
            raise UsageError(f"{type(self).__name__}: its rows have no sample id to look up; select rows with a mask or row numbers instead")
        return getattr(self, self._key)

    def index_of(self, ids: ArrayLike) -> np.ndarray:
        """Row of each id (int64); raises SchemaError naming the first id the table lacks."""
        keys = self._key_column()
        ids = as_str_array(ids, "ids")
        rows, found = lookup(keys, ids)
        if not found.all():
            raise SchemaError(f"{type(self).__name__}: " + self._missing.format(id=str(ids[~found][0])))
        return rows

    def align(self, ids: ArrayLike) -> Self:
        """Rows in the order of `ids`; an id the table lacks raises SchemaError naming it
        (`Scores` fills NaN instead)."""
        return self[self.index_of(ids)]


def _concat_column(label: str, parts: list[np.ndarray]) -> np.ndarray:
    if parts[0].ndim == 2:
        widths = {p.shape[1] for p in parts if len(p)}
        if len(widths) > 1:
            raise SchemaError(f"{label}: the tables' widths differ: {sorted(widths)}")
        parts = [p for p in parts if len(p)] or parts[:1]  # an empty table may have any width
    return np.concatenate(parts)


def _concat_group(name: str, parts: list[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    names = list(parts[0])
    for part in parts[1:]:
        if list(part) != names:
            raise SchemaError(f"{name}.concat: columns differ: {names} vs {list(part)}")
    return {n: np.concatenate([p[n] for p in parts]) for n in names}
