"""`images/`: one folder of a run that holds every image its exports name, by Lightly name.

Selected video frames are extracted there as PNG (`data/bikes-007-mp4.png`); selected stills
are linked (a relative symbolic link to the file in a local datasource, `stills="link"`) or
copied (`stills="copy"`, and always for a bucket datasource). Every path of the exports is
relative to this folder, so Label Studio's local-files storage, an http server or a training
script can serve all of them from one root. Links are relative, so they stay valid when the
run folder is renamed from `<id>.partial` and when the datasource is moved with its
`.thresher/` folder. Each entry is written to a temporary name and renamed.

Example: `write_images(source, frames, rows, run / "images")` → `["data/bikes-007-mp4.png", "img/a.jpg"]`.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np

from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.storage import write_file
from thresher.run.outputs import extract_frames

IMAGES_DIR = "images"


def write_images(source: Datasource, frames: Frames, rows: np.ndarray, folder: Path, stills: str = "link", progress=None) -> list[str]:
    """Put the image of each row of `frames` into `folder` under its Lightly name; returns the names written.

    Args:
        rows: rows of `frames` (images and video frames; crops are not rows of `frames`).
        stills: "link" (relative symbolic link, local datasources) or "copy".
        progress: called with (images written, images to write).
    """
    rows = np.asarray(rows, dtype=np.int64)
    total = len(rows)
    written = extract_frames(source, frames, rows, folder, None if progress is None else lambda done, _: progress(done, total))
    for row in rows[frames.kind[rows] == "image"].tolist():
        name = str(frames.file_name[row])
        local = source.input.local_path(name)
        if stills == "link" and local is not None:
            _link(Path(local), folder / name)
        else:
            write_file(folder / name, source.input.read_bytes(name))
        written.append(name)
        if progress:
            progress(len(written), total)
    return written


def _link(target: Path, path: Path) -> None:
    """A relative symbolic link at `path` to `target`, made under a temporary name and renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    os.symlink(os.path.relpath(os.path.realpath(target), os.path.realpath(path.parent)), temporary)
    os.replace(temporary, path)
