"""Each video's index (`VideoInfo`: frame count, size, every frame's pts, the keyframes), kept
for the life of a `Datasource` so that one demux pass serves every stage of a run.

A first run reads each video's index when it enumerates frames; the corruptness check, the
frame extraction and the report's thumbnails then use it instead of demuxing the video again
(at 1,000 frames extracted from 363 videos, 0.5 s of CPU). The memory is bounded: indexes
are kept up to `REMEMBERED_FRAMES` frames in all (about 70 MB of Python integers), after
which videos are simply probed again when needed. A video changed on disk while the
`Datasource` lives (another size or modification time) is demuxed again.

Example: `source.video_infos.get("clip.mp4").n_frames` → 250 (a demux pass the first time only).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from thresher.io.storage import Location

if TYPE_CHECKING:
    from thresher.io.video import VideoInfo

REMEMBERED_FRAMES = 2_000_000  # frames' worth of video indexes one Datasource keeps
Stat = Sequence[float]  # (size in bytes, modification time in seconds), as `Location.stat` gives


class VideoInfos:
    """A thread-safe, bounded memo of `video_info(location, name)` by video name, valid while
    the video's size and modification time (`Location.stat`) stay the same."""

    def __init__(self, location: Location, limit: int = REMEMBERED_FRAMES) -> None:
        self.location, self.limit = location, limit
        self._infos: dict[str, tuple[tuple[float, ...], VideoInfo]] = {}
        self._frames = 0
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple:
        return (VideoInfos, (self.location, self.limit))  # a copy in another process starts empty

    def __len__(self) -> int:
        return len(self._infos)

    def get(self, name: str, stat: Stat | None = None) -> VideoInfo:
        """The index of video `name`: remembered, else from one demux pass (DatasourceError
        when the video cannot be read), then remembered while the bound allows. `stat`: the
        video's (size, modification time) when the caller has it (saves a `stat` call)."""
        from thresher.io.video import video_info

        now = self._now(name, stat)
        info = self.known(name, now)
        if info is None:
            info = video_info(self.location, name)
            self.remember(name, info, now)
        return info

    def known(self, name: str, stat: Stat | None = None) -> VideoInfo | None:
        """The remembered index of `name` if the video is unchanged since, else None (no demux)."""
        now = self._now(name, stat)
        with self._lock:
            found = self._infos.get(name)
        return found[1] if found is not None and now is not None and found[0] == now else None

    def hint(self, name: str) -> VideoInfo | None:
        """The remembered index of `name` without checking the file (no I/O): only for choices
        that do not change what is read, such as how to share a video between threads."""
        with self._lock:
            found = self._infos.get(name)
        return found[1] if found is not None else None

    def remember(self, name: str, info: VideoInfo, stat: Stat | None = None) -> None:
        """Keep `info` for `name` (as it is at `stat`, default: now) unless the bound of
        `limit` frames in all would be passed."""
        now = self._now(name, stat)
        if now is None:
            return
        with self._lock:
            old = self._infos.pop(name, None)
            self._frames -= old[1].n_frames if old is not None else 0
            if self._frames + info.n_frames <= self.limit:
                self._infos[name] = (now, info)
                self._frames += info.n_frames

    def adopt(self, entries: Mapping[str, tuple[Stat, VideoInfo]]) -> None:
        """Remember indexes read earlier (`thresher.io.video_index_cache`), each as it was at
        its recorded (size, modification time): one serves only while its video is unchanged."""
        for name, (stat, info) in entries.items():
            self.remember(name, info, stat)

    def stat(self, name: str) -> tuple[float, ...] | None:
        """The video's (size, modification time) now, or None when it cannot be read."""
        try:
            return tuple(self.location.stat(name))
        except OSError:
            return None  # gone or unreadable: nothing remembered applies

    def _now(self, name: str, stat: Stat | None) -> tuple[float, ...] | None:
        return self.stat(name) if stat is None else tuple(stat)
