"""`Curves`: learning curves of a simulation, and what they say compared with random.

One row per (strategy, seed, round): the number of labels and the metric (higher = better).
`summarize` gives per strategy, over the seeds' mean curve:

- `area`: the normalized area under the mean curve (trapezoids over the number of labels,
  divided by the label range) = the mean metric over the range;
- `area_ratio`: area / the baseline's area (random by default; > 1 = better than random);
- `area_gain`: area - the baseline's area, in metric units;
- `labels_to_target`: the labels the mean curve needs to reach `target` (linear between
  rounds; NaN if never), with `target` the baseline's mean metric over the seeds at
  `target_labels` labels;
- `median_labels_to_target`: the median over seeds of each seed's own first crossing of that
  target (less sensitive to one lucky or unlucky seed than the mean curve; NaN when half of
  the seeds or more never cross);
- `seeds_reaching`: in how many seeds the strategy's own curve reaches that target;
- with `reference` (e.g. "margin"): `area_vs_reference` and `area_vs_reference_se`, the mean
  and standard error over seeds of the paired difference of areas (same seed, same split and
  start set). `paired_differences` gives the same pairing at every label count.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thresher.errors import SchemaError
from thresher.io.storage import write_file

COLUMNS = ("strategy", "seed", "n_labels", "value")


@dataclass(frozen=True, eq=False)
class Curves:
    strategy: np.ndarray
    seed: np.ndarray
    n_labels: np.ndarray
    value: np.ndarray
    metric: str = "accuracy"

    @classmethod
    def from_records(cls, records: Sequence[tuple], metric: str = "accuracy") -> "Curves":
        if not records:
            return cls(np.zeros(0, "<U1"), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), metric)
        strategy, seed, n_labels, value = zip(*records)
        columns = (np.array(strategy, dtype=str), np.array(seed, np.int64), np.array(n_labels, np.int64), np.array(value, np.float64))
        return cls(*columns, metric)

    @property
    def strategies(self) -> list[str]:
        """Strategy names in order of first appearance."""
        _, first = np.unique(self.strategy, return_index=True)
        return [str(self.strategy[i]) for i in np.sort(first)]

    def seed_curve(self, strategy: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rows = (self.strategy == strategy) & (self.seed == seed)
        order = np.argsort(self.n_labels[rows], kind="stable")
        return self.n_labels[rows][order], self.value[rows][order]

    def seed_matrix(self, strategy: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(n_labels every seed reached, seeds (S,), values (S, len(n_labels))), seeds sorted."""
        rows = self.strategy == strategy
        if not rows.any():
            raise SchemaError(f"curves: no strategy {strategy!r}; have {self.strategies}")
        seeds = np.unique(self.seed[rows])
        grids = [set(self.seed_curve(strategy, s)[0].tolist()) for s in seeds]
        common = np.array(sorted(set.intersection(*grids)), dtype=np.int64)
        values = np.stack([np.interp(common, *self.seed_curve(strategy, s)) for s in seeds])
        return common, seeds, values

    def mean_curve(self, strategy: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(n_labels, mean, std over seeds) at the label counts every seed reached."""
        common, _, values = self.seed_matrix(strategy)
        return common, values.mean(axis=0), values.std(axis=0)

    def mean_band(self, strategy: str, z: float = 1.96) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(n_labels, mean, low, high): the mean curve and its confidence band mean ± z · SE
        (SE = standard deviation over seeds with ddof 1 / √seeds; 0 with one seed), clipped
        to [0, 1] (a metric that is a share cannot leave it)."""
        common, seeds, values = self.seed_matrix(strategy)
        mean = values.mean(axis=0)
        se = values.std(axis=0, ddof=1) / np.sqrt(len(seeds)) if len(seeds) > 1 else np.zeros_like(mean)
        return common, mean, np.clip(mean - z * se, 0.0, 1.0), np.clip(mean + z * se, 0.0, 1.0)

    def write_csv(self, path: str | os.PathLike) -> None:
        handle = io.StringIO(newline="")
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*COLUMNS[:3], self.metric])
        writer.writerows(zip(self.strategy.tolist(), self.seed.tolist(), self.n_labels.tolist(), self.value.tolist()))
        write_file(path, handle.getvalue().encode())

    @classmethod
    def read_csv(cls, path: str | os.PathLike) -> "Curves":
        with Path(path).open(newline="") as f:
            rows = list(csv.reader(f))
        if not rows or len(rows[0]) != 4 or rows[0][:3] != list(COLUMNS[:3]):
            raise SchemaError(f"{path}: expected a header strategy,seed,n_labels,<metric>, got {rows[0] if rows else 'an empty file'}")
        records = [(r[0], int(r[1]), int(r[2]), float(r[3])) for r in rows[1:]]
        return cls.from_records(records, rows[0][3])


def normalized_area(n_labels: np.ndarray, values: np.ndarray) -> float:
    """Trapezoid area under values(n_labels) divided by the label range (a single point: its value)."""
    if len(n_labels) == 1:
        return float(values[0])
    widths = np.diff(n_labels)
    return float(np.sum(widths * (values[1:] + values[:-1]) / 2) / (n_labels[-1] - n_labels[0]))


def labels_to_reach(n_labels: np.ndarray, values: np.ndarray, target: float) -> float:
    """Labels at which the curve first reaches `target`, linear between points; NaN if never."""
    reached = np.flatnonzero(values >= target)
    if len(reached) == 0:
        return float("nan")
    i = int(reached[0])
    if i == 0:
        return float(n_labels[0])
    x0, x1, y0, y1 = n_labels[i - 1], n_labels[i], values[i - 1], values[i]
    return float(x0 + (target - y0) * (x1 - x0) / (y1 - y0))


def paired_differences(curves: Curves, reference: str = "margin") -> list[dict]:
    """Each strategy minus `reference`, paired by seed, at every label count both cover.

    One dict per (strategy, n_labels): `difference` = mean over the shared seeds of
    (strategy − reference) in metric units (> 0: the strategy is better there), `se` its
    standard error (standard deviation of the per-seed differences, ddof 1, / √seeds; NaN
    with one seed), `seeds`. Pairing removes what a seed's split and start set do to both
    curves alike, so the standard error is far smaller than that of two unpaired means.
    """
    if reference not in curves.strategies:
        raise SchemaError(f"reference: no strategy {reference!r} in the curves; have {curves.strategies}")
    ref_x, ref_seeds, ref_values = curves.seed_matrix(reference)
    out = []
    for name in curves.strategies:
        if name == reference:
            continue
        x, seeds, values = curves.seed_matrix(name)
        shared, mine, theirs = np.intersect1d(seeds, ref_seeds, return_indices=True)
        labels, at_mine, at_ref = np.intersect1d(x, ref_x, return_indices=True)
        if len(shared) == 0:
            continue
        diff = values[np.ix_(mine, at_mine)] - ref_values[np.ix_(theirs, at_ref)]
        se = diff.std(axis=0, ddof=1) / np.sqrt(len(shared)) if len(shared) > 1 else np.full(len(labels), np.nan)
        for j, n in enumerate(labels):
            out.append({"strategy": name, "reference": reference, "n_labels": int(n), "difference": float(diff[:, j].mean()),
                        "se": float(se[j]), "seeds": len(shared)})  # fmt: skip
    return out


def median_crossing(per_seed: Sequence[float]) -> float:
    """Median over seeds of the labels each seed's curve needs (a seed that never gets there
    counts as more than any; NaN when half of the seeds or more never do)."""
    values = np.asarray(per_seed, dtype=np.float64)
    if len(values) == 0:
        return float("nan")
    median = float(np.median(np.where(np.isnan(values), np.inf, values)))
    return median if np.isfinite(median) else float("nan")


def summarize(curves: Curves, baseline: str = "random", target_labels: int | None = None, reference: str | None = None) -> list[dict]:
    """One dict per strategy (module docstring), over the label range every strategy covers."""
    grids = {s: curves.mean_curve(s) for s in curves.strategies}
    if baseline not in grids:
        raise SchemaError(f"baseline: no strategy {baseline!r} in the curves; have {list(grids)}")
    high = min(int(g[0][-1]) for g in grids.values())
    low = max(int(g[0][0]) for g in grids.values())
    base_x, base_mean, _ = grids[baseline]
    if target_labels is not None and not base_x[0] <= target_labels <= base_x[-1]:
        raise SchemaError(f"target_labels: expected a number of labels within {baseline}'s curve ({base_x[0]}..{base_x[-1]}), got {target_labels}")
    target = None if target_labels is None else float(np.interp(target_labels, base_x, base_mean))
    base_area = normalized_area(*_clip(base_x, base_mean, low, high))
    out = []
    for name, (x, mean, std) in grids.items():
        area = normalized_area(*_clip(x, mean, low, high))
        row = {"strategy": name, "final": float(mean[x <= high][-1]), "final_std": float(std[x <= high][-1]),
               "area": area, "area_ratio": area / base_area, "area_gain": area - base_area}  # fmt: skip
        if target is not None:
            seeds = np.unique(curves.seed[curves.strategy == name])
            per_seed = [labels_to_reach(*curves.seed_curve(name, s), target) for s in seeds]
            row.update({"target": target, "labels_to_target": labels_to_reach(x, mean, target),
                        "median_labels_to_target": median_crossing(per_seed),
                        "seeds_reaching": int(np.sum(~np.isnan(per_seed))), "seeds": len(seeds)})  # fmt: skip
        if reference is not None and reference in grids:
            row.update(_paired_area(curves, name, reference, low, high))
        out.append(row)
    return out


def _paired_area(curves: Curves, name: str, reference: str, low: int, high: int) -> dict:
    """Mean and standard error over shared seeds of (area of the strategy − area of reference)."""
    x, seeds, values = curves.seed_matrix(name)
    rx, rseeds, rvalues = curves.seed_matrix(reference)
    shared, mine, theirs = np.intersect1d(seeds, rseeds, return_indices=True)
    diffs = np.array([normalized_area(*_clip(x, values[i], low, high)) - normalized_area(*_clip(rx, rvalues[j], low, high))
                      for i, j in zip(mine, theirs)])  # fmt: skip
    se = float(diffs.std(ddof=1) / np.sqrt(len(diffs))) if len(diffs) > 1 else float("nan")
    return {"reference": reference, "area_vs_reference": float(diffs.mean()) if len(diffs) else float("nan"), "area_vs_reference_se": se}


def _clip(x: np.ndarray, y: np.ndarray, low: int, high: int) -> tuple[np.ndarray, np.ndarray]:
    keep = (x >= low) & (x <= high)
    return x[keep], y[keep]
