"""Learning curves as a PNG: each strategy's mean over seeds with its 95 % confidence band, and
(with a `reference`) a second panel of the paired differences with that strategy.

Bands: mean ± 1.96 · SE over seeds (SE = standard deviation / √seeds), clipped to [0, 1] for
the curves (accuracy is a share); the difference panel shows mean(strategy − reference) over
the seeds ± 1.96 · SE of the paired differences (`thresher.simulate.curves.paired_differences`).
matplotlib (extra `simulate`) is imported on first use, through its object-oriented API only
(a `Figure` with an Agg canvas), so a caller's pyplot state and backend are left alone.

    plot_curves(curves, "curves.png", title="digits", target=0.951, reference="margin")
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from thresher.errors import require
from thresher.simulate.curves import Curves, paired_differences

Z95 = 1.96


def plot_curves(
    curves: Curves,
    path: str | os.PathLike,
    *,
    title: str = "",
    target: float | None = None,
    target_label: str = "target",
    reference: str | None = None,
) -> Path:
    """Write the learning curves of every strategy to `path` (PNG); returns the path."""
    require("matplotlib", "simulate")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    paired = reference is not None and reference in curves.strategies and len(curves.strategies) > 1
    figure = Figure(figsize=(7, 7.5 if paired else 4.5), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(2, 1, 1) if paired else figure.add_subplot()
    colors = {}
    for name in curves.strategies:
        x, mean, low, high = curves.mean_band(name, Z95)
        style = {"color": "black", "linestyle": "--"} if name == "random" else {"color": None, "linestyle": "-"}
        (line,) = axes.plot(x, mean, marker=".", markersize=3, label=name, color=style["color"], linestyle=style["linestyle"])
        axes.fill_between(x, low, high, alpha=0.15, color=line.get_color())
        colors[name] = line.get_color()
    if target is not None:
        axes.axhline(target, color="grey", linewidth=0.8, linestyle=":", label=target_label)
    n_seeds = len(set(curves.seed.tolist()))
    axes.set_xlabel("number of labels")
    axes.set_ylabel(f"{curves.metric} (mean of {n_seeds} seeds, 95 % band)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    if paired and reference is not None:
        _differences(figure.add_subplot(2, 1, 2, sharex=axes), curves, reference, colors)
    figure.tight_layout()
    path = Path(path)
    partial = path.with_name(path.name + ".partial.png")
    figure.savefig(partial, format="png")
    partial.replace(path)
    return path


def _differences(axes, curves: Curves, reference: str, colors: dict) -> None:
    rows = paired_differences(curves, reference)
    for name in dict.fromkeys(r["strategy"] for r in rows):
        mine = [r for r in rows if r["strategy"] == name]
        x = np.array([r["n_labels"] for r in mine])
        diff = np.array([r["difference"] for r in mine])
        se = np.nan_to_num(np.array([r["se"] for r in mine]))
        style = {"color": "black", "linestyle": "--"} if name == "random" else {"color": colors.get(name)}
        axes.plot(x, diff, marker=".", markersize=3, label=name, **style)
        axes.fill_between(x, diff - Z95 * se, diff + Z95 * se, alpha=0.15, color=style["color"])
    axes.axhline(0.0, color="grey", linewidth=0.8)
    axes.set_xlabel("number of labels")
    axes.set_ylabel(f"{curves.metric} − {reference}'s (paired, 95 % band)")
    axes.grid(alpha=0.3)
