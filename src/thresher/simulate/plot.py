"""Learning curves as a PNG: the mean over seeds of each strategy, a band of +-1 std.

matplotlib (extra `simulate`) is imported on first use, through its object-oriented API only
(a `Figure` with an Agg canvas), so a caller's pyplot state and backend are left alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from thresher.errors import require
from thresher.simulate.curves import Curves


def plot_curves(
    curves: Curves,
    path: str | os.PathLike,
    *,
    title: str = "",
    target: float | None = None,
    target_label: str = "target",
) -> Path:
    """Write the learning curves of every strategy to `path` (PNG); returns the path."""
    require("matplotlib", "simulate")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for name in curves.strategies:
        x, mean, std = curves.mean_curve(name)
        style = {"color": "black", "linestyle": "--"} if name == "random" else {}
        (line,) = axes.plot(x, mean, marker=".", label=name, **style)
        axes.fill_between(x, mean - std, mean + std, alpha=0.15, color=line.get_color())
    if target is not None:
        axes.axhline(target, color="grey", linewidth=0.8, linestyle=":", label=target_label)
    n_seeds = len(set(curves.seed.tolist()))
    axes.set_xlabel("number of labels")
    axes.set_ylabel(f"{curves.metric} (mean of {n_seeds} seeds, band = 1 std)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    path = Path(path)
    partial = path.with_name(path.name + ".partial.png")
    figure.savefig(partial, format="png")
    partial.replace(path)
    return path
