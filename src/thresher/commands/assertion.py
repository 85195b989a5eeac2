"""`thresher assert`: run model assertions (flicker, appear, multibox, class_switch) on a task."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from thresher.cli import app
from thresher.commands.common import STORAGE_OPTIONS, open_datasource


@app.command("assert")
def assert_command(
    datasource: str = typer.Argument(..., help="Folder or URL of images and videos."),
    task: str = typer.Option(..., "--task", help="The prediction task to check."),
    assertion: str = typer.Option("flicker", "--assertion", help="Comma-separated: flicker, appear, multibox, class_switch."),
    seed_compatible: bool = typer.Option(False, "--seed-compatible", help="Flicker exactly as seed 000's code (window 3)."),
    iou_thresh_tracking: Optional[float] = typer.Option(None, "--iou-thresh-tracking", help="Seed flicker: IoU linking boxes of frames t-1 and t+1 (default 0.9)."),
    iou_thresh_assertion: Optional[float] = typer.Option(None, "--iou-thresh-assertion", help="Seed flicker: IoU below which frame t misses the box (default 0.6)."),
    max_gap: Optional[int] = typer.Option(None, "--max-gap", help="Flicker: longest run of frames an object may be missing for (default 1)."),
    match_iou: Optional[float] = typer.Option(None, "--match-iou", help="Flicker: IoU linking boxes into tracks, and across a gap (default 0.5)."),
    presence: Optional[str] = typer.Option(None, "--presence", help="Flicker: coverage or iou, how a box of the gap frame counts as the object (default coverage)."),
    present_overlap: Optional[float] = typer.Option(
        None, "--present-overlap", help="Flicker: share of the smaller box inside the other (coverage) or IoU (iou) that counts as the object (default 0.7)."
    ),
    present_min_ratio: Optional[float] = typer.Option(None, "--present-min-ratio", help="Flicker, coverage: smallest area ratio of the two boxes that counts (default 0.1)."),
    duplicate_coverage: Optional[float] = typer.Option(
        None, "--duplicate-coverage", help="Flicker: a box this much inside a better box carries no track; 0 keeps them (default 0.8)."
    ),
    max_box_share: Optional[float] = typer.Option(None, "--max-box-share", help="Flicker: boxes larger than this share of the frame carry no track (default 0.6)."),
    class_aware: Optional[bool] = typer.Option(None, "--class-aware/--any-class", help="Flicker: only boxes of one class link and count as present (default: any class)."),
    parameter: list[str] = typer.Option([], "--parameter", help="Any assertion's parameter as NAME.KEY=VALUE, e.g. appear.min_length=4 (repeatable)."),
    strips: Optional[Path] = typer.Option(None, "--strips", help="Write the worst flicker frames as PNG here: frames t-1, t, t+1 with their boxes and the imputed ones."),
    strips_limit: int = typer.Option(24, "--strips-limit", help="How many flagged frames --strips writes, worst first."),
    lightly: Optional[str] = typer.Option(None, "--lightly", help="Location holding .lightly/ when it is not the datasource."),
    storage_options: Optional[str] = STORAGE_OPTIONS,
) -> None:
    """Run model assertions on a task; write Lightly metadata and the imputed boxes as <task>-imputed.

    Frames of the task's videos without a prediction file take part as frames with no object.
    """
    from thresher.assertions.task import assert_task

    names = [n.strip() for n in assertion.split(",") if n.strip()]
    flicker = {
        "iou_thresh_tracking": iou_thresh_tracking,
        "iou_thresh_assertion": iou_thresh_assertion,
        "max_gap": max_gap,
        "match_iou": match_iou,
        "presence": presence,
        "present_overlap": present_overlap,
        "present_min_ratio": present_min_ratio,
        "duplicate_coverage": duplicate_coverage,
        "max_box_share": max_box_share,
        "class_aware": class_aware,
    }
    parameters = _parameters(parameter)
    given = {k: v for k, v in flicker.items() if v is not None}
    if given:
        parameters["flicker"] = {**parameters.get("flicker", {}), **given}
    report = assert_task(open_datasource(datasource, lightly, storage_options), task, names, seed_compatible=seed_compatible, parameters=parameters)
    for name, count in report.flagged.items():
        typer.echo(f"{name}: {count} of {len(report.frames)} frames flagged")
    if report.read_as_empty:
        typer.echo(f"{report.read_as_empty} of these frames have no prediction file: read as frames with no object (as LightlyOne does)")
    for note in report.notes:
        typer.echo(f"note: {note}")
    typer.echo(f"metadata written to .lightly/metadata/, imputed boxes to task {report.imputed_task}")
    if strips is not None:
        _write_strips(open_datasource(datasource, lightly, storage_options), report, strips, strips_limit)


def _write_strips(source, report, folder: Path, limit: int) -> None:
    from thresher.errors import UsageError
    from thresher.report.strip_png import write_strips

    flicker = next((r for r in report.results if r.name == "flicker"), None)
    if flicker is None:
        raise UsageError("--strips: shows flicker's flagged frames; add flicker to --assertion")
    if limit < 1:
        raise UsageError(f"--strips-limit: expected an integer >= 1, got {limit}")
    paths = write_strips(source, report.frames, report.detections, flicker.weak_labels, flicker.values, report.class_names, folder, limit)
    typer.echo(f"{len(paths)} flagged frames drawn in {folder}")


def _parameters(items: list[str]) -> dict[str, dict]:
    """`--parameter NAME.KEY=VALUE` options as {name: {key: value}} (values read as YAML scalars)."""
    import yaml

    from thresher.errors import UsageError

    parameters: dict[str, dict] = {}
    for item in items:
        target, sep, text = item.partition("=")
        name, dot, key = target.strip().partition(".")
        if not sep or not dot or not name or not key:
            raise UsageError(f"--parameter: expected NAME.KEY=VALUE (e.g. appear.min_length=4), got {item!r}")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            value = text
        parameters.setdefault(name, {})[key] = value
    return parameters
