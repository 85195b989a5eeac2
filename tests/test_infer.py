"""Predict and embed over a real datasource with the built-in detector: outputs, resume, bad files."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.conftest import faststart_copy, package_file, tree_digest
from tests.killed_writes import temporaries
from thresher.embedding_store import EmbeddingStore
from thresher.infer import run_models, sample_rows
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import read_predictions
from thresher.io.problems import Problems

TASK = "pretagging"


@pytest.fixture
def datasource(tmp_path, bikes_mp4, carphone_mp4):
    root = tmp_path / "ds"
    root.mkdir()
    shutil.copyfile(bikes_mp4, root / "bikes.mp4")
    shutil.copyfile(package_file("skimage", "data", "chelsea.png"), root / "chelsea.png")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage, not a JPEG")
    faststart_copy(carphone_mp4, root / "cut.mp4")
    data = (root / "cut.mp4").read_bytes()
    (root / "cut.mp4").write_bytes(data[: len(data) // 2])
    return root


def media_digest(root):
    return {k: v for k, v in tree_digest(root).items() if not k.startswith((".lightly", ".thresher"))}


def test_predict_writes_a_valid_task_and_skips_bad_files(datasource, ssd):
    before = media_digest(datasource)
    source = Datasource(datasource)
    result = run_models(source, detector=ssd, task=TASK, every=25)
    skipped = " ".join(str(p) for p in result.skipped)
    assert "broken.jpg" in skipped  # reported by name, and the rest went on
    problems = Problems()
    task = read_predictions(source.lightly, TASK, source.frames(Problems()), problems)
    assert list(problems) == []
    frames = task.frames
    bikes = np.flatnonzero((frames.video == "bikes.mp4") & (frames.frame_index % 25 == 0))
    counts = task.detections.counts_per_frame(len(frames))
    assert set(bikes) <= set(np.flatnonzero(~np.isin(frames.file_name, task.missing)))
    cars = task.detections.class_id == 3  # COCO (TF-OD) id of car
    frames_with_cars = np.unique(task.detections.frame[cars])
    assert len(np.intersect1d(frames_with_cars, bikes)) >= len(bikes) // 2
    cat = frames.index_of(["chelsea.png"])[0]
    chelsea_boxes = task.detections[task.detections.frame == cat]
    assert (chelsea_boxes.class_id[chelsea_boxes.score > 0.8] == 17).any()  # a cat
    assert np.array_equal(task.detections.probs.argmax(axis=1), np.searchsorted(task.schema.ids, task.detections.class_id))
    assert counts[bikes].sum() > 0
    assert media_digest(datasource) == before
    assert temporaries(datasource) == []


def test_resume_skips_finished_frames_and_redoes_invalid_ones(datasource, ssd):
    source = Datasource(datasource)
    first = run_models(source, detector=ssd, task=TASK, every=50)
    assert first.predicted > 0
    again = run_models(source, detector=ssd, task=TASK, every=50)
    assert again.predicted == 0 and again.reused == first.predicted
    (datasource / ".lightly/predictions" / TASK / "bikes-100-mp4.json").write_text("{ truncated")
    (datasource / ".lightly/predictions" / TASK / "bikes-150-mp4.json").unlink()
    third = run_models(source, detector=ssd, task=TASK, every=50)
    assert third.predicted == 2


def test_an_interrupted_run_keeps_what_it_finished(datasource, ssd):
    source = Datasource(datasource)

    def stop_after_first_batch(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_models(source, detector=ssd, task=TASK, every=25, batch_size=4, progress=stop_after_first_batch)
    written = list((datasource / ".lightly/predictions" / TASK).glob("*.json"))
    assert len(written) == 1 + 4  # schema.json and the first batch, each file whole
    assert temporaries(datasource) == []
    rest = run_models(source, detector=ssd, task=TASK, every=25, batch_size=4)
    assert rest.reused == 4


def test_predict_and_embed_in_one_pass(datasource, ssd, tmp_path):
    source = Datasource(datasource)
    store = EmbeddingStore(tmp_path / "emb")
    result = run_models(source, detector=ssd, task=TASK, embedder=ssd, store=store, every=50)
    embeddings = store.load()
    assert result.embedded == result.predicted == len(embeddings) > 0
    assert embeddings.dim == 1280
    assert np.allclose(np.linalg.norm(embeddings.vectors, axis=1), 1, atol=1e-5)
    again = run_models(source, detector=ssd, task=TASK, embedder=ssd, store=store, every=50)
    assert again.embedded == 0 and len(store.load()) == len(embeddings)


def test_sample_rows_takes_every_nth_frame_and_every_image(datasource):
    frames = Datasource(datasource).frames(Problems())
    rows = sample_rows(frames, every=100)
    assert sorted(frames.file_name[rows].tolist())[:4] == ["bikes-000-mp4.png", "bikes-100-mp4.png", "bikes-200-mp4.png", "chelsea.png"]


def test_workers_give_the_same_files_and_vectors_bit_for_bit(datasource, ssd, tmp_path):
    """One model on one thread, and one replica per worker: identical prediction files and embeddings."""
    outputs = []
    for workers in (1, 2, 3):
        copy = tmp_path / f"w{workers}"
        shutil.copytree(datasource, copy)
        source = Datasource(copy)
        store = EmbeddingStore(tmp_path / f"emb{workers}")
        result = run_models(source, detector=ssd, task=TASK, embedder=ssd, store=store, every=10, batch_size=3, workers=workers)
        files = {p.name: p.read_bytes() for p in sorted((copy / ".lightly/predictions" / TASK).glob("*.json"))}
        loaded = store.load()
        outputs.append((result.predicted, result.embedded, [str(p) for p in result.skipped], files, loaded.ids.tolist(), loaded.vectors.tobytes()))
    assert outputs[0][0] > 20 and outputs[0] == outputs[1] == outputs[2]


def test_pixels_read_ahead_on_threads_come_in_order_with_the_same_problems(datasource):
    from thresher.io.pixels import iter_pixels

    source = Datasource(datasource)
    frames = source.frames(Problems())
    rows = np.flatnonzero(frames.frame_index % 7 == 0)[::-1]
    (datasource / "chelsea.png").write_bytes(b"no longer an image")  # both break after they were listed
    data = (datasource / "bikes.mp4").read_bytes()
    (datasource / "bikes.mp4").write_bytes(data[: len(data) * 2 // 3])
    runs = []
    for readers in (0, 1, 3):
        problems = Problems()
        items = list(iter_pixels(source, frames, rows, problems, readers=readers))
        runs.append(([r for r, _ in items], [i.tobytes() for _, i in items], list(problems)))
    assert runs[0] == runs[1] == runs[2]
    assert [p.file for p in runs[0][2]] == ["bikes.mp4", "chelsea.png"]  # in reading order
    assert len(runs[0][0]) == sum(frames.video[rows] == "cut.mp4")  # the frames of the intact video
