"""`thresher fuse`: fuse T prediction tasks of one model (MC-dropout or TTA passes) into one task."""

from __future__ import annotations

from typing import Optional

import typer

from thresher.cli import app
from thresher.commands.common import STORAGE_OPTIONS, open_datasource


@app.command()
def fuse(
    datasource: str = typer.Argument(..., help="Folder or URL of images and videos."),
    task: list[str] = typer.Option(..., "--task", help="A pass of the model (repeat: --task pass0 --task pass1 ...), tasks of one schema."),
    into: str = typer.Option(..., "--into", help="Name of the fused task to write (never an existing task)."),
    iou: float = typer.Option(0.5, "--iou", help="IoU with a cluster's mean box that joins a pass's box to it."),
    class_aware: bool = typer.Option(True, "--class-aware/--any-class", help="Only boxes of one class join one cluster (default)."),
    lightly: Optional[str] = typer.Option(None, "--lightly", help="Location holding .lightly/ when it is not the datasource."),
    storage_options: Optional[str] = STORAGE_OPTIONS,
) -> None:
    """Fuse T prediction tasks of one model (MC-dropout or TTA passes) into one task with box_spread and class_spread.

    Seed 002's epistemic uncertainty (mcbox, mcclass) from passes written by the user's own model.
    """
    from thresher.fuse_tasks import fuse_tasks

    source = open_datasource(datasource, lightly, storage_options)
    fused = fuse_tasks(source, task, into, iou_threshold=iou, same_class=class_aware)
    typer.echo(f"task {fused.task}: fused {fused.passes} passes over {fused.frames} frames into {fused.boxes} boxes")
    if fused.left_out:
        typer.echo(f"left out {fused.left_out} frame(s) that not every pass predicted")
