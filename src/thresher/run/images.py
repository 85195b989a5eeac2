"""`images/`: one folder of a run that holds every image its exports name, by Lightly name.

Selected video frames are extracted there as PNG (`data/bikes-007-mp4.png`); selected stills
are linked (a relative symbolic link to the file in a local datasource, `stills="link"`) or
copied (`stills="copy"`, and always for a bucket datasource). Every path of the exports is
relative to this folder, so Label Studio's local-files storage, an http server or a training
script can serve all of them from one root. Links are relative, so they stay valid when the
run folder is renamed from `<id>.partial` and when the datasource is moved with its
`.thresher/` folder. Each entry is written to a temporary name and renamed.

A frame an earlier run extracted from the same, unchanged video is copied from that run's
`images/` instead of being decoded again (`thresher.run.extracted`).

Example: `write_images(source, frames, rows, run / "images")` → `["data/bikes-007-mp4.png", "img/a.jpg"]`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.storage import write_file
from thresher.run.extracted import ExtractedFrames
from thresher.run.outputs import extract_frames

IMAGES_DIR = "images"


def write_images(
    source: Datasource,
    frames: Frames,
    rows: np.ndarray,
    folder: Path,
    stills: str = "link",
    progress=None,
    reuse: ExtractedFrames | None = None,
    final: Path | None = None,
) -> list[str]:
    """Put the image of each row of `frames` into `folder` under its Lightly name; returns the names written.

    Args:
        rows: rows of `frames` (images and video frames; crops are not rows of `frames`).
        stills: "link" (relative symbolic link, local datasources) or "copy".
        progress: called with (images written, images to write).
        reuse: the record of frames earlier runs extracted (`thresher.run.extracted`): those of
            unchanged videos are copied, not decoded; this call's frames are recorded there.
        final: where `folder` will be once the run is complete (default: `folder`).
    """
    rows = np.asarray(rows, dtype=np.int64)
    total = len(rows)
    copies = reuse.reusable(source, frames, rows) if reuse is not None else {}
    written: list[str] = []
    for row, earlier in copies.items():
        name = str(frames.file_name[row])
        if _copy(earlier, folder / name):
            written.append(name)
            if progress:
                progress(len(written), total)
    done = set(written)
    todo = np.array([r for r in rows.tolist() if str(frames.file_name[r]) not in done], dtype=np.int64)
    start = len(written)
    written += extract_frames(source, frames, todo, folder, None if progress is None else lambda k, _: progress(start + k, total))
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
    if reuse is not None:
        reuse.record(source, frames, rows, folder, folder if final is None else final)
    return written


def _copy(earlier: Path, path: Path) -> bool:
    """Copy an earlier run's PNG to `path` (temporary name, then renamed); False when it is gone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        shutil.copyfile(earlier, temporary)
        os.replace(temporary, path)
        return True
    except OSError:
        temporary.unlink(missing_ok=True)
        return False


def _link(target: Path, path: Path) -> None:
    """A relative symbolic link at `path` to `target`, made under a temporary name and renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    os.symlink(os.path.relpath(os.path.realpath(target), os.path.realpath(path.parent)), temporary)
    os.replace(temporary, path)
