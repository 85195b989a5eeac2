"""The stages of a run, each a function from a frozen state to the next (`thresher.run.state`).

    check_config      Setup → Planned          the config, checked before any work
    enumerate_frames  Planned → Enumerated     which frames take part
    check_corruption  Enumerated → Enumerated  files that do not decode are removed
    pretag            Enumerated → Enumerated  the built-in detector's predictions
    run_assertions    Enumerated → Enumerated  flicker and the other model assertions
    embed             Enumerated → Embedded    the samples (frames or crops) and their embeddings
    remove_duplicates Embedded → Embedded      exact duplicates are removed
    select            Embedded → Selected      the selector
    write_outputs     Selected → Written       selection files, images, exports, report

`thresher.run.driver` calls them in this order (the optional ones when the config asks),
timing and logging each. The plain functions they use follow them.

Removed samples are collected as (file_name, reason, detail) rows for `removed_samples.csv`:
reasons are `corrupt`, `name clash`, `duplicate`, `invalid prediction` and, for a pick whose
image could not be written at the end, `unreadable` (`thresher.run.unwritten_picks`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeGuard, TypeVar

import numpy as np

from thresher.embedding_store import EmbeddingStore, store_for
from thresher.errors import ConfigError, DatasourceError, NothingToSelectError
from thresher.frames import Frames
from thresher.infer import InferenceResult, sample_rows
from thresher.io.datasource import IO_THREADS, NAME_CLASH, Datasource, MediaFiles, describe_unsupported
from thresher.io.images import check_image
from thresher.io.lightly_predictions import PredictionTask, files_for_no_sample, invalid_reasons, read_predictions
from thresher.io.problems import Problem, Problems
from thresher.io.video_index_cache import video_index_path
from thresher.objects import crop_frames
from thresher.progress import for_stage
from thresher.plan import check_task_schema
from thresher.provenance import prediction_key, prepare_task, read_json_cache, require_own_task, write_json_cache
from thresher.run.config import PRETAGGING_TASK
from thresher.run.config_check import check_run_config, possible_score_names
from thresher.run.export_task import export_task
from thresher.run.exports import check_export_task, image_urls, label_studio_root, load_export_boxes, selected_objects, write_exports
from thresher.run.extracted import ExtractedFrames
from thresher.run.images import IMAGES_DIR, write_images
from thresher.run.outputs import write_crops, write_json, write_removed
from thresher.run.unwritten import Extraction
from thresher.run.unwritten_picks import unwritten_picks, without_unwritten
from thresher.run.resolver import RunResolver
from thresher.run.state import Embedded, Enumerated, Planned, Removed, Selected, Setup, Written, advance
from thresher.scorers.seed_strategy import stacked_score_names
from thresher.select import resolve_inputs, run_selection, write_selection_csv, write_selection_json
from thresher.select.output import parent_frames

if TYPE_CHECKING:
    from thresher.detections import Detections
    from thresher.models.detector import Detector

DATAPOOL_TAG = "datapool"
CORRUPT_FILES = "corrupt files"  # run.json's count of the files removed as `corrupt`, whichever stage found them
# the version of the corruptness checks: a file's cached result made by other checks is made again
# (2: an MP4/MOV clip whose edit list discards packets is no longer "truncated")
CORRUPTNESS_CHECKS = 2
S = TypeVar("S", bound=Enumerated)


# the config -------------------------------------------------------------------------------


def check_config(setup: Setup) -> Planned:
    """Decide before any work what the config asks (a config the run cannot follow stops it at
    once): the assertions, every name the config uses (`config check`), the export task and
    Label Studio's paths, and that the assertions' `<task>-imputed` is not a task of the user's
    own. `setup.folder` is the run's `<id>.partial`."""
    from thresher.assertions.task import require_own_imputed_task
    from thresher.run.assertions import plan_assertions

    with setup.config.naming_the_file():
        assertion_plan = plan_assertions(setup.config, setup.source.lightly)
    check_run_config(setup.source, setup.config, setup.catalog, assertion_plan, setup.task_cache)
    if assertion_plan is not None:
        require_own_imputed_task(setup.source.lightly, assertion_plan.task)  # never overwritten, not even late in the run
    final_folder = setup.folder.with_name(setup.folder.name.removesuffix(".partial"))
    with setup.config.naming_the_file():
        task = export_task(setup.config, None if assertion_plan is None else assertion_plan.task)
        check_export_task(setup.source, task, {PRETAGGING_TASK} if setup.worker.pretagging else set())
    exports = setup.exports
    root = label_studio_root(final_folder, exports) if exports.label_studio and exports.image_root is None else None
    return advance(setup, Planned, assertion_plan=assertion_plan, export_task=task, label_studio_root=root, final_folder=final_folder)


# which frames take part -----------------------------------------------------------------


def enumerate_frames(state: Planned) -> Enumerated:
    """Every readable frame of the datasource, and the candidates among them (`thresher.every`,
    `relevant_filenames_file`, the datapool). NothingToSelectError when no frame can be read."""
    problems = Problems()
    counts = dict(state.counts)
    media = state.source.media_files()
    unsupported = media.unsupported_by_extension()
    if unsupported:
        state.log(f"  {describe_unsupported(unsupported)}")
        counts["unsupported files"] = sum(unsupported.values())
    frames = state.source.frames(problems, media, for_stage(state.progress, "enumerate (files)"), cache=video_index_path(state.workspace, state.source.input.url))
    removed = state.removed + tuple(_unreadable(p) for p in problems)
    clashes = sum(p.expected == NAME_CLASH for p in problems)
    if clashes:
        counts["name clashes"] = clashes
    if len(problems) > clashes:
        counts[CORRUPT_FILES] = len(problems) - clashes
    if len(frames) == 0:
        raise NothingToSelectError(no_media_reason(state.source.input.url, len(media.images) + len(media.videos), unsupported, _has_storage_options(state.source)))
    with state.config.naming_the_file():
        relevant = relevant_rows(frames, state.source, state.worker.relevant_filenames_file, media, state.log)
    rows = np.intersect1d(sample_rows(frames, state.options.every), relevant)
    preselected, preselected_frames = _datapool_ids(state, frames)
    known = set(state.catalog.samples().id.tolist()) if _only_new_files(state) else set()
    is_new = ~np.isin(frames.id, list(known)) if known else np.ones(len(frames), bool)
    candidate = np.zeros(len(frames), bool)
    candidate[rows] = True
    left_out = {"left out by thresher.every or relevant_filenames_file": len(frames) - len(rows)}
    # at object level a frame of an earlier pick stays a candidate (its other objects) when it is new to the rules
    picked_frame = np.isin(frames.id, preselected) if state.worker.object_level is None else np.zeros(len(frames), bool)
    left_out["seen by an earlier run (datapool: only new files are candidates unless datasource.process_all)"] = int((candidate & ~is_new & ~picked_frame).sum())
    candidate &= is_new & ~picked_frame
    counts.update(frames=len(frames), candidates=int(candidate.sum()), preselected=len(preselected))
    return advance(
        state, Enumerated, frames=frames, candidate=candidate, preselected=preselected, preselected_frames=preselected_frames, left_out=left_out, removed=removed, counts=counts
    )


def _unreadable(problem: Problem) -> Removed:
    """The removed_samples.csv row of a file enumerate left out: `name clash` (another file has
    its prediction file, and is kept) or `corrupt` (it does not read)."""
    if problem.expected == NAME_CLASH:
        return (problem.file, "name clash", problem.got)
    return (problem.file, "corrupt", f"{problem.expected}, got {problem.got}")


def _only_new_files(state: Setup) -> bool:
    return state.worker.use_datapool and not state.worker.datasource.process_all


def _datapool_ids(state: Setup, frames: Frames) -> tuple[np.ndarray, np.ndarray]:
    """(ids of the datapool's samples, ids of their frames) among `frames`: at frame level the
    same ids twice, at object level the crops' ids and their frames' (from the catalog)."""
    none = np.zeros(0, "<U1")
    if not state.worker.use_datapool or DATAPOOL_TAG not in state.catalog.tags():
        return none, none
    ids = np.array(state.catalog.tag(DATAPOOL_TAG), dtype=str)
    if state.worker.object_level is None:
        ids = ids[np.isin(ids, frames.id)]
        return ids, ids
    crops = state.catalog.samples(ids.tolist())
    crops = crops[(crops.parent_id != "") & np.isin(crops.parent_id, frames.id)]
    return crops.id, np.unique(crops.parent_id)


def check_corruption(state: Enumerated) -> Enumerated:
    """Without the candidates of files that do not decode fully (`corrupt`)."""
    frames = state.frames
    bad = corrupt_files(state.source, frames[state.candidate], state.workspace / "cache" / "corruptness.json", for_stage(state.progress, "corruptness (files)"))
    mask = np.isin(frames.video, list(bad))
    state = state.dropping(mask, "corrupt", [bad[v] for v in frames.video[mask & state.candidate].tolist()])
    return _counting_corrupt(state, len(bad))


def _counting_corrupt(state: S, files: int) -> S:
    """`state` with `files` more in its `corrupt files` count: every file removed as `corrupt`,
    by enumerate (it does not read), the corruptness check, or a model stage (it does not decode)."""
    return replace(state, counts={**state.counts, CORRUPT_FILES: state.counts.get(CORRUPT_FILES, 0) + files})


def _drop_undecodable(state: S, problems: Sequence[Problem]) -> S:
    """`state` without the candidates of the files a model stage could not decode (`corrupt`,
    with the decoder's reason as detail), counted in `corrupt files`."""
    files = 0
    for problem in problems:
        mask = (state.frames.video == problem.file) & state.candidate
        if mask.any():
            state = state.dropping(mask, "corrupt", f"{problem.expected}, got {problem.got}")
            files += 1
    return _counting_corrupt(state, files) if files else state


# models ---------------------------------------------------------------------------------


def pretag(state: Enumerated) -> Enumerated:
    """The built-in detector's predictions of the frames that take part (task `lightly_pretagging`);
    with the default embedder, the same forward pass embeds them."""
    from thresher.models import load_detector

    opts = state.options.pretagging
    detector = load_detector(opts.model, confidence=opts.confidence, classes=opts.classes)
    # the built-in detector is also the default embedder: one forward pass gives both
    same = state.options.embedder == opts.model and state.worker.object_level is None and not state.worker.enable_training
    embedder = detector if same and _embeds_too(detector) else None
    store = store_for(state.workspace, embedder.name, state.options.embedding_dtype) if embedder is not None else None
    key = prediction_key(opts.model, opts.confidence, opts.classes)
    rows = state.active_rows()
    way_out = "pretagging writes that task: remove that folder to let it predict the task again, or set worker_config.pretagging: false to select from the task as it is"
    require_own_task(state.source, state.workspace, PRETAGGING_TASK, way_out)  # the user's own predictions are never added to nor emptied
    check_task_schema(state.source, PRETAGGING_TASK, detector)  # before prepare_task removes files of other settings
    note = prepare_task(state.source, state.frames, rows, state.workspace, PRETAGGING_TASK, key).note(PRETAGGING_TASK, key)
    if note:
        state.log(f"  {note}")
    # with an embedder, a changed file's stale embeddings are redone in this pass (`thresher.plan`), not again by `embed`
    result = state.engine.run_models(
        state.source,
        detector=detector,
        task=PRETAGGING_TASK,
        embedder=embedder,
        store=store,
        frames=state.frames,
        rows=rows,
        cache=state.task_cache,
        progress=for_stage(state.progress, "pretagging (frames)"),
    )
    counts = {**state.counts, "pretagged frames": result.predicted, "pretagged frames reused": result.predictions_reused}
    state = replace(state, counts=counts, embedded_in_pretagging=result.embedded)  # the same forward pass embedded these frames
    return _drop_undecodable(state, result.skipped)  # with no corruptness check, a truncated file is found here


def run_assertions(state: Enumerated) -> Enumerated:
    """The planned assertions over the frames (`thresher.assertions.task`): metadata, imputed boxes."""
    from thresher.assertions.task import assert_task

    plan = state.assertion_plan
    assert plan is not None, "the driver runs this stage only with an assertion plan"
    if plan.implicit:
        state.log(f"  the selection reads assertion metadata: computing {', '.join(plan.names)} on task {plan.task} (defaults)")
    temporal = [n for n in plan.names if n in ("flicker", "appear", "class_switch")]
    if temporal and state.options.every > 1 and plan.task == PRETAGGING_TASK:
        state.log(
            f"  warning: {', '.join(temporal)} compare consecutive frames, but pretagging predicts every "
            f"{state.options.every}th frame only (thresher.every): these assertions flag nothing, but where "
            "an earlier `thresher predict` left the frames between"
        )
    # the frames pretagging did not predict and no earlier predict left a file for are unknown, not empty
    not_predicted = ~np.isin(np.arange(len(state.frames)), state.active_rows()) if state.worker.pretagging and plan.task == PRETAGGING_TASK else None
    report = assert_task(
        state.source,
        plan.task,
        plan.names,
        seed_compatible=plan.seed_compatible,
        parameters=plan.parameters,
        cache=state.task_cache,
        frames=state.frames,
        reuse=True,
        progress=for_stage(state.progress, "assertions (files)"),
        not_predicted=not_predicted,
    )
    for note in report.notes:
        state.log(f"  note: {note}")
    artifacts = {**state.artifacts, "assertions": {**plan.describe(), "reused": report.reused, "imputed_task": report.imputed_task}}
    counts = dict(state.counts)
    counts[f"assertions on task {plan.task}: frames"] = len(report.frames)
    if report.read_as_empty:
        counts["assertions: frames without a prediction file (no object)"] = report.read_as_empty
    for name, count in report.flagged.items():
        counts[f"{name} flagged"] = count
    read_tasks = {} if report.predictions is None else {plan.task: report.predictions}  # what the assertions wrote is read again
    return replace(state, imputed_task=report.imputed_task, artifacts=artifacts, counts=counts, read_tasks=read_tasks)


def _embedder(state: Enumerated):
    from thresher.models.embedder import embedder_from_spec

    if state.worker.enable_training:
        return _trained_embedder(state)
    return embedder_from_spec(state.options.embedder)


def _trained_embedder(state: Enumerated):
    from thresher.models.ssl import train_simclr
    from thresher.io.pixels import iter_pixels

    rows = state.active_rows()
    images = [image for _, image in iter_pixels(state.source, state.frames, rows, Problems())]
    return train_simclr(images, state.config.lightly_config or {})


def embed_or_skip(state: Enumerated) -> Embedded:
    """Embeddings only when the selection reads them (the samples are set either way)."""
    if any(e.input.type == "EMBEDDINGS" for e in state.config.selection_config.strategies):
        return embed(state)
    store = EmbeddingStore(state.workspace / "embeddings" / "none")
    return advance(state, Embedded, store=store, samples=state.frames[state.active_rows()])


def embed(state: Enumerated) -> Embedded:
    """The samples (the frames that take part, or their objects' crops) with their embeddings
    stored; files that do not decode are removed (`corrupt`)."""
    embedder = _embedder(state)
    if state.worker.enable_training:
        state = replace(state, artifacts={**state.artifacts, "training_notes": list(getattr(embedder, "notes", []))})
    store = store_for(state.workspace, embedder.name, state.options.embedding_dtype)
    if state.worker.object_level is None:
        embedded, result = _embed_frames(state, embedder, store)
    else:
        embedded, result = _embed_crops(state, embedder, store)
    from_pretagging = state.embedded_in_pretagging if state.worker.object_level is None else 0
    counts = {**embedded.counts, "embedded": result.embedded + from_pretagging, "embeddings reused": result.reused - from_pretagging}
    return _drop_unreadable(replace(embedded, counts=counts), result.skipped)


def _embed_frames(state: Enumerated, embedder, store: EmbeddingStore) -> tuple[Embedded, InferenceResult]:
    rows = state.active_rows()
    # a stored embedding is reused only while its media file keeps the size and time stored with it (`thresher.plan`)
    result = state.engine.run_models(state.source, embedder=embedder, store=store, frames=state.frames, rows=rows, progress=for_stage(state.progress, "embeddings (frames)"))
    return advance(state, Embedded, store=store, samples=state.frames[rows]), result


def _embed_crops(state: Enumerated, embedder, store: EmbeddingStore) -> tuple[Embedded, InferenceResult]:
    level = state.worker.object_level
    assert level is not None, "crops are embedded at object level only"
    task = state.read_tasks.get(level.task_name) or read_predictions(state.source.lightly, level.task_name, state.frames, Problems(), cache=state.task_cache)
    state = _drop_invalid_of(state, task)
    rows = state.active_rows()
    keep = np.isin(task.detections.frame, rows)
    crops, crop_boxes = crop_frames(state.frames, task.detections[keep], level.padding)
    # a frame that takes part for its earlier picks only gives those crops, not its other objects
    taking_part = state.candidate[state.frames.index_of(crops.parent_id)] | np.isin(crops.id, state.preselected)
    crops, crop_boxes = crops[taking_part], crop_boxes[taking_part]
    result = state.engine.embed_crops(state.source, state.frames, crops, crop_boxes, embedder, store, progress=for_stage(state.progress, "embeddings (crops)"))
    return advance(state, Embedded, store=store, samples=crops, crops=crops, crop_boxes=crop_boxes), result


def _drop_invalid_of(state: S, task: PredictionTask) -> S:
    """`state` without the candidates whose prediction file of `task` is invalid (`invalid
    prediction`, with the file's problem as detail), and one console warning when the task's
    files have problems (the samples removed, the files naming no sample)."""
    mask = np.isin(state.frames.file_name, list(task.invalid)) & state.candidate
    reasons = invalid_reasons(task)
    head = f"prediction file of task {task.name} is invalid"
    details = [f"{head}: {reasons[name]}" if reasons[name] else head for name in state.frames.file_name[mask].tolist()]
    strays = files_for_no_sample(task)
    if mask.any() or strays:
        parts = [f"{int(mask.sum())} samples removed for an invalid prediction file (why: removed_samples.csv)"] if mask.any() else []
        parts += [f"{len(strays)} prediction file{'s' if len(strays) != 1 else ''} for no sample of the datasource ignored"] if strays else []
        state.log(f"  warning: task {task.name}: {', '.join(parts)}; {_validate_command(state.source)} lists every problem")
    dropped = state.dropping(mask, "invalid prediction", details)
    if not mask.any():
        return dropped
    return replace(dropped, counts={**dropped.counts, "invalid predictions": dropped.counts.get("invalid predictions", 0) + int(mask.sum())})


def _validate_command(source: Datasource) -> str:
    """The `thresher validate` command line for the datasource, in backquotes, followed by "with
    the same --storage-options" when the datasource was opened with some (they may hold secrets:
    named, not printed)."""
    separate = source.lightly.url != source.input.url
    command = f"thresher validate {source.input.display('')}" + (f" --lightly {source.lightly.display('')}" if separate else "")
    return f"`{command}`" + (" with the same --storage-options" if _has_storage_options(source) else "")


def _has_storage_options(source: Datasource) -> bool:
    """Whether either location of `source` was opened with storage options."""
    return bool(source.input.storage_options or source.lightly.storage_options)


def _crop_boxes(state: Embedded) -> np.ndarray:
    """`state.crop_boxes` ((len(crops), 4) pixels), set whenever `state.crops` is (object level)."""
    assert state.crop_boxes is not None, "crop_boxes is set together with crops"
    return state.crop_boxes


def _drop_unreadable(state: Embedded, problems: Sequence[Problem]) -> Embedded:
    state = _drop_undecodable(state, problems)
    if problems and state.crops is None:
        state = replace(state, samples=state.frames[state.active_rows()])
    return state


def remove_duplicates(state: Embedded) -> Embedded:
    """Without the samples whose embedding equals another's exactly (`duplicate`)."""
    embeddings = state.store.open().align(state.samples.id) if len(state.samples) else state.store.open()
    candidates = state.samples.id[~(np.isin(_frame_of(state.samples), state.preselected) | np.isin(state.samples.id, state.preselected))]
    twins = exact_duplicates(embeddings, candidates, state.preselected)
    if state.crops is None:
        mask = np.isin(state.frames.id, list(twins))
        state = state.dropping(mask, "duplicate", [f"identical to {twins[i]}" for i in state.frames.id[mask & state.candidate].tolist()])
        state = replace(state, samples=state.frames[state.active_rows()])
    else:
        keep = ~np.isin(state.crops.id, list(twins))
        removed = tuple((c, "duplicate", f"identical to {twins[c]}") for c in state.crops.id[~keep].tolist())
        crops = state.crops[keep]
        state = replace(state, removed=state.removed + removed, samples=crops, crops=crops, crop_boxes=_crop_boxes(state)[keep])
    return replace(state, counts={**state.counts, "exact duplicates": len(twins)})


# selection and outputs ------------------------------------------------------------------


def _drop_invalid_predictions(state: Embedded, resolver: RunResolver) -> Embedded:
    """Frames whose prediction file is invalid for a task the selection reads are removed."""
    tasks = {e.input.task for e in state.config.selection_config.strategies if e.input.type in ("SCORES", "PREDICTIONS")}
    for task in sorted(t for t in tasks if t):
        state = _drop_invalid_of(state, resolver.task(task))
    if state.crops is None:
        return replace(state, samples=state.frames[state.active_rows()])
    keep = np.isin(state.crops.parent_id, state.frames.id[state.active_rows()])
    crops = state.crops[keep]
    return replace(state, samples=crops, crops=crops, crop_boxes=_crop_boxes(state)[keep])


def select(state: Embedded) -> Selected:
    """The selector over the samples (docs/selection.md). NothingToSelectError when no
    sample is a candidate and none is preselected."""
    resolver = RunResolver(
        state.source, state.frames, state.samples, state.store, state.catalog, state.object_task, state.task_cache, state.metadata_cache, known_tasks=state.read_tasks
    )
    with state.config.naming_the_file(selection=True):
        resolver.stacked = stacked_score_names(state.config.selection_config, possible_score_names(object_level=state.crops is not None))
    state = _drop_invalid_predictions(state, resolver)
    resolver.samples = state.samples  # the report reads the same inputs again: tasks and metadata are read once
    samples = state.samples
    preselected = samples.id[np.isin(_frame_of(samples), state.preselected) | np.isin(samples.id, state.preselected)]
    if len(samples) == len(preselected):  # no candidate
        reason = no_candidates_reason(len(state.frames), state.removed, len(state.preselected), state.left_out)
        if state.crops is not None and len(state.crops) == 0 and len(state.active_rows()):
            reason = no_objects_reason(state.object_task, len(state.active_rows()), _validate_command(state.source))
        if len(preselected) == 0:
            raise NothingToSelectError(reason)
        state.log(f"  {reason}")  # a datapool run with nothing new: it selects 0 new samples and says why
    diversity = state.options.diversity
    with state.config.naming_the_file(selection=True):
        inputs = resolve_inputs(state.config.selection_config, resolver, samples, preselected)
        outcome = run_selection(
            state.config.selection_config,
            inputs,
            seed=state.options.seed,
            sequence_length=state.worker.selected_sequence_length,
            approximation=None if diversity is None else diversity.approximation(state.options.seed),
        )
    for note in outcome.notes:
        state.log(f"  warning: {state.config.selection_prefix}{note}")
    new = ~np.isin(outcome.selection.ids, preselected)
    counts = dict(state.counts)
    counts["selected"] = int(new.sum())
    if state.worker.use_datapool:
        counts["already in the datapool"] = int((~new).sum())
    counts.update({f"selection {k}": v for k, v in outcome.counts.items()})
    return advance(state, Selected, outcome=outcome, resolver=resolver, preselected_samples=preselected, counts=counts)


def write_outputs(state: Selected) -> Written:
    """The run's files in `state.folder`: images/ and crops first, then, without the picks
    whose image or crop could not be written (`thresher.run.unwritten_picks`),
    selection.csv/json, datapool.csv, removed_samples.csv, the exports, run.json and the
    report (`thresher.report`)."""
    from thresher.report import write_run_report

    state = _write_images(state)
    outcome = state.outcome
    selection, new = outcome.selection, state.new_picks()
    values = {name: column[new] for name, column in outcome.values.items()}
    objects = None if state.crops is None else state.resolver.object_columns(selection.ids)  # box, class, score of each crop
    write_selection_csv(state.folder / "selection.csv", state.samples, selection[new], values, _rows(objects, new))
    if state.worker.use_datapool:
        write_selection_csv(state.folder / "datapool.csv", state.samples, selection[~new], {k: v[~new] for k, v in outcome.values.items()}, _rows(objects, ~new))
    write_selection_json(state.folder / "selection.json", outcome, seed=state.options.seed)
    write_removed(state.folder / "removed_samples.csv", state.removed)
    picks = selection[new]
    rows = state.frames.index_of(parent_frames(state.samples, picks))
    state = replace(state, artifacts={**state.artifacts, **_exports(state, rows, picks)})
    write_json(state.folder / "run.json", {"counts": state.counts, "timings": state.timings, "artifacts": state.artifacts})
    report = write_run_report(state)  # report.html + report_data.npz/json (thresher.report)
    return advance(state, Written, report=report)


def _write_images(state: Selected) -> Selected:
    """images/ and the crops of this run's picks (`thresher.exports`), counted in the artifacts
    (`images`, `images_failed`, `crops`, `crops_failed`); returns the state without the picks
    whose image or crop could not be written (and without the files only they needed)."""
    picks = state.outcome.selection[state.new_picks()]
    exports = state.exports
    images = crops = Extraction([])
    if exports.images:
        reuse = ExtractedFrames(state.workspace / "cache" / "extracted.json")  # frames an earlier run extracted are copied
        rows = state.frames.index_of(parent_frames(state.samples, picks))
        progress = for_stage(state.progress, "images (written)")
        images = write_images(state.source, state.frames, rows, state.folder / IMAGES_DIR, exports.stills, progress, reuse=reuse, final=state.final_folder / IMAGES_DIR)
    crops_folder = _crops_folder(state) if state.crops is not None and exports.crops else None
    if state.crops is not None and crops_folder is not None:
        chosen = state.crops.index_of(picks.ids)
        progress = for_stage(state.progress, "crops (written)")
        crops = write_crops(state.source, state.frames, state.crops, _crop_boxes(state), chosen, state.folder / crops_folder, progress)
    state = without_unwritten(state, unwritten_picks(state, images.failed, crops.failed, crops_folder or ""))
    kept = state.outcome.selection[state.new_picks()]
    artifacts = dict(state.artifacts)
    if exports.images:
        listed = state.frames.file_name[state.frames.index_of(parent_frames(state.samples, kept))]
        artifacts["images"], artifacts["images_failed"] = _keep_listed(state.folder / IMAGES_DIR, images.written, listed), len(images.failed)
    if state.crops is not None and crops_folder is not None:
        listed = state.crops.file_name[state.crops.index_of(kept.ids)]
        artifacts["crops"], artifacts["crops_failed"], artifacts["crops_folder"] = _keep_listed(state.folder / crops_folder, crops.written, listed), len(crops.failed), crops_folder
    return replace(state, artifacts=artifacts)


def _crops_folder(state: Selected) -> str:
    """The folder of the selected crops: `object_level.crop_dataset_name`, else `<datasource>-crops`."""
    level = state.worker.object_level
    assert level is not None, "crops exist at object level only"
    return level.crop_dataset_name or f"{Path(state.source.input.root).name}-crops"


def _keep_listed(folder: Path, written: Sequence[str], listed: np.ndarray) -> int:
    """Remove from `folder` the files of `written` not in `listed` (a frame whose picks were all
    taken out because their crops could not be written, or the other way round); returns how
    many of `written` stay."""
    unlisted = set(written) - set(listed.tolist())
    for name in unlisted:
        (folder / name).unlink(missing_ok=True)
    return len(written) - len(unlisted)


def _rows(columns: dict[str, np.ndarray] | None, mask: np.ndarray) -> dict[str, np.ndarray] | None:
    """The entries of `mask` of each column (None stays None)."""
    return None if columns is None else {name: column[mask] for name, column in columns.items()}


def _exports(state: Selected, rows: np.ndarray, picks) -> dict:
    exports = state.exports
    boxes = load_export_boxes(state.source, state.frames, state.export_task, state.task_cache, read=state.resolver.task)  # each task read once
    names = state.frames.file_name[rows].tolist()
    urls = image_urls(names, state.final_folder / IMAGES_DIR, exports, state.label_studio_root) if exports.label_studio else names
    selected, marks = (None, None) if state.crops is None else selected_objects(state.frames, state.crops, picks.ids, boxes, state.object_task)
    priority = np.linspace(1.0, 0.0, len(rows), endpoint=False)
    written = write_exports(state.folder, state.frames, rows, urls, boxes, exports, priority=priority, selected=selected, selected_boxes=marks)
    found: dict = {**written, "export_task": boxes.task}
    if state.label_studio_root is not None:
        found["label_studio_document_root"] = str(state.label_studio_root.document_root)
        found["label_studio_storage_path"] = str(state.label_studio_root.storage_path)
    return found


def _frame_of(samples: Frames) -> np.ndarray:
    return np.where(samples.parent_id != "", samples.parent_id, samples.id)


# the plain functions the stages use ----------------------------------------------------------


SHOWN_NAMES = 5  # unmatched relevant_filenames_file names shown in a warning or an error


def relevant_rows(frames: Frames, source: Datasource, relevant_file: str | None, media: MediaFiles, log: Callable[[str], None]) -> np.ndarray:
    """Rows whose file is listed in the worker's `relevant_filenames_file` (all when None).

    Names matching no file of `media` and no video frame are logged as a warning (their count
    and the first few); when no name matches at all, ConfigError lists them instead.
    """
    if relevant_file is None:
        return np.arange(len(frames))
    where = f"worker_config.relevant_filenames_file {relevant_file!r}"
    try:
        text = source.lightly.read_bytes(relevant_file).decode()
    except Exception as exc:  # noqa: BLE001 - reported as a config problem
        raise ConfigError(f"worker_config.relevant_filenames_file: cannot read {relevant_file!r} ({exc})") from exc
    names = {line.strip() for line in text.splitlines() if line.strip()}
    if not names:
        raise ConfigError(f"{where}: expected file names, one a line (relative to the datasource), got an empty file; list the files to use or remove the key")
    rows = np.flatnonzero(np.isin(frames.video, list(names)) | np.isin(frames.file_name, list(names)))
    files = {*media.images, *media.videos}
    unmatched = sorted(names - files - set(frames.file_name.tolist()))
    if unmatched:
        what = f"{len(unmatched)} of its {len(names)} names match no image, video or video frame of the datasource: {_unmatched_names(unmatched, files)}"
        if len(rows) == 0:
            example = f", e.g. {min(files)!r}" if files else ""
            raise ConfigError(f"{where}: {what}; expected names relative to the datasource{example}")
        log(f"  warning: {where}: {what}; they are ignored")
    return rows


def _unmatched_names(unmatched: list[str], files: set[str]) -> str:
    """The first `SHOWN_NAMES` names, each with the file of the same base name when there is one."""
    by_base: dict[str, str] = {}
    for name in sorted(files):
        by_base.setdefault(name.rsplit("/", 1)[-1], name)
    shown = []
    for name in unmatched[:SHOWN_NAMES]:
        near = by_base.get(name.rsplit("/", 1)[-1])
        shown.append(f"{name!r} (did you mean {near!r}?)" if near else repr(name))
    more = f" and {len(unmatched) - SHOWN_NAMES} more" if len(unmatched) > SHOWN_NAMES else ""
    return ", ".join(shown) + more


def corrupt_files(source: Datasource, frames: Frames, cache_file: Path, progress=None) -> dict[str, str]:
    """{file: reason} of images that do not decode fully and videos that do not decode to
    their last frame. Results are cached by file size and modification time, as
    `{file: [size, mtime, reason, CORRUPTNESS_CHECKS]}` (reason "" when sound); a result of
    other checks is made again. `progress`: called with (files checked, files to check)."""
    from thresher.io.video import check_video

    cache = read_json_cache(cache_file)
    files = sorted(set(frames.video.tolist()))
    stats = {name: list(source.input.stat(name)) for name in files}
    todo = [n for n in files if not _still_valid(cache.get(n), stats[n])]
    kinds = dict(zip(frames.video.tolist(), frames.kind.tolist()))

    def check(name: str) -> str:
        try:
            if kinds[name] == "image":
                with source.input.open(name) as f:
                    check_image(f, name)
            else:
                check_video(source.input, name, source.video_infos.get(name, stats[name]))
            return ""
        except DatasourceError as exc:
            return str(exc).removeprefix(f"{name}: ")

    with ThreadPoolExecutor(IO_THREADS) as pool:
        for done, (name, reason) in enumerate(zip(todo, pool.map(check, todo)), 1):
            cache[name] = [*stats[name], reason, CORRUPTNESS_CHECKS]
            if progress:
                progress(done, len(todo))
    write_json_cache(cache_file, cache)
    return {n: cache[n][2] for n in files if cache[n][2]}


def _still_valid(entry: object, stat: list) -> bool:
    """Whether a cached corruptness result `entry` was made by these checks on the file as it
    is now (`stat`: its [size, modification time]).

    Example: `_still_valid([1024, 1.7e9, "", CORRUPTNESS_CHECKS], [1024, 1.7e9])` → True.
    """
    return isinstance(entry, list) and len(entry) == 4 and entry[:2] == stat and entry[3] == CORRUPTNESS_CHECKS


def exact_duplicates(embeddings, candidates: np.ndarray, keep_first: np.ndarray) -> dict[str, str]:
    """{id: id of its twin} for samples whose embedding equals an earlier sample's exactly.

    Identical pixels give identical vectors (the embedders are deterministic), so this finds
    exact duplicate images and frames (e.g. a static camera) without hashing files. Among
    twins, samples in `keep_first` (preselected) are kept, then the smallest id.
    `embeddings`: `Embeddings`, or `StoredEmbeddings` read block by block from disk: a 64-bit
    fingerprint of each vector's bytes finds the rows that may have a twin, and only those
    are compared whole.
    """
    if len(embeddings) == 0:
        return {}
    prints = row_hashes(embeddings.vectors)
    _, inverse, counts = np.unique(prints, return_inverse=True, return_counts=True)
    maybe = np.flatnonzero(counts[inverse.ravel()] > 1)
    if len(maybe) == 0:
        return {}
    ids, vectors = embeddings.ids[maybe], np.ascontiguousarray(embeddings.vectors[maybe], dtype=np.float32)
    order = np.lexsort((ids, ~np.isin(ids, keep_first)))
    vectors = vectors[order]
    _, first, inverse = np.unique(vectors.view(np.dtype((np.void, vectors.dtype.itemsize * vectors.shape[1]))), return_index=True, return_inverse=True)
    twin = ids[order][first[inverse.ravel()]]
    ids = ids[order]
    duplicate = (twin != ids) & np.isin(ids, candidates)
    return dict(zip(ids[duplicate].tolist(), twin[duplicate].tolist()))


HASHED_COLUMNS = 256


def row_hashes(vectors, block: int = 1 << 14, columns: int = HASHED_COLUMNS) -> np.ndarray:
    """uint64 (N,): the bit patterns of up to `columns` evenly spaced float32 coordinates of
    each row dotted with fixed odd 64-bit multipliers (wrapping), block by block (a memory-mapped
    store is read once, never whole). Equal rows get equal hashes; rows that only share them are
    told apart by the caller.

    >>> hashes = row_hashes(np.array([[1.0, 2.0], [1.0, 2.0], [2.0, 1.0]], np.float32))
    >>> bool(hashes[0] == hashes[1]), bool(hashes[0] == hashes[2])
    (True, False)
    """
    n, dim = vectors.shape
    taken = np.unique(np.linspace(0, dim - 1, min(dim, columns)).astype(np.int64))
    multipliers = np.random.default_rng(0x7E5).integers(0, 2**63, len(taken), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    out = np.empty(n, np.uint64)
    for lo in range(0, n, block):
        bits = np.ascontiguousarray(vectors[lo : lo + block][:, taken], dtype=np.float32).view(np.uint32)
        out[lo : lo + block] = bits.astype(np.uint64) @ multipliers
    return out


def no_media_reason(url: str, media_files: int, unsupported: dict[str, int], storage_options: bool = False) -> str:
    """Why a run has no frame at all: no media file, or none readable (one line, with the fix);
    `storage_options`: the datasource was opened with some (the validate command names them)."""
    from thresher.io.datasource import SUPPORTED, describe_unsupported

    if media_files:
        same = " with the same --storage-options" if storage_options else ""
        return f"{url}: none of its {media_files} images and videos could be read (thresher validate {url}{same} says why)"
    skipped = f"; {describe_unsupported(unsupported)}" if unsupported else f"; thresher reads {SUPPORTED}"
    return f"{url}: no images or videos to select from{skipped}"


class _DetectorEmbedder(Protocol):
    """A detector whose forward pass also embeds (`predict_and_embed`, e.g. the built-in SSD),
    named as an embedder (`name`: the embeddings' store)."""

    name: str

    def predict_and_embed(self, images: Sequence[np.ndarray]) -> tuple[Detections, np.ndarray]: ...


def _embeds_too(detector: Detector) -> TypeGuard[_DetectorEmbedder]:
    """The detector also embeds the frames it predicts, e.g. `_embeds_too(load_detector())` is True."""
    return hasattr(detector, "predict_and_embed")


def no_objects_reason(task: str | None, frames: int, validate: str) -> str:
    """Object level, no crop at all: the object task has no box on the `frames` frames that
    take part; `validate` is the command that counts each task's boxes (in backquotes)."""
    where = f"the {frames} frame{'s' if frames != 1 else ''} that take{'s' if frames == 1 else ''} part"
    return (
        f"nothing to select: task {task!r} (worker_config.object_level.task_name) has no boxes on {where}, so there is no object to select; "
        f"give a task with boxes ({validate} counts each task's boxes), or remove object_level to select frames"
    )


def no_candidates_reason(frames: int, removed: Sequence[Removed], preselected: int, left_out: Mapping[str, int]) -> str:
    """Why no sample is left to select, e.g. "nothing to select: of 250 frames, 250 removed (corrupt 250)"."""
    reasons = Counter(reason for _, reason, _ in removed)
    parts = []
    if reasons:
        parts.append(f"{sum(reasons.values())} removed ({', '.join(f'{r} {n}' for r, n in reasons.most_common())}; removed_samples.csv lists them)")
    if preselected:
        parts.append(f"{preselected} already selected (the datapool)")
    parts += [f"{n} {why}" for why, n in left_out.items() if n]
    return f"nothing to select: of {frames} frames, " + "; ".join(parts or ["none is a candidate"])
