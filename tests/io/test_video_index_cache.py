"""The video index cache: indexes come back exactly as a demux pass gives them, serve seeking
with no demux pass; a damaged file is ignored and rebuilt."""

import shutil

import numpy as np

from tests.conftest import edit_list_copy, rotated_copy
from thresher.io.datasource import Datasource
from thresher.io.pixels import iter_pixels
from thresher.io.problems import Problems
from thresher.io.video import video_info
from thresher.io.video_index_cache import load_video_indexes, save_video_indexes, video_index_path


def test_indexes_round_trip_exactly(tmp_path, bikes_mp4, carphone_mp4):
    shutil.copyfile(bikes_mp4, tmp_path / "a.mp4")
    shutil.copyfile(carphone_mp4, tmp_path / "b b.mp4")
    edit_list_copy(bikes_mp4, tmp_path / "clip.mp4", skip=25)  # 25 packets more than frames in its layout
    rotated_copy(carphone_mp4, tmp_path / "phone.mp4", -90)
    source = Datasource(tmp_path)
    entries = {name: (source.input.stat(name), video_info(source.input, name)) for name in ("a.mp4", "b b.mp4", "clip.mp4", "phone.mp4")}
    assert entries["clip.mp4"][1].discarded_packets == 25 and entries["phone.mp4"][1].rotation == 270
    path = video_index_path(tmp_path / ".thresher", source.input.url)
    save_video_indexes(path, entries)
    loaded = load_video_indexes(path)
    assert loaded.keys() == entries.keys()
    for name, (stat, info) in entries.items():
        assert loaded[name] == (tuple(stat), info)  # every pts and keyframe, every scalar
    assert path.parent == tmp_path / ".thresher" / "cache" and not [p for p in path.parent.iterdir() if p != path]


def test_a_new_datasource_seeks_with_the_stored_index_and_pixels_match(tmp_path, bikes_mp4, monkeypatch):
    root = tmp_path / "ds"
    root.mkdir()
    shutil.copyfile(bikes_mp4, root / "clip.mp4")
    cache = video_index_path(tmp_path / "ws", str(root))
    frames = Datasource(root).frames(cache=cache)
    rows = np.array([3, 120, 249])
    expected = [pixels for _, pixels in iter_pixels(Datasource(root), frames, rows, Problems())]

    reused = Datasource(root)  # as a later run or `thresher serve`: the index comes from the file
    reused.frames(cache=cache)
    assert reused.video_infos.known("clip.mp4") == video_info(reused.input, "clip.mp4")

    def no_demux(*args):
        raise AssertionError("the video was demuxed again")

    monkeypatch.setattr("thresher.io.video._probe", no_demux)
    problems = Problems()
    got = [pixels for _, pixels in iter_pixels(reused, frames, rows, problems)]
    assert not list(problems) and len(got) == 3 and all((a == b).all() for a, b in zip(got, expected))


def test_a_damaged_or_foreign_file_reads_as_empty(tmp_path):
    path = tmp_path / "videos.npz"
    assert load_video_indexes(path) == {}
    path.write_bytes(b"PK\x03\x04 cut short")
    assert load_video_indexes(path) == {}
    np.savez(path, format=np.array("something else"))
    assert load_video_indexes(path) == {}
