"""`Selection`: the chosen sample ids in pick order, and why each was chosen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from thresher._table import as_array, as_str_array
from thresher.errors import SchemaError


@dataclass(frozen=True, eq=False)
class Selection:
    """Chosen ids in the order they were picked.

    Attributes:
        ids: the chosen sample ids, first pick first.
        objective: float64, the value of the combined objective when each sample was picked
            ("why this one"; higher = picked more eagerly; NaN for preselected samples).
        config: the selection config that produced it, as a plain dict.
    """

    ids: np.ndarray
    objective: np.ndarray
    config: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", as_str_array(self.ids, "Selection.ids"))
        object.__setattr__(self, "objective", as_array(self.objective, "Selection.objective", np.float64, 1))
        if len(self.objective) != len(self.ids):
            raise SchemaError(f"Selection: {len(self.ids)} ids but {len(self.objective)} objective values")
        if len(np.unique(self.ids)) != len(self.ids):
            raise SchemaError("Selection.ids: a sample is selected twice")

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, rows: object) -> "Selection":
        """Picks by boolean mask, index array or slice (the pick order is kept)."""
        return Selection(self.ids[rows], self.objective[rows], self.config)

    @classmethod
    def empty(cls) -> "Selection":
        return cls(np.zeros(0, dtype="<U1"), np.zeros(0))

    @classmethod
    def concat(cls, selections: list["Selection"]) -> "Selection":
        """Picks of several selections one after the other (config of the first)."""
        if not selections:
            return cls.empty()
        return cls(
            np.concatenate([s.ids for s in selections]),
            np.concatenate([s.objective for s in selections]),
            selections[0].config,
        )
