"""`AssertionResult`: what every model assertion returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresher.detections import Detections
from thresher.frames import Frames
from thresher.score_table import Scores


@dataclass(frozen=True, eq=False)
class AssertionResult:
    """Per-frame severities of one assertion and the weak labels it proposes.

    Attributes:
        name: the assertion ("flicker", "appear", "multibox", "class_switch", ...); also the
            name of the severity column.
        severity: `Scores` over `frames.id` with one column `name`. 0 means the assertion
            abstains on that frame; higher means more (or more confident) violations, so more
            worth labeling.
        weak_labels: boxes the assertion proposes as pre-labels, `frame` = row of the same
            `Frames` (imputed boxes for flicker, one box per cluster for multibox, re-classed
            boxes for class switch; empty when the assertion has none). `score` is the
            assertion's confidence in each weak label, in [0, 1].
    """

    name: str
    severity: Scores
    weak_labels: Detections

    @property
    def values(self) -> np.ndarray:
        """The severity column (float64, one value per frame)."""
        return self.severity.columns[self.name]

    @property
    def flagged(self) -> np.ndarray:
        """Boolean per frame: the assertion fired (severity > 0)."""
        return self.values > 0


def make_result(name: str, frames: Frames, severity: np.ndarray, weak_labels: Detections | None = None) -> AssertionResult:
    """An `AssertionResult` over `frames` with the severity per frame row."""
    labels = Detections.empty() if weak_labels is None else weak_labels
    return AssertionResult(name, Scores(frames.id, {name: severity}), labels)
