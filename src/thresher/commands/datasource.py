"""Commands over a datasource: validate, samples, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from thresher.cli import app

SHOWN_PROBLEMS = 50


def open_datasource(datasource: str, lightly: Optional[str], storage_options: Optional[str] = None):
    from thresher.io.datasource import Datasource

    return Datasource(datasource, lightly, parse_storage_options(storage_options))


def parse_storage_options(text: Optional[str]) -> Optional[dict]:
    """The `--storage-options` JSON object (None when not given)."""
    import json

    from thresher.errors import UsageError

    try:
        options = json.loads(text) if text else None
    except json.JSONDecodeError as exc:
        raise UsageError(f"--storage-options: expected a JSON object, got {text!r} ({exc})") from exc
    if options is not None and not isinstance(options, dict):
        raise UsageError(f"--storage-options: expected a JSON object, got {text!r}")
    return options


STORAGE_OPTIONS = typer.Option(None, "--storage-options", help='fsspec options for buckets as JSON, e.g. \'{"anon": true}\'.')


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


@app.command()
def samples(folder: Path = typer.Argument(..., help="Folder to copy the sample data into.")) -> None:
    """Copy the real sample videos and images that ship with the installed packages."""
    from thresher.samples import copy_samples

    for name in copy_samples(folder):
        typer.echo(str(folder / name))


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
