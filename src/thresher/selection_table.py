"""`Selection`: the chosen sample ids in pick order, and why each was chosen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from thresher.errors import SchemaError
from thresher.table import Table, column

if TYPE_CHECKING:
    from thresher.table import Column


@dataclass(frozen=True, eq=False)
class Selection(Table):
    """Chosen ids in the order they were picked.

    Attributes:
        ids: the chosen sample ids, first pick first.
        objective: float64, the value of the combined objective when each sample was picked
            ("why this one"; higher = picked more eagerly; NaN for preselected samples).
        config: the selection config that produced it, as a plain dict.

    Rows (the pick order is kept), `concat` (picks one after the other, config of the first),
    `empty`, `replace`, `index_of` and `align` as every `thresher.table.Table`.

    >>> picks = Selection(["b.jpg", "a.jpg"], [2.0, 1.0], {"n_samples": 2})
    >>> picks[0].ids.tolist(), picks[0].config
    (['b.jpg'], {'n_samples': 2})
    """

    _key = "ids"
    _missing = "sample {id!r} is not selected"

    ids: Column = column(str)
    objective: Column = column(np.float64)
    config: Mapping[str, Any] = field(default_factory=dict)

    def _check(self) -> None:
        if len(np.unique(self.ids)) != len(self.ids):
            raise SchemaError("Selection.ids: a sample is selected twice")
