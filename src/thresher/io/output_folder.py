"""Write a set of files into a local folder whole: each top-level entry appears complete or not at all.

The files are written into a scratch folder inside the target first (`.thresher-tmp-<random>/`),
then each top-level entry (`coco.json`, `labels/`, …) is moved into place; an entry that exists is
replaced only with `overwrite` (an existing `labels/` is replaced as a whole, so no file of an
older conversion survives). Other entries of the folder are left alone.

Example: `write_entries(Path("out"), {"coco.json": b"{}", "labels/a.txt": b""})`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path

from thresher.errors import UsageError
from thresher.io.storage import write_file


def existing_entries(folder: Path, names: list[str]) -> list[str]:
    """The top-level entries of `names` (paths relative to `folder`) that exist in `folder`."""
    tops = dict.fromkeys(name.split("/")[0] for name in names)
    return [top for top in tops if (folder / top).exists() or (folder / top).is_symlink()]


def write_entries(folder: Path, files: Mapping[str, bytes], *, overwrite: bool = False) -> None:
    """Write `files` ({relative path: bytes}) into `folder` (see the module docstring)."""
    folder = Path(folder)
    taken = existing_entries(folder, list(files))
    if taken and not overwrite:
        raise UsageError(f"{folder}: {', '.join(taken)} exist(s) already; pass --overwrite to replace them")
    scratch = folder / f".thresher-tmp-{uuid.uuid4().hex[:12]}"
    try:
        for name, data in files.items():
            write_file(scratch / name, data)
        for top in dict.fromkeys(name.split("/")[0] for name in files):
            target = folder / top
            if target.is_dir() and not target.is_symlink():
                os.replace(target, scratch / f"{top}.replaced")
            os.replace(scratch / top, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
