"""`thresher samples`: copy the real sample data that ships with the packages."""

from __future__ import annotations

from pathlib import Path

import typer

from thresher.cli import app


@app.command()
def samples(folder: Path = typer.Argument(..., help="Folder to copy the sample data into.")) -> None:
    """Copy the real sample videos and images that ship with the installed packages."""
    from thresher.samples import copy_samples

    for name in copy_samples(folder):
        typer.echo(str(folder / name))
