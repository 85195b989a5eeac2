"""Worker runs of a local dataset: what `schedule_compute_worker_run` does after `thresher.run`.

At object level (`object_level.task_name`), as LightlyOne does, the frames holding the selected
objects join the dataset and the selected crops go to a crops dataset, named
`object_level.crop_dataset_name` or `<dataset name>-crops`: its datasource is a local folder
in its own workspace where each run's crop PNGs are copied, with the crops' embeddings, so
the crops dataset can be exported and queried like any image dataset.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from thresher.catalog import Catalog, Run
from thresher.compat.lightly_datasets import DatasetRecord, DatasourceConfig, add_to_initial_tag, create_dataset_record, find_by_name
from thresher.compat.lightly_embeddings import latest_store
from thresher.compat.lightly_enums import DatasetType
from thresher.embedding_store import SHARD_GLOB, EmbeddingStore
from thresher.errors import UsageError
from thresher.io.datasource import Datasource
from thresher.io.lightly_schema import read_task_names
from thresher.io.problems import Problems
from thresher.select import parent_frames

CROPS_FOLDER = "crops"

_STATES = {"done": "COMPLETED", "failed": "FAILED", "interrupted": "ABORTED", "running": "RUNNING"}


@dataclass(frozen=True)
class ComputeWorkerRunInfo:
    """The state of a run as LightlyOne reports it (COMPLETED, FAILED, ABORTED, RUNNING)."""

    state: str
    message: str

    @classmethod
    def of(cls, run: Run) -> "ComputeWorkerRunInfo":
        return cls(_STATES.get(run.status, run.status.upper()), run.error or f"run {run.id}: {run.status}")

    def in_end_state(self) -> bool:
        return self.state != "RUNNING"

    def ended_successfully(self) -> bool:
        return self.state == "COMPLETED"


def _with_crop_dataset_name(worker_config: Mapping[str, Any] | None, dataset_name: str) -> tuple[dict, str | None]:
    """worker_config with `object_level.crop_dataset_name` filled in, and that name (None at frame level)."""
    worker = dict(worker_config or {})
    level = worker.get("object_level")
    if not isinstance(level, Mapping) or not level.get("task_name"):
        return worker, None
    level = dict(level)
    level["crop_dataset_name"] = level.get("crop_dataset_name") or f"{dataset_name}-crops"
    worker["object_level"] = level
    return worker, level["crop_dataset_name"]


def run_for_dataset(client, worker_config, selection_config, lightly_config) -> str:
    """Run the worker on the client's dataset and add what it selected; returns the run id."""
    from thresher.run import run

    record = client.record()
    worker, crops_name = _with_crop_dataset_name(worker_config, record.name)
    started = time.time()
    result = run(client.datasource(), worker_config=worker, selection_config=selection_config, lightly_config=lightly_config, catalog=record.folder)
    with Catalog(record.folder) as store:
        add_to_initial_tag(store, parent_frames(result.samples, result.selection).tolist())
    _use_new_embeddings(record, started)
    if crops_name is not None:
        sync_crops_dataset(record, result.folder / crops_name, crops_name)
    return result.run_id


def _use_new_embeddings(record: DatasetRecord, since: float) -> None:
    """The agent reads the embeddings written last: those of the run when it computed any."""
    store = latest_store(record.folder)
    if store is not None and max(p.stat().st_mtime for p in store.folder.glob(SHARD_GLOB)) >= since - 1:
        record.embedding = store.folder.name
        record.save()


def sync_crops_dataset(parent: DatasetRecord, run_crops, crops_name: str) -> DatasetRecord | None:
    """Copy a run's crop PNGs into the crops dataset and add them (with their embeddings)."""
    if not run_crops.is_dir():
        return None
    record = find_by_name(crops_name) or create_dataset_record(crops_name, str(DatasetType.CROPS), crops_of=parent.id)
    if record.crops_of != parent.id:
        raise UsageError(f"object_level.crop_dataset_name: {crops_name!r} is a dataset that does not hold crops of {parent.name!r}")
    target = record.folder / CROPS_FOLDER
    shutil.copytree(run_crops, target, dirs_exist_ok=True)
    if record.input is None:
        record.input = DatasourceConfig(str(target), {}, "LOCAL")
        record.save()
    frames = Datasource(target).frames()
    with Catalog(record.folder) as store:
        store.add_samples(frames)
        add_to_initial_tag(store, frames.id.tolist())
    _copy_crop_embeddings(parent, record, frames.id)
    return record


def _copy_crop_embeddings(parent: DatasetRecord, record: DatasetRecord, ids) -> None:
    source = latest_store(parent.folder)
    if source is None:
        return
    stored = source.load()
    keep = [i for i in ids.tolist() if i in set(stored.ids.tolist())]
    if keep:
        EmbeddingStore(record.folder / "embeddings" / source.folder.name).append(stored.align(keep))


def prediction_task_of(runs: Sequence[Run], source: Datasource) -> str | None:
    """The prediction task whose boxes pre-annotate exports: the latest run's pretagging or
    object-level task, else the task its selection read, else the datasource's only task."""
    from thresher.run import PRETAGGING_TASK

    for run in reversed([r for r in runs if r.status == "done"]):
        worker = run.config.get("worker_config") or {}
        if worker.get("pretagging"):
            return PRETAGGING_TASK
        if (worker.get("object_level") or {}).get("task_name"):
            return worker["object_level"]["task_name"]
        strategies = (run.config.get("selection_config") or {}).get("strategies") or []
        tasks = [s["input"].get("task") for s in strategies if s["input"].get("type") in ("SCORES", "PREDICTIONS")]
        if any(tasks):
            return next(t for t in tasks if t)
    names = [n for n in read_task_names(source.lightly, Problems()) if not n.endswith("-imputed")]
    return names[0] if len(names) == 1 else None
