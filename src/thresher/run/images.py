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

What cannot be written (a video truncated or removed since it was enumerated, a still gone from
the datasource) is left out, never linked or written broken, and returned with its reason
(`thresher.run.unwritten`).

Example: `write_images(source, frames, rows, run / "images").written` → `["data/bikes-007-mp4.png", "img/a.jpg"]`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from thresher.errors import DatasourceError
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.storage import write_file
from thresher.io.temporary import copy_file, temporary_name
from thresher.run.extracted import ExtractedFrames
from thresher.run.outputs import extract_frames
from thresher.run.unwritten import Extraction, Unwritten

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
) -> Extraction:
    """Put the image of each row of `frames` into `folder` under its Lightly name; returns the
    names written and the images that could not be (`failed`, each with its file and why).

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
        if copied(earlier, folder / name):
            written.append(name)
            if progress:
                progress(len(written), total)
    done = set(written)
    todo = np.array([r for r in rows.tolist() if str(frames.file_name[r]) not in done], dtype=np.int64)
    start = len(written)
    extracted = extract_frames(source, frames, todo, folder, None if progress is None else lambda k, _: progress(start + k, total))
    written += extracted.written
    failed = list(extracted.failed)
    for row in rows[frames.kind[rows] == "image"].tolist():
        name = str(frames.file_name[row])
        problem = _put_still(source, name, folder / name, stills)
        if problem is not None:
            failed.append(Unwritten(name, name, problem))
            continue
        written.append(name)
        if progress:
            progress(len(written), total)
    if reuse is not None:
        reuse.record(source, frames, rows, folder, folder if final is None else final)
    return Extraction(written, failed)


def _put_still(source: Datasource, name: str, path: Path, stills: str) -> str | None:
    """Link or copy the still `name` of the datasource to `path`; None when done, else why not
    (the file is gone or unreadable: nothing is written, no link left dangling)."""
    local = source.input.local_path(name)
    if stills == "link" and local is not None:
        if not os.path.isfile(local):
            return f"expected a file to link to, got nothing at {local} (moved or removed after the run listed it)"
        _link(Path(local), path)
        return None
    try:
        write_file(path, source.input.read_bytes(name))
    except DatasourceError as exc:
        return f"expected a file to copy, got {str(exc).removeprefix(f'{source.input.display(name)}: ')}"
    return None


def copied(earlier: Path, path: Path) -> bool:
    """Copy an earlier run's PNG to `path` through a temporary (`copy_file`: a copy cut short
    never leaves a truncated PNG at `path`); False when it is gone or cannot be read.

    Example: `copied(run1 / "images/a-000-mp4.png", run2 / "images/a-000-mp4.png")` → True.
    """
    try:
        copy_file(earlier, path)
    except OSError:
        return False
    return True


def _link(target: Path, path: Path) -> None:
    """A relative symbolic link at `path` to `target`, made under a temporary name and renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(temporary_name(path.name))
    os.symlink(os.path.relpath(os.path.realpath(target), os.path.realpath(path.parent)), temporary)
    os.replace(temporary, path)
