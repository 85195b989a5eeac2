"""Enumerating with the video index cache: the same frames; a video whose size or time changed is read again."""

import dataclasses
import os
import shutil

from thresher.io.datasource import Datasource
from thresher.io.problems import Problems
from thresher.io.video_index_cache import load_video_indexes, save_video_indexes


def test_the_video_cache_gives_the_same_frames_and_follows_changes(tmp_path, bikes_mp4, carphone_mp4):
    root = tmp_path / "ds"
    (root / "clips").mkdir(parents=True)
    shutil.copyfile(bikes_mp4, root / "clips" / "a.mp4")
    shutil.copyfile(carphone_mp4, root / "b.mp4")
    source, cache = Datasource(root), tmp_path / "videos.npz"
    plain = source.frames()
    first = source.frames(cache=cache)
    recorded = load_video_indexes(cache)
    assert sorted(recorded) == ["b.mp4", "clips/a.mp4"]
    assert [recorded["b.mp4"][1].n_frames, recorded["b.mp4"][1].width, recorded["b.mp4"][1].height] == [120, 176, 144]
    again = Datasource(root).frames(cache=cache)  # a new process: the indexes come from the file
    for frames in (first, again):
        for column in ("id", "kind", "video", "frame_index", "width", "height"):
            assert (getattr(frames, column) == getattr(plain, column)).all(), column

    stat, info = recorded["b.mp4"]  # a cached index is used while the video's size and time match ...
    save_video_indexes(cache, {**recorded, "b.mp4": (stat, dataclasses.replace(info, n_frames=7, pts=info.pts[:7], layout=None))})
    assert (Datasource(root).frames(cache=cache).video == "b.mp4").sum() == 7
    stamp = os.stat(root / "b.mp4").st_mtime_ns + 10**9  # ... and the video is read again once its time changes
    os.utime(root / "b.mp4", ns=(stamp, stamp))
    assert (source.frames(cache=cache).video == "b.mp4").sum() == 120

    shutil.copyfile(bikes_mp4, root / "b.mp4")  # replaced by another video
    assert (source.frames(cache=cache).video == "b.mp4").sum() == 250

    (root / "b.mp4").write_bytes(b"not a video")  # unreadable: reported, not cached
    problems = Problems()
    assert (source.frames(problems, cache=cache).video == "b.mp4").sum() == 0
    assert [p.file for p in problems] == ["b.mp4"] and "b.mp4" not in load_video_indexes(cache)
