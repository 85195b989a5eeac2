"""The local datasets behind `ApiWorkflowClient`: one folder per dataset, no server.

A LightlyOne dataset lives on a server. Here a dataset is the folder
`<home>/lightly/datasets/<dataset id>/`: its `dataset.json` (name, type, the INPUT and LIGHTLY
datasources as fsspec URLs with their storage options) and its workspace (the catalog of its
samples, tags and runs, its stored embeddings, its run outputs). `<home>` is `$THRESHER_HOME`,
else `$XDG_DATA_HOME/thresher`, else `~/.local/share/thresher`.

Why a workspace per dataset rather than the datasource's own `.thresher/`: tags belong to a
dataset (two datasets over one folder, or a dataset and its `-crops` dataset, each keep their
own `initial-tag`), a bucket has no local folder to hold a catalog, and one rule serves both.
`dataset.json` may hold the credentials given to `set_s3_config` & co., so it is written with
permissions 0600, whole (temporary name, then rename).
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from thresher.errors import UsageError, did_you_mean

RECORD_FILE = "dataset.json"
INITIAL_TAG = "initial-tag"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def thresher_home() -> Path:
    """`$THRESHER_HOME`, else `$XDG_DATA_HOME/thresher`, else `~/.local/share/thresher`."""
    if os.environ.get("THRESHER_HOME"):
        return Path(os.environ["THRESHER_HOME"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "thresher"


def datasets_folder() -> Path:
    return thresher_home() / "lightly" / "datasets"


@dataclass
class DatasourceConfig:
    """A datasource as fsspec sees it: a URL (or local path) and the storage options."""

    url: str
    storage_options: dict[str, Any] = field(default_factory=dict)
    kind: str = "LOCAL"  # LOCAL, S3, S3_DELEGATED_ACCESS, GCS, AZURE (as configured)


@dataclass
class DatasetRecord:
    """One local dataset; `folder` is its workspace."""

    id: str
    name: str
    type: str
    created: float
    input: DatasourceConfig | None = None
    lightly: DatasourceConfig | None = None
    embedding: str | None = None  # the embedding store the agent reads (workspace/embeddings/<name>)
    crops_of: str | None = None  # for a `<name>-crops` dataset: the id of the full-image dataset

    @property
    def folder(self) -> Path:
        return datasets_folder() / self.id

    def save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / RECORD_FILE
        tmp = self.folder / f".{RECORD_FILE}.{uuid.uuid4().hex[:8]}.tmp"
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle, indent=2, sort_keys=True)
        os.replace(tmp, target)


def _from_json(data: dict) -> DatasetRecord:
    sources = {k: DatasourceConfig(**data[k]) if data.get(k) else None for k in ("input", "lightly")}
    return DatasetRecord(**{**data, **sources})


def all_datasets() -> list[DatasetRecord]:
    """Every registered dataset, oldest first."""
    folder = datasets_folder()
    records = []
    for path in sorted(folder.glob(f"*/{RECORD_FILE}")) if folder.is_dir() else []:
        records.append(_from_json(json.loads(path.read_text(encoding="utf-8"))))
    return sorted(records, key=lambda r: (r.created, r.id))


def load_dataset(dataset_id: str) -> DatasetRecord:
    """The dataset with this id; UsageError naming the known ids otherwise."""
    path = datasets_folder() / str(dataset_id) / RECORD_FILE
    if not _ID.match(str(dataset_id)) or not path.is_file():
        known = [r.id for r in all_datasets()]
        names = {r.name: r.id for r in all_datasets()}
        hint = f' (a dataset named {dataset_id!r} has id "{names[dataset_id]}")' if dataset_id in names else did_you_mean(str(dataset_id), known)
        raise UsageError(f"dataset_id: no local dataset {dataset_id!r}{hint}; datasets are in {datasets_folder()}")
    return _from_json(json.loads(path.read_text(encoding="utf-8")))


def find_by_name(name: str) -> DatasetRecord | None:
    matches = [r for r in all_datasets() if r.name == name]
    return matches[-1] if matches else None


def create_dataset_record(name: str, dataset_type: str, dataset_id: str | None = None, crops_of: str | None = None) -> DatasetRecord:
    """Register a new dataset (the name must be new; the id is generated unless given)."""
    if not isinstance(name, str) or not name.strip():
        raise UsageError(f"dataset_name: expected a non-empty string, got {name!r}")
    existing = find_by_name(name)
    if existing is not None:
        raise UsageError(f"dataset_name: a dataset named {name!r} exists already (id {existing.id})")
    dataset_id = dataset_id or uuid.uuid4().hex[:24]
    if not _ID.match(dataset_id):
        raise UsageError(f"dataset_id: expected letters, digits, '_', '.' or '-', got {dataset_id!r}")
    if (datasets_folder() / dataset_id / RECORD_FILE).exists():
        raise UsageError(f"dataset_id: a dataset with id {dataset_id!r} exists already")
    record = DatasetRecord(dataset_id, name, str(dataset_type), time.time(), crops_of=crops_of)
    record.save()
    return record


def add_to_initial_tag(store, ids) -> None:
    """Add samples to a dataset: its `initial-tag` holds every sample of the dataset, in the order added."""
    before = store.tag(INITIAL_TAG) if INITIAL_TAG in store.tags() else []
    store.create_tag(INITIAL_TAG, list(dict.fromkeys([*before, *ids])), note="every sample of the dataset", replace=True)
