"""`thresher run`: one worker run from a run config."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from thresher.cli import app
from thresher.commands.common import STORAGE_OPTIONS, open_datasource, resumable


@app.command("run")
def run_command(
    datasource: str = typer.Argument(..., help="Folder or URL (s3://, gs://, az://) of images and videos."),
    config: Path = typer.Option(..., "--config", help="Run file (YAML or JSON): worker_config, selection_config, lightly_config, thresher."),
    lightly: Optional[str] = typer.Option(None, "--lightly", help="Location holding .lightly/ when it is not the datasource."),
    catalog: Optional[str] = typer.Option(None, "--catalog", help="Local folder for thresher's state (needed for buckets)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder for the run's outputs (default: <catalog>/runs/)."),
    storage_options: Optional[str] = STORAGE_OPTIONS,
    engine: str = typer.Option("local", "--engine", help="Runs decoding, prediction and embedding: local, or ray (Ray Data; extra ray)."),
    address: Optional[str] = typer.Option(None, "--address", help="With --engine ray: the cluster to join, HOST:PORT (default: a local Ray instance)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No stage lines or progress on stderr; the summary only."),
) -> None:
    """Enumerate, check, pretag, assert, embed, select and write the outputs, reusing earlier work.

    Progress goes to stderr: a bar per stage on a terminal, a line per ~10 % otherwise.
    """
    from thresher.progress import display
    from thresher.run import run
    from thresher.run.exports import label_studio_hint

    from thresher.engines import make_engine

    source = open_datasource(datasource, lightly, storage_options, quiet=quiet)
    with resumable(), display(quiet) as shown:
        runner = make_engine(engine, address=address, **({"log": shown.log, "quiet": quiet} if engine == "ray" else {}))
        try:
            result = run(source, config, catalog=catalog, out=out, log=shown.log, progress=shown, engine=runner)
        finally:
            runner.close()
    typer.echo(f"run {result.run_id}: {result.summary()}, removed {len(result.removed)}")
    typer.echo(f"outputs: {result.folder}")
    for name in outputs(result.artifacts):
        if (result.folder / name).exists():
            typer.echo(f"  {result.folder / name}")
    for line in label_studio_hint(result.artifacts):
        typer.echo(line)


OUTPUTS = (
    "selection.csv",
    "datapool.csv",
    "removed_samples.csv",
    "report.html",
    "images",
    "label_studio_tasks.json",
    "label_studio_config.xml",
    "coco.json",
    "filenames.txt",
)


def outputs(artifacts: dict) -> list[str]:
    """The run's files and folders to print, in `OUTPUTS` order; at object level the selected
    crops' folder after images/ (`object_level.crop_dataset_name`, else `<datasource>-crops`)."""
    names = list(OUTPUTS)
    folder = artifacts.get("crops_folder")
    return names[: names.index("images") + 1] + [folder] + names[names.index("images") + 1 :] if folder else names
