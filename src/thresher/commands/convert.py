"""`thresher convert coco|yolo|labelstudio`: detector outputs or labels → a Lightly prediction task.

`labelstudio` also writes the labels as COCO json and a YOLO dataset (docs/formats.md).
Any problem in the input is listed and nothing is written, unless `--skip-bad` (then the
samples with a bad input are left out and the rest is written). Exit codes as every command:
0 done, 1 bad input, 2 usage error (missing file, existing task without `--overwrite`).
A video with a bad frame is left out whole (a missing frame file would read as "no object").
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Optional

import typer

from thresher.cli import app
from thresher.commands.common import SHOWN_PROBLEMS, open_datasource

convert_app = typer.Typer(help="Convert detector outputs (COCO results, YOLO txt) or Label Studio labels into a Lightly prediction task.", no_args_is_help=True)
app.add_typer(convert_app, name="convert")

DATASOURCE = typer.Argument(..., help="Folder or URL of the images and videos the predictions are for.")
TASK = typer.Option(..., "--task", help="Name of the prediction task to create.")
LIGHTLY = typer.Option(None, "--lightly", help="Location holding .lightly/ when it is not the datasource.")
OVERWRITE = typer.Option(False, "--overwrite", help="Replace the task if it exists.")
SKIP_BAD = typer.Option(False, "--skip-bad", help="Write the usable part and leave out samples with bad input.")


@convert_app.command("coco")
def coco(
    datasource: str = DATASOURCE,
    task: str = TASK,
    input: str = typer.Option(..., "--input", help="COCO results json: a list of {image_id, category_id, bbox, score}."),
    annotations: str = typer.Option(..., "--annotations", help="COCO json with the images (id, file_name) and categories."),
    strip: str = typer.Option("", "--strip", help="Leading folder to remove from COCO file names."),
    prefix: str = typer.Option("", "--prefix", help="Folder to put before COCO file names (after --strip)."),
    lightly: Optional[str] = LIGHTLY,
    overwrite: bool = OVERWRITE,
    skip_bad: bool = SKIP_BAD,
) -> None:
    """COCO detection results + the COCO annotations naming their images and categories."""
    from thresher.io.coco import coco_to_task
    from thresher.io.conversion import parse_json_input, read_input

    _convert(
        datasource,
        lightly,
        task,
        overwrite,
        skip_bad,
        lambda frames, problems: coco_to_task(
            parse_json_input(read_input(input), input),
            parse_json_input(read_input(annotations), annotations),
            frames,
            task=task,
            strip=strip,
            prefix=prefix,
            results_file=input,
            annotations_file=annotations,
            problems=problems,
        ),
    )


@convert_app.command("yolo")
def yolo(
    datasource: str = DATASOURCE,
    task: str = TASK,
    input: str = typer.Option(..., "--input", help="Folder of YOLO txt files (the labels/ of an Ultralytics run)."),
    names: str = typer.Option(..., "--names", help="data.yaml with names:, or a text file with one class name a line."),
    vid_stride: int = typer.Option(1, "--vid-stride", min=1, help="The vid_stride the videos were predicted with."),
    matched_only: bool = typer.Option(False, "--matched-only", help="Only samples with a txt (and the frames of videos with one); by default every sample, no txt = no boxes."),
    lightly: Optional[str] = LIGHTLY,
    overwrite: bool = OVERWRITE,
    skip_bad: bool = SKIP_BAD,
) -> None:
    """YOLO txt predictions (class cx cy w h, conf optional; normalized) + the class names."""
    from thresher.errors import UsageError
    from thresher.io.conversion import read_input
    from thresher.io.storage import Location
    from thresher.io.yolo import check_label_folder, read_class_names, read_label_files, yolo_to_task

    labels = Location(input)
    if not labels.isdir():
        raise UsageError(f"--input: expected a folder of YOLO txt files, got {input} (no such folder)")
    class_names = read_class_names(read_input(names), names)
    files = read_label_files(labels, exclude=_inside(names, labels))

    def convert(frames, problems):
        check_label_folder(list(files), frames, input)
        return yolo_to_task(
            files,
            frames,
            class_names,
            task=task,
            vid_stride=vid_stride,
            all_frames=not matched_only,
            labels_dir=input,
            names_file=names,
            problems=problems,
        )

    _convert(datasource, lightly, task, overwrite, skip_bad, convert)


@convert_app.command("labelstudio")
def labelstudio(
    export: str = typer.Argument(..., help="Label Studio's JSON export of labeled tasks (Export → JSON)."),
    datasource: str = typer.Option(..., "--datasource", help="Folder or URL of the images and videos the tasks show."),
    task: str = TASK,
    out: Optional[str] = typer.Option(
        None,
        "--out",
        help="Local folder for labels_coco.json, labels/, train.txt and data.yaml, e.g. the run folder (its images/ are listed; default: EXPORT without .json, + '-labels').",
    ),
    names: Optional[str] = typer.Option(
        None, "--names", help="data.yaml with names:, or a text file with one class name a line (default: the schema of the task the tasks came from)."
    ),
    lightly: Optional[str] = LIGHTLY,
    overwrite: bool = OVERWRITE,
    skip_bad: bool = SKIP_BAD,
    merge: bool = typer.Option(
        False,
        "--merge",
        help="Add the export's labels (a later round) to an existing task and to the --out folder of an earlier conversion: its samples' labels replace theirs, "
        "its unlabeled tasks remove theirs, the others are kept; classes: the task's.",
    ),
) -> None:
    """Label Studio's labels → a Lightly task (the labels), COCO json and YOLO txt."""
    from pathlib import Path

    from thresher.errors import UsageError
    from thresher.io.conversion import parse_json_input, read_input
    from thresher.io.labels_folder import ENTRIES, LABELS_COCO, labels_folder, merged_labels_folder
    from thresher.io.labelstudio_import import export_tasks, labelstudio_to_task
    from thresher.io.output_folder import existing_entries, write_entries
    from thresher.io.yolo_export import DATA_YAML, LABELS_DIR, TRAIN_LIST

    folder = Path(out) if out else Path(export).with_name(f"{Path(export).stem}-labels")
    taken = existing_entries(folder, ENTRIES)
    if taken and not (overwrite or merge):
        raise UsageError(
            f"{folder}: {', '.join(taken)} exist(s) already; pass --merge to add this export's labels to them, or --overwrite to replace them (or --out another folder)"
        )
    tasks = export_tasks(parse_json_input(read_input(export), export), export)
    source = open_datasource(datasource, lightly)
    schema = _labels_schema(names, tasks, source, task if merge else None)
    found = {}

    def convert(frames, problems):
        found["import"] = labelstudio_to_task(tasks, frames, task=task, schema=schema, file=export, problems=problems)
        return found["import"].task

    def prepare(converted, frames):  # before the task is saved: a folder that cannot be merged into writes nothing
        unlabeled = found["import"].unlabeled_samples
        found["folder"] = merged_labels_folder(converted, folder, frames, unlabeled) if merge else labels_folder(converted, folder)

    _convert(datasource, lightly, task, overwrite, skip_bad, convert, merge=merge, cleared=lambda: found["import"].unlabeled_samples, prepare=prepare)
    result, written = found["import"], found["folder"]
    write_entries(folder, written.files, overwrite=True)  # existing entries: refused above unless --overwrite or --merge
    _show_left_out_of_training(folder, written.dataset)
    typer.echo(
        f"{result.unlabeled} tasks not labeled (no annotation, or skipped) left out"
        + "".join(f"; {n} {kind} results ignored (not boxes)" for kind, n in sorted(result.ignored.items()))
    )
    kept = f"; {written.kept} of them kept from the folder's earlier labels" if written.kept else ""
    typer.echo(f"labels: {folder / LABELS_COCO}, {folder / LABELS_DIR}/, {folder / TRAIN_LIST} ({len(written.dataset.listed)} labeled images{kept}) and {folder / DATA_YAML}")


def _show_left_out_of_training(folder, dataset) -> None:
    """A warning per kind of labeled sample that train.txt leaves out (`thresher.io.yolo_export`)."""
    from thresher.io.yolo_export import IMAGES_DIR, TRAIN_LIST

    if dataset.no_image:
        typer.echo(
            f"warning: {folder / TRAIN_LIST}: {len(dataset.no_image)} labeled samples left out, no image in {folder / IMAGES_DIR} "
            f"(e.g. {dataset.no_image[0]}); to train on them, pass --out the run folder whose images/ holds them",
            err=True,
        )
    if dataset.unpaired:
        typer.echo(
            f"warning: {folder / TRAIN_LIST}: {len(dataset.unpaired)} labeled samples left out, Ultralytics would look for their labels "
            f"at another path (a folder 'images/' or './' in the name, e.g. {dataset.unpaired[0]}); rename them to train on them",
            err=True,
        )


def _labels_schema(names: Optional[str], tasks: list, source, merged: Optional[str] = None):
    """The classes of the labels: --names, else those of the task `merged` into (--merge, when
    it exists), else the schema of the task thresher's tasks name (`data.thresher_task`, when
    the datasource has it), else None (the labels found)."""
    from thresher.io.conversion import read_input
    from thresher.io.lightly_schema import PredictionSchema, read_schema, read_task_names
    from thresher.io.problems import Problems
    from thresher.io.yolo import read_class_names

    if names:
        return PredictionSchema.detection(read_class_names(read_input(names), names))
    if merged is not None and merged in read_task_names(source.lightly, Problems()):
        return read_schema(source.lightly, merged, Problems())
    origins = {t.get("data", {}).get("thresher_task") for t in tasks if isinstance(t.get("data"), dict)}
    origin = next(iter(origins)) if len(origins) == 1 else None
    if isinstance(origin, str) and origin in read_task_names(source.lightly, Problems()):
        return read_schema(source.lightly, origin, Problems())
    return None


def _inside(path: str, folder) -> tuple[str, ...]:
    """The name of `path` inside `folder`, to leave a classes.txt kept among the labels out."""
    from thresher.io.storage import Location

    target = Location(path)
    root = folder.root.rstrip("/") + "/"
    return (target.root[len(root) :],) if target.root.startswith(root) else ()


def _convert(
    datasource: str,
    lightly: Optional[str],
    task: str,
    overwrite: bool,
    skip_bad: bool,
    convert: Callable,
    merge: bool = False,
    cleared: Callable[[], tuple] = tuple,
    prepare: Optional[Callable] = None,
):
    """Convert, check and save the task; with `merge`, the samples of the existing task that the
    conversion does not hold are kept, except those `cleared()` names (held unlabeled: `merge_tasks`).
    `prepare(converted task, datasource samples)` runs before anything is written (it may refuse)."""
    from thresher.errors import SchemaError, UsageError
    from thresher.io.conversion import check_task_name, save_task, task_exists
    from thresher.io.problems import Problems

    ds = open_datasource(datasource, lightly)
    check_task_name(task)
    exists = task_exists(ds.lightly, task)
    if exists and not (overwrite or merge):
        raise UsageError(f"task {task!r} exists in {ds.lightly.display('.lightly/predictions')}; pass --overwrite to replace it (labelstudio: or --merge to add to it)")
    media_problems = Problems()
    frames = ds.frames(media_problems)
    for problem in media_problems:
        typer.echo(f"warning: skipped {problem}", err=True)
    problems = Problems()
    try:
        converted = convert(frames, problems)
    except SchemaError as exc:
        if problems and str(problems[-1]) in str(exc):  # the problem that stopped it is shown once, as a problem
            raise SchemaError(f"{len(problems)} problem(s) in the input, nothing written (--skip-bad cannot help: nothing in the input can be converted)") from exc
        raise
    finally:
        _show(problems)
    if problems and not skip_bad:
        raise SchemaError(f"{len(problems)} problem(s) in the input, nothing written (--skip-bad writes the usable part)")
    _show_videos_left_out(frames, converted.invalid)
    if prepare is not None:
        prepare(converted, frames)
    written, merged_note = _merged(ds, converted, frames, cleared()) if merge and exists else (converted, "")
    save_task(ds.lightly, written, overwrite=overwrite or merge)
    typer.echo(
        f"task {task}: {len(written.frames)} prediction files, {len(written.detections)} boxes, "
        f"{len(converted.invalid)} samples left out for bad input{merged_note} -> {ds.lightly.display(posixpath.join('.lightly/predictions', task))}"
    )


def _merged(ds, converted, frames, cleared):
    """The existing task with `converted` merged in (`merge_tasks`), and the counts to print;
    UsageError when their classes differ."""
    from thresher.errors import UsageError
    from thresher.io.conversion import merge_tasks
    from thresher.io.lightly_predictions import read_predictions
    from thresher.io.problems import Problems

    earlier = read_predictions(ds.lightly, converted.name, frames, Problems())
    if earlier.schema != converted.schema:
        raise UsageError(
            f"--merge: task {converted.name!r} holds the classes {list(earlier.schema.names.values())}, the export's labels are {list(converted.schema.names.values())}; "
            f"pass --names with the task's classes, or --overwrite to replace the task, or another --task"
        )
    written, replaced, kept, removed = merge_tasks(earlier, converted, frames, cleared)
    note = f" (merged: {len(converted.frames)} from the export, {replaced} of them replacing earlier labels; {kept} earlier samples kept"
    return written, note + (f"; {removed} earlier labels removed, their tasks in the export unlabeled)" if removed else ")")


def _show_videos_left_out(frames, invalid: tuple[str, ...]) -> None:
    """One line per video left out whole because some of its frames had bad input (`whole_videos`)."""
    from thresher.io.conversion import videos_left_out

    for video, count in videos_left_out(frames, invalid).items():
        typer.echo(
            f"warning: {video}: left out whole ({count} frames), not only its frames with bad input: "
            "a frame of a predicted video without a prediction file would read as 'no object'",
            err=True,
        )


def _show(problems: list) -> None:
    for problem in problems[:SHOWN_PROBLEMS]:
        typer.echo(f"problem: {problem}", err=True)
    if len(problems) > SHOWN_PROBLEMS:
        typer.echo(f"... and {len(problems) - SHOWN_PROBLEMS} more", err=True)
