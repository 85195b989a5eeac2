"""Commands that score and select without a full run: score, select."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from thresher.cli import app
from thresher.commands.datasource import STORAGE_OPTIONS, open_datasource


@app.command()
def score(
    datasource: str = typer.Argument(..., help="Folder or URL of images and videos."),
    task: str = typer.Option(..., "--task", help="The prediction task to score."),
    out: Path = typer.Option(Path("scores.csv"), "--out", help="CSV of every score, one row per frame."),
    objects: Optional[Path] = typer.Option(None, "--objects", help="Also write per-object scores (one row per box) here."),
    families: str = typer.Option("lightly,seed", "--families", help="Score families: lightly, seed, weak_candidates."),
    candidate_threshold: Optional[float] = typer.Option(None, "--candidate-threshold", help="weak_candidates: boxes below this score are candidates the detector did not report."),
    lightly: Optional[str] = typer.Option(None, "--lightly", help="Location holding .lightly/ when it is not the datasource."),
    storage_options: Optional[str] = STORAGE_OPTIONS,
) -> None:
    """Write every active-learning score of every predicted frame (and object) to CSV, without selecting.

    Higher means more worth labeling, for every column; an empty cell means not applicable.
    """
    from thresher.io.lightly_predictions import predicted_part, read_predictions
    from thresher.io.problems import Problems
    from thresher.scorers import default_object_ids, object_scores, score_frames, write_scores_csv

    source = open_datasource(datasource, lightly, storage_options)
    frames = source.frames(Problems())
    frames, detections = predicted_part(read_predictions(source.lightly, task, frames, Problems()))
    names = [f.strip() for f in families.split(",") if f.strip()]
    table = score_frames(detections, frames, names, candidate_threshold=candidate_threshold)
    write_scores_csv(table, out)
    typer.echo(f"{len(table)} frames, {len(table.names)} scores: {out}")
    if objects is not None:
        per_object = object_scores(detections, default_object_ids(detections, frames))
        write_scores_csv(per_object, objects)
        typer.echo(f"{len(per_object)} objects: {objects}")


@app.command()
def select(
    datasource: str = typer.Argument(..., help="Folder or URL of images and videos."),
    config: Path = typer.Option(..., "--config", help="A LightlyOne selection_config (YAML or JSON)."),
    out: Path = typer.Option(..., "--out", help="Folder for selection.csv and selection.json."),
    embedder: str = typer.Option("ssd-mobilenet-v2-coco", "--embedder", help="Embedder for EMBEDDINGS inputs (stored vectors are reused)."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random choice."),
    every: int = typer.Option(1, "--every", help="Use every N-th frame of each video."),
    lightly: Optional[str] = typer.Option(None, "--lightly", help="Location holding .lightly/ when it is not the datasource."),
    catalog: Optional[str] = typer.Option(None, "--catalog", help="Local folder for thresher's state (needed for buckets)."),
    storage_options: Optional[str] = STORAGE_OPTIONS,
) -> None:
    """Select with a selection_config over existing predictions and metadata; write DIR/selection.csv."""
    from thresher.run.select_only import select_only

    source = open_datasource(datasource, lightly, storage_options)
    outcome = select_only(source, config, out, embedder=embedder, seed=seed, every=every, catalog=catalog)
    typer.echo(f"selected {len(outcome.selection)} samples ({outcome.stop_reason}): {out / 'selection.csv'}")
