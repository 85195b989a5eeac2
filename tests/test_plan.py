"""The one plan/resume rule of both engines, over a real datasource (two images, a 120-frame video)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from tests.conftest import read_rgb
from thresher.embedding_store import EmbeddingStore
from thresher.embeddings import Embeddings
from thresher.errors import UsageError
from thresher.infer import run_models
from thresher.io.datasource import Datasource
from thresher.io.problems import Problems
from thresher.frames import Frames
from thresher.plan import crop_keys, frame_keys, plan_crops, plan_models, sample_rows, write_task_schema

PREDICTED = ["img/a.jpg", "img/b.jpg", "clips/car-005-mp4.png"]  # clean_datasource's prediction files of task "det"


@pytest.fixture
def source(clean_datasource) -> Datasource:
    return Datasource(clean_datasource)


@pytest.fixture
def store(tmp_path, source, clean_datasource, ssd) -> EmbeddingStore:
    """A store holding the built-in detector's vector of img/b.jpg only, with its key."""
    store = EmbeddingStore(tmp_path / "embeddings")
    b = Frames.build(["img/b.jpg"], kind="image")
    store.append(Embeddings(["img/b.jpg"], ssd.embed([read_rgb(clean_datasource / "img/b.jpg")])), frame_keys(source, b))
    return store


def rows_of(frames, ids) -> list[int]:
    return sorted(frames.index_of(ids).tolist())


def test_resume_skips_valid_prediction_files_and_stored_embeddings(source, store, ssd):
    plan = plan_models(source, detector=ssd, task="det", embedder=ssd, store=store, every=5)
    frames = plan.frames
    sampled = sample_rows(frames, 5)
    assert plan.rows.tolist() == sampled.tolist() and len(sampled) == 2 + 24  # two images, frames 0, 5, …, 115
    assert plan.todo_pred.tolist() == sorted(set(sampled.tolist()) - set(rows_of(frames, PREDICTED)))
    assert plan.todo_emb.tolist() == sorted(set(sampled.tolist()) - set(rows_of(frames, ["img/b.jpg"])))
    assert plan.reused == 1  # img/b.jpg: predicted and embedded
    assert plan.predictions_reused == 3
    assert plan.work.tolist() == sorted(set(plan.todo_pred.tolist()) | set(plan.todo_emb.tolist()))


def test_an_invalid_or_missing_prediction_file_is_predicted_again(source, clean_datasource, ssd):
    (clean_datasource / ".lightly/predictions/det/img/a.json").write_text("{ truncated")
    (clean_datasource / ".lightly/predictions/det/clips/car-005-mp4.json").unlink()
    plan = plan_models(source, detector=ssd, task="det", every=5)
    assert set(rows_of(plan.frames, ["img/b.jpg"])) == set(plan.rows.tolist()) - set(plan.todo_pred.tolist())


def test_redo_computes_sampled_rows_again_and_resume_off_computes_all(source, store, ssd):
    frames = source.frames(Problems())
    a, unsampled = rows_of(frames, ["img/a.jpg"])[0], rows_of(frames, ["clips/car-001-mp4.png"])[0]
    plan = plan_models(source, detector=ssd, task="det", embedder=ssd, store=store, every=5, frames=frames, redo=np.array([a, unsampled]))
    assert a in plan.todo_pred and a in plan.todo_emb
    assert unsampled not in plan.work  # redo does not add rows the run does not sample
    fresh = plan_models(source, detector=ssd, task="det", embedder=ssd, store=store, every=5, frames=frames, resume=False)
    assert fresh.todo_pred.tolist() == fresh.todo_emb.tolist() == fresh.rows.tolist() and fresh.reused == 0


def test_a_frame_is_embedded_again_when_its_media_file_changed_or_its_vector_has_no_key(source, clean_datasource, store, ssd):
    """No record outside the store is read: its keys alone say which vectors are current."""
    frames = source.frames(Problems())
    a, b = rows_of(frames, ["img/a.jpg"])[0], rows_of(frames, ["img/b.jpg"])[0]
    store.append(Embeddings(["img/a.jpg"], np.ones((1, 1280), np.float32)))  # stored without a key (an earlier version)
    plan = plan_models(source, embedder=ssd, store=store, frames=frames, rows=np.array([a, b]))
    assert plan.todo_emb.tolist() == [a]  # img/b.jpg: stored with its current key
    os.utime(clean_datasource / "img/b.jpg", ns=(0, 10**9))  # the file modified since its vector was stored
    plan = plan_models(source, embedder=ssd, store=store, frames=frames, rows=np.array([a, b]))
    assert plan.todo_emb.tolist() == sorted([a, b])
    run_models(source, embedder=ssd, store=store, frames=frames, rows=np.array([a, b]))
    assert len(plan_models(source, embedder=ssd, store=store, frames=frames, rows=np.array([a, b])).todo_emb) == 0


def test_a_frame_key_is_its_media_file_size_and_time(source, clean_datasource):
    frames = Frames.build(
        ["img/a.jpg", "clips/car-005-mp4.png", "gone.jpg"], kind=["image", "frame", "image"], video=["img/a.jpg", "clips/car.mp4", "gone.jpg"], frame_index=[0, 5, 0]
    )
    keys = frame_keys(source, frames, np.array([0, 1, 2]))
    info = (clean_datasource / "img/a.jpg").stat()
    assert keys[0].tolist() == [info.st_size, info.st_mtime]
    assert keys[1, 0] == (clean_datasource / "clips/car.mp4").stat().st_size
    assert np.isnan(keys[2]).all()  # a file that cannot be read equals nothing: its frames are embedded again
    assert np.isnan(frame_keys(source, frames, np.array([0]))[1:]).all()  # rows not asked for: no stat


def test_given_rows_replace_the_sampled_ones(source, ssd):
    frames = source.frames(Problems())
    rows = rows_of(frames, ["clips/car-001-mp4.png", "clips/car-005-mp4.png"])
    plan = plan_models(source, detector=ssd, task="det", frames=frames, rows=np.array(rows))
    assert plan.rows.tolist() == rows and plan.todo_pred.tolist() == rows_of(frames, ["clips/car-001-mp4.png"])
    assert plan.todo_emb.tolist() == [] and plan.predictions_reused == 1


@pytest.mark.parametrize(
    "models",
    [{"detector": "ssd"}, {"task": "det"}, {"embedder": "ssd"}, {}, {"detector": "ssd", "task": "det", "store": "store"}],
)
def test_a_detector_needs_a_task_and_an_embedder_a_store(tmp_path, models, ssd, store):
    given = {k: {"ssd": ssd, "store": store}.get(v, v) for k, v in models.items()}
    missing = Datasource(tmp_path)  # an empty folder: the models are checked before any frame is read
    with pytest.raises(UsageError, match="run_models: give a detector with a task, and/or an embedder with a store"):
        plan_models(missing, **given)


def test_crops_already_stored_are_not_embedded_again(store):
    from thresher.frames import Frames

    crops = Frames.build(["img/a.jpg", "img/b.jpg", "img/c.jpg"], kind="crop", parent_id="img/x.jpg")
    assert plan_crops(crops, store).tolist() == [0, 2]
    assert plan_crops(crops, store, resume=False).tolist() == [0, 1, 2]


def test_a_crop_is_embedded_again_when_its_key_differs_from_the_stored_one(tmp_path):
    from thresher.frames import Frames

    store = EmbeddingStore(tmp_path / "crops")
    keys = np.array([[0, 0, 4, 4, 100, 1.5], [4, 4, 8, 8, 100, 1.5], [1, 1, 2, 2, 7, 2.0]])
    store.append(Embeddings(["x-0-jpg.png", "x-1-jpg.png"], np.eye(2, 3, dtype=np.float32)), keys[:2])
    crops = Frames.build(["x-0-jpg.png", "x-1-jpg.png", "y-0-jpg.png"], kind="crop", parent_id="x.jpg")
    assert plan_crops(crops, store, keys=keys).tolist() == [2]  # stored with the same key: reused
    moved = keys.copy()
    moved[1, 0] = 5  # another box (a moved box, another padding or task)
    moved[0, 5] = 3.0  # the media file modified since
    assert plan_crops(crops, store, keys=moved).tolist() == [0, 1, 2]


def test_a_crop_key_is_its_pixel_box_and_its_media_file_size_and_time(source, clean_datasource):
    from thresher.frames import Frames

    crops = Frames.build(["img/a-0-jpg.png", "clips/car-5-0-mp4.png", "gone-0-jpg.png"], kind="crop", video=["img/a.jpg", "clips/car.mp4", "gone.jpg"], parent_id="p")
    keys = crop_keys(source, crops, np.array([[1, 2, 3, 4], [0, 0, 8, 8], [0, 0, 1, 1]]))
    info = (clean_datasource / "img/a.jpg").stat()
    assert keys[0].tolist() == [1, 2, 3, 4, info.st_size, info.st_mtime]
    assert keys[1, 4] == (clean_datasource / "clips/car.mp4").stat().st_size
    assert np.isnan(keys[2, 4:]).all()  # a file that cannot be read equals nothing: its crops are embedded again


def test_a_task_with_other_categories_is_refused_before_any_work(source, clean_datasource, ssd):
    with pytest.raises(UsageError) as refused:
        write_task_schema(source, "det", ssd)
    message = str(refused.value)
    assert message.startswith(f"{source.lightly.url.rstrip('/')}/.lightly/predictions/det/schema.json: task 'det' holds object-detection [")
    assert "the detector now predicts object-detection [person, bicycle, car," in message and "remove the folder" in message
    write_task_schema(source, "ssd", ssd)
    written = json.loads((clean_datasource / ".lightly/predictions/ssd/schema.json").read_text())
    assert len(written["categories"]) == len(ssd.categories)
    write_task_schema(source, "ssd", ssd)  # the same categories again: fine


def test_the_local_engine_does_what_the_plan_says(source, store, ssd):
    """run_models computes exactly the plan's rows (the Ray engine's test_ray compares it with run_models)."""
    plan = plan_models(source, detector=ssd, task="ssd", embedder=ssd, store=store, every=40)
    result = run_models(source, detector=ssd, task="ssd", embedder=ssd, store=store, every=40)
    assert (result.predicted, result.embedded, result.reused) == (len(plan.todo_pred), len(plan.todo_emb), plan.reused)
    assert (result.predicted, result.embedded) == (2 + 3, 2 + 3 - 1)
    again = plan_models(source, detector=ssd, task="ssd", embedder=ssd, store=store, every=40)
    assert len(again.work) == 0 and again.reused == len(again.rows)
