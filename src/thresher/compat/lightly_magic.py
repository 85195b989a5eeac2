"""`lightly_magic`: the local stand-in for the `lightly-magic` command of seed 004's guide.

    lightly-magic input_dir='path/to/your/raw/dataset' dataset_id='xyz' token='123' trainer.max_epochs=0

becomes `lightly_magic("path/to/your/raw/dataset", dataset_id="xyz")`: the dataset `xyz` is
created when it does not exist (locally any id made of letters, digits, `_`, `.`, `-` works),
every image and video frame of the folder is added (tag `initial-tag`), and embeddings are
stored: read from a Lightly `embeddings.csv` (`embeddings=`), or computed with a built-in
embedder from its pretrained weights (what `trainer.max_epochs=0` asks: no training).
"""

from __future__ import annotations

import os
from pathlib import Path

from thresher.compat.lightly_client import ApiWorkflowClient
from thresher.compat.lightly_datasets import create_dataset_record, find_by_name, load_dataset
from thresher.compat.lightly_enums import DatasetType
from thresher.embedding_store import store_for
from thresher.infer import run_models

DEFAULT_EMBEDDER = "ssd-mobilenet-v2-coco"


def _unique_name(base: str) -> str:
    name, counter = base, 0
    while find_by_name(name) is not None:
        counter += 1
        name = f"{base}_{counter}"
    return name


def lightly_magic(
    input_dir: str | os.PathLike,
    dataset_id: str | None = None,
    dataset_name: str | None = None,
    *,
    embeddings: str | os.PathLike | None = None,
    embedder: str = DEFAULT_EMBEDDER,
    token: str | None = None,
) -> str:
    """Register `input_dir` as a dataset with embeddings; returns the dataset id (see the module docstring).

    Args:
        dataset_id: an existing dataset to add to, or the id of the new one (default: generated).
        dataset_name: the new dataset's name (default: the folder's name, made unique).
        embeddings: a Lightly embeddings.csv to store instead of computing embeddings.
        embedder: a registered embedder name, a `.onnx` file or `simclr:PATH`.
        token: ignored.
    """
    client = ApiWorkflowClient(token)
    if dataset_id is not None and client.dataset_exists(dataset_id):
        client.dataset_id = dataset_id
    else:
        name = dataset_name or _unique_name(Path(input_dir).resolve().name)
        client.dataset_id = create_dataset_record(name, str(DatasetType.IMAGES), dataset_id).id
    client.upload_dataset(input_dir)
    if embeddings is not None:
        client.upload_embeddings(embeddings, name="default")
    else:
        _compute_embeddings(client, embedder)
    return client.dataset_id


def _compute_embeddings(client: ApiWorkflowClient, spec: str) -> None:
    from thresher.models.embedder import embedder_from_spec

    model = embedder_from_spec(spec)
    record = load_dataset(client.dataset_id)
    store = store_for(record.folder, model.name)
    run_models(client.datasource(), embedder=model, store=store)
    record.embedding = store.folder.name
    record.save()
