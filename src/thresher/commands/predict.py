"""`thresher predict`: run a detector over a datasource and write a Lightly prediction task."""

from __future__ import annotations

from typing import Optional

import typer

from thresher.cli import app
from thresher.commands.common import (
    BUILT_IN_DETECTOR,
    STORAGE_OPTIONS,
    clear_stale_temporaries,
    embedding_dtype_or_fail,
    open_datasource,
    print_skipped,
    progress_bar,
    resumable,
    store_for_model,
)


@app.command()
def predict(
    datasource: str = typer.Argument(..., help="Folder or URL of images and videos."),
    task: str = typer.Option("lightly_pretagging", "--task", help="Name of the prediction task to write (a run's pretagging reuses lightly_pretagging)."),
    model: str = typer.Option(BUILT_IN_DETECTOR, "--model", help=f"{BUILT_IN_DETECTOR} or the path of an Ultralytics YOLO .onnx export."),
    confidence: float = typer.Option(0.1, "--confidence", help="Keep boxes scoring above this (low: active learning wants the doubtful boxes)."),
    classes: Optional[str] = typer.Option(None, "--classes", help="Comma-separated class names to keep, e.g. car,truck."),
    every: int = typer.Option(1, "--every", help="Predict every N-th frame of each video (frame 0 first)."),
    embed_too: bool = typer.Option(False, "--embed", help="Also store frame embeddings from the same forward pass (built-in model)."),
    embed_dtype: str = typer.Option("float32", "--embed-dtype", help="How --embed stores new embeddings: float32 or float16 (half the disk)."),
    tta: Optional[str] = typer.Option(
        None, "--tta", help="Test-time augmentation, e.g. flip,scale:0.75: the passes are fused; each box gets box_spread and class_spread (seed 002's mcbox, mcclass)."
    ),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Skip frames whose prediction file exists and is valid."),
    lightly: Optional[str] = typer.Option(None, "--lightly", help="Location holding .lightly/ when it is not the datasource."),
    catalog: Optional[str] = typer.Option(None, "--catalog", help="Local folder for thresher's state (needed for buckets)."),
    storage_options: Optional[str] = STORAGE_OPTIONS,
) -> None:
    """Run a detector on every image and video frame; write a Lightly prediction task.

    Files the same model and options predicted before (this command or a run's pretagging) are
    reused; a task predicted with another model or confidence loses every prediction file
    first (frames outside --every included; a line says how many and why, and tasks.json
    lists the task again only once the predict finishes), then the sampled frames are predicted; one
    with other classes (other categories) is refused, naming both. A task that exists but was
    not predicted by thresher in this workspace (your own predictions) is refused: it is never
    added to nor emptied.
    """
    from thresher.infer import run_models, sample_rows
    from thresher.io.problems import Problems
    from thresher.errors import UsageError
    from thresher.models import load_detector
    from thresher.models.embedder import Embedder
    from thresher.plan import check_task_schema
    from thresher.provenance import prediction_key, prepare_task, require_own_task
    from thresher.workspace import workspace_for

    embedding_dtype_or_fail(embed_dtype, "--embed-dtype")
    source = open_datasource(datasource, lightly, storage_options)
    # where the settings that produced each prediction file are recorded (a bucket needs --catalog:
    # without a record, files of another confidence would be reused as they are)
    workspace = workspace_for(source, catalog)
    clear_stale_temporaries(source, workspace)
    class_list = classes.split(",") if classes else None
    detector = load_detector(model, confidence=confidence, classes=class_list)
    if embed_too and not isinstance(detector, Embedder):
        raise UsageError(f"--embed: the model {model} computes no embeddings (only the built-in {BUILT_IN_DETECTOR} does); use `thresher embed`")
    embedder, store = (detector, store_for_model(source, catalog, getattr(detector, "name", model), embed_dtype)) if embed_too and isinstance(detector, Embedder) else (None, None)
    if tta:
        from thresher.models.tta import TTADetector

        detector = TTADetector(detector, tta)  # embeddings, with --embed, come from the plain pass's model
    problems = Problems()
    frames = source.frames(problems)
    rows = sample_rows(frames, every)
    key = prediction_key(model, confidence, class_list, tta)
    callback, bar = progress_bar("predict")
    with resumable():
        require_own_task(source, workspace, task, "pass another --task, or remove that folder to let thresher predict this task")
        check_task_schema(source, task, detector)  # files of other settings are removed, and the settings recorded, before any is written
        note = prepare_task(source, frames, rows, workspace, task, key).note(task, key)
        if note:
            typer.echo(note)
        with bar:
            result = run_models(source, detector=detector, task=task, embedder=embedder, store=store, resume=resume, progress=callback, frames=frames, rows=rows)
    result.skipped = list(problems) + result.skipped
    typer.echo(f"task {task}: predicted {result.predicted} frames, reused {result.predictions_reused}, embedded {result.embedded}")
    print_skipped(result)
