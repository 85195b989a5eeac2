"""Issue 21, measured: does WEIGHTED_KMEANS (margin candidates, then weighted k-means) save labels
over margin sampling, with enough seeds to tell?

    python bench/simulate_study.py            # prints every table (about 10 min on 2 busy cores)
    python bench/simulate_study.py --write    # also writes bench/results/simulate_*.png

(a) scikit-learn digits under the protocol of the issue: logistic regression (thresher's, the
objective of scikit-learn's LogisticRegression(C=1)) on z-scored pixels (mean and standard
deviation of the pool), stratified 70 / 30 split, 20 random labels, then 24 rounds of 20 (to
500 labels); seeds 0-29, then seeds 30-59 as an independent check. The target is random's mean
accuracy over the seeds at 500 labels; "labels to reach" reads the mean curve (linear between
rounds) and the median over seeds of each seed's own first crossing; the paired differences
are (strategy - margin) per seed, mean ± standard error over the seeds.
(b) the same on seeds 0-29 with scikit-learn's own LogisticRegression (the reference model).
(c) the same with the start set chosen by `typical_kmeans` instead of at random.
(d) scikit-image lfw_subset embedded by MobileNetV2-ImageNet (224 px, onnxruntime), features
as they come: 4 random labels, 15 rounds of 4 (to 64), target = random at 40 labels, seeds 0-29.
(e) the 60 digits seeds of (a) cut into 12 groups of 5: how far a 5-seed study's target and
"labels to reach" move from one group to the next.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from thresher.simulate import Curves, load_dataset, paired_differences, plot_curves, simulate, summarize

RESULTS = Path(__file__).resolve().parent / "results"
DIGITS_STRATEGIES = ["random", "margin", "least_confidence", "entropy", "coral:margin", "weighted_kmeans",
                     "weighted_kmeans:5", "weighted_kmeans:20", "typical_first_kmeans"]  # fmt: skip
LFW_STRATEGIES = ["random", "margin", "entropy", "coreset", "coral:margin", "typical_kmeans", "weighted_kmeans", "typical_first_kmeans"]


def _n(value: float) -> str:
    return "never" if value != value else f"{value:.0f}"


def summary_table(summary: list[dict], target_labels: int) -> str:
    lines = [f"| strategy | labels to reach random's accuracy at {target_labels}: mean curve | median seed | seeds reaching | "
             "final accuracy | area / random's | area − margin's (paired, ± SE) |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for row in summary:
        versus = "" if "area_vs_reference" not in row or row["strategy"] == row["reference"] else f"{row['area_vs_reference']:+.4f} ± {row['area_vs_reference_se']:.4f}"
        lines.append(f"| {row['strategy']} | {_n(row['labels_to_target'])} | {_n(row['median_labels_to_target'])} | "
                     f"{row['seeds_reaching']}/{row['seeds']} | {row['final']:.4f} | {row['area_ratio']:.4f} | {versus} |")  # fmt: skip
    return "\n".join(lines)


def paired_table(curves, at: list[int], reference: str = "margin") -> str:
    rows = paired_differences(curves, reference)
    names = list(dict.fromkeys(r["strategy"] for r in rows))
    lines = ["| labels | " + " | ".join(names) + " |", "| ---: |" + " ---: |" * len(names)]
    for n in at:
        cells = []
        for name in names:
            hit = [r for r in rows if r["strategy"] == name and r["n_labels"] == n]
            cells.append(f"{hit[0]['difference'] * 100:+.2f} ± {hit[0]['se'] * 100:.2f}" if hit else "")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def study(title, data, strategies, seeds, target_labels, at, png, write, **options) -> dict:
    clock = time.perf_counter()
    curves = simulate(data.features, data.labels, strategies, seeds=seeds, **options)
    seconds = time.perf_counter() - clock
    summary = summarize(curves, target_labels=target_labels, reference="margin")
    print(f"\n### {title} ({len(seeds)} seeds, {seconds:.0f} s)\n")
    print(f"target: random's mean accuracy at {target_labels} labels = {summary[0]['target']:.4f}\n")
    print(summary_table(summary, target_labels))
    print(f"\npaired difference with margin, accuracy points (strategy − margin, mean ± SE over {len(seeds)} seeds):\n")
    print(paired_table(curves, at))
    if write and png:
        plot_curves(curves, RESULTS / png, title=f"{title}: {len(seeds)} seeds", target=summary[0]["target"],
                    target_label=f"random at {target_labels} labels", reference="margin")  # fmt: skip
    return curves


def five_seed_spread(curves: Curves, strategies: list[str], target_labels: int) -> None:
    """What 5 seeds would have said: the target and the labels to reach it in each disjoint group
    of 5 seeds (the old default of `thresher simulate`)."""
    seeds = np.unique(curves.seed)
    groups = [seeds[i : i + 5] for i in range(0, len(seeds) - 4, 5)]
    rows = {name: [] for name in ["target", *strategies]}
    for group in groups:
        keep = np.isin(curves.seed, group)
        part = Curves(curves.strategy[keep], curves.seed[keep], curves.n_labels[keep], curves.value[keep], curves.metric)
        summary = {r["strategy"]: r for r in summarize(part, target_labels=target_labels)}
        rows["target"].append(summary["random"]["target"])
        for name in strategies:
            rows[name].append(summary[name]["labels_to_target"])
    print(f"\n### (e) the same {len(seeds)} digits seeds in {len(groups)} groups of 5: what a 5-seed study would report\n")
    print("| | " + " | ".join(f"seeds {g[0]}-{g[-1]}" for g in groups) + " | range |")
    print("| --- |" + " ---: |" * (len(groups) + 1))
    values = rows.pop("target")
    print("| target | " + " | ".join(f"{v:.4f}" for v in values) + f" | {min(values):.4f}-{max(values):.4f} |")
    for name, values in rows.items():
        print(f"| {name} | " + " | ".join(_n(v) for v in values) + f" | {_n(np.nanmin(values))}-{_n(np.nanmax(values))} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="write the plots into bench/results/")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
          f"numpy {np.__version__}, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    digits = load_dataset("digits")
    protocol = dict(start=20, budget=20, rounds=24, scaling="zscore", split="stratified", test_size=0.3)
    at = [40, 60, 100, 140, 180, 200, 300, 400, 500]
    first = study("(a) digits, seeds 0-29", digits, DIGITS_STRATEGIES, range(30), 500, at, "simulate_digits.png", args.write, **protocol)
    check = study("(a) digits, seeds 30-59 (check)", digits, DIGITS_STRATEGIES, range(30, 60), 500, at, "simulate_digits_check.png",
                  args.write, **protocol)  # fmt: skip
    both = Curves(*(np.concatenate([getattr(first, f), getattr(check, f)]) for f in ("strategy", "seed", "n_labels", "value")))
    five_seed_spread(both, ["margin", "weighted_kmeans"], 500)
    study("(b) digits, scikit-learn's LogisticRegression, seeds 0-29", digits, ["random", "margin", "weighted_kmeans"], range(30),
          500, at, None, args.write, model="sklearn-logistic", **protocol)  # fmt: skip
    study("(c) digits, start set by typical_kmeans, seeds 0-29", digits, ["random", "margin", "weighted_kmeans"], range(30), 500,
          at, None, args.write, start_strategy="typical_kmeans", **protocol)  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        faces = load_dataset("lfw_subset", backend="onnx", cache_folder=folder)
    study("(d) lfw_subset, MobileNetV2-ImageNet embeddings", faces, LFW_STRATEGIES, range(30), 40, [8, 12, 16, 20, 28, 40, 64],
          "simulate_lfw.png", args.write, start=4, budget=4, rounds=15)  # fmt: skip


if __name__ == "__main__":
    main()
