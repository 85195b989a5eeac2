"""`thresher autolabel fit|apply` (labels under an error budget) and `thresher simulate` (AL rounds)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Optional

import typer

from thresher.cli import app
from thresher.commands.datasource import STORAGE_OPTIONS, open_datasource

autolabel_app = typer.Typer(
    help="Auto-label with an error budget: fit on frames with ground truth, then split new frames into labeled / examine.",
    no_args_is_help=True,
)
app.add_typer(autolabel_app, name="autolabel")

DATASOURCE = typer.Argument(..., help="Folder or URL of the images and videos.")
TASK = typer.Option(..., "--task", help="The prediction task (the detector's boxes).")
LIGHTLY = typer.Option(None, "--lightly", help="Location holding .lightly/ when it is not the datasource.")


def _names(text: Optional[str]) -> Optional[list[str]]:
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


@autolabel_app.command("fit")
def fit(
    datasource: str = DATASOURCE,
    task: str = TASK,
    output: Path = typer.Option(..., "--output", help="Where to write the fitted auto-labeler (JSON); the report goes beside it."),
    truth: Optional[str] = typer.Option(None, "--truth", help="Ground truth as a prediction task (scores ignored)."),
    truth_coco: Optional[str] = typer.Option(None, "--truth-coco", help="Ground truth as a COCO annotations file."),
    budget: float = typer.Option(0.95, "--budget", help="Share of correct detections to keep (fd@cd) or of false ones to remove (cd@fd)."),
    metric: str = typer.Option("fd@cd", "--metric", help="fd@cd: maximize FD removed at the budget; cd@fd: maximize CD kept."),
    uncertainties: Optional[str] = typer.Option(None, "--uncertainties", help="Comma-separated: entropy, one_minus_score, albox (default: all available)."),
    score_threshold: float = typer.Option(0.5, "--score-threshold", help="Detections scoring at or below this are dropped first."),
    per_class: bool = typer.Option(False, "--per-class", help="Fit fusion weights per predicted class where that helps."),
    calibrate: Optional[str] = typer.Option(
        None, "--calibrate", help="Calibrate scores (and class probabilities) first: isotonic, temperature, or seed 002's ts_all, ts_percls, iso_all, iso_percls."
    ),
    calibrate_box: Optional[str] = typer.Option(
        None,
        "--calibrate-box",
        help="Calibrate box sigmas (prediction files with box_std): isotonic, temperature, or seed 002's ts_all, ts_percoo, iso_all, iso_percoo, iso_perclscoo, rel_iso_perclscoo.",
    ),
    lightly: Optional[str] = LIGHTLY,
    storage_options: Optional[str] = STORAGE_OPTIONS,
) -> None:
    """Fit fusion weights and an uncertainty threshold on the frames that have ground truth."""
    from thresher.autolabel import fit_autolabeler
    from thresher.autolabel.seed_outputs import write_seed_outputs
    from thresher.errors import UsageError

    if (truth is None) == (truth_coco is None):
        raise UsageError("give the ground truth with exactly one of --truth TASK or --truth-coco FILE")
    source = open_datasource(datasource, lightly, storage_options)
    predictions, truth_boxes, schema, frames = _validation(source, task, truth, truth_coco)
    calibration = None
    if calibrate is not None or calibrate_box is not None:
        with_probs = predictions.probs is not None
        calibration = {"score_method": calibrate, "probs_method": calibrate if with_probs else None, "category_ids": schema.ids, "box_method": calibrate_box}
    model, report = fit_autolabeler(
        predictions, truth_boxes, uncertainties=_names(uncertainties), budget=budget, metric=metric,
        score_threshold=score_threshold, per_class=per_class, calibration=calibration,
    )  # fmt: skip
    output.parent.mkdir(parents=True, exist_ok=True)
    model.save(output)
    report_path = output.with_name(output.stem + "-report.csv")
    report_path.write_text(report.to_csv())
    seed_folder = output.with_name(output.stem + "-thresholding")
    write_seed_outputs(seed_folder, model, predictions, truth_boxes, frames)
    typer.echo(report.text())
    typer.echo(f"auto-labeler written to {output}, report to {report_path}, seed 002's thresholding outputs to {seed_folder / 'index.html'}")


def _validation(source, task: str, truth: Optional[str], truth_coco: Optional[str]):
    """Predictions and ground truth of the frames that have ground truth (one frame table)."""
    import numpy as np

    from thresher.autolabel.datasource import load_task, load_truth_coco
    from thresher.errors import UsageError

    frames = source.frames()
    predictions, _, schema = load_task(source, task, frames)
    truth_boxes, rows = load_truth_coco(truth_coco, frames) if truth_coco else load_task(source, truth, frames)[:2]
    if len(rows) == 0:
        raise UsageError("the ground truth covers no frame of the datasource")
    return predictions[np.isin(predictions.frame, rows)], truth_boxes, schema, frames


@autolabel_app.command("apply")
def apply(
    datasource: str = DATASOURCE,
    task: str = TASK,
    model: Path = typer.Option(..., "--model", help="The auto-labeler written by `thresher autolabel fit`."),
    output: Path = typer.Option(..., "--output", help="Folder for split.csv, labels_coco.json and review_label_studio.json."),
    labels_task: Optional[str] = typer.Option(None, "--labels-task", help="Also write the final labels as this prediction task."),
    empty: str = typer.Option("labeled", "--empty", help="Frames with no detection above the score threshold: labeled or examine."),
    image_root: str = typer.Option("", "--image-root", help="Prefix of the image URLs in the Label Studio tasks."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the labels task if it exists."),
    lightly: Optional[str] = LIGHTLY,
    storage_options: Optional[str] = STORAGE_OPTIONS,
) -> None:
    """Split the predicted frames into labeled (final labels) and examine (review tasks)."""
    from thresher.autolabel import AutoLabeler, labels_coco, labels_task as make_labels_task, review_tasks, split_rows
    from thresher.autolabel.datasource import load_task
    from thresher.io.conversion import save_task

    source = open_datasource(datasource, lightly, storage_options)
    labeler = AutoLabeler.load(model)
    frames = source.frames()
    predictions, rows, schema = load_task(source, task, frames)
    frames, predictions = _only_rows(frames, predictions, rows)
    split = labeler.split(predictions, len(frames), empty=empty)
    output.mkdir(parents=True, exist_ok=True)
    _write_csv(output / "split.csv", split_rows(frames, predictions, split))
    (output / "labels_coco.json").write_text(json.dumps(labels_coco(frames, predictions, split, schema.names)))
    urls = [image_root + name for name in frames.file_name.tolist()]
    (output / "review_label_studio.json").write_text(json.dumps(review_tasks(frames, predictions, split, schema.names, urls)))
    if labels_task:
        save_task(source.lightly, make_labels_task(labels_task, schema, frames, predictions, split), overwrite=overwrite)
    counts = split.summary()
    typer.echo(f"{counts['labeled']} of {counts['frames']} frames auto-labeled, {counts['examine']} to examine; written to {output}")


def _only_rows(frames, predictions, rows):
    """The frames of `rows` and their predictions, re-indexed."""
    import numpy as np

    from thresher.detections import Detections

    position = np.full(len(frames), -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    kept = predictions[position[predictions.frame] >= 0]
    moved = Detections(position[kept.frame], kept.xyxy, kept.score, kept.class_id, kept.probs, kept.box_std)
    return frames[rows], moved


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        if rows:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


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
