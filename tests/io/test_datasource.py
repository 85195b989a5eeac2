"""Enumerating with the video cache: the same frames; a video whose size or time changed is read again."""

import json
import os
import shutil

from thresher.io.datasource import Datasource
from thresher.io.problems import Problems


def test_the_video_cache_gives_the_same_frames_and_follows_changes(tmp_path, bikes_mp4, carphone_mp4):
    root = tmp_path / "ds"
    (root / "clips").mkdir(parents=True)
    shutil.copyfile(bikes_mp4, root / "clips" / "a.mp4")
    shutil.copyfile(carphone_mp4, root / "b.mp4")
    source, cache = Datasource(root), tmp_path / "videos.json"
    plain = source.frames()
    first = source.frames(cache=cache)
    recorded = json.loads(cache.read_text())
    assert sorted(recorded) == ["b.mp4", "clips/a.mp4"] and recorded["b.mp4"][2:] == [120, 176, 144]
    again = source.frames(cache=cache)
    for frames in (first, again):
        for column in ("id", "kind", "video", "frame_index", "width", "height"):
            assert (getattr(frames, column) == getattr(plain, column)).all(), column

    recorded["b.mp4"][2] = 7  # a cached count is used while the video's size and time match ...
    cache.write_text(json.dumps(recorded))
    assert (source.frames(cache=cache).video == "b.mp4").sum() == 7
    stamp = os.stat(root / "b.mp4").st_mtime_ns + 10**9  # ... and the video is read again once its time changes
    os.utime(root / "b.mp4", ns=(stamp, stamp))
    assert (source.frames(cache=cache).video == "b.mp4").sum() == 120

    shutil.copyfile(bikes_mp4, root / "b.mp4")  # replaced by another video
    assert (source.frames(cache=cache).video == "b.mp4").sum() == 250

    (root / "b.mp4").write_bytes(b"not a video")  # unreadable: reported, not cached
    problems = Problems()
    assert (source.frames(problems, cache=cache).video == "b.mp4").sum() == 0
    assert [p.file for p in problems] == ["b.mp4"] and "b.mp4" not in json.loads(cache.read_text())
