"""Issue 9, measured: active-learning simulations on real labeled images, auto-labeling on real
detections, and the speed of the thresholding metric against the seed's way of computing it.

    python bench/autolabel.py            # prints everything
    python bench/autolabel.py --write    # also writes bench/results/autolabel*.png and the tables

(a) scikit-learn digits, (b) scikit-image lfw_subset embedded by MobileNetV2-ImageNet: learning
curves of every strategy over 5 seeds, labels needed to reach random's accuracy at a label count.
(c) the built-in SSD on the 29 real images of tests/data/autolabel_ground_truth.json: FD removed
at 95 % of correct detections kept, each uncertainty alone and fused, on the labeled set itself
and in 2-fold cross-validation (fit on half the images, measured on the other half).
(d) seconds for FD@CD(b) of many candidate fusions: thresher's vectorized `budget_metric`
against the seed's loop (sklearn `roc_curve` + `np.interp` per candidate and IoU threshold).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/autolabel/real_detections.py: the images and their ground truth

from thresher.autolabel import budget_metric, correct_detections, fit_autolabeler, shares_at  # noqa: E402
from thresher.scorers.matching import match_detections  # noqa: E402
from thresher.simulate import load_dataset, plot_curves, simulate, summarize  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SEEDS = range(5)


def summary_table(summary: list[dict], target_labels: int) -> str:
    lines = [f"| strategy | labels to reach random's accuracy at {target_labels} | seeds reaching it | final accuracy (± std) | area / random's |",
             "| --- | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for row in summary:
        reach = "never" if np.isnan(row["labels_to_target"]) else f"{row['labels_to_target']:.0f}"
        lines.append(f"| {row['strategy']} | {reach} | {row['seeds_reaching']}/{row['seeds']} | "
                     f"{row['final']:.4f} ± {row['final_std']:.4f} | {row['area_ratio']:.4f} |")  # fmt: skip
    return "\n".join(lines)


def simulation(name, data, strategies, start, budget, rounds, target_labels, write, png):
    clock = time.perf_counter()
    curves = simulate(data.features, data.labels, strategies, start=start, budget=budget, rounds=rounds, seeds=SEEDS)
    seconds = time.perf_counter() - clock
    summary = summarize(curves, target_labels=target_labels)
    print(f"\n## {name}: start {start}, {rounds} rounds of {budget}, {len(SEEDS)} seeds ({seconds:.1f} s)")
    print(f"target: random's mean accuracy at {target_labels} labels = {summary[0]['target']:.4f}")
    print(summary_table(summary, target_labels))
    if write:
        plot_curves(curves, RESULTS / png, title=f"{name}: {len(SEEDS)} seeds", target=summary[0]["target"],
                    target_label=f"random at {target_labels} labels")  # fmt: skip
    return summary


def cross_validated(detections, truth, n_images, passes, score_threshold, names):
    """2 folds by image parity: fit on one half, measure on the other; pooled counts."""
    per_fold, pooled = [], {"cd": 0, "cd_kept": 0, "fd": 0, "fd_removed": 0, "frames": 0, "labeled": 0, "fd_in_labeled": 0,
                            "truth_in_labeled": 0, "missed_in_labeled": 0}  # fmt: skip
    for fold in (0, 1):
        train_images = np.arange(n_images) % 2 != fold
        fit_rows, test_rows = train_images[detections.frame], ~train_images[detections.frame]
        model, _ = fit_autolabeler(detections[fit_rows], truth[train_images[truth.frame]], score_threshold=score_threshold,
                                   uncertainties=names, passes=_subset(passes, fit_rows))  # fmt: skip
        test, test_truth = detections[test_rows], truth[~train_images[truth.frame]]
        test_passes = _subset(passes, test_rows)
        split = model.split(test, n_images, **test_passes)
        considered = split.considered
        correct = correct_detections(test[considered], test_truth)
        fused = split.fused[considered]
        per_fold.append(budget_metric(fused, correct).mean())
        at = shares_at(fused, correct, model.threshold)
        pooled["cd"] += int(correct[:, 0].sum())
        pooled["cd_kept"] += int(round(at["cd_kept"][0] * correct[:, 0].sum()))
        pooled["fd"] += int((~correct[:, 0]).sum())
        pooled["fd_removed"] += int(round(at["fd_removed"][0] * (~correct[:, 0]).sum()))
        images = np.flatnonzero(~train_images)
        labeled = images[split.labeled[images]]
        pooled["frames"] += len(images)
        pooled["labeled"] += len(labeled)
        kept = test[considered & split.labeled[test.frame]]
        truth_kept = test_truth[np.isin(test_truth.frame, labeled)]
        hit = match_detections(kept, truth_kept, 0.5).correct
        pooled["fd_in_labeled"] += int((~hit).sum())
        pooled["truth_in_labeled"] += len(truth_kept)
        pooled["missed_in_labeled"] += len(truth_kept) - int(hit.sum())
    return float(np.mean(per_fold)), pooled


def _subset(passes, rows):
    return {k: np.asarray(v)[rows] for k, v in passes.items()}


def real_detections(write: bool) -> list[str]:
    from tests.autolabel.real_detections import ground_truth, ssd_detections
    from thresher.models.ssd import SSDMobileNetV2

    images, truth, _ = ground_truth()
    runs = ssd_detections(images, SSDMobileNetV2())
    out = [f"{len(images)} images, {len(truth)} ground-truth boxes"]
    fused = runs["flip"]
    settings = [
        ("plain SSD", runs["plain"], {}, ["one_minus_score", "entropy"]),
        ("SSD + mirror pass", fused.detections, {"box_spread": fused.box_spread, "class_spread": fused.class_spread},
         ["one_minus_score", "entropy", "mcbox", "mcclass"]),
    ]  # fmt: skip
    for threshold in (0.3, 0.2):
        for label, detections, passes, names in settings:
            model, report = fit_autolabeler(detections, truth, score_threshold=threshold, uncertainties=names, passes=passes)
            held_out, pooled = cross_validated(detections, truth, len(images), passes, threshold, names)
            considered = detections.score > threshold
            correct = correct_detections(detections[considered], truth)
            out.append(f"\n### {label}, detections scoring above {threshold}: {int(considered.sum())} "
                       f"(CD at IoU 0.50..0.75: {correct.sum(axis=0).tolist()})")  # fmt: skip
            out.append("| uncertainty | FD@CD(0.95), labeled set | AUROC |\n| --- | ---: | ---: |")
            for r, name in enumerate(report.names):
                out.append(f"| {name} | {report.mean(name):.3f} | {np.nanmean(report.auroc[r]):.3f} |")
            weights = ", ".join(f"{n} {w:.2f}" for n, w in zip(model.names, model.weights))
            out.append(
                f"\nweights: {weights}; threshold {model.threshold:.4f}; on the labeled set it keeps "
                f"{np.nanmean(report.cd_kept):.1%} of CDs and removes {np.nanmean(report.fd_removed):.1%} of FDs."
            )
            out.append(
                f"2-fold cross-validation: held-out FD@CD(0.95) {held_out:.3f}; at the transferred threshold "
                f"(IoU 0.5) {pooled['cd_kept']}/{pooled['cd']} CDs kept, {pooled['fd_removed']}/{pooled['fd']} FDs removed; "
                f"{pooled['labeled']}/{pooled['frames']} images auto-labeled, holding {pooled['fd_in_labeled']} false boxes "
                f"and missing {pooled['missed_in_labeled']} of their {pooled['truth_in_labeled']} ground-truth boxes."
            )
    text = "\n".join(out)
    print(text)
    return out


def seed_loop(candidates: np.ndarray, correct: np.ndarray, budget: float) -> np.ndarray:
    """The seed's computation: one sklearn ROC curve and np.interp per candidate and IoU threshold."""
    from sklearn.metrics import roc_curve

    out = np.empty((len(candidates), correct.shape[1]))
    for w, u in enumerate(candidates):
        for t in range(correct.shape[1]):
            fpr, tpr, _ = roc_curve(correct[:, t].astype(int), u, pos_label=0)
            out[w, t] = np.interp(1 - budget, fpr, tpr)
    return out


def metric_speed(repeats: int) -> list[str]:
    rng = np.random.default_rng(0)
    n, w = 20_000, 200
    correct = np.sort(rng.random((n, 1)) < np.linspace(0.7, 0.5, 6), axis=1)[:, ::-1]
    candidates = rng.random((w, n)) + 0.5 * ~correct[:, :1].T
    times = {"thresher": [], "seed loop": []}
    for _ in range(repeats):
        clock = time.perf_counter()
        ours = budget_metric(candidates, correct)
        times["thresher"].append(time.perf_counter() - clock)
        clock = time.perf_counter()
        theirs = seed_loop(candidates, correct, 0.95)
        times["seed loop"].append(time.perf_counter() - clock)
    same = float(np.abs(ours - theirs).max())
    med = {k: statistics.median(v) for k, v in times.items()}
    lines = [f"FD@CD(0.95) of {w} candidate fusions x {n:,} detections x 6 IoU thresholds, median of {repeats}:",
             f"- thresher `budget_metric`: {med['thresher']:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times['thresher'])})",
             f"- the seed's loop (sklearn roc_curve + np.interp): {med['seed loop']:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times['seed loop'])})",
             f"- speed-up {med['seed loop'] / med['thresher']:.1f}x; largest difference {same:.1e}"]  # fmt: skip
    print("\n" + "\n".join(lines))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="write the PNG plots into bench/results/")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
          f"numpy {np.__version__}, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    digits = load_dataset("digits")
    strategies = ["random", "entropy", "margin", "least_confidence", "coreset", "coral", "coral:margin", "typicality"]
    simulation("digits", digits, strategies, 20, 20, 24, 500, args.write, "autolabel_digits.png")
    with tempfile.TemporaryDirectory() as folder:
        for size in (224, 128):
            faces = load_dataset("lfw_subset", backend="onnx", cache_folder=folder, input_size=size)
            simulation(f"lfw_subset, MobileNetV2 at {size} px", faces, [s for s in strategies if s != "coral:margin"],
                       4, 4, 15, 40, args.write and size == 224, "autolabel_lfw.png")  # fmt: skip
    real_detections(args.write)
    metric_speed(args.repeats)


if __name__ == "__main__":
    main()
