"""`thresher autolabel fit|apply`: labels under an error budget (docs/autolabel.md)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Optional

import typer

from thresher.cli import app
from thresher.commands.common import STORAGE_OPTIONS, open_datasource

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
    uncertainties: Optional[str] = typer.Option(
        None,
        "--uncertainties",
        help="Comma-separated: entropy, one_minus_score, albox; mcbox, mcclass for a task with spreads (thresher fuse, predict --tta). Default: all available.",
    ),
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

    from thresher.autolabel.datasource import load_task, load_truth_coco, truth_on_schema
    from thresher.errors import UsageError

    frames = source.frames()
    predictions, _, schema = load_task(source, task, frames)
    if truth_coco is not None:
        truth_boxes, rows, truth_schema = load_truth_coco(truth_coco, frames)
        where = truth_coco
    elif truth is not None:
        truth_boxes, rows, truth_schema = load_task(source, truth, frames)
        where = f"--truth {truth}"
    else:
        raise UsageError("give the ground truth: --truth (a prediction task) or --truth-coco (a COCO file)")
    if len(rows) == 0:
        raise UsageError("the ground truth covers no frame of the datasource")
    truth_boxes = truth_on_schema(truth_boxes, truth_schema, schema, where)
    return predictions[np.isin(predictions.frame, rows)], truth_boxes, schema, frames


@autolabel_app.command("apply")
def apply(
    datasource: str = DATASOURCE,
    task: str = TASK,
    model: Path = typer.Option(..., "--model", help="The auto-labeler written by `thresher autolabel fit`."),
    output: Path = typer.Option(
        ..., "--output", help="Folder for split.csv, labels_coco.json, and the review hand-off: images/, review_label_studio.json, label_studio_config.xml."
    ),
    labels_task: Optional[str] = typer.Option(None, "--labels-task", help="Also write the final labels as this prediction task."),
    empty: str = typer.Option("labeled", "--empty", help="Frames with no detection above the score threshold: labeled or examine."),
    image_root: Optional[str] = typer.Option(
        None, "--image-root", help="URL under which the output's images/ is served (http): Label Studio loads <image-root>/<name> (default: local-files URLs)."
    ),
    local_files_root: Optional[str] = typer.Option(
        None, "--local-files-root", help="Label Studio's LOCAL_FILES_DOCUMENT_ROOT, a folder holding --output (default: the output folder's parent)."
    ),
    stills: str = typer.Option("link", "--stills", help="How a still to examine enters images/: link (relative symbolic link) or copy; a bucket's are copied."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the labels task if it exists."),
    lightly: Optional[str] = LIGHTLY,
    storage_options: Optional[str] = STORAGE_OPTIONS,
) -> None:
    """Split the predicted frames into labeled (final labels) and examine (review tasks)."""
    from thresher.autolabel import AutoLabeler, labels_coco, labels_task as make_labels_task, split_rows
    from thresher.autolabel.datasource import load_task
    from thresher.autolabel.handoff import REVIEW_FILE, review_options, review_warnings, write_review
    from thresher.errors import UsageError
    from thresher.io.conversion import save_task
    from thresher.io.storage import write_file
    from thresher.run.exports import label_studio_hint

    if stills not in ("link", "copy"):
        raise UsageError(f"--stills: expected link or copy, got {stills!r}")
    if labels_task is not None and labels_task == task:
        raise UsageError(
            f"--labels-task: expected a task other than --task, got {labels_task!r} for both; writing the labels there would replace "
            "the detector's predictions: give another --labels-task name"
        )
    source = open_datasource(datasource, lightly, storage_options)
    labeler = AutoLabeler.load(model)
    frames = source.frames()
    predictions, rows, schema = load_task(source, task, frames)
    frames, predictions = _only_rows(frames, predictions, rows)
    split = labeler.split(predictions, len(frames), empty=empty)
    options = review_options(image_root, local_files_root, stills)
    artifacts, unwritten = write_review(source, frames, predictions, split, schema.names, output, options)
    for line in review_warnings(unwritten):
        typer.echo(line, err=True)
    _write_csv(output / "split.csv", split_rows(frames, predictions, split))
    write_file(output / "labels_coco.json", json.dumps(labels_coco(frames, predictions, split, schema.names)).encode())
    if labels_task:
        save_task(source.lightly, make_labels_task(labels_task, schema, frames, predictions, split), overwrite=overwrite)
    counts = split.summary()
    typer.echo(f"{counts['labeled']} of {counts['frames']} frames auto-labeled, {counts['examine']} to examine; written to {output}")
    for line in label_studio_hint(artifacts, REVIEW_FILE):
        typer.echo(line)


def _only_rows(frames, predictions, rows):
    """The frames of `rows` and their predictions, re-indexed."""
    import numpy as np

    position = np.full(len(frames), -1, dtype=np.int64)
    position[rows] = np.arange(len(rows))
    kept = predictions[position[predictions.frame] >= 0]
    moved = kept.replace(frame=position[kept.frame])
    return frames[rows], moved


def _write_csv(path: Path, rows: list[dict]) -> None:
    """`rows` as CSV (header: the first row's keys), written to a temporary name and renamed."""
    from thresher.io.storage import write_file

    text = io.StringIO()
    if rows:
        writer = csv.DictWriter(text, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    write_file(path, text.getvalue().encode())
