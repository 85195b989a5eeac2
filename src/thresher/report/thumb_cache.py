"""The thumbnails of the last report, kept in the workspace: a rerun does not decode the same frames again.

`<workspace>/cache/thumbnails.npz` (`thresher.io.file_cache`) holds, per frame id, the size and
modification time of the file its pixels come from (the video, or the image), the frame's width
and height and the JPEG bytes. A thumbnail is reused while that file's size and time are the
same (and the thumbnail side and JPEG quality); the file keeps the thumbnails of the latest
report only, so it stays a few MB. A damaged file is ignored and rewritten.

Example: `ThumbnailCache(workspace / "cache" / "thumbnails.npz").split(source, frames, rows)`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from thresher.frames import Frames
from thresher.io import file_cache
from thresher.io.datasource import Datasource
from thresher.io.file_cache import CachedFiles, Listing

VERSION = 1


class ThumbnailCache:
    """Thumbnails by frame id, valid while their source file is unchanged."""

    def __init__(self, path: Path, side: int, quality: int):
        self.path = Path(path)
        self.signature = {"kind": "report thumbnails", "version": VERSION, "side": side, "quality": quality}

    def listing(self, source: Datasource, frames: Frames, rows: np.ndarray) -> Listing:
        """The frames `rows` by id with the size and time (ns) of the file their pixels come from."""
        stats: dict[str, tuple[int, int]] = {}
        for video in np.unique(frames.video[rows]).tolist():
            try:
                size, mtime = source.input.stat(video)
                stats[video] = (int(size), int(round(mtime * 1e9)))
            except OSError:
                stats[video] = (-1, -1)  # never equal to a cached file's
        videos = frames.video[rows].tolist()
        return Listing(frames.id[rows].astype(str), np.array([stats[v][0] for v in videos], np.int64), np.array([stats[v][1] for v in videos], np.int64))

    def split(self, source: Datasource, frames: Frames, rows: np.ndarray) -> tuple[CachedFiles | None, np.ndarray, Listing]:
        """(cached thumbnails of `rows` still valid, a mask of the rows to make, the rows' listing)."""
        rows = np.asarray(rows, dtype=np.int64)
        listing = self.listing(source, frames, rows)
        kept, fresh = CachedFiles.split(file_cache.load(self.path, self.signature), listing)
        return kept, fresh, listing

    def store(self, listing: Listing, ids: list[str], jpegs: list[bytes], sizes: list[tuple[int, int]], kept: CachedFiles | None) -> None:
        """Keep the thumbnails of this report: those made now (`ids`, `jpegs`, (width, height)) and `kept`."""
        from thresher.table import lookup

        at, _ = lookup(listing.name, np.array(ids, dtype=str) if ids else np.zeros(0, "<U1"))
        made = CachedFiles(
            listing.name[at],
            listing.size[at],
            listing.mtime_ns[at],
            {"width": np.array([s[0] for s in sizes], np.int64), "height": np.array([s[1] for s in sizes], np.int64)},
            np.array([len(j) for j in jpegs], np.int64),
            {"jpeg": np.frombuffer(b"".join(jpegs), np.uint8)},
        )
        file_cache.store(self.path, self.signature, made if kept is None else CachedFiles.concat([kept, made]))


def cached_items(kept: CachedFiles | None) -> list[tuple[str, bytes, tuple[int, int]]]:
    """(frame id, JPEG bytes, (width, height)) of each cached thumbnail."""
    if kept is None:
        return []
    starts = kept.starts()
    data = kept.per_item["jpeg"]
    return [(str(kept.name[i]), data[starts[i] : starts[i + 1]].tobytes(), (int(kept.per_file["width"][i]), int(kept.per_file["height"][i]))) for i in range(len(kept))]
