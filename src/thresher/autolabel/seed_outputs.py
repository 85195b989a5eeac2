"""Seed 002's thresholding outputs for a fitted auto-labeler, beside thresher's own report.

`write_seed_outputs(folder, …)` recomputes, on the labeled frames the auto-labeler was fitted on,
what seed 002's `uncertainty_analysis.py` saves, under the seed's file names where it has them
(`<m>` is `fd` or `cd`, `<b>` the budget):

- `optimal_params_<m>_<b>.txt`: the fusion weights (global and per class), the uncertainty
  threshold and the per-IoU cuts it is the mean of;
- `thr_metrics_<m>_<b>.txt`: per uncertainty alone and fused, the Jensen-Shannon divergence
  between the uncertainty of correct and false detections (base 2, in [0, 1]; 20 shared bins;
  higher = better separated), the ROC AUC (P(an FD is more uncertain than a CD)) and the budget
  metric, each the mean over the IoU thresholds;
- heatmaps (PNG, 20 × 20 cells over the image, by box centre): detections correctly removed (FD
  removed), falsely kept (FD kept), falsely removed (CD removed), ground-truth boxes, the mean of
  each uncertainty, and, when the predictions carry box sigmas, the URMSE between sigma and the
  absolute corner residual of correct detections;
- `top10_<kind>.txt`: the 10 frames with the most correct removals, false removals, falsely kept
  detections, and the frames with no removal (the most detections first);
- `spider.png`: precision, recall, F1, the share of CDs kept and of FDs removed, on all detections
  against after thresholding;
- `index.html`: a page linking every file and showing every picture.

Correctness is read at the first IoU threshold (0.5 by default) for the heatmaps, lists and spider
plot; the metrics average over every threshold. Needs matplotlib (the `simulate` extra).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from thresher.autolabel.correctness import correct_detections
from thresher.autolabel.thresholding import auroc, budget_metric
from thresher.boxes import xyxy_to_cxcywh
from thresher.detections import Detections
from thresher.errors import require
from thresher.frames import Frames
from thresher.io.storage import write_file
from thresher.scorers.matching import match_detections

GRID = 20
TOP = 10
JSD_BINS = 20


def write_seed_outputs(folder: Path, model, predictions: Detections, truth: Detections, frames: Frames, passes: Mapping | None = None) -> list[Path]:
    """Write the outputs listed in the module docstring into `folder`; returns the files written.

    predictions, truth: the labeled frames' detections and ground truth (`frame` rows of `frames`);
    passes: the predictions' per-detection extras, as given to `fit_autolabeler`.
    """
    from thresher.autolabel.model import _subset_passes

    folder.mkdir(parents=True, exist_ok=True)
    keep = predictions.score > model.score_threshold
    kept = predictions[keep]
    extras = _subset_passes(passes or {}, keep)
    correct = correct_detections(kept, truth, model.iou_thresholds)
    columns = model.uncertainties(kept, **extras)
    fused = model.fuse(kept, **extras)
    removed = fused > model.threshold
    tag = f"{model.metric.split('@')[0]}_{model.budget:g}"
    written = [
        _write_text(folder / f"optimal_params_{tag}.txt", optimal_params(model)),
        _write_text(folder / f"thr_metrics_{tag}.txt", thr_metrics({**columns, "fused": fused}, correct, model)),
    ]
    first = correct[:, 0] if correct.shape[1] else np.zeros(len(kept), bool)
    written += heatmaps(folder, kept, truth, frames, first, removed, columns)
    written += top10(folder, kept, frames, first, removed)
    written.append(spider(folder / "spider.png", kept, truth, first, removed, model.iou_thresholds[0]))
    written.append(index_page(folder, written))
    return written


def optimal_params(model) -> str:
    lines = [f"metric {model.metric} budget {model.budget:g}", f"uncertainties {' '.join(model.names)}", "weights " + " ".join(f"{w:.6g}" for w in model.weights)]
    lines += [f"weights class {c} " + " ".join(f"{w:.6g}" for w in ws) for c, ws in sorted(model.class_weights.items())]
    lines += [
        f"threshold {model.threshold:.6g}",
        "thresholds_per_iou " + " ".join(f"{t:.6g}" for t in model.thresholds_per_iou),
        "iou_thresholds " + " ".join(f"{t:g}" for t in model.iou_thresholds),
        f"score_threshold {model.score_threshold:g}",
    ]
    return "\n".join(lines) + "\n"


def jensen_shannon(uncertainty: np.ndarray, correct: np.ndarray, bins: int = JSD_BINS) -> float:
    """JS divergence (base 2) between the histograms of CD and FD uncertainties over shared bins; NaN without both."""
    from scipy.spatial.distance import jensenshannon

    cd, fd = uncertainty[correct], uncertainty[~correct]
    if len(cd) == 0 or len(fd) == 0:
        return float("nan")
    edges = np.histogram_bin_edges(uncertainty, bins=bins)
    p, q = np.histogram(cd, edges)[0].astype(float), np.histogram(fd, edges)[0].astype(float)
    return float(jensenshannon(p / p.sum(), q / q.sum(), base=2) ** 2)


def thr_metrics(series: dict[str, np.ndarray], correct: np.ndarray, model) -> str:
    label = f"{model.metric.upper()}({model.budget:g})"
    lines = [f"{'uncertainty':<20} {'JSD':>7} {'ROC AUC':>8} {label:>12}"]
    for name, values in series.items():
        jsd = np.nanmean([jensen_shannon(values, correct[:, t]) for t in range(correct.shape[1])])
        area = np.nanmean(np.atleast_1d(auroc(values, correct)))
        metric = np.nanmean(np.atleast_1d(budget_metric(values, correct, model.budget, model.metric)))
        lines.append(f"{name:<20} {jsd:>7.4f} {area:>8.4f} {metric:>12.4f}")
    return "\n".join(lines) + "\n"


def _cells(detections: Detections, frames: Frames) -> tuple[np.ndarray, np.ndarray]:
    """Grid cell (row, column) of each box centre, in its frame's normalized coordinates."""
    width = frames.width[detections.frame].astype(np.float64)
    height = frames.height[detections.frame].astype(np.float64)
    centre = xyxy_to_cxcywh(detections.xyxy)
    cx, cy = centre[:, 0] / width, centre[:, 1] / height
    return np.clip((cy * GRID).astype(int), 0, GRID - 1), np.clip((cx * GRID).astype(int), 0, GRID - 1)


def _grid(detections: Detections, frames: Frames, weights: np.ndarray | None = None, mean: bool = False) -> np.ndarray:
    rows, cols = _cells(detections, frames)
    total = np.zeros((GRID, GRID))
    np.add.at(total, (rows, cols), 1.0 if weights is None else weights)
    if not mean:
        return total
    count = np.zeros((GRID, GRID))
    np.add.at(count, (rows, cols), 1.0)
    with np.errstate(invalid="ignore"):
        return total / count


def heatmaps(folder: Path, kept: Detections, truth: Detections, frames: Frames, correct: np.ndarray, removed: np.ndarray, columns: dict) -> list[Path]:
    maps = {
        "correctly_removed": (_grid(kept[removed & ~correct], frames), "false detections removed"),
        "falsely_kept": (_grid(kept[~removed & ~correct], frames), "false detections kept"),
        "falsely_removed": (_grid(kept[removed & correct], frames), "correct detections removed"),
        "ground_truth": (_grid(truth, frames), "ground-truth boxes"),
    }
    for name, values in columns.items():
        maps[f"uncertainty_{name}"] = (_grid(kept, frames, values, mean=True), f"mean {name}")
    if kept.box_std is not None:
        maps["urmse"] = (_urmse(kept, kept.box_std, truth, frames, correct), "URMSE of box sigma vs |residual| (correct detections)")
    return [_plot_heatmap(folder / f"heatmap_{name}.png", values, title) for name, (values, title) in maps.items()]


def _urmse(kept: Detections, box_std: np.ndarray, truth: Detections, frames: Frames, correct: np.ndarray) -> np.ndarray:
    """(GRID, GRID) root mean square of `box_std` (kept.box_std, (M, 4) pixels) minus the |corner
    residual| to the matched truth box, over the correct detections of each cell."""
    matched = match_detections(kept, truth, 0.5, same_class=True).truth
    rows = np.flatnonzero((matched >= 0) & correct)
    residual = np.abs(kept.xyxy[rows] - truth.xyxy[matched[rows]])
    squared = ((box_std[rows] - residual) ** 2).mean(axis=1)
    return np.sqrt(_grid(kept[rows], frames, squared, mean=True))


def _plot_heatmap(path: Path, values: np.ndarray, title: str) -> Path:
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(4.2, 3.6), dpi=100)
    image = axis.imshow(values, cmap="viridis", extent=(0, 1, 1, 0))
    axis.set_title(title, fontsize=9)
    axis.set_xlabel("x (share of the width)", fontsize=8)
    axis.set_ylabel("y (share of the height)", fontsize=8)
    figure.colorbar(image, ax=axis)
    return _save(figure, path)


def top10(folder: Path, kept: Detections, frames: Frames, correct: np.ndarray, removed: np.ndarray) -> list[Path]:
    n = len(frames)
    count = lambda mask: np.bincount(kept.frame[mask], minlength=n)  # noqa: E731
    kinds = {
        "correct_removal": count(removed & ~correct),
        "false_removal": count(removed & correct),
        "falsely_kept": count(~removed & ~correct),
    }
    detections = count(np.ones(len(kept), bool))
    written = []
    for kind, counts in kinds.items():
        order = np.lexsort((frames.id, -counts))
        lines = [f"{frames.file_name[r]}\t{counts[r]}" for r in order[:TOP] if counts[r] > 0]
        written.append(_write_text(folder / f"top10_{kind}.txt", "\n".join(lines) + "\n"))
    none_removed = np.flatnonzero((count(removed) == 0) & (detections > 0))
    order = none_removed[np.lexsort((frames.id[none_removed], -detections[none_removed]))]
    lines = [f"{frames.file_name[r]}\t{detections[r]}" for r in order[:TOP]]
    written.append(_write_text(folder / "top10_no_removal.txt", "\n".join(lines) + "\n"))
    return written


def spider_metrics(kept: Detections, truth: Detections, correct: np.ndarray, removed: np.ndarray, iou: float) -> dict[str, tuple[float, float]]:
    """{metric: (on all detections, after thresholding)}: precision, recall, F1, CDs kept, FDs removed."""

    def scores(mask: np.ndarray) -> tuple[float, float, float]:
        matched = match_detections(kept[mask], truth, iou, same_class=True)
        tp = int(matched.correct.sum())
        precision = tp / max(int(mask.sum()), 1)
        recall = tp / max(len(truth), 1)
        return precision, recall, 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    everything, after = scores(np.ones(len(kept), bool)), scores(~removed)
    n_cd, n_fd = max(int(correct.sum()), 1), max(int((~correct).sum()), 1)
    return {
        "precision": (everything[0], after[0]),
        "recall": (everything[1], after[1]),
        "F1": (everything[2], after[2]),
        "CDs kept": (1.0, float((~removed & correct).sum() / n_cd)),
        "FDs removed": (0.0, float((removed & ~correct).sum() / n_fd)),
    }


def spider(path: Path, kept: Detections, truth: Detections, correct: np.ndarray, removed: np.ndarray, iou: float) -> Path:
    metrics = spider_metrics(kept, truth, correct, removed, iou)
    plt = _pyplot()
    names = list(metrics)
    angles = np.linspace(0, 2 * np.pi, len(names), endpoint=False).tolist()
    figure = plt.figure(figsize=(4.6, 4.2), dpi=100)
    axis = figure.add_subplot(polar=True)
    for index, label in enumerate(("all detections", "after thresholding")):
        values = [metrics[n][index] for n in names]
        axis.plot(angles + angles[:1], values + values[:1], label=label)
        axis.fill(angles + angles[:1], values + values[:1], alpha=0.15)
    axis.set_xticks(angles, names, fontsize=8)
    axis.set_ylim(0, 1)
    axis.legend(loc="lower right", fontsize=7, bbox_to_anchor=(1.2, -0.1))
    axis.set_title(f"at IoU {iou:g}", fontsize=9)
    return _save(figure, path)


def index_page(folder: Path, files: list[Path]) -> Path:
    items = []
    for path in files:
        name = html.escape(path.name)
        if path.suffix == ".png":
            items.append(f"<figure><img src='{name}' alt='{name}'><figcaption>{name}</figcaption></figure>")
        else:
            items.append(f"<h2><a href='{name}'>{name}</a></h2><pre>{html.escape(path.read_text())}</pre>")
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>thresholding outputs (seed 002)</title>"
        "<style>body{font:14px system-ui,sans-serif;margin:24px}figure{display:inline-block;margin:8px}"
        "img{max-width:440px}pre{background:#f1f3f4;padding:8px}</style></head><body>"
        f"<h1>Thresholding outputs (seed 002)</h1>{''.join(items)}</body></html>"
    )
    return _write_text(folder / "index.html", page)


def _pyplot():
    matplotlib = require("matplotlib", "simulate")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path) -> Path:
    import io

    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    _pyplot().close(figure)
    write_file(path, buffer.getvalue())
    return path


def _write_text(path: Path, text: str) -> Path:
    write_file(path, text.encode())
    return path
