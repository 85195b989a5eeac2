"""Check a whole datasource: media, prediction tasks and metadata, collecting every problem."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from thresher.errors import DatasourceError, SchemaError
from thresher.frames import Frames
from thresher.io.datasource import IO_THREADS, SUPPORTED, Datasource, describe_unsupported
from thresher.io.images import check_image
from thresher.io.lightly_metadata import read_metadata
from thresher.io.lightly_predictions import predicted_frames, read_predictions, task_dir
from thresher.io.lightly_schema import PREDICTIONS_DIR, read_schema, read_task_names
from thresher.io.problems import Problem, Problems


@dataclass
class TaskSummary:
    name: str
    task_type: str
    files: int = 0
    boxes: int = 0
    boxes_per_class: dict[str, int] = field(default_factory=dict)
    invalid: int = 0
    missing: int = 0  # samples without a prediction file
    read_as_empty: int = 0  # of those, frames of videos the task predicted: "no object"


@dataclass
class ValidationReport:
    """What `validate` found: counts for the summary and every problem."""

    datasource: str
    images: int
    videos: int
    frames: int
    tasks: list[TaskSummary]
    metadata_keys: list[tuple[str, str]]
    problems: list[Problem]
    unsupported: dict[str, int] = field(default_factory=dict)  # skipped files by extension

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> list[str]:
        lines = [f"{self.datasource}: {self.images} images, {self.videos} videos, {self.frames} samples"]
        if self.unsupported:
            lines.append(describe_unsupported(self.unsupported))
        for t in self.tasks:
            classes = ", ".join(f"{n} {c}" for n, c in sorted(t.boxes_per_class.items(), key=lambda kv: -kv[1]))
            lines.append(
                f"task {t.name} ({t.task_type}): {t.files} prediction files, {t.boxes} boxes"
                f"{f' ({classes})' if classes else ''}; {t.missing} samples without a file "
                f"({t.read_as_empty} frames of predicted videos, read as no object; {t.missing - t.read_as_empty} not predicted), "
                f"{t.invalid} invalid"
            )
        if self.metadata_keys:
            lines.append("metadata: " + ", ".join(f"{p} ({t})" for p, t in self.metadata_keys))
        lines.append(f"{len(self.problems)} problem(s)" if self.problems else "no problems")
        return lines


def validate(source: Datasource, *, decode: bool = True) -> ValidationReport:
    """Check everything and collect every problem; nothing is modified.

    Args:
        decode: decode every image fully and check that every video decodes to its last
            frame (catches truncated files); False only reads headers, and checks each video's
            index as the enumeration read it (an MP4 whose header counts more frames than its
            packets is truncated).

    Example (a folder with one good image and one that is not an image)::

        >>> import tempfile, numpy as np
        >>> from PIL import Image
        >>> from thresher import Datasource
        >>> folder = tempfile.mkdtemp()
        >>> Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(f"{folder}/good.png")
        >>> from pathlib import Path
        >>> _ = Path(folder, "bad.jpg").write_bytes(b"not a jpeg")
        >>> report = validate(Datasource(folder))
        >>> report.ok, len(report.problems)
        (False, 1)
    """
    problems = Problems()
    media = source.media_files()
    if not media.images and not media.videos:
        problems.add(source.input.url, "", f"images or videos ({SUPPORTED})", "none: nothing to select from")
    frames = source.frames(problems, media)
    if decode:
        check_media(source, frames, problems)
    else:
        check_video_indexes(source, frames, problems)
    tasks = [_check_task(source, name, frames, problems) for name in read_task_names(source.lightly, problems)]
    _unlisted_tasks(source, [t.name for t in tasks], problems)
    metadata = read_metadata(source.lightly, frames, problems)
    keys = [(f.path, f.value_type) for f in metadata.fields]
    return ValidationReport(source.input.url, len(media.images), len(media.videos), len(frames), tasks, keys, list(problems), media.unsupported_by_extension())


def check_media(source: Datasource, frames: Frames, problems: Problems) -> None:
    """Decode images fully and check videos for truncation, recording each failure."""
    from thresher.io.video import check_video

    images = frames.file_name[frames.kind == "image"].tolist()
    videos = np.unique(frames.video[frames.kind == "frame"]).tolist()

    def image(name: str) -> None:
        with source.input.open(name) as f:
            check_image(f, name)

    def run(check, name: str, expected: str) -> None:
        try:
            check(name)
        except DatasourceError as exc:
            problems.add(name, "", expected, str(exc).removeprefix(f"{name}: "))

    with ThreadPoolExecutor(IO_THREADS) as pool:
        list(pool.map(lambda n: run(image, n, "an image that decodes fully"), images))
        list(pool.map(lambda n: run(lambda v: check_video(source.input, v, source.video_infos.get(v)), n, "a video that decodes to its last frame"), videos))


def check_video_indexes(source: Datasource, frames: Frames, problems: Problems) -> None:
    """Record each video whose index, read when enumerating, shows it cut short (no decoding, no
    read: `check_video_index`); a video whose index was not kept is left to the full check."""
    from thresher.io.video import check_video_index

    for name in np.unique(frames.video[frames.kind == "frame"]).tolist():
        info = source.video_infos.hint(name)
        if info is None:
            continue
        try:
            check_video_index(name, info)
        except DatasourceError as exc:
            problems.add(name, "", "a complete video (its header matches its packets)", str(exc).removeprefix(f"{name}: "))


def _check_task(source: Datasource, name: str, frames: Frames, problems: Problems) -> TaskSummary:
    schema = read_schema(source.lightly, name, problems)
    if schema is None:
        return TaskSummary(name, "unknown")
    if schema.task_type != "object-detection":
        return TaskSummary(name, schema.task_type)  # only the schema is checked for other task types
    try:
        task = read_predictions(source.lightly, name, frames, problems)
    except SchemaError:
        return TaskSummary(name, schema.task_type)
    counts = Counter(task.detections.class_id.tolist())
    names = schema.names
    return TaskSummary(
        name,
        schema.task_type,
        files=len(frames) - len(task.missing),
        boxes=len(task.detections),
        boxes_per_class={names.get(c, str(c)): n for c, n in counts.items()},
        invalid=len(task.invalid),
        missing=len(task.missing),
        read_as_empty=int((predicted_frames(task) & np.isin(frames.file_name, np.asarray(task.missing, dtype=str))).sum()),
    )


def _unlisted_tasks(source: Datasource, listed: list[str], problems: Problems) -> None:
    """Task folders that tasks.json does not list are ignored by Lightly: say so."""
    if not source.lightly.isdir(PREDICTIONS_DIR):
        return
    folders = {n[len(PREDICTIONS_DIR) + 1 :].rsplit("/schema.json", 1)[0] for n in source.lightly.files(PREDICTIONS_DIR) if n.endswith("/schema.json")}
    for folder in sorted(folders - set(listed)):
        problems.add(task_dir(folder), "", "a task listed in .lightly/predictions/tasks.json", "a task folder that is not listed")
