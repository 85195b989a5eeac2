"""Object level: a crop's stored embedding is reused only while the crop shows the same pixels."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.conftest import package_file, write_json
from thresher.embedding_store import EmbeddingStore
from thresher.run import run

BOXES = {"chelsea": [[10, 20, 120, 90], [150, 40, 100, 120]], "coffee": [[30, 30, 200, 150]], "astronaut": [[100, 20, 150, 180], [250, 250, 120, 150]]}
SCHEMA = {"task_type": "object-detection", "categories": [{"id": 0, "name": "cat"}, {"id": 1, "name": "cup"}]}


def write_task(root, task: str, boxes: dict) -> None:
    """The task `task` with `boxes` ([x, y, w, h] per image stem) for the PNGs of `root`."""
    pred = root / ".lightly" / "predictions"
    tasks = pred / "tasks.json"
    names = sorted({*(json.loads(tasks.read_text()) if tasks.exists() else []), task})
    write_json(tasks, names)
    write_json(pred / task / "schema.json", SCHEMA)
    for stem, stem_boxes in boxes.items():
        boxes_json = [{"category_id": 0, "bbox": b, "score": 0.9, "probabilities": [0.9, 0.1]} for b in stem_boxes]
        write_json(pred / task / f"{stem}.json", {"file_name": f"{stem}.png", "predictions": boxes_json})


@pytest.fixture
def datasource(tmp_path):
    """Three photos and the task `det` with five boxes."""
    root = tmp_path / "ds"
    root.mkdir()
    for stem in BOXES:
        shutil.copyfile(package_file("skimage", "data", f"{stem}.png"), root / f"{stem}.png")
    write_task(root, "det", BOXES)
    return root


def config(task: str = "det", padding: float = 0.0) -> dict:
    return {
        "worker_config": {"enable_corruptness_check": False, "remove_exact_duplicates": False, "object_level": {"task_name": task, "padding": padding}},
        "selection_config": {"n_samples": 2, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]},
    }


def embedded(result) -> tuple[int, int]:
    return result.counts["embedded"], result.counts["embeddings reused"]


def assert_same_as_fresh(tmp_path, datasource, cfg, result) -> None:
    """The vectors a run used equal those a fresh workspace computes for the same config."""
    fresh = run(datasource, cfg, catalog=tmp_path / "fresh")
    assert fresh.samples.id.tolist() == result.samples.id.tolist()
    ids = result.samples.id
    np.testing.assert_array_equal(stored(datasource / ".thresher", ids), stored(tmp_path / "fresh", ids))


def stored(workspace, ids) -> np.ndarray:
    """The latest stored vector of each of `ids` in `workspace`'s one embedding store."""
    (folder,) = [p for p in (workspace / "embeddings").iterdir() if p.is_dir()]
    return EmbeddingStore(folder).load().align(ids).vectors


def test_the_same_crops_are_reused(datasource):
    assert embedded(run(datasource, config())) == (5, 0)
    assert embedded(run(datasource, config())) == (0, 5)


def test_another_padding_embeds_every_crop_again(tmp_path, datasource):
    run(datasource, config())
    padded = run(datasource, config(padding=0.2))
    assert embedded(padded) == (5, 0)
    assert_same_as_fresh(tmp_path, datasource, config(padding=0.2), padded)


def test_a_moved_box_embeds_that_crop_only(tmp_path, datasource):
    run(datasource, config())
    write_task(datasource, "det", {**BOXES, "coffee": [[40, 30, 200, 150]]})
    moved = run(datasource, config())
    assert embedded(moved) == (1, 4)
    assert_same_as_fresh(tmp_path, datasource, config(), moved)


def test_another_task_embeds_the_crops_whose_boxes_differ(tmp_path, datasource):
    run(datasource, config())
    other = {"chelsea": [BOXES["chelsea"][1], BOXES["chelsea"][0]], "coffee": BOXES["coffee"], "astronaut": [[0, 0, 50, 60]]}
    write_task(datasource, "other", other)
    switched = run(datasource, config(task="other"))
    assert embedded(switched) == (3, 1)  # chelsea's two boxes swapped places, astronaut has a new one; coffee's is the same
    assert_same_as_fresh(tmp_path, datasource, config(task="other"), switched)


def test_a_changed_media_file_embeds_its_crops_again(datasource):
    run(datasource, config())
    shutil.copyfile(package_file("skimage", "data", "astronaut.png"), datasource / "coffee.png")  # same name, other pixels
    assert embedded(run(datasource, config())) == (1, 4)
