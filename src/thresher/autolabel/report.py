"""`FitReport`: how well each uncertainty, alone and fused, separates correct from false detections.

Rows are the uncertainties fused (each alone), `fused` (the global weights) and, when some
classes got their own weights, `fused_per_class` (what the auto-labeler applies). Per row and
IoU threshold: the budget metric (FD@CD(b) or CD@FD(b), higher is better) and the AUROC. At
the chosen uncertainty threshold, per IoU threshold: the share of CDs kept and of FDs removed
that the rule actually achieves on the labeled set (no interpolation).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from thresher.autolabel.thresholding import auroc, budget_metric, shares_at


@dataclass(frozen=True, eq=False)
class FitReport:
    metric: str
    budget: float
    iou_thresholds: tuple[float, ...]
    names: tuple[str, ...]
    values: np.ndarray  # (rows, T) budget metric
    auroc: np.ndarray  # (rows, T)
    cd_kept: np.ndarray  # (T,) at the threshold
    fd_removed: np.ndarray  # (T,) at the threshold
    threshold: float
    n_detections: int
    n_correct: np.ndarray  # (T,)

    @property
    def label(self) -> str:
        return f"{self.metric.upper()}({self.budget:g})"

    def mean(self, name: str) -> float:
        """Mean over IoU thresholds of the budget metric of one row (NaN thresholds skipped)."""
        row = self.values[self.names.index(name)]
        return float(row[~np.isnan(row)].mean()) if (~np.isnan(row)).any() else float("nan")

    def rows(self) -> list[dict]:
        """One dict per (row, IoU threshold) and per row's mean (iou = "mean")."""
        out = []
        for r, name in enumerate(self.names):
            for t, iou in enumerate(self.iou_thresholds):
                out.append({"uncertainty": name, "iou": f"{iou:.2f}", self.label: self.values[r, t], "auroc": self.auroc[r, t]})
            out.append({"uncertainty": name, "iou": "mean", self.label: _nanmean(self.values[r]), "auroc": _nanmean(self.auroc[r])})
        return out

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["uncertainty", "iou", self.label, "auroc"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows())
        return buffer.getvalue()

    def text(self) -> str:
        """A short table for people: mean over IoU thresholds of each row, then the threshold."""
        lines = [f"{'uncertainty':<20} {self.label:>12} {'AUROC':>7}"]
        for r, name in enumerate(self.names):
            lines.append(f"{name:<20} {_nanmean(self.values[r]):>12.3f} {_nanmean(self.auroc[r]):>7.3f}")
        lines.append(
            f"threshold {self.threshold:.4g}: keeps {_nanmean(self.cd_kept):.1%} of correct detections, "
            f"removes {_nanmean(self.fd_removed):.1%} of false ones (mean over IoU {self.iou_thresholds[0]:g}"
            f"..{self.iou_thresholds[-1]:g}; {self.n_detections} detections)"
        )
        return "\n".join(lines)


def _nanmean(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=np.float64)
    seen = ~np.isnan(values)
    return float(values[seen].mean()) if seen.any() else float("nan")


def fit_report(columns: dict, scaled: np.ndarray, fused: np.ndarray, correct: np.ndarray, model) -> FitReport:
    """The report of a fit (see the module docstring)."""
    names = list(columns)
    series = [np.asarray(columns[n], dtype=np.float64) for n in names]
    names.append("fused")
    series.append(np.asarray(model.weights) @ scaled if len(fused) else np.zeros(0))
    if model.class_weights:
        names.append("fused_per_class")
        series.append(fused)
    stack = np.stack(series) if len(fused) else np.zeros((len(series), 0))
    values = np.atleast_2d(budget_metric(stack, correct, model.budget, model.metric))
    areas = np.atleast_2d(auroc(stack, correct))
    at = shares_at(fused, correct, model.threshold)
    return FitReport(
        model.metric, model.budget, tuple(model.iou_thresholds), tuple(names), values, areas,
        at["cd_kept"], at["fd_removed"], model.threshold, len(fused), correct.sum(axis=0),
    )  # fmt: skip
