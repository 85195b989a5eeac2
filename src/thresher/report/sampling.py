"""Which frames of a run get a thumbnail, chosen so the page stays small and quick to build.

- the selected frames, the first `GALLERY_FRAMES` in pick order (the gallery);
- both frames of each near-duplicate pair;
- for the scatter's hover, every sample's frame up to `HOVER_FRAMES`; beyond that at most half
  selected frames and the rest a seeded draw of the others, preferring images and the keyframes
  of at most `PROBED_VIDEOS` videos (a keyframe decodes alone, without the frames before it).

Selected frames the run already extracted are read from its `images/` folder, and the videos
probed for keyframes are not probed again when their frames are decoded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from thresher.errors import DatasourceError, ThresherError
from thresher.frames import Frames
from thresher.report.data import Thumbnails
from thresher.report.thumb_cache import ThumbnailCache
from thresher.report.thumbs import JPEG_QUALITY, THUMB_SIDE, make_thumbnails

if TYPE_CHECKING:
    from thresher.run.state import Selected

GALLERY_FRAMES = 120
HOVER_FRAMES = 600
PROBED_VIDEOS = 50


def frame_ids(samples: Frames) -> np.ndarray:
    """The frame each sample is or was cut from."""
    return np.where(samples.parent_id != "", samples.parent_id, samples.id)


def thumbnail_frames(state: Selected, samples: Frames, selected: np.ndarray, duplicates, seed: int) -> tuple[np.ndarray, dict]:
    """(frame ids to thumbnail, VideoInfo of the videos probed on the way); see the module docstring."""
    frame_of = dict(zip(samples.id.tolist(), frame_ids(samples).tolist()))
    chosen = list(dict.fromkeys(frame_of[i] for i in selected.tolist() if i in frame_of))
    pairs = [frame_of.get(i, i) for i in np.r_[duplicates[0], duplicates[1]].tolist()]
    hover = np.unique(frame_ids(samples))
    infos: dict = {}  # VideoInfo by video, of the videos cheap_sample probed
    if len(hover) > HOVER_FRAMES:
        picked = chosen[: HOVER_FRAMES // 2]
        rest = np.setdiff1d(hover, chosen)
        extra, infos = cheap_sample(state, rest, min(HOVER_FRAMES - len(picked), len(rest)), seed)
        hover = np.r_[np.array(picked, dtype=str), extra]
    wanted = np.unique(np.r_[np.array(chosen[:GALLERY_FRAMES] + pairs, dtype=str), hover.astype(str)])
    return wanted[np.isin(wanted, state.frames.id)], infos


def cheap_sample(state: Selected, ids: np.ndarray, size: int, seed: int) -> tuple[np.ndarray, dict]:
    """`size` of the frame `ids` drawn with `seed`: images and keyframes first, then any."""
    rng = np.random.default_rng(seed)
    frames = state.frames
    rows = frames.index_of(ids)
    cheap = frames.kind[rows] != "frame"
    videos = np.unique(frames.video[rows[~cheap]])
    infos = _probe(state, rng.permutation(videos)[:PROBED_VIDEOS])
    for video, info in infos.items():
        mine = np.flatnonzero(frames.video[rows] == video)
        key_pts = np.array([k[0] for k in info.keyframes])
        is_key = np.isin(np.asarray(info.pts), key_pts) if info.pts_reliable else np.zeros(info.n_frames, bool)
        cheap[mine] = is_key[np.minimum(frames.frame_index[rows[mine]], len(is_key) - 1)]
    first = rng.permutation(ids[cheap])[:size]
    others = rng.permutation(ids[~cheap])[: size - len(first)]
    return np.r_[first, others].astype(str), infos


def _probe(state: Selected, videos: np.ndarray) -> dict:
    """VideoInfo of each readable video (one demux pass each)."""
    infos = {}
    for video in videos.tolist():
        try:
            infos[video] = state.source.video_infos.get(video)
        except DatasourceError:
            continue
    return infos


def run_boxes(state: Selected, task: str | None, wanted: np.ndarray, imputed: bool) -> tuple | None:
    """The boxes of `task` on the frames `wanted` (ids), as `make_thumbnails` takes them: (task
    frames, detections, class names, imputed). The task comes as the run read it
    (`state.resolver.task`: read once per run, through the columnar cache; no prediction file
    is opened again for the report). None without a task or when it cannot be read (the run
    said why already)."""
    if not task:
        return None
    try:
        loaded = state.resolver.task(task)
    except ThresherError:
        return None
    shown = np.isin(loaded.frames.id, wanted)
    detections = loaded.detections
    return loaded.frames, detections[shown[detections.frame]], loaded.schema.names, imputed


def thumbnails_of_run(state: Selected, samples: Frames, selected: np.ndarray, duplicates, seed: int) -> Thumbnails:
    """The thumbnails of a run, with the predicted boxes of its box task and the imputed boxes."""
    from thresher.report.collect import box_task
    from thresher.run.images import IMAGES_DIR

    wanted, infos = thumbnail_frames(state, samples, selected, duplicates, seed)
    boxes = [b for b in (run_boxes(state, box_task(state), wanted, False), run_boxes(state, state.imputed_task, wanted, True)) if b is not None]
    cache = ThumbnailCache(Path(state.workspace) / "cache" / "thumbnails.npz", THUMB_SIDE, JPEG_QUALITY)  # the last report's thumbnails
    return make_thumbnails(state.source, state.frames, wanted, boxes, extracted=Path(state.folder) / IMAGES_DIR, video_infos=infos, cache=cache)
