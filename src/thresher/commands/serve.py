"""`thresher serve` starts the local web app over a workspace's catalog (`thresher.app`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from thresher.cli import app
from thresher.commands.common import STORAGE_OPTIONS, parse_storage_options


@app.command("serve")
def serve_command(
    catalog: Path = typer.Option(Path(".thresher"), "--catalog", help="The workspace folder (or its catalog.sqlite) to browse."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; the default serves this machine only."),
    port: int = typer.Option(8765, "--port", help="Port to listen on (0: any free port)."),
    storage_options: Optional[str] = STORAGE_OPTIONS,
) -> None:
    """A local web app over the catalog: samples with boxes, the embedding with lasso tagging, runs and reports."""
    from thresher.app import serve

    options = parse_storage_options(storage_options)
    serve(catalog, host, port, log=lambda line: typer.echo(line, err=True), announce=typer.echo, storage_options=options)
