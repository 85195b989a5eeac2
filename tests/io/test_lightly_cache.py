"""The columnar cache of prediction tasks: only changed files are parsed, a damaged cache is rebuilt,
concurrent readers never corrupt it. Real video (bikes.mp4, 250 frames), real Lightly files."""

import json
import multiprocessing
import os
import shutil
from pathlib import Path
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from thresher import Detections
from thresher.io import file_cache, lightly_cache
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import PredictionTask, read_predictions, write_predictions
from thresher.io.lightly_schema import PredictionSchema
from thresher.io.problems import Problems

TASK = "det"
SCHEMA = PredictionSchema.detection(["person", "bicycle", "car"])


@pytest.fixture
def source(tmp_path, bikes_mp4):
    root = tmp_path / "ds"
    root.mkdir()
    shutil.copyfile(bikes_mp4, root / "bikes.mp4")
    source = Datasource(root)
    frames = source.frames()
    rng = np.random.default_rng(0)
    frame = np.repeat(np.arange(len(frames)), rng.integers(0, 5, len(frames)))
    xy = np.round(rng.uniform(0, [500, 150], (len(frame), 2)), 3)
    wh = np.round(rng.uniform(1, 100, (len(frame), 2)), 3)
    probs = rng.dirichlet(np.ones(3), len(frame))
    dets = Detections.from_xywh(frame, np.hstack([xy, wh]), rng.uniform(0, 1, len(frame)), probs.argmax(1), probs=probs)
    write_predictions(source.lightly, PredictionTask(TASK, SCHEMA, frames, dets))
    return source


def prediction(source, name: str) -> Path:
    return Path(source.input.root) / ".lightly/predictions" / TASK / name.replace(".png", ".json")


def read(source, cache):
    """(task, problems, files parsed) of one read with the cache."""
    parsed = []
    problems = Problems()
    task = read_predictions(source.lightly, TASK, source.frames(), problems, cache=cache, progress=lambda done, total: parsed.append(total))
    return task, problems, parsed[-1] if parsed else 0


def assert_same(task, problems, source):
    """The task equals a read without any cache, problems included."""
    fresh_problems = Problems()
    fresh = read_predictions(source.lightly, TASK, source.frames(), fresh_problems)
    for column in ("frame", "xyxy", "score", "class_id", "probs"):
        assert np.array_equal(getattr(task.detections, column), getattr(fresh.detections, column)), column
    assert (task.schema, task.invalid, task.missing, task.files_digest) == (fresh.schema, fresh.invalid, fresh.missing, fresh.files_digest)
    assert list(problems) == list(fresh_problems)


def test_a_second_read_parses_nothing_and_equals_the_files(source, tmp_path):
    cache = tmp_path / "cache"
    first, _, parsed = read(source, cache)
    assert parsed == 250 and len(list(cache.glob("*.npz"))) == 1
    second, problems, parsed = read(source, cache)
    assert parsed == 0
    assert_same(second, problems, source)
    assert len(second.detections) == len(first.detections) > 200


def test_only_the_changed_files_are_parsed(source, tmp_path):
    cache = tmp_path / "cache"
    read(source, cache)
    stamp = os.stat(prediction(source, "bikes-003-mp4.png")).st_mtime_ns
    os.utime(prediction(source, "bikes-003-mp4.png"), ns=(stamp + 10**9, stamp + 10**9))  # touched: same bytes, new time
    task, problems, parsed = read(source, cache)
    assert parsed == 1
    assert_same(task, problems, source)

    path = prediction(source, "bikes-010-mp4.png")
    data = json.loads(path.read_text())
    data["predictions"].append({"category_id": 2, "bbox": [1, 2, 30, 40], "score": 0.5, "probabilities": [0.25, 0.25, 0.5]})
    path.write_text(json.dumps(data))  # size changed
    before = len(task.detections)
    task, problems, parsed = read(source, cache)
    assert parsed == 1 and len(task.detections) == before + 1
    assert_same(task, problems, source)

    os.remove(prediction(source, "bikes-020-mp4.png"))  # deleted: the frame has no file now
    task, problems, parsed = read(source, cache)
    assert parsed == 0 and "bikes-020-mp4.png" in task.missing
    assert_same(task, problems, source)

    prediction(source, "bikes-020-mp4.png").write_text(json.dumps({"file_name": "bikes-020-mp4.png", "predictions": []}))  # added
    task, problems, parsed = read(source, cache)
    assert parsed == 1 and "bikes-020-mp4.png" not in task.missing
    assert_same(task, problems, source)
    assert read(source, cache)[2] == 0


def test_a_file_with_a_problem_is_parsed_and_reported_at_every_read(source, tmp_path):
    cache = tmp_path / "cache"
    prediction(source, "bikes-005-mp4.png").write_text("{broken")
    for expected in (250, 1):  # all at first, then the broken file alone
        task, problems, parsed = read(source, cache)
        assert parsed == expected
        assert [p.file for p in problems] == [f".lightly/predictions/{TASK}/bikes-005-mp4.json"]
        assert task.invalid == ("bikes-005-mp4.png",)
        assert_same(task, problems, source)


def test_a_box_outside_its_image_is_checked_at_every_read_without_parsing(source, tmp_path):
    cache = tmp_path / "cache"
    path = prediction(source, "bikes-007-mp4.png")
    path.write_text(
        json.dumps({"file_name": "bikes-007-mp4.png", "predictions": [{"category_id": 0, "bbox": [600, 250, 100, 100], "score": 0.5, "probabilities": [0.5, 0.25, 0.25]}]})
    )
    read(source, cache)
    task, problems, parsed = read(source, cache)
    assert parsed == 0 and task.invalid == ("bikes-007-mp4.png",) and "a box inside the image" in str(problems[0])
    assert_same(task, problems, source)


def test_a_changed_schema_discards_the_cache(source, tmp_path):
    cache = tmp_path / "cache"
    read(source, cache)
    schema = Path(source.input.root) / ".lightly/predictions" / TASK / "schema.json"
    data = json.loads(schema.read_text())
    data["categories"].append({"id": 7, "name": "bus"})  # 4 categories: every 3-value probability vector is wrong now
    schema.write_text(json.dumps(data))
    task, problems, parsed = read(source, cache)
    assert parsed == 250 and len(problems) > 100
    assert_same(task, problems, source)


def test_a_changed_file_without_the_tasks_probabilities_is_diagnosed_as_without_a_cache(source, tmp_path):
    cache = tmp_path / "cache"
    read(source, cache)
    prediction(source, "bikes-001-mp4.png").write_text(json.dumps({"file_name": "bikes-001-mp4.png", "predictions": [{"category_id": 0, "bbox": [1, 1, 20, 20], "score": 0.5}]}))
    task, problems, parsed = read(source, cache)
    assert parsed == 250  # the cached files have probabilities, the changed one not: all parsed again
    assert "probabilities" in str(problems[0]) and task.invalid == ("bikes-001-mp4.png",)
    assert_same(task, problems, source)


def damage_truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def damage_flip(path):
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(255 - b for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))


def damage_values(path):
    """A well-formed cache whose boxes were changed after it was written."""
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["item:score"] = arrays["item:score"] * 0.5
    np.savez(path, **arrays)


def damage_garbage(path):
    path.write_bytes(b"not a cache at all")


@pytest.mark.parametrize("damage", [damage_truncate, damage_flip, damage_values, damage_garbage])
def test_a_damaged_cache_is_rebuilt_never_trusted(source, tmp_path, damage):
    cache = tmp_path / "cache"
    read(source, cache)
    (path,) = cache.glob("*.npz")
    damage(path)
    task, problems, parsed = read(source, cache)
    assert parsed == 250
    assert_same(task, problems, source)
    assert file_cache.load(path, lightly_cache.signature(source.lightly, TASK, SCHEMA)) is not None  # rebuilt whole
    assert read(source, cache)[2] == 0


def test_the_cache_of_the_previous_format_is_removed(source, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / ("0123456789abcdef" * 2 + ".npz")).write_bytes(b"old")
    read(source, cache)
    assert [p.name for p in cache.iterdir()] == [lightly_cache.cache_file(cache, source.lightly, TASK).name]


def _reader(root: str, cache: str, touch: int) -> int:
    """Touch one file (a new time) and read the task with the cache, 5 times."""
    source = Datasource(root)
    path = f"{root}/.lightly/predictions/{TASK}/bikes-{touch:03d}-mp4.json"
    for k in range(5):
        stamp = os.stat(path).st_mtime_ns
        os.utime(path, ns=(stamp + 10**9 * (k + 1), stamp + 10**9 * (k + 1)))
        task = read_predictions(source.lightly, TASK, source.frames(), Problems(), cache=cache)
    return len(task.detections)


def test_concurrent_readers_leave_a_whole_cache(source, tmp_path):
    cache = tmp_path / "cache"
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        counts = list(pool.map(_reader, [source.input.root] * 4, [str(cache)] * 4, [10, 20, 30, 40]))
    assert len(set(counts)) == 1
    assert [p.name for p in cache.iterdir()] == [lightly_cache.cache_file(cache, source.lightly, TASK).name]  # no temporary left
    assert file_cache.load(next(cache.iterdir()), lightly_cache.signature(source.lightly, TASK, SCHEMA)) is not None
    task, problems, parsed = read(source, cache)
    assert parsed <= 4  # at most the files touched after the last write
    assert_same(task, problems, source)


def test_optional_fields_come_from_a_current_cache_without_reading_files(source, tmp_path, monkeypatch):
    """The config check's look at a task's per-box fields: from the columnar cache while its
    files are unchanged, from the files once they changed."""
    from thresher.io.lightly_predictions import optional_fields
    from thresher.io.storage import Location

    cache = tmp_path / "cache"
    read(source, cache)
    reads: list[str] = []
    original = Location.read_many
    monkeypatch.setattr(Location, "read_many", lambda self, names: original(self, [reads.append(n) or n for n in names]))
    assert optional_fields(source.lightly, TASK, cache=cache) == {"probabilities"} and reads == []
    frames = source.frames()
    plain = Detections.from_xywh([0, 1], [[1, 2, 3, 4], [5, 6, 7, 8]], [0.5, 0.6], [0, 2])  # no probabilities: new files, other sizes
    write_predictions(source.lightly, PredictionTask(TASK, SCHEMA, frames, plain))
    assert optional_fields(source.lightly, TASK, cache=cache) == frozenset() and reads
