"""A Datasource keeps each video's index: enumerating probes once, extraction reuses it."""

from __future__ import annotations

import pickle
import shutil

import numpy as np
import pytest

import thresher.io.video as video_module
from tests.conftest import read_rgb
from thresher.io.datasource import Datasource
from thresher.io.problems import Problems
from thresher.io.video import video_info
from thresher.io.video_infos import VideoInfos
from thresher.run.outputs import extract_frames


@pytest.fixture
def two_videos(tmp_path, bikes_mp4, carphone_mp4):
    folder = tmp_path / "ds"
    folder.mkdir()
    shutil.copyfile(bikes_mp4, folder / "bikes.mp4")
    shutil.copyfile(carphone_mp4, folder / "carphone.mp4")
    return folder


@pytest.fixture
def probes(monkeypatch):
    """The names of the videos demuxed for their index (the real probe runs)."""
    seen: list[str] = []
    real = video_module._probe

    def counted(container, name, path=None):
        seen.append(name)
        return real(container, name, path)

    monkeypatch.setattr(video_module, "_probe", counted)
    return seen


def test_enumerating_remembers_each_video_index(two_videos, probes):
    source = Datasource(two_videos)
    assert source.video_infos.known("bikes.mp4") is None
    frames = source.frames(Problems())
    assert sorted(probes) == ["bikes.mp4", "carphone.mp4"] and len(source.video_infos) == 2
    remembered = source.video_infos.known("bikes.mp4")
    assert remembered == video_info(source.input, "bikes.mp4") and remembered.n_frames == int((frames.video == "bikes.mp4").sum())
    assert source.video_infos.get("bikes.mp4") is remembered


def test_extraction_after_enumerating_demuxes_no_video_again(two_videos, tmp_path, probes):
    source = Datasource(two_videos)
    frames = source.frames(Problems())
    rows = np.flatnonzero(np.isin(frames.frame_index, [0, 57, 200]))
    probes.clear()
    written = extract_frames(source, frames, rows, tmp_path / "reused").written
    assert probes == [] and len(written) == len(rows) == 5  # carphone.mp4 is shorter than 200 frames
    fresh = Datasource(two_videos)  # no index remembered: each reader demuxes its video once
    assert extract_frames(fresh, frames, rows, tmp_path / "probed").written == written
    assert sorted(probes) == ["bikes.mp4", "carphone.mp4"] and len(fresh.video_infos) == 2
    for name in written:
        assert np.array_equal(read_rgb(tmp_path / "reused" / name), read_rgb(tmp_path / "probed" / name)), name


def test_the_bound_keeps_no_index_past_it(two_videos):
    infos = VideoInfos(Datasource(two_videos).input, limit=100)  # bikes.mp4 has 250 frames
    assert infos.get("bikes.mp4").n_frames == 250
    assert infos.known("bikes.mp4") is None and len(infos) == 0


def test_a_pickled_copy_starts_empty(two_videos):
    source = Datasource(two_videos)
    source.video_infos.get("bikes.mp4")
    copy = pickle.loads(pickle.dumps(source.video_infos))
    assert len(source.video_infos) == 1 and len(copy) == 0 and copy.location.url == source.input.url


def test_a_changed_video_is_demuxed_again(two_videos, bikes_mp4, probes):
    source = Datasource(two_videos)
    assert source.video_infos.get("carphone.mp4").n_frames < 250
    shutil.copyfile(bikes_mp4, two_videos / "carphone.mp4")  # replaced: another size
    assert source.video_infos.known("carphone.mp4") is None
    assert source.video_infos.get("carphone.mp4").n_frames == 250 and probes == ["carphone.mp4", "carphone.mp4"]
