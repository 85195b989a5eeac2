"""The columnar cache of metadata files: equal to parsing, only changed files parsed, never trusted
when damaged. Real video (bikes.mp4, 250 frames), real Lightly metadata files of every value type."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from thresher.io import file_cache, metadata_cache
from thresher.io.datasource import Datasource
from thresher.io.lightly_metadata import read_metadata, read_metadata_schema
from thresher.io.problems import Problems

SCHEMA = [
    {"name": "Flickering", "path": "flickering", "defaultValue": 0.5, "valueDataType": "NUMERIC_FLOAT"},
    {"name": "Count", "path": "count", "defaultValue": None, "valueDataType": "NUMERIC_INT"},
    {"name": "Camera", "path": "camera.id", "defaultValue": 0, "valueDataType": "CATEGORICAL_INT"},
    {"name": "Weather", "path": "weather", "defaultValue": "sun", "valueDataType": "CATEGORICAL_STRING"},
    {"name": "Night", "path": "night", "defaultValue": False, "valueDataType": "CATEGORICAL_BOOLEAN"},
    {"name": "Note", "path": "note", "defaultValue": None, "valueDataType": "OTHER_STRING"},
]


def write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def frame_file(root: Path, k: int) -> Path:
    return root / ".lightly/metadata" / f"bikes-{k:03d}-mp4.json"


@pytest.fixture
def root(tmp_path, bikes_mp4):
    root = tmp_path / "ds"
    root.mkdir()
    shutil.copyfile(bikes_mp4, root / "bikes.mp4")
    write(root / ".lightly/metadata/schema.json", SCHEMA)
    write(root / ".lightly/metadata/bikes.json", {"file_name": "bikes.mp4", "type": "video", "metadata": {"weather": "rain", "camera": {"id": 7}, "night": True}})
    rng = np.random.default_rng(0)
    for k in range(0, 250, 2):
        values = {"flickering": float(rng.choice([0.5, 1.0])), "count": int(rng.integers(0, 9))}
        if k % 10 == 0:
            values.update(weather="fog", camera={"id": 2**63 + k}, note=f"frame {k}\0")  # beyond int64, a trailing NUL
        write(frame_file(root, k), {"file_name": f"bikes-{k:03d}-mp4.png", "type": "frame", "metadata": values})
    write(root / ".lightly/metadata/other-001-mp4.json", {"file_name": "other-001-mp4.png", "type": "frame", "metadata": {"count": 3}})
    write(frame_file(root, 1), {"file_name": "bikes-001-mp4.png", "type": "frame", "metadata": {"count": "three"}})
    return root


def read(root: Path, cache):
    source = Datasource(root)
    problems = Problems()
    return read_metadata(source.lightly, source.frames(), problems, cache=cache), problems


def assert_same(found, problems, root: Path):
    fresh, fresh_problems = read(root, None)
    assert list(found.columns) == list(fresh.columns) and list(problems) == list(fresh_problems)
    for path, column in fresh.columns.items():
        assert column.dtype == found[path].dtype, path
        assert [type(v) for v in column.tolist()] == [type(v) for v in found[path].tolist()], path
        assert np.array_equal(column, found[path], equal_nan=column.dtype.kind == "f"), path


def test_the_cache_equals_the_files_for_every_value_type(root, tmp_path):
    cache = tmp_path / "cache"
    first, problems = read(root, cache)
    assert [p.file for p in problems] == [".lightly/metadata/bikes-001-mp4.json", ".lightly/metadata/other-001-mp4.json"]
    assert first["weather"][0] == "fog" and first["weather"][1] == "rain" and first["weather"][2] == "rain"  # own, then the video's
    assert first["camera.id"][10] == 2**63 + 10 and first["note"][10] == "frame 10\0" and first["note"][2] is None
    assert np.isnan(first["count"][1]) and first["night"][4] is True
    second, problems = read(root, cache)
    assert_same(second, problems, root)
    with np.load(next(cache.glob("*.npz"))) as data:  # files with values the arrays cannot hold exactly are left out
        assert ".lightly/metadata/bikes-010-mp4.json" not in data["name"].tolist()
        assert ".lightly/metadata/bikes-001-mp4.json" not in data["name"].tolist()
        assert len(data["name"]) == 125 - 25 + 2  # with the video's and other-001's (its name is matched at every read)


def test_a_schema_without_metadata_files_reads_again_from_its_empty_cache(tmp_path, bikes_mp4):
    root = tmp_path / "ds"
    root.mkdir()
    shutil.copyfile(bikes_mp4, root / "bikes.mp4")
    write(root / ".lightly/metadata/schema.json", SCHEMA)
    cache = tmp_path / "cache"
    first, _ = read(root, cache)
    with np.load(next(cache.glob("*.npz"))) as data:
        assert len(data["name"]) == 0
    second, problems = read(root, cache)  # an empty cache and no files: raised TypeError before
    assert_same(second, problems, root)
    assert second["weather"].tolist() == first["weather"].tolist() == ["sun"] * len(first["weather"])


def replace_keeping_time(path: Path, data) -> None:
    """New content of the same size, with the old modification time."""
    stat = path.stat()
    text = json.dumps(data)
    assert len(text) == stat.st_size
    path.write_text(text)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_only_files_whose_size_or_time_changed_are_parsed(root, tmp_path):
    cache = tmp_path / "cache"
    read(root, cache)
    path = frame_file(root, 4)
    data = json.loads(path.read_text())
    data["metadata"]["flickering"] = 0.5 if data["metadata"]["flickering"] == 1.0 else 1.0
    replace_keeping_time(path, data)
    found, _ = read(root, cache)
    assert found["flickering"][4] != data["metadata"]["flickering"]  # same size and time: not parsed, the cached value
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    found, problems = read(root, cache)
    assert found["flickering"][4] == data["metadata"]["flickering"]  # touched: parsed again
    assert_same(found, problems, root)

    frame_file(root, 6).unlink()  # deleted: the default again
    write(frame_file(root, 7), {"file_name": "bikes-007-mp4.png", "type": "frame", "metadata": {"weather": "snow"}})  # added
    write(frame_file(root, 8), {"file_name": "bikes-008-mp4.png", "type": "frame", "metadata": {"flickering": 1.0, "count": 12345}})  # other size
    found, problems = read(root, cache)
    assert found["flickering"][6] == 0.5 and found["weather"][7] == "snow" and found["count"][8] == 12345
    assert_same(found, problems, root)


def test_a_changed_schema_discards_the_cache(root, tmp_path):
    cache = tmp_path / "cache"
    read(root, cache)
    write(root / ".lightly/metadata/schema.json", SCHEMA[:2])
    found, problems = read(root, cache)
    assert list(found.columns) == ["flickering", "count"] and any("camera" in p.field for p in problems)
    assert_same(found, problems, root)


@pytest.mark.parametrize("damage", ["truncate", "values"])
def test_a_damaged_cache_is_rebuilt(root, tmp_path, damage):
    cache = tmp_path / "cache"
    read(root, cache)
    (path,) = cache.glob("*.npz")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:1000])
    else:
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        arrays["file:value:flickering"] = arrays["file:value:flickering"] * 0
        np.savez(path, **arrays)
    found, problems = read(root, cache)
    assert_same(found, problems, root)
    source = Datasource(root)
    assert file_cache.load(path, metadata_cache.signature(source.lightly, read_metadata_schema(source.lightly))) is not None
