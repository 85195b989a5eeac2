"""Exports of a local dataset's tag: file names, read URLs, Label Studio tasks.

Where a labeling tool reads each sample (`readUrl`):
- an image of a local datasource: its `file://` URL;
- an image in a bucket: a signed HTTPS URL when the store can sign (S3, GCS, Azure through
  fsspec's `sign`), else its `s3://` / `gs://` / `az://` URL;
- a video frame: the PNG a run extracted (copied from the run folder's `images/`) or, when no
  run extracted it, a PNG extracted now, in `<workspace>/frames/`, as a `file://` URL (frames
  that cannot be extracted, their video truncated or gone, stop the export with one line naming
  each video: an export lists every sample of its tag or none);
- an object crop: the PNG the run wrote into its crops folder.
`datasourceUrl` is the file in the datasource for images (the extracted PNG for frames and
crops, which exist only as pixels of their parent in the datasource).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from thresher.errors import DatasourceError, UsageError
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.labelstudio import label_studio_tasks
from thresher.io.lightly_predictions import read_predictions
from thresher.io.lightly_schema import read_task_names
from thresher.io.problems import Problems
from thresher.run.images import IMAGES_DIR, copied
from thresher.run.outputs import extract_frames
from thresher.run.unwritten import Unwritten, by_file, counted

FRAMES_DIR = "frames"  # in the workspace; runs extract theirs into `<run folder>/images/` (IMAGES_DIR)


def file_url(path: str | Path) -> str:
    return Path(path).resolve().as_uri()


def _signed(source: Datasource, name: str) -> str:
    try:
        return str(source.input.fs.sign(source.input.path(name)))
    except (NotImplementedError, ValueError, OSError, TypeError):
        return source.input.display(name)


def _image_urls(source: Datasource, name: str) -> tuple[str, str]:
    local = source.input.local_path(name)
    if local is not None:
        return file_url(local), file_url(local)
    return _signed(source, name), source.input.display(name)


def frame_files(source: Datasource, frames: Frames, rows: np.ndarray, workspace: Path, run_folders: Sequence[Path]) -> tuple[dict[int, Path], list[Unwritten]]:
    """PNG of each frame row in `<workspace>/frames/`: copied from a run folder's `images/`, else
    extracted now; and the frames that could not be extracted (their video truncated or gone)."""
    target = workspace / FRAMES_DIR
    found, missing = {}, []
    for row in np.asarray(rows, dtype=np.int64).tolist():
        name = str(frames.file_name[row])
        path = target / name
        if not path.is_file():
            earlier = next((f / IMAGES_DIR / name for f in run_folders if (f / IMAGES_DIR / name).is_file()), None)
            if earlier is None or not copied(earlier, path):  # never a truncated PNG at `path`
                missing.append(row)
                continue
        found[row] = path
    if not missing:
        return found, []
    extracted = extract_frames(source, frames, np.array(missing), target)
    written = set(extracted.written)
    found.update({row: target / str(frames.file_name[row]) for row in missing if str(frames.file_name[row]) in written})
    return found, extracted.failed


def unextracted_error(failed: Sequence[Unwritten]) -> DatasourceError:
    """The one-line error of an export whose frames could not be extracted: each video, its
    number of frames and its problem, and what to do.

    >>> print(unextracted_error([Unwritten("v-003-mp4.png", "v.mp4", "expected a readable video, got nothing")]))
    1 frame of the tag could not be extracted: v.mp4 (1 frame: expected a readable video, got nothing); restore the video and export again, or export a tag without its frames
    """
    files = by_file(failed)
    parts = "; ".join(f"{file} ({counted(len(entries), 'frame')}: {entries[0].problem})" for file, entries in files.items())
    videos = "the video" if len(files) == 1 else "the videos"
    return DatasourceError(f"{counted(len(failed), 'frame')} of the tag could not be extracted: {parts}; restore {videos} and export again, or export a tag without its frames")


def crop_file(name: str, run_folders: Sequence[Path]) -> Path | None:
    """The crop PNG a run wrote (runs write crops into `<run folder>/<crops dataset name>/`)."""
    for folder in run_folders:
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []:
            if (sub / name).is_file():
                return sub / name
    return None


def sample_urls(source: Datasource, frames: Frames, workspace: Path, run_folders: Sequence[Path]) -> list[tuple[str, str]]:
    """(readUrl, datasourceUrl) of every row of `frames` (see the module docstring)."""
    frame_rows = np.flatnonzero(frames.kind == "frame")
    pngs, failed = frame_files(source, frames, frame_rows, workspace, run_folders) if len(frame_rows) else ({}, [])
    if failed:
        raise unextracted_error(failed)
    urls = []
    for row in range(len(frames)):
        name, kind = str(frames.file_name[row]), str(frames.kind[row])
        if kind == "image":
            urls.append(_image_urls(source, name))
        elif kind == "frame":
            urls.append((file_url(pngs[row]),) * 2)
        else:
            path = crop_file(name, run_folders)
            if path is None:
                raise UsageError(f"crop {name!r}: no run wrote it (run with thresher.exports.crops enabled)")
            urls.append((file_url(path),) * 2)
    return urls


def filenames_and_read_urls(frames: Frames, urls: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """LightlyOne's export: [{"fileName", "readUrl", "datasourceUrl"}] in tag order."""
    return [{"fileName": str(name), "readUrl": read, "datasourceUrl": datasource} for name, (read, datasource) in zip(frames.file_name.tolist(), urls)]


def _boxes(source: Datasource, frames: Frames, task: str | None):
    from thresher.detections import Detections

    full = np.flatnonzero(frames.kind != "crop")
    if task is None or not len(full):
        return Detections.empty(), {}, None
    loaded = read_predictions(source.lightly, task, frames[full], Problems())
    detections = _reindexed(loaded.detections, full)
    imputed = None
    if f"{task}-imputed" in read_task_names(source.lightly, Problems()):
        imputed = _reindexed(read_predictions(source.lightly, f"{task}-imputed", frames[full], Problems()).detections, full)
    return detections, loaded.schema.names, imputed


def _reindexed(detections, rows: np.ndarray):
    return detections.replace(frame=rows[detections.frame])


def label_studio_export(source: Datasource, frames: Frames, read_urls: Sequence[str], task: str | None) -> list[dict]:
    """Label Studio tasks of the samples in tag order, with `task`'s boxes as pre-annotations.

    As LightlyOne's export, each task has an integer `id` and `data.lightlyFileName`; the
    prediction's score is the position in the tag (first = 1, higher = more worth labeling).
    """
    detections, names, imputed = _boxes(source, frames, task)
    tasks = label_studio_tasks(frames, np.arange(len(frames)), read_urls, detections, names, imputed=imputed)
    for k, task_dict in enumerate(tasks):
        task_dict["id"] = k
        task_dict["data"]["lightlyFileName"] = str(frames.file_name[k])
    return tasks
