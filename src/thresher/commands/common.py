"""What several commands share: the datasource and bucket options, progress bars, skipped files."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional

import typer


SHOWN_PROBLEMS = 50


BUILT_IN_DETECTOR = "ssd-mobilenet-v2-coco"


def open_datasource(datasource: str, lightly: Optional[str], storage_options: Optional[str] = None, quiet: bool = False):
    """The `Datasource` of a command's arguments; unless `quiet`, a line `reading s3://…` on stderr
    first when either location is a bucket (its first listing may wait on the network)."""
    from thresher.io.datasource import Datasource
    from thresher.io.storage import is_url

    options = parse_storage_options(storage_options)
    if not quiet:
        for url in dict.fromkeys(u for u in (datasource, lightly) if u is not None and is_url(u)):
            typer.echo(f"reading {url} …", err=True)
    return Datasource(datasource, lightly, options)


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


STORAGE_OPTIONS = typer.Option(None, "--storage-options", help="fsspec options for buckets as JSON, e.g. '{\"anon\": true}'.")


def progress_bar(label: str):
    """A rich progress bar on stderr, driven by (done, total) calls; returns (callback, bar)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True)
    task = bar.add_task(label, total=None)
    return (lambda done, total: bar.update(task, completed=done, total=total)), bar


def print_skipped(result, echo=typer.echo) -> None:
    if result.skipped:
        echo(f"skipped {len(result.skipped)} unreadable file(s):")
        for problem in result.skipped:
            echo(f"  {problem}")


def store_for_model(source, catalog: Optional[str], model: str, dtype: str = "float32"):
    """The model's embedding store in the datasource's workspace; `dtype`: how new shards are written."""
    from thresher.embedding_store import store_for
    from thresher.workspace import workspace_for

    return store_for(workspace_for(source, catalog), model, dtype)


def clear_stale_temporaries(source, workspace) -> None:
    """Remove the temporaries a killed run, predict or embed left in `.lightly/` and the workspace
    (`thresher.workspace.remove_stale_temporaries`), saying so in one line when there were some."""
    from thresher.workspace import remove_stale_temporaries, stale_temporaries_line

    line = stale_temporaries_line(remove_stale_temporaries(source, workspace))
    if line:
        typer.echo(line)


def embedding_dtype_or_fail(dtype: str, option: str) -> None:
    """A UsageError naming the option when `dtype` is not a dtype the embedding store writes."""
    from thresher.embedding_store import DTYPES
    from thresher.errors import UsageError

    if dtype not in DTYPES:
        raise UsageError(f"{option}: expected one of {', '.join(DTYPES)}, got {dtype!r}")


INTERRUPTED = "interrupted: finished work is kept; run the same command again to resume"


@contextmanager
def resumable() -> Iterator[None]:
    """Ctrl-C inside prints one line on stderr (`INTERRUPTED`) and exits 130 (typer alone exits
    130 without a word). For the commands whose work a rerun resumes: run, predict, embed."""
    try:
        yield
    except KeyboardInterrupt:
        typer.echo(INTERRUPTED, err=True)
        raise typer.Exit(130) from None
