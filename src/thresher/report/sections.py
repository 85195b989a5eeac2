"""The static parts of the report page (HTML strings) built from a `ReportData`.

Sets compared everywhere: *input* (every sample the selection saw), *selected* (picked by
this run), *random* (a seeded random selection of the same size from the same candidates) and,
when the run uses the datapool, *datapool* (everything selected so far, this run included).
"""

from __future__ import annotations

import html
from collections import Counter

import numpy as np

from thresher.report import stats, svg
from thresher.report.data import ReportData

MAX_CLASSES = 30
MAX_ROWS = 200
MAX_VIDEOS = 100


def set_masks(data: ReportData) -> dict[str, np.ndarray]:
    """Boolean masks over `data.samples` of the compared sets (see module docstring)."""
    ids = data.samples.id
    masks = {"input": np.ones(len(ids), bool), "selected": np.isin(ids, data.new_picks), "random": np.isin(ids, data.random)}
    if data.meta.get("uses_datapool"):
        masks["datapool"] = np.isin(ids, data.selected)
    return masks


def table(header: list[str], rows: list[list[object]], limit: int = MAX_ROWS, cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>" for row in rows[:limit])
    more = f"<p class='more'>… and {len(rows) - limit} more</p>" if len(rows) > limit else ""
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _cell(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return svg.number(float(value))
    return html.escape(str(value))


def numeric_block(values_by_set: dict[str, np.ndarray], title: str) -> str:
    """Histogram of each set's share per bin and the summary table."""
    edges = stats.shared_edges(list(values_by_set.values()))
    counts = {name: stats.histogram(v, edges) for name, v in values_by_set.items()}
    rows = []
    for name, values in values_by_set.items():
        s = stats.numeric_summary(values)
        rows.append([name, s["count"], s["missing"], s["mean"], s["std"], s["min"], s["median"], s["max"]])
    header = ["set", "n", "missing", "mean", "std", "min", "median", "max"]
    return svg.legend(list(values_by_set)) + svg.grouped_histogram(edges, counts, title) + table(header, rows, cls="stats")


def categorical_block(class_names: list[str], counts_by_set: dict[str, np.ndarray], title: str) -> str:
    """Class bars (the `MAX_CLASSES` largest of the first set) and Gini / entropy per set."""
    first = next(iter(counts_by_set.values())) if counts_by_set else np.zeros(0)
    order = np.argsort(-first, kind="stable")[:MAX_CLASSES]
    shown = {name: np.asarray(c, float)[order] for name, c in counts_by_set.items()}
    present = first > 0 if np.any(first > 0) else np.ones(len(first), bool)  # K: the input set's classes
    rows = []
    for name, counts in counts_by_set.items():
        s = stats.categorical_summary(np.asarray(counts)[present])
        rows.append([name, s["total"], s["gini"], s["entropy"]])
    more = f"<p class='more'>the {MAX_CLASSES} largest of {len(class_names)} classes</p>" if len(class_names) > MAX_CLASSES else ""
    bars = svg.grouped_classes([class_names[i] for i in order], shown, title) if len(class_names) else "<p>no classes</p>"
    header = ["set", "total", "Gini imbalance (0 balanced, 1 one class)", "normalized entropy (1 uniform)"]
    return svg.legend(list(counts_by_set)) + bars + more + table(header, rows, cls="stats")


def _input_title(entry: dict) -> str:
    return f"{entry['strategy']} on {entry['label']}"


def inputs_section(data: ReportData) -> str:
    """One block per selection input: its distribution over the compared sets."""
    masks = set_masks(data)
    blocks = []
    for entry, values in zip(data.meta["inputs"], data.inputs):
        title = _input_title(entry)
        if entry["kind"] == "scalar":
            assert values is not None, "a scalar input carries its values"
            body = numeric_block({name: values[m] for name, m in masks.items()}, title)
        elif entry["kind"] == "classes":
            assert values is not None, "a class input carries its values"
            counts = {name: values[m].sum(axis=0) for name, m in masks.items()}
            body = categorical_block(entry["class_names"], counts, title)
        else:
            body = (
                "<p>Embeddings: spread over the sets is the distance (0–2, normalized embeddings) from each member "
                "to the nearest other member of its set; higher = more diverse. The scatter below shows them in 2-D.</p>" + numeric_block(dict(data.nearest), title)
            )
        blocks.append(f"<div class='block input'><h3>{html.escape(title)}</h3>{body}</div>")
    return _section("inputs", "Selection inputs", "".join(blocks) or "<p>no inputs</p>")


def classes_section(data: ReportData) -> str:
    """Objects per predicted class of each prediction task, over the compared sets."""
    masks = set_masks(data)
    blocks = []
    for entry in data.meta.get("class_tasks", []):
        counts = data.class_counts(entry["task"])
        by_set = {name: counts[m].sum(axis=0) for name, m in masks.items()}
        title = f"objects per class, task {entry['task']}"
        blocks.append(f"<div class='block'><h3>{html.escape(title)}</h3>{categorical_block(entry['class_names'], by_set, title)}</div>")
    return _section("classes", "Class distributions of the predictions", "".join(blocks) or "<p>the run read no predictions</p>")


# run counts already in the first rows of the sizes table under a clearer name
SHOWN_COUNTS = {"frames", "preselected", "selected", "selection input", "selection preselected", "selection selected"}


def sizes_section(data: ReportData, page_bytes_hint: int | None = None) -> str:
    meta = data.meta
    removed = Counter(data.removed[1].tolist())
    rows = [
        ["frames in the datasource (that read; validate's samples)", meta.get("n_frames", "")],
        [f"input samples ({meta.get('level', 'frame')} level)", len(data.samples)],
        ["preselected (datapool)", len(data.preselected)],
        ["selected by this run", len(data.new_picks)],
        ["stopped by", meta.get("stop_reason", "")],
        *[[f"removed samples: {reason}", n] for reason, n in sorted(removed.items())],  # frames or crops; counts below are files
        *[[k, v] for k, v in meta.get("counts", {}).items() if k not in SHOWN_COUNTS],
    ]
    timings = {**meta.get("timings", {}), **{f"selection: {k}": v for k, v in meta.get("selection_timings", {}).items()}}
    chart = svg.horizontal_bars(list(timings), [float(v) for v in timings.values()], " s", "seconds per stage") if timings else ""
    body = f"<div class='two'><div>{table(['what', 'value'], rows)}</div><div><h3>Timings</h3>{chart}</div></div>"
    return _section("sizes", "Sizes and timings", body)


def timeline_section(data: ReportData) -> str:
    """Per video, where its frames were picked (red), preselected (green) and candidates (grey);
    at object level a frame is picked when one of its objects is, and counts once."""
    samples = data.samples
    videos = data.meta.get("videos", {})
    frames = np.isin(samples.video, list(videos))  # frames of videos, or crops of them
    if not frames.any():
        return ""
    picked = np.isin(samples.id, data.new_picks) | np.isin(samples.parent_id, data.new_picks)
    pre = np.isin(samples.id, data.preselected)
    rows, by_picks = [], Counter(samples.video[frames & picked].tolist())
    names = sorted(set(samples.video[frames].tolist()), key=lambda v: (-by_picks.get(v, 0), v))
    for video in names[:MAX_VIDEOS]:
        mine = frames & (samples.video == video)
        n = max(int(videos.get(video, 0)), int(samples.frame_index[mine].max()) + 1)
        index = samples.frame_index  # at object level a frame's crops share its index: each frame counts once
        rows.append(_timeline(video, n, np.unique(index[mine]), np.unique(index[mine & picked]), np.unique(index[mine & pre])))
    more = f"<p class='more'>{len(names) - MAX_VIDEOS} more videos not shown</p>" if len(names) > MAX_VIDEOS else ""
    what = "frame with a selected object" if data.meta.get("level") == "object" else "selected"
    legend = f"<p class='keys'><span class='tick cand'></span>candidate <span class='tick pick'></span>{what} <span class='tick pre'></span>preselected</p>"
    return _section("timeline", "Timeline per video", legend + "".join(rows) + more)


def _timeline(video: str, n: int, candidates: np.ndarray, picked: np.ndarray, pre: np.ndarray) -> str:
    width, height = 600, 26
    scale = width / max(n, 1)

    def ticks(indices: np.ndarray, cls: str, y: int, h: int) -> str:
        xs = np.unique(np.floor(np.asarray(indices) * scale).astype(np.int64))
        if len(xs) == 0:
            return ""
        breaks = np.flatnonzero(np.diff(xs) > 1)  # one rectangle per run of touching ticks
        starts, ends = xs[np.r_[0, breaks + 1]], xs[np.r_[breaks, len(xs) - 1]]
        step = max(1.0, scale)
        return "".join(f"<rect class='{cls}' x='{a}' y='{y}' width='{b - a + step:.2f}' height='{h}'/>" for a, b in zip(starts.tolist(), ends.tolist()))

    picks = ", ".join(str(int(i)) for i in np.sort(picked)[:50])
    title = html.escape(f"{video}: {len(picked)} of {n} frames selected ({picks}{'…' if len(picked) > 50 else ''})")
    body = ticks(candidates, "cand", 10, 8) + ticks(pre, "pre", 2, 22) + ticks(picked, "pick", 2, 22)
    return (
        f"<div class='video'><span class='vname'>{html.escape(video)}</span> <span class='count'>{len(picked)} / {n}</span>"
        f"<svg class='timeline' viewBox='0 0 {width} {height}' width='{width}' height='{height}'><title>{title}</title>"
        f"<rect class='track' x='0' y='12' width='{width}' height='4'/>{body}</svg></div>"
    )


def removed_section(data: ReportData) -> str:
    files, reasons, details = data.removed
    rows = [[f, r, d] for f, r, d in zip(files.tolist(), reasons.tolist(), details.tolist())]
    return _section("removed", "Removed samples", table(["file", "reason", "detail"], rows) if rows else "<p>none</p>")


def _section(anchor: str, title: str, body: str) -> str:
    return f"<section id='{anchor}'><h2>{html.escape(title)}</h2>{body}</section>"
