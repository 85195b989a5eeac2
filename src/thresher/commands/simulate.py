"""`thresher simulate`: active-learning rounds on a fully labeled pool, learning curves (docs/autolabel.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from thresher.cli import app
from thresher.commands.autolabel import _names, _write_csv


@app.command("simulate")
def simulate_command(
    data: str = typer.Option("digits", "--data", help="digits, lfw_subset, or a .npz file with arrays features (N, D) and labels (N,)."),
    strategies: str = typer.Option(
        "random,margin,entropy,least_confidence,weighted_kmeans", "--strategies", help="Comma-separated strategy names (docs/autolabel.md) or config:<selection config file>."
    ),
    output: Path = typer.Option(Path("simulation"), "--output", help="Folder for curves.csv, curves.png, summary.csv and paired.csv."),
    start: int = typer.Option(20, "--start", help="Labels of the start set."),
    start_strategy: str = typer.Option("random", "--start-strategy", help="Strategy picking the start set (one needing no model: random, typical_kmeans, coreset, ...)."),
    budget: int = typer.Option(20, "--budget", help="Labels bought per round."),
    rounds: int = typer.Option(24, "--rounds", help="Number of rounds."),
    seeds: int = typer.Option(30, "--seeds", help="Number of seeds."),
    first_seed: int = typer.Option(0, "--first-seed", help="Seeds run from this one on (e.g. 30 with --seeds 30 for a second, independent set)."),
    test_size: float = typer.Option(0.3, "--test-size", help="Share of the data held out to measure the model."),
    split: str = typer.Option("stratified", "--split", help="stratified or random pool / test split."),
    scaling: str = typer.Option("none", "--scaling", help="none, or zscore (features standardized on the pool)."),
    model: str = typer.Option("logistic", "--model", help="logistic (built-in, scikit-learn's objective) or sklearn-logistic."),
    c: float = typer.Option(1.0, "--C", help="Inverse regularization strength of the logistic regression."),
    target_labels: Optional[int] = typer.Option(None, "--target-labels", help="The target: random's mean accuracy at this many labels (default: the last round's)."),
    reference: str = typer.Option("margin", "--reference", help="Strategy every other is compared with, paired by seed (when it is run)."),
) -> None:
    """Active-learning rounds on a fully labeled pool: learning curves, labels to reach random's accuracy, paired differences."""
    from thresher.simulate import paired_differences, plot_curves, simulate, summarize

    features, labels, name = _simulation_data(data)
    names = _names(strategies) or []
    curves = simulate(features, labels, names, start=start, budget=budget, rounds=rounds,
                      seeds=range(first_seed, first_seed + seeds), test_size=test_size, split=split, scaling=scaling,
                      model=model, model_options={"C": c}, start_strategy=start_strategy)  # fmt: skip
    output.mkdir(parents=True, exist_ok=True)
    curves.write_csv(output / "curves.csv")
    baseline = "random" if "random" in names else names[0]
    if target_labels is None:
        target_labels = int(curves.mean_curve(baseline)[0][-1])
    reference_name = reference if reference in curves.strategies and len(curves.strategies) > 1 else None
    summary = summarize(curves, baseline=baseline, target_labels=target_labels, reference=reference_name)
    _write_csv(output / "summary.csv", summary)
    paired = paired_differences(curves, reference_name) if reference_name else []
    _write_csv(output / "paired.csv", paired)
    target = summary[0]["target"]
    plot_curves(curves, output / "curves.png", title=f"{name}: {seeds} seeds", target=target,
                target_label=f"{baseline} at {target_labels} labels", reference=reference_name)  # fmt: skip
    typer.echo(f"target: {baseline}'s mean {curves.metric} at {target_labels} labels over {seeds} seeds = {target:.4f}")
    for row in summary:
        reach = "never" if row["labels_to_target"] != row["labels_to_target"] else f"{row['labels_to_target']:.0f}"
        median = "never" if row["median_labels_to_target"] != row["median_labels_to_target"] else f"{row['median_labels_to_target']:.0f}"
        versus = ""
        if reference_name and row["strategy"] != reference_name:
            versus = f"  area vs {reference_name} {row['area_vs_reference']:+.4f} ± {row['area_vs_reference_se']:.4f}"
        typer.echo(f"{row['strategy']:<22} labels to reach: {reach:>6} (mean curve), {median:>6} (median seed)  "
                   f"final {row['final']:.4f}{versus}")  # fmt: skip
    typer.echo(f"curves, plot, summary and paired differences written to {output}")


def _simulation_data(data: str):
    import numpy as np

    from thresher.errors import SchemaError, UsageError
    from thresher.simulate import DATASETS, load_dataset

    if data in DATASETS:
        loaded = load_dataset(data)
        return loaded.features, loaded.labels, loaded.name
    path = Path(data)
    if not path.is_file():
        raise UsageError(f"--data: expected one of {sorted(DATASETS)} or a .npz file, got {data!r} (no such file)")
    with np.load(path, allow_pickle=False) as archive:
        if "features" not in archive or "labels" not in archive:
            raise SchemaError(f"{path}: expected arrays named features and labels, got {sorted(archive.files)}")
        return archive["features"], archive["labels"], path.stem
