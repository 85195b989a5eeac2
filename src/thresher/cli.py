"""The `thresher` command: each subcommand is a few lines over the library.

Errors: a `ThresherError` prints one line `error: …` and exits 2 for usage and configuration
errors, 1 otherwise; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import sys

import typer

from thresher.errors import ConfigError, ThresherError, UsageError

app = typer.Typer(
    name="thresher",
    help="Choose what to label: active learning, model assertions and selection, locally.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"debug": False}


def _print_version(value: bool) -> None:
    if value:
        from thresher import __version__

        typer.echo(f"thresher {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors."),
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
) -> None:
    _state["debug"] = debug


@app.command()
def version() -> None:
    """Print the installed version."""
    from thresher import __version__

    typer.echo(__version__)


def _register_commands() -> None:
    """Import the modules that add their commands to `app` (kept lazy and light)."""
    import thresher.commands  # noqa: F401


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `thresher` script (click handles its own usage errors, exit 2)."""
    _register_commands()
    try:
        app(args=argv, standalone_mode=True)
    except ThresherError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2 if isinstance(exc, (UsageError, ConfigError)) else 1)
