"""The report's "flagged frames": why flicker flagged a frame, shown, not told.

For the frames the run's flicker flagged, worst first (highest severity: the summed scores of
the frame's imputed boxes, or with seed 000's flicker the number of asserting box pairs), at
most `STRIP_FRAMES` of them: frames t-1, t and t+1 side by
side, each with the assertion task's boxes (class and score written on them) and the imputed
boxes (dashed magenta, with the track's class). The severities are read from the task's own
metadata keys (`assertions.<task>.flicker_severity`), the boxes from the task's and the imputed
task's prediction files of those frames only.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from thresher.assertions._neighbours import later_rows
from thresher.assertions.metadata import task_prefix
from thresher.frames import Frames
from thresher.report.data import ReportData, Strips, Thumbnails
from thresher.report.overlay import boxes_svg
from thresher.report.svg import number

if TYPE_CHECKING:
    from thresher.run.state import Selected

STRIP_FRAMES = 24
STRIP_SIDE = 400  # pixels, the longer side of each image of a strip
ROLES = ("t−1", "t", "t+1")


def worst_first(ids: np.ndarray, severity: np.ndarray, limit: int = STRIP_FRAMES) -> np.ndarray:
    """Positions of the flagged entries (severity > 0), highest severity first, ties by id."""
    flagged = np.flatnonzero(severity > 0)
    order = np.lexsort((ids[flagged], -severity[flagged]))
    return flagged[order][:limit]


def neighbour_ids(frames: Frames, rows: np.ndarray) -> np.ndarray:
    """(K, 3) ids of the frames before, at and after each row ("" where there is none)."""
    following = later_rows(frames, 1)
    preceding = np.full(len(frames), -1, dtype=np.int64)
    has = following >= 0
    preceding[following[has]] = np.flatnonzero(has)
    columns = [preceding[rows], rows, following[rows]]
    ids = np.append(frames.id, "")  # row -1 reads ""
    return np.stack([ids[c] for c in columns], axis=1).astype(str)


def collect_strips(state: Selected, metadata) -> tuple[Strips, dict | None]:
    """The strips of a run's flicker and what the page says about them (None: no flicker ran).

    metadata: the datasource's `Metadata` over `state.frames` (holds the severities).
    """
    from thresher.report.thumb_cache import ThumbnailCache
    from thresher.report.sampling import run_boxes
    from thresher.report.thumbs import JPEG_QUALITY, make_thumbnails

    info = state.artifacts.get("assertions")
    if not info or "flicker" not in info["names"]:
        return Strips.empty(), None
    key = f"{task_prefix(info['task'])}flicker_severity"
    severity = np.nan_to_num(metadata[key]) if key in metadata.columns else np.zeros(len(state.frames))
    rows = worst_first(state.frames.id, severity)
    neighbours = neighbour_ids(state.frames, rows)
    wanted = np.unique(neighbours[neighbours != ""])
    boxes = [b for b in (run_boxes(state, info["task"], wanted, False), run_boxes(state, info["imputed_task"], wanted, True)) if b is not None]
    cache = ThumbnailCache(Path(state.workspace) / "cache" / "strips.npz", STRIP_SIDE, JPEG_QUALITY)  # the last report's strip images
    thumbs = (
        make_thumbnails(state.source, state.frames, wanted, boxes, extracted=Path(state.folder) / "frames", side=STRIP_SIDE, cache=cache) if len(wanted) else Thumbnails.empty()
    )
    strips = Strips(state.frames.id[rows], severity[rows], neighbours, thumbs)
    about = {**info, "flagged": int((severity > 0).sum()), "shown": len(rows), "limit": STRIP_FRAMES}
    return strips, about


def flagged_section(data: ReportData) -> str:
    """The "flagged frames" section (a line saying why there is none when flicker did not run)."""
    about = data.meta.get("flagged")
    if not about:
        body = "<p>No flicker assertion ran in this run (<code>thresher.assertions</code>).</p>"
        return f"<section id='flagged'><h2>Flagged frames</h2>{body}</section>"
    seed = about.get("seed_compatible")
    mode = "seed 000's flicker" if seed else "flicker"
    severity = "the number of asserting box pairs" if seed else "the summed scores of the frame's imputed boxes"
    params = ", ".join(f"{k}={v}" for k, v in about["parameters"]["flicker"].items())
    intro = (
        f"<p>{about['flagged']} frames flagged by {mode} on task <b>{html.escape(about['task'])}</b>; "
        f"{'the ' + str(about['shown']) + ' worst' if about['flagged'] > about['shown'] else 'all'}, by severity "
        f"({severity}). Each row shows frames t−1, t and t+1 with the task's "
        "boxes (class and score) and the imputed boxes (dashed magenta).</p>"
        f"<p class='params'>parameters: {html.escape(params)}</p>"
        "<p class='keys'><span class='box predicted'></span>predicted <span class='box imputed'></span>imputed</p>"
    )
    rows = {fid: t for t, fid in enumerate(data.strips.thumbnails.frame_id.tolist())}
    strips = [_strip(data, k, rows) for k in range(len(data.strips))]
    body = intro + ("".join(strips) if strips else "<p>none</p>")
    return f"<section id='flagged'><h2>Flagged frames</h2>{body}</section>"


def _strip(data: ReportData, k: int, rows: dict[str, int]) -> str:
    strips = data.strips
    figures = []
    for role, frame_id in zip(ROLES, strips.neighbours[k].tolist()):
        t = rows.get(frame_id)
        if t is None:
            figures.append(f"<figure class='strip-frame missing'><p>{role}: {'no such frame' if not frame_id else 'not decoded'}</p></figure>")
            continue
        width, height = strips.thumbnails.size[t].tolist()
        caption = f"{role} · {html.escape(frame_id)}"
        figures.append(
            f"<figure class='strip-frame'><div class='frame' style='aspect-ratio:{width}/{height}'>"
            f"<img data-strip='{t}' alt='{html.escape(caption)}'>{boxes_svg(strips.thumbnails, t, labels=True)}</div>"
            f"<figcaption>{caption}</figcaption></figure>"
        )
    title = f"{html.escape(str(strips.frame_id[k]))} · severity {number(float(strips.severity[k]))}"
    return f"<div class='strip'><h3>{title}</h3><div class='triple'>{''.join(figures)}</div></div>"
