"""The workspace: the local folder that holds thresher's own state for a datasource.

By default `<datasource>/.thresher/` for a local datasource. A bucket or a read-only folder
needs an explicit local folder (`--catalog PATH` on the command line). It holds the catalog,
stored embeddings, caches and run outputs; the user's files are never written there.
"""

from __future__ import annotations

import os
from pathlib import Path

from thresher.errors import UsageError
from thresher.io.assertion_record import RECORD_FILE as ASSERTION_RECORD
from thresher.io.datasource import Datasource
from thresher.io.lightly_metadata import METADATA_DIR
from thresher.io.lightly_schema import PREDICTIONS_DIR
from thresher.io.temporary import remove_stale

WORKSPACE_DIR = ".thresher"
LIGHTLY_WRITTEN = (PREDICTIONS_DIR, METADATA_DIR, os.path.dirname(ASSERTION_RECORD))  # the folders of `.lightly/` thresher writes


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


def remove_stale_temporaries(source: Datasource, workspace: str | os.PathLike) -> list[str]:
    """Delete the temporary files and folders that commands killed while writing them left
    (`thresher.io.temporary`), in the folders thresher writes: `.lightly/predictions/`,
    `.lightly/metadata/` and `.lightly/thresher/` of a local `.lightly/` (a bucket's objects are
    put whole), and the workspace. Returns their paths; a live command's are kept.

    Example: `remove_stale_temporaries(source, workspace)` → `[".../.lightly/predictions/t/.a.json.1a2b3c4d.tmp"]`.
    """
    lightly = source.lightly
    folders = [lightly.path(name) for name in LIGHTLY_WRITTEN] if lightly.is_local else []
    return [path for folder in [*folders, os.fspath(workspace)] for path in remove_stale(folder)]


def stale_temporaries_line(removed: list[str]) -> str:
    """The log line for `remove_stale_temporaries`'s answer ("" when it removed nothing).

    >>> stale_temporaries_line(["d/.lightly/metadata/.a.json.1a2b3c4d.tmp"])
    'removed 1 temporary file left by a command killed while writing: d/.lightly/metadata/.a.json.1a2b3c4d.tmp'
    """
    if not removed:
        return ""
    shown = ", ".join(removed[:3]) + (f", … ({len(removed) - 3} more)" if len(removed) > 3 else "")
    what = "1 temporary file" if len(removed) == 1 else f"{len(removed)} temporary files"
    return f"removed {what} left by a command killed while writing: {shown}"
