"""`thresher report RUN_FOLDER` rebuilds a run's report.html."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from thresher.cli import app


@app.command("report")
def report_command(
    run_folder: Path = typer.Argument(..., help="A run's output folder (holding report_data.npz and report_data.json)."),
    projection: Optional[str] = typer.Option(None, "--projection", help="pca, tsne (extra report-tsne) or umap (extra report-umap); default: the saved one."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write the page (default: <run folder>/report.html)."),
) -> None:
    """Rebuild the self-contained report.html of a run from the data the run saved."""
    from thresher.report import build_report

    typer.echo(build_report(run_folder, projection=projection, out=out))
