"""The workspace: the local folder that holds thresher's own state for a datasource.

By default `<datasource>/.thresher/` for a local datasource. A bucket or a read-only folder
needs an explicit local folder (`--catalog PATH` on the command line). It holds the catalog,
stored embeddings, caches and run outputs; the user's files are never written there.
"""

from __future__ import annotations

import os
from pathlib import Path

from thresher.errors import UsageError
from thresher.io.datasource import Datasource

WORKSPACE_DIR = ".thresher"


def workspace_for(source: Datasource, path: str | os.PathLike | None = None) -> Path:
    """The workspace folder of `source` (created when missing)."""
    if path is not None:
        folder = Path(path)
    elif source.input.is_local:
        folder = Path(source.input.root) / WORKSPACE_DIR
    else:
        raise UsageError(f"{source.input.url} is not a local folder: give a local folder for thresher's state with --catalog PATH")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
