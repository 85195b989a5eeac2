"""`RunWork`: the stages of one run, in order, with what each found (see `thresher.run`)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from thresher.catalog import Catalog
from thresher.embedding_store import store_for
from thresher.frames import Frames
from thresher.infer import sample_rows
from thresher.errors import NothingToSelectError
from thresher.io.datasource import Datasource, describe_unsupported
from thresher.io.lightly_predictions import read_predictions
from thresher.io.problems import Problems
from thresher.objects import crop_frames
from thresher.progress import for_stage
from thresher.provenance import prediction_key, record_predictions, rows_to_predict_again
from thresher.run.config import PRETAGGING_TASK, RunConfig
from thresher.run.config_check import check_run_config
from thresher.run.export_task import export_task
from thresher.run.exports import (
    check_export_task,
    image_urls,
    label_studio_root,
    load_export_boxes,
    selected_objects,
    write_exports,
)
from thresher.run.images import IMAGES_DIR, write_images
from thresher.run.outputs import write_crops, write_json, write_removed
from thresher.run.resolver import RunResolver
from thresher.provenance import changed_files, record_files
from thresher.run.stages import corrupt_files, exact_duplicates, no_candidates_reason, no_media_reason, relevant_rows
from thresher.select import resolve_inputs, run_selection, write_selection_csv, write_selection_json
from thresher.select.output import parent_frames

DATAPOOL_TAG = "datapool"


class RunWork:
    """Holds a run's state as its stages fill it; `execute()` runs them all."""

    def __init__(self, source: Datasource, config: RunConfig, catalog: Catalog, workspace: Path, folder: Path, log, engine=None, progress=None):
        from thresher.engines.local import LocalEngine

        self.engine = engine if engine is not None else LocalEngine()  # runs the per-frame stages
        self.source, self.config, self.catalog = source, config, catalog
        self.workspace, self.folder, self.log = workspace, folder, log
        self.progress = progress  # (stage, done, total), see thresher.progress
        self.worker, self.options = config.worker_config, config.thresher
        self.removed: list[tuple[str, str, str]] = []
        self.counts: dict[str, int] = {}
        self.timings: dict[str, float] = {}
        self.artifacts: dict[str, object] = {}
        self.crops: Frames | None = None
        self.task_cache = workspace / "cache" / "tasks"
        self.crop_boxes: np.ndarray | None = None

    def prepare(self) -> None:
        """Decide before any work what the config asks (a config the run cannot follow stops it at
        once): the assertions, every name the config uses (`config check`), the export task and
        Label Studio's paths. The folder is the run's `<id>.partial`."""
        self._stage("config check", self.check_config)
        self.final_folder = self.folder.with_name(self.folder.name.removesuffix(".partial"))
        plan = self.assertion_plan
        self.export_task = export_task(self.config, None if plan is None else plan.task)
        exports = self.options.exports
        self.label_studio_root = label_studio_root(self.final_folder, exports) if exports.label_studio and exports.image_root is None else None

    def _stage(self, name: str, function, *args):
        start = time.perf_counter()
        self.log(f"{name} …")
        value = function(*args)
        self.timings[name] = round(time.perf_counter() - start, 3)
        return value

    def execute(self):
        self._stage("enumerate", self.enumerate)
        check_export_task(self.source, self.export_task, {PRETAGGING_TASK} if self.worker.pretagging else set())
        if self.worker.enable_corruptness_check:
            self._stage("corruptness check", self.check_corruption)
        if self.worker.pretagging:
            self._stage("pretagging", self.pretag)
        if self.assertion_plan is not None:
            self._stage("assertions", self.assertions)
        self._stage("embeddings", self.embed)
        if self.worker.remove_exact_duplicates:
            self._stage("exact duplicates", self.remove_duplicates)
        outcome = self._stage("selection", self.select)
        self._stage("outputs", self.write_outputs, outcome)
        return outcome

    def check_config(self) -> None:
        """The assertions to compute and every name the config uses, checked before any model runs."""
        from thresher.run.assertions import plan_assertions

        self.assertion_plan = plan_assertions(self.config, self.source.lightly)
        check_run_config(self.source, self.config, self.catalog, self.assertion_plan)

    # which frames take part ------------------------------------------------------------

    def enumerate(self) -> None:
        problems = Problems()
        media = self.source.media_files()
        self.unsupported = media.unsupported_by_extension()
        if self.unsupported:
            self.log(f"  {describe_unsupported(self.unsupported)}")
            self.counts["unsupported files"] = sum(self.unsupported.values())
        self.frames = self.source.frames(problems, media, for_stage(self.progress, "enumerate (files)"))
        self.removed += [(p.file, "corrupt", f"{p.expected}, got {p.got}") for p in problems]
        if len(self.frames) == 0:
            raise NothingToSelectError(no_media_reason(self.source.input.url, len(media.images) + len(media.videos), self.unsupported))
        rows = np.intersect1d(sample_rows(self.frames, self.options.every), relevant_rows(self.frames, self.source, self.worker.relevant_filenames_file))
        self.preselected = self._datapool_ids()
        known = set(self.catalog.samples().id.tolist()) if self._only_new_files() else set()
        is_new = ~np.isin(self.frames.id, list(known)) if known else np.ones(len(self.frames), bool)
        self.candidate = np.zeros(len(self.frames), bool)
        self.candidate[rows] = True
        self.left_out = {"left out by thresher.every or relevant_filenames_file": len(self.frames) - len(rows)}
        self.left_out["seen by an earlier run (datapool: only new files are candidates unless datasource.process_all)"] = int(
            (self.candidate & ~is_new & ~np.isin(self.frames.id, self.preselected)).sum()
        )
        self.candidate &= is_new & ~np.isin(self.frames.id, self.preselected)
        self.counts.update(frames=len(self.frames), candidates=int(self.candidate.sum()), preselected=len(self.preselected))

    def _only_new_files(self) -> bool:
        return self.worker.use_datapool and not self.worker.datasource.process_all

    def _datapool_ids(self) -> np.ndarray:
        if not self.worker.use_datapool or DATAPOOL_TAG not in self.catalog.tags():
            return np.zeros(0, "<U1")
        ids = np.array(self.catalog.tag(DATAPOOL_TAG), dtype=str)
        return ids[np.isin(ids, self.frames.id)] if self.worker.object_level is None else ids

    def _drop(self, mask: np.ndarray, reason: str, detail: list[str] | str) -> None:
        """Remove candidates in `mask` and list them in removed_samples.csv."""
        mask = mask & self.candidate
        details = detail if isinstance(detail, list) else [detail] * int(mask.sum())
        self.removed += list(zip(self.frames.file_name[mask].tolist(), [reason] * int(mask.sum()), details))
        self.candidate &= ~mask

    def check_corruption(self) -> None:
        bad = corrupt_files(self.source, self.frames[self.candidate], self.workspace / "cache" / "corruptness.json", for_stage(self.progress, "corruptness (files)"))
        mask = np.isin(self.frames.video, list(bad))
        self._drop(mask, "corrupt", [bad[v] for v in self.frames.video[mask & self.candidate].tolist()])
        self.counts["corrupt files"] = len(bad)

    # models -----------------------------------------------------------------------------

    def _active_rows(self) -> np.ndarray:
        return np.flatnonzero(self.candidate | np.isin(self.frames.id, self.preselected))

    def pretag(self) -> None:
        from thresher.models import load_detector

        opts = self.options.pretagging
        detector = load_detector(opts.model, confidence=opts.confidence, classes=opts.classes)
        # the built-in detector is also the default embedder: one forward pass gives both
        same = self.options.embedder == opts.model and self.worker.object_level is None and not self.worker.enable_training
        embedder = detector if same and hasattr(detector, "predict_and_embed") else None
        store = store_for(self.workspace, detector.name) if embedder is not None else None
        key = prediction_key(opts.model, opts.confidence, opts.classes)
        redo = rows_to_predict_again(self.source, self.frames, self.workspace, PRETAGGING_TASK, key)
        rows = self._active_rows()
        result = self.engine.run_models(
            self.source, detector=detector, task=PRETAGGING_TASK, embedder=embedder, store=store, frames=self.frames, rows=rows, redo=redo,
            cache=self.task_cache, progress=for_stage(self.progress, "pretagging (frames)"),
        )
        record_predictions(self.source, self.frames[rows], self.workspace, PRETAGGING_TASK, key)
        self.counts["pretagged frames"] = result.predicted
        self.counts["pretagged frames reused"] = result.predictions_reused
        self.embedded_in_pretagging = result.embedded  # the same forward pass embedded these frames

    def _object_task(self) -> str | None:
        return None if self.worker.object_level is None else self.worker.object_level.task_name

    def assertions(self) -> None:
        from thresher.assert_task import assert_task

        plan = self.assertion_plan
        if plan.implicit:
            self.log(f"  the selection reads assertion metadata: computing {', '.join(plan.names)} on task {plan.task} (defaults)")
        temporal = [n for n in plan.names if n in ("flicker", "appear", "class_switch")]
        if temporal and self.options.every > 1 and plan.task == PRETAGGING_TASK:
            self.log(f"  warning: {', '.join(temporal)} compare consecutive frames, but pretagging predicts every "
                     f"{self.options.every}th frame only (thresher.every): these assertions will flag nothing")
        report = assert_task(
            self.source, plan.task, plan.names, seed_compatible=plan.seed_compatible, parameters=plan.parameters,
            cache=self.task_cache, frames=self.frames, reuse=True, progress=for_stage(self.progress, "assertions (files)"),
        )
        for note in report.notes:
            self.log(f"  note: {note}")
        self.imputed_task = report.imputed_task
        self.artifacts["assertions"] = {**plan.describe(), "reused": report.reused, "imputed_task": report.imputed_task}
        self.counts[f"assertions on task {plan.task}: frames"] = len(report.frames)
        if report.read_as_empty:
            self.counts["assertions: frames without a prediction file (no object)"] = report.read_as_empty
        for name, count in report.flagged.items():
            self.counts[f"{name} flagged"] = count

    def _embedder(self):
        from thresher.models.embedder import embedder_from_spec

        if self.worker.enable_training:
            return self._trained_embedder()
        return embedder_from_spec(self.options.embedder)

    def _trained_embedder(self):
        from thresher.models.ssl import train_simclr
        from thresher.io.pixels import iter_pixels

        rows = self._active_rows()
        images = [image for _, image in iter_pixels(self.source, self.frames, rows, Problems())]
        embedder = train_simclr(images, self.config.lightly_config or {})
        self.artifacts["training_notes"] = list(getattr(embedder, "notes", []))
        return embedder

    def embed_or_skip(self) -> None:
        """Embeddings only when the selection reads them (the samples are set either way)."""
        if any(e.input.type == "EMBEDDINGS" for e in self.config.selection_config.strategies):
            self.embed()
        else:
            from thresher.embedding_store import EmbeddingStore

            self.store = EmbeddingStore(self.workspace / "embeddings" / "none")
            self.samples = self.frames[self._active_rows()]

    def embed(self) -> None:
        embedder = self._embedder()
        self.store = store_for(self.workspace, embedder.name)
        if self.worker.object_level is None:
            rows = self._active_rows()
            cache = self.workspace / "cache" / f"embeddings-{self.store.folder.name}.json"
            redo = np.flatnonzero(np.isin(self.frames.video, list(changed_files(self.source, self.frames, cache, embedder.name))))
            result = self.engine.run_models(
                self.source, embedder=embedder, store=self.store, frames=self.frames, rows=rows, redo=redo, progress=for_stage(self.progress, "embeddings (frames)")
            )
            record_files(self.source, self.frames[rows], cache, embedder.name)
            self.samples = self.frames[rows]
        else:
            result = self._embed_crops(embedder)
        from_pretagging = getattr(self, "embedded_in_pretagging", 0) if self.worker.object_level is None else 0
        self.counts["embedded"] = result.embedded + from_pretagging
        self.counts["embeddings reused"] = result.reused - from_pretagging
        self._drop_unreadable(result.skipped)

    def _embed_crops(self, embedder):
        level = self.worker.object_level
        task = read_predictions(self.source.lightly, level.task_name, self.frames, Problems(), cache=self.task_cache)
        self._drop(np.isin(self.frames.file_name, list(task.invalid)), "invalid prediction", f"prediction file of task {level.task_name} is invalid")
        rows = self._active_rows()
        keep = np.isin(task.detections.frame, rows)
        self.crops, self.crop_boxes = crop_frames(self.frames, task.detections[keep], level.padding)
        self.samples = self.crops
        return self.engine.embed_crops(
            self.source, self.frames, self.crops, self.crop_boxes, embedder, self.store, progress=for_stage(self.progress, "embeddings (crops)")
        )

    def _drop_unreadable(self, problems) -> None:
        for problem in problems:
            self._drop(self.frames.video == problem.file, "corrupt", f"{problem.expected}, got {problem.got}")
        if problems and self.crops is None:
            self.samples = self.frames[self._active_rows()]

    def remove_duplicates(self) -> None:
        embeddings = self.store.load().align(self.samples.id) if len(self.samples) else self.store.load()
        candidates = self.samples.id[~np.isin(_frame_of(self.samples), self.preselected)]
        twins = exact_duplicates(embeddings, candidates, self.preselected)
        if self.crops is None:
            mask = np.isin(self.frames.id, list(twins))
            self._drop(mask, "duplicate", [f"identical to {twins[i]}" for i in self.frames.id[mask & self.candidate].tolist()])
            self.samples = self.frames[self._active_rows()]
        else:
            keep = ~np.isin(self.crops.id, list(twins))
            self.removed += [(c, "duplicate", f"identical to {twins[c]}") for c in self.crops.id[~keep].tolist()]
            self.samples = self.crops = self.crops[keep]
            self.crop_boxes = self.crop_boxes[keep]
        self.counts["exact duplicates"] = len(twins)

    # selection and outputs ------------------------------------------------------------

    def _drop_invalid_predictions(self, resolver: RunResolver) -> None:
        """Frames whose prediction file is invalid for a task the selection reads are removed."""
        tasks = {e.input.task for e in self.config.selection_config.strategies if e.input.type in ("SCORES", "PREDICTIONS")}
        for task in sorted(t for t in tasks if t):
            invalid = resolver.task(task).invalid
            self._drop(np.isin(self.frames.file_name, list(invalid)), "invalid prediction", f"prediction file of task {task} is invalid")
        if self.crops is None:
            self.samples = self.frames[self._active_rows()]
        else:
            keep = np.isin(self.crops.parent_id, self.frames.id[self._active_rows()])
            self.samples = self.crops = self.crops[keep]
            self.crop_boxes = self.crop_boxes[keep]

    def select(self):
        resolver = RunResolver(self.source, self.frames, self.samples, self.store, self.catalog, self._object_task(), self.task_cache)
        self._drop_invalid_predictions(resolver)
        resolver.samples = self.samples
        self.resolver = resolver  # the report reads the same inputs again: tasks and metadata are read once
        preselected = self.samples.id[np.isin(_frame_of(self.samples), self.preselected) | np.isin(self.samples.id, self.preselected)]
        if len(self.samples) == len(preselected):  # no candidate
            reason = no_candidates_reason(len(self.frames), self.removed, len(self.preselected), self.left_out)
            if len(preselected) == 0:
                raise NothingToSelectError(reason)
            self.log(f"  {reason}")  # a datapool run with nothing new: it selects 0 new samples and says why
        self.preselected_samples = preselected
        inputs = resolve_inputs(self.config.selection_config, resolver, self.samples, preselected)
        outcome = run_selection(
            self.config.selection_config, inputs, seed=self.options.seed, sequence_length=self.worker.selected_sequence_length
        )
        new = self.new_picks(outcome.selection)
        self.counts["selected"] = int(new.sum())
        if self.worker.use_datapool:
            self.counts["already in the datapool"] = int((~new).sum())
        self.counts.update({f"selection {k}": v for k, v in outcome.counts.items()})
        return outcome

    def new_picks(self, selection) -> np.ndarray:
        """One bool per selected sample: True for this run's picks, False for the datapool's earlier ones."""
        return ~np.isin(selection.ids, self.preselected_samples)

    def write_outputs(self, outcome) -> None:
        from thresher.report import write_run_report

        selection, new = outcome.selection, self.new_picks(outcome.selection)
        values = {name: column[new] for name, column in outcome.values.items()}
        write_selection_csv(self.folder / "selection.csv", self.samples, selection[new], values)
        if self.worker.use_datapool:
            write_selection_csv(self.folder / "datapool.csv", self.samples, selection[~new], {k: v[~new] for k, v in outcome.values.items()})
        write_selection_json(self.folder / "selection.json", outcome, seed=self.options.seed)
        write_removed(self.folder / "removed_samples.csv", self.removed)
        picks = selection[new]
        rows = self.frames.index_of(parent_frames(self.samples, picks))
        exports = self.options.exports
        if exports.images:
            written = write_images(self.source, self.frames, rows, self.folder / IMAGES_DIR, exports.stills, for_stage(self.progress, "images (written)"))
            self.artifacts["images"] = len(written)
        if self.crops is not None and exports.crops:
            chosen = self.crops.index_of(picks.ids)
            name = self.worker.object_level.crop_dataset_name or f"{Path(self.source.input.root).name}-crops"
            written = write_crops(self.source, self.frames, self.crops, self.crop_boxes, chosen, self.folder / name, for_stage(self.progress, "crops (written)"))
            self.artifacts["crops"] = len(written)
        self.artifacts.update(self._exports(rows, picks))
        write_json(self.folder / "run.json", {"counts": self.counts, "timings": self.timings, "artifacts": self.artifacts})
        write_run_report(self, outcome)  # report.html + report_data.npz/json (thresher.report)

    def _exports(self, rows: np.ndarray, picks) -> dict:
        exports = self.options.exports
        boxes = load_export_boxes(self.source, self.frames, self.export_task, self.task_cache)
        names = self.frames.file_name[rows].tolist()
        urls = image_urls(names, self.final_folder / IMAGES_DIR, exports, self.label_studio_root) if exports.label_studio else names
        selected, marks = (None, None) if self.crops is None else selected_objects(self.frames, self.crops, picks.ids, boxes, self._object_task())
        priority = np.linspace(1.0, 0.0, len(rows), endpoint=False)
        written = write_exports(self.folder, self.frames, rows, urls, boxes, exports, priority=priority, selected=selected, selected_boxes=marks)
        found: dict = {**written, "export_task": boxes.task}
        if self.label_studio_root is not None:
            found["label_studio_document_root"] = str(self.label_studio_root.document_root)
            found["label_studio_storage_path"] = str(self.label_studio_root.storage_path)
        return found


def _frame_of(samples: Frames) -> np.ndarray:
    return np.where(samples.parent_id != "", samples.parent_id, samples.id)
