"""`thresher select`: a selection alone, from a selection config or a seed-002 strategy name."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from thresher.cli import app
from thresher.commands.common import STORAGE_OPTIONS, open_datasource


@app.command()
def select(
    datasource: str = typer.Argument(..., help="Folder or URL of images and videos."),
    config: Optional[Path] = typer.Option(None, "--config", help="A LightlyOne selection_config (YAML or JSON)."),
    out: Path = typer.Option(..., "--out", help="Folder for selection.csv and selection.json."),
    seed_strategy: Optional[str] = typer.Option(
        None, "--seed-strategy", help="Instead of --config: a seed-002 strategy name, e.g. perc_norm_box_bottomk_mean_mcbox (docs/seed002.md); needs --task and --n."
    ),
    task: Optional[str] = typer.Option(None, "--task", help="With --seed-strategy: the prediction task scored."),
    n: Optional[int] = typer.Option(None, "--n", help="With --seed-strategy: how many frames to select."),
    embedder: str = typer.Option("ssd-mobilenet-v2-coco", "--embedder", help="Embedder for EMBEDDINGS inputs (stored vectors are reused)."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random choice."),
    every: int = typer.Option(1, "--every", help="Use every N-th frame of each video."),
    lightly: Optional[str] = typer.Option(None, "--lightly", help="Location holding .lightly/ when it is not the datasource."),
    catalog: Optional[str] = typer.Option(None, "--catalog", help="Local folder for thresher's state (needed for buckets)."),
    storage_options: Optional[str] = STORAGE_OPTIONS,
) -> None:
    """Select with a selection_config (or a seed-002 strategy name) over existing predictions and metadata; write DIR/selection.csv."""
    from thresher.errors import UsageError
    from thresher.run.select_only import select_only

    if (config is None) == (seed_strategy is None):
        raise UsageError("give exactly one of --config (a selection_config) or --seed-strategy (a seed-002 strategy name)")
    source = open_datasource(datasource, lightly, storage_options)
    if seed_strategy is not None:
        from thresher.run.seed_select import select_seed_strategy

        if task is None or n is None:
            raise UsageError("--seed-strategy needs --task (the prediction task) and --n (how many frames)")
        selection = select_seed_strategy(source, seed_strategy, task=task, n=n, out=out, every=every, seed=seed)
        typer.echo(f"selected {len(selection)} frames with {seed_strategy}: {out / 'selection.csv'}")
        return
    assert config is not None  # exactly one of config and seed_strategy, checked above
    outcome = select_only(source, config, out, embedder=embedder, seed=seed, every=every, catalog=catalog)
    typer.echo(f"selected {len(outcome.selection)} samples ({outcome.stop_reason}): {out / 'selection.csv'}")
