"""`thresher embed`: store one embedding per image and video frame."""

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
def embed(
    datasource: str = typer.Argument(..., help="Folder or URL of images and videos."),
    model: str = typer.Option(BUILT_IN_DETECTOR, "--model", help=f"{BUILT_IN_DETECTOR} (the detector's backbone), mobilenetv2-imagenet, a .onnx file, or simclr:PATH."),
    every: int = typer.Option(1, "--every", help="Embed every N-th frame of each video (frame 0 first)."),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Skip samples whose embedding is stored."),
    dtype: str = typer.Option("float32", "--dtype", help="How new embeddings are stored: float32, or float16 (half the disk and of the bytes a selection reads; 0.05 % rounding)."),
    catalog: Optional[str] = typer.Option(None, "--catalog", help="Local folder for thresher's state (needed for buckets)."),
    storage_options: Optional[str] = STORAGE_OPTIONS,
) -> None:
    """Store one L2-normalized embedding per image and video frame, reusable across runs."""
    from thresher.infer import run_models
    from thresher.models.embedder import embedder_from_spec
    from thresher.workspace import workspace_for

    embedding_dtype_or_fail(dtype, "--dtype")
    source = open_datasource(datasource, None, storage_options)
    clear_stale_temporaries(source, workspace_for(source, catalog))
    embedder = embedder_from_spec(model)
    store = store_for_model(source, catalog, embedder.name, dtype)
    callback, bar = progress_bar("embed")
    with resumable(), bar:
        result = run_models(source, embedder=embedder, store=store, every=every, resume=resume, progress=callback)
    typer.echo(f"embedded {result.embedded} samples, reused {result.reused}; stored in {store.folder}")
    print_skipped(result)
