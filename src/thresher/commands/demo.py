"""`thresher demo`: the main job on real sample data."""

from __future__ import annotations

from pathlib import Path

import typer

from thresher.cli import app


@app.command()
def demo(
    folder: Path = typer.Argument(Path(".demo"), help="Working folder of the demo."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No stage lines or progress on stderr; the summary only."),
) -> None:
    """Run the main job on real sample data (see README)."""
    from thresher.demo import run_demo
    from thresher.progress import display

    with display(quiet) as shown:
        run_demo(folder, echo=typer.echo, log=shown.log, progress=shown)
