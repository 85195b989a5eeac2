"""`thresher validate`: check media, predictions and metadata."""

from __future__ import annotations

from typing import Optional

import typer

from thresher.cli import app
from thresher.commands.common import SHOWN_PROBLEMS, STORAGE_OPTIONS, open_datasource


@app.command()
def validate(
    datasource: str = typer.Argument(..., help="Folder or URL (s3://, gs://, az://) of images and videos."),
    lightly: Optional[str] = typer.Option(None, "--lightly", help="Location holding .lightly/ when it is not the datasource."),
    quick: bool = typer.Option(False, "--quick", help="Read headers only; skip decoding every image and the end of every video."),
    all_problems: bool = typer.Option(False, "--all", help=f"List every problem, not only the first {SHOWN_PROBLEMS}."),
    storage_options: Optional[str] = STORAGE_OPTIONS,
) -> None:
    """Check media, predictions and metadata; exit 0 when clean, 1 when problems were found."""
    from thresher.validate import validate as run_validation

    report = run_validation(open_datasource(datasource, lightly, storage_options), decode=not quick)
    for line in report.summary():
        typer.echo(line)
    problems = sorted(report.problems, key=lambda p: (p.file, p.field))
    shown = problems if all_problems else problems[:SHOWN_PROBLEMS]
    for problem in shown:
        typer.echo(f"problem: {problem}")
    if len(shown) < len(problems):
        typer.echo(f"... and {len(problems) - len(shown)} more (--all lists them)")
    raise typer.Exit(0 if report.ok else 1)
