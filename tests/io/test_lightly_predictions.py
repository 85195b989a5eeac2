import json
import shutil

import numpy as np
import pytest

from thresher import Detections, SchemaError
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import PredictionTask, read_predictions, write_predictions
from thresher.io.lightly_schema import PredictionSchema, read_task_names
from thresher.io.problems import Problems
from thresher.io.storage import Location


@pytest.fixture
def bikes_datasource(tmp_path, bikes_mp4):
    shutil.copyfile(bikes_mp4, tmp_path / "bikes.mp4")
    return Datasource(tmp_path)


def random_detections(n_frames: int, n_classes: int, seed: int = 0) -> Detections:
    rng = np.random.default_rng(seed)
    per_frame = rng.integers(0, 6, n_frames)
    frame = np.repeat(np.arange(n_frames), per_frame)
    m = len(frame)
    xy = np.round(rng.uniform(0, [500, 150], (m, 2)), 3)
    wh = np.round(rng.uniform(1, 120, (m, 2)), 3)
    logits = rng.normal(size=(m, n_classes))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return Detections.from_xywh(frame, np.hstack([xy, wh]), rng.uniform(0, 1, m), rng.integers(0, n_classes, m), probs=probs)


def test_bikes_enumerates_to_250_lightly_frames(bikes_datasource):
    frames = bikes_datasource.frames()
    assert len(frames) == 250
    assert frames.file_name[0] == "bikes-000-mp4.png" and frames.file_name[-1] == "bikes-249-mp4.png"
    assert (frames.kind == "frame").all() and (frames.video == "bikes.mp4").all()
    assert frames.frame_index.tolist() == list(range(250))
    assert set(frames.width.tolist()) == {640} and set(frames.height.tolist()) == {272}


def test_bikes_predictions_round_trip_identical(bikes_datasource):
    frames = bikes_datasource.frames()
    schema = PredictionSchema.detection(["person", "bicycle", "car"])
    dets = random_detections(len(frames), 3)
    write_predictions(bikes_datasource.lightly, PredictionTask("det", schema, frames, dets))
    task = read_predictions(bikes_datasource.lightly, "det", frames)
    for column in ("frame", "xyxy", "score", "class_id", "probs"):
        assert np.array_equal(getattr(task.detections, column), getattr(dets, column)), column
    assert task.schema == schema and task.invalid == () and task.missing == ()
    assert read_task_names(bikes_datasource.lightly) == ["det"]
    written = json.loads(bikes_datasource.lightly.read_bytes(".lightly/predictions/det/bikes-007-mp4.json"))
    assert written["file_name"] == "bikes-007-mp4.png"


def test_write_is_idempotent_on_integer_boxes(tmp_path):
    location = Location(tmp_path)
    frames = Frames_of(["a.jpg", "b.jpg"])
    dets = Detections.from_xywh([0, 0, 1], [[1, 2, 3, 4], [0, 0, 5, 5], [7, 7, 1, 1]], [0.5, 0.25, 1.0], [0, 1, 0])
    write_predictions(location, PredictionTask("t", PredictionSchema.detection(["a", "b"]), frames, dets))
    first = (tmp_path / ".lightly/predictions/t/a.json").read_text()
    assert json.loads(first)["predictions"][0] == {"category_id": 0, "bbox": [1, 2, 3, 4], "score": 0.5}
    task = read_predictions(location, "t")
    write_predictions(location, task)
    assert (tmp_path / ".lightly/predictions/t/a.json").read_text() == first


def Frames_of(names):
    from thresher import Frames

    return Frames.build(names)


def test_probabilities_follow_category_ids_not_file_order(tmp_path):
    location = Location(tmp_path)
    (tmp_path / ".lightly/predictions/t").mkdir(parents=True)
    (tmp_path / ".lightly/predictions/tasks.json").write_text('["t"]')
    (tmp_path / ".lightly/predictions/t/schema.json").write_text(json.dumps({"task_type": "object-detection", "categories": [{"id": 5, "name": "bus"}, {"id": 2, "name": "car"}]}))
    task = read_predictions(location, "t")
    assert [c.id for c in task.schema.categories] == [2, 5]


def test_strict_reader_raises_at_first_problem(clean_datasource):
    path = clean_datasource / ".lightly/predictions/det/img/a.json"
    path.write_text(json.dumps({"file_name": "img/a.jpg", "predictions": [{"category_id": 3, "bbox": [0, 0, 0, 5], "score": 0.5, "probabilities": [0.5, 0.5]}]}))
    source = Datasource(clean_datasource)
    with pytest.raises(SchemaError, match=r"img/a.json: predictions\[0\].bbox: expected w >= 1"):
        read_predictions(source.lightly, "det", source.frames())
    problems = Problems()
    task = read_predictions(source.lightly, "det", source.frames(), problems)
    assert task.invalid == ("img/a.jpg",) and len(task.detections) == 2 and len(problems) == 1


def test_the_task_keeps_why_each_file_is_invalid(clean_datasource, tmp_path):
    """Every read (parsed or from the cache) says what is wrong with each invalid file, and which
    files name no sample of the datasource."""
    from thresher.io.lightly_predictions import files_for_no_sample, invalid_reasons

    folder = clean_datasource / ".lightly/predictions/det"
    (folder / "img/a.json").write_text(json.dumps({"file_name": "img/a.jpg", "predictions": [{"category_id": 3, "bbox": [0, 0, 5, 5], "score": 1.5, "probabilities": [0.5, 0.5]}]}))
    (folder / "img/nowhere.json").write_text(json.dumps({"file_name": "img/nowhere.jpg", "predictions": []}))
    source = Datasource(clean_datasource)
    for _ in range(2):
        task = read_predictions(source.lightly, "det", source.frames(), Problems(), cache=tmp_path / "cache")
        reasons = invalid_reasons(task)
        assert sorted(reasons) == ["img/a.jpg", "img/nowhere.jpg"]
        assert reasons["img/a.jpg"] == "predictions[0].score: expected a number in [0, 1], got 1.5"
        assert reasons["img/nowhere.jpg"] == "file_name: expected the name of an image or video frame of the datasource, got 'img/nowhere.jpg', which is not one"
        assert files_for_no_sample(task) == [".lightly/predictions/det/img/nowhere.json"]


def test_frames_without_a_prediction_file_are_missing_not_invalid(clean_datasource):
    source = Datasource(clean_datasource)
    task = read_predictions(source.lightly, "det", source.frames())
    assert len(task.missing) == 119 and "clips/car-000-mp4.png" in task.missing
    assert task.detections.counts_per_frame(len(task.frames)).sum() == 3


def test_cached_task_equals_parsed_and_misses_after_a_change(clean_datasource, tmp_path):
    source = Datasource(clean_datasource)
    frames = source.frames()
    cache = tmp_path / "cache"
    parsed = read_predictions(source.lightly, "det", frames, cache=cache)
    assert len(list(cache.glob("*.npz"))) == 1  # one file per task
    cached = read_predictions(source.lightly, "det", frames, cache=cache)
    for column in ("frame", "xyxy", "score", "class_id", "probs"):
        assert np.array_equal(getattr(cached.detections, column), getattr(parsed.detections, column))
    assert (cached.schema, cached.missing, cached.invalid) == (parsed.schema, parsed.missing, parsed.invalid)
    (clean_datasource / ".lightly/predictions/det/img/b.json").write_text(
        json.dumps({"file_name": "img/b.jpg", "predictions": [{"category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5, "probabilities": [0.5, 0.5]}]})
    )
    changed = read_predictions(source.lightly, "det", frames, cache=cache)
    assert len(changed.detections) == len(parsed.detections) + 1


def test_a_file_with_problems_is_not_cached(clean_datasource, tmp_path):
    (clean_datasource / ".lightly/predictions/det/img/b.json").write_text("{broken")
    source = Datasource(clean_datasource)
    for _ in range(2):
        problems = Problems()
        read_predictions(source.lightly, "det", source.frames(), problems, cache=tmp_path / "cache")
        assert [p.file for p in problems] == [".lightly/predictions/det/img/b.json"]  # reported at every read
    with np.load(next((tmp_path / "cache").glob("*.npz"))) as cached:
        assert sorted(cached["name"].tolist()) == [".lightly/predictions/det/clips/car-005-mp4.json", ".lightly/predictions/det/img/a.json"]
