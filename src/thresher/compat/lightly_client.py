"""`ApiWorkflowClient`: the seeds' LightlyOne client, on this machine, with no token.

    client = ApiWorkflowClient()                           # token optional and ignored
    client.create_dataset("bikes", dataset_type=DatasetType.VIDEOS)
    client.set_local_config("/data/bikes")                 # or set_s3_config(...) & co.
    run_id = client.schedule_compute_worker_run(worker_config={}, selection_config={...})
    rows = client.export_filenames_and_read_urls_by_tag_name("initial-tag")

A dataset is a local folder with its own catalog (see `lightly_datasets`). "Scheduling" a run
runs `thresher.run.run` right away and returns its id once it has finished (a failure raises).
As in LightlyOne, a dataset holds what its runs selected: after each run, `initial-tag` is the
union of every sample added to the dataset (the selected images or frames; at object level the
frames of the selected objects, while the crops go to the `<name>-crops` dataset). Each run's
own selection is also the tag `run-<run id>`. `upload_dataset` adds every image and frame of a
folder, as the `lightly-magic` upload did.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thresher.catalog import Catalog
from thresher.compat import lightly_export as export
from thresher.compat import lightly_sources as sources
from thresher.compat.lightly_datasets import (
    INITIAL_TAG,
    DatasetRecord,
    add_to_initial_tag,
    all_datasets,
    create_dataset_record,
    find_by_name,
    load_dataset,
)
from thresher.compat.lightly_embeddings import dataset_embeddings, read_embeddings_csv, store_embeddings
from thresher.compat.lightly_enums import DatasetType, DatasourcePurpose
from thresher.errors import UsageError, did_you_mean
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.storage import is_url


@dataclass(frozen=True)
class TagData:
    """A tag of the dataset (local tags are named uniquely, so the id is the name)."""

    id: str
    name: str
    tot_size: int


class ApiWorkflowClient:
    """The seeds' client; see the module docstring. `token`, `embedding_id` and `creator` are ignored."""

    def __init__(self, token: str | None = None, dataset_id: str | None = None, embedding_id: str | None = None, creator: str | None = None):
        self.token = token
        self.embedding_id = embedding_id
        self._dataset_id: str | None = None
        if dataset_id is not None:
            self.dataset_id = dataset_id

    # datasets ---------------------------------------------------------------------------

    @property
    def dataset_id(self) -> str:
        if self._dataset_id is None:
            raise UsageError("no dataset chosen: call create_dataset(name) or pass dataset_id=... (set_dataset_id_by_name works too)")
        return self._dataset_id

    @dataset_id.setter
    def dataset_id(self, dataset_id: str) -> None:
        self._dataset_id = load_dataset(dataset_id).id

    def record(self) -> DatasetRecord:
        """The current dataset's record (name, type, datasources; `folder` is its workspace)."""
        return load_dataset(self.dataset_id)

    def create_dataset(self, dataset_name: str, dataset_type: str | None = None) -> None:
        """Create a dataset and make it the current one; the name must be new (as in LightlyOne)."""
        self._dataset_id = create_dataset_record(dataset_name, str(dataset_type or DatasetType.IMAGES)).id

    def create_new_dataset_with_unique_name(self, dataset_basename: str, dataset_type: str | None = None) -> None:
        """Create a dataset named `dataset_basename`, or `<basename>_1`, `_2`, … when taken."""
        name, counter = dataset_basename, 0
        while find_by_name(name) is not None:
            counter += 1
            name = f"{dataset_basename}_{counter}"
        self.create_dataset(name, dataset_type)

    def set_dataset_id_by_name(self, dataset_name: str) -> None:
        record = find_by_name(dataset_name)
        if record is None:
            names = [r.name for r in all_datasets()]
            raise UsageError(f"dataset_name: no local dataset named {dataset_name!r}{did_you_mean(dataset_name, names)}; datasets: {names}")
        self._dataset_id = record.id

    def dataset_name_exists(self, dataset_name: str) -> bool:
        return find_by_name(dataset_name) is not None

    def dataset_exists(self, dataset_id: str) -> bool:
        return any(r.id == dataset_id for r in all_datasets())

    # datasources ------------------------------------------------------------------------

    def _set_source(self, config, purpose: object) -> None:
        record = self.record()
        purpose = sources.purpose_of(purpose)
        if purpose in (DatasourcePurpose.INPUT, DatasourcePurpose.INPUT_OUTPUT):
            record.input = config
        if purpose in (DatasourcePurpose.LIGHTLY, DatasourcePurpose.INPUT_OUTPUT):
            record.lightly = config
        record.save()

    def set_local_config(self, resource_path: str | os.PathLike, thumbnail_suffix: str | None = None, purpose: str = DatasourcePurpose.INPUT_OUTPUT) -> None:
        """A local folder as the datasource (INPUT_OUTPUT by default: media and `.lightly/` together)."""
        self._set_source(sources.local_config(resource_path), purpose)

    def set_s3_config(
        self, resource_path: str, region: str, access_key: str, secret_access_key: str, thumbnail_suffix: str | None = None, purpose: str = DatasourcePurpose.INPUT_OUTPUT
    ) -> None:
        self._set_source(sources.s3_config(resource_path, region, access_key, secret_access_key), purpose)

    def set_s3_delegated_access_config(
        self, resource_path: str, region: str, role_arn: str, external_id: str, thumbnail_suffix: str | None = None, purpose: str = DatasourcePurpose.INPUT_OUTPUT
    ) -> None:
        """S3 through the default AWS credential chain (the role is recorded, not assumed)."""
        self._set_source(sources.s3_delegated_access_config(resource_path, region, role_arn, external_id), purpose)

    def set_gcs_config(self, resource_path: str, project_id: str, credentials: str, thumbnail_suffix: str | None = None, purpose: str = DatasourcePurpose.INPUT_OUTPUT) -> None:
        self._set_source(sources.gcs_config(resource_path, project_id, credentials), purpose)

    def set_azure_config(self, container_name: str, account_name: str, sas_token: str, thumbnail_suffix: str | None = None, purpose: str = DatasourcePurpose.INPUT_OUTPUT) -> None:
        self._set_source(sources.azure_config(container_name, account_name, sas_token), purpose)

    def datasource(self) -> Datasource:
        """The thresher `Datasource` of the current dataset (INPUT, and LIGHTLY when set apart)."""
        record = self.record()
        return sources.open_datasource(record.input, record.lightly, record.name)

    # runs -------------------------------------------------------------------------------

    def schedule_compute_worker_run(
        self,
        worker_config: Mapping[str, Any] | None = None,
        selection_config: Mapping[str, Any] | None = None,
        lightly_config: Mapping[str, Any] | None = None,
        priority: str | None = None,
        runs_on: list[str] | None = None,
    ) -> str:
        """Run the worker now on the dataset's datasource; returns the run id (see the module docstring)."""
        from thresher.compat.lightly_runs import run_for_dataset

        return run_for_dataset(self, worker_config, selection_config, lightly_config)

    def compute_worker_run_info_generator(self, scheduled_run_id: str):
        """Yields the run's final state once (runs here finish before `schedule_…` returns)."""
        from thresher.compat.lightly_runs import ComputeWorkerRunInfo

        with Catalog(self.record().folder) as store:
            yield ComputeWorkerRunInfo.of(store.run(scheduled_run_id))

    def get_compute_worker_runs(self) -> list:
        """The dataset's runs, oldest first (`thresher.catalog.Run`: status, config, counts, artifacts)."""
        with Catalog(self.record().folder) as store:
            return store.runs()

    # samples and tags -------------------------------------------------------------------

    def catalog(self) -> Catalog:
        """The current dataset's catalog (use as a context manager)."""
        return Catalog(self.record().folder)

    def upload_dataset(self, input: str | os.PathLike, max_workers: int = 8, mode: str = "thumbnails", custom_metadata: object = None) -> None:
        """Add every image and video frame of the datasource to the dataset (files stay where they are).

        `input` becomes the dataset's datasource when none is set (a local folder); otherwise
        it must be that datasource: a dataset reads from one place.
        """
        record = self.record()
        if record.input is None:
            self.set_local_config(input)
        elif not _same_place(record.input.url, input):
            raise UsageError(f"input: dataset {record.name!r} reads from {record.input.url}, not {os.fspath(input)}; create another dataset for it")
        frames = self.datasource().frames()
        with Catalog(record.folder) as store:
            store.add_samples(frames)
            add_to_initial_tag(store, frames.id.tolist())

    def upload_embeddings(self, path_to_embeddings_csv: str | os.PathLike, name: str) -> None:
        """Store embeddings from a Lightly `embeddings.csv` (filenames, embedding_0…, labels) as `name`.

        Every file name must be a sample of the dataset. The agent's CORESET and CORAL use
        the embeddings written last: these, until a later worker run computes embeddings.
        """
        embeddings = read_embeddings_csv(path_to_embeddings_csv)
        record = self.record()
        with Catalog(record.folder) as store:
            known = set(store.tag(INITIAL_TAG)) if INITIAL_TAG in store.tags() else set()
        unknown = [i for i in embeddings.ids.tolist() if i not in known]
        if unknown:
            raise UsageError(f"{path_to_embeddings_csv}: {len(unknown)} file name(s) are not samples of dataset {record.name!r}, e.g. {unknown[0]!r}")
        record.embedding = store_embeddings(record.folder, name, embeddings)
        record.save()

    def embeddings(self):
        """The dataset's embeddings written last: uploaded, or computed by a worker run."""
        record = self.record()
        return dataset_embeddings(record.folder, record.embedding)

    def get_filenames(self) -> list[str]:
        """File names of every sample of the dataset, in dataset order (sorted by name)."""
        with self.catalog() as store:
            return sorted(store.tag(INITIAL_TAG)) if INITIAL_TAG in store.tags() else []

    def tag_names(self) -> list[str]:
        """Names of the dataset's tags, oldest first."""
        with self.catalog() as store:
            return store.tags()

    def get_all_tags(self) -> list[TagData]:
        with self.catalog() as store:
            return [TagData(name, name, len(store.tag(name))) for name in store.tags()]

    def get_tag_by_name(self, tag_name: str) -> TagData:
        with self.catalog() as store:
            return TagData(tag_name, tag_name, len(store.tag(tag_name)))

    def tag_filenames(self, tag_name: str) -> list[str]:
        """File names of a tag in the order they were added (pick order for selections)."""
        with self.catalog() as store:
            return store.tag(tag_name)

    def create_tag_from_filenames(self, fnames_new_tag: list[str], new_tag_name: str, parent_tag_id: str | None = None) -> TagData:
        """A new tag holding these samples of the dataset."""
        dataset = set(self.get_filenames())
        unknown = [f for f in fnames_new_tag if f not in dataset]
        if unknown:
            raise UsageError(f"fnames_new_tag: {len(unknown)} file name(s) are not in the dataset, e.g. {unknown[0]!r}")
        with self.catalog() as store:
            store.create_tag(new_tag_name, fnames_new_tag, note=f"from file names (parent {parent_tag_id})")
        return TagData(new_tag_name, new_tag_name, len(set(fnames_new_tag)))

    # exports ----------------------------------------------------------------------------

    def _tag_samples(self, tag_name: str) -> tuple[Frames, list[Path]]:
        with self.catalog() as store:
            frames = store.samples(store.tag(tag_name))
            folders = [Path(r.artifacts["folder"]) for r in reversed(store.runs()) if r.status == "done" and "folder" in r.artifacts]
        return frames, folders

    def export_filenames_by_tag_name(self, tag_name: str) -> str:
        """The tag's file names, one a line."""
        return "\n".join(self.tag_filenames(tag_name))

    def export_filenames_and_read_urls_by_tag_name(self, tag_name: str) -> list[dict[str, str]]:
        """[{"fileName", "readUrl", "datasourceUrl"}] of the tag (see `lightly_export` for the URLs)."""
        frames, folders = self._tag_samples(tag_name)
        urls = export.sample_urls(self.datasource(), frames, self.record().folder, folders)
        return export.filenames_and_read_urls(frames, urls)

    def export_label_studio_tasks_by_tag_name(self, tag_name: str) -> list[dict]:
        """Label Studio tasks of the tag with the dataset's predictions as pre-annotations."""
        from thresher.compat.lightly_runs import prediction_task_of

        frames, folders = self._tag_samples(tag_name)
        source = self.datasource()
        urls = export.sample_urls(source, frames, self.record().folder, folders)
        with self.catalog() as store:
            task = prediction_task_of(store.runs(), source)
        return export.label_studio_export(source, frames, [read for read, _ in urls], task)


def _same_place(url: str, given: str | os.PathLike) -> bool:
    given = os.fspath(given)
    if is_url(given) and not given.startswith("file://"):
        return url.rstrip("/") == given.rstrip("/")
    return url == sources.local_config(given).url
