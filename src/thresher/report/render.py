"""The report page: one HTML file with its styles, scripts, data and images inlined.

Static parts (tables, SVG charts, timelines, the gallery with its boxes) are HTML; the
embedding scatter is drawn by the inlined script from a JSON payload holding the 2-D
projection and colour columns (quantized to 16 bits, base64) and the thumbnails (JPEG data
URIs, each once: `<img data-thumb=N>` elements get theirs from the payload). Nothing is
fetched: the page works from a file, offline.
"""

from __future__ import annotations

import base64
import html
import json
from importlib import resources

import numpy as np

from thresher.report import sections
from thresher.report.data import ReportData
from thresher.report.flagged import flagged_section
from thresher.report.overlay import boxes_svg, class_color
from thresher.report.svg import number
from thresher.report.thumbs import data_uri
from thresher.report.why import why_bars, why_legend

NAN_CODE = 65535


def asset(name: str) -> str:
    """The text of a file shipped in `thresher/report/assets/`."""
    return resources.files("thresher.report").joinpath("assets", name).read_text(encoding="utf-8")


def b64(array: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()).decode("ascii")


def quantized(values: np.ndarray) -> dict:
    """16-bit codes of a float column over its finite range (65535 = NaN) with that range."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    low = float(values[finite].min()) if finite.any() else 0.0
    high = float(values[finite].max()) if finite.any() else 1.0
    span = high - low if high > low else 1.0
    codes = np.full(len(values), NAN_CODE, np.uint16)
    codes[finite] = np.round((values[finite] - low) / span * (NAN_CODE - 1)).astype(np.uint16)
    return {"data": b64(codes, "u2"), "min": low, "max": high}


def thumb_rows(data: ReportData) -> dict[str, int]:
    return {fid: t for t, fid in enumerate(data.thumbnails.frame_id.tolist())}


def payload(data: ReportData) -> dict:
    """What the page's script reads (see module docstring)."""
    samples, thumbs = data.samples, data.thumbnails
    frame_of = np.where(samples.parent_id != "", samples.parent_id, samples.id)
    rows = thumb_rows(data)
    colors = [{"name": name, **quantized(data.colors[name])} for name in data.meta.get("colors", [])]
    pick_rank = {i: k for k, i in enumerate(data.new_picks.tolist())}
    colors.append({"name": "pick order (selected only)", **quantized(np.array([pick_rank.get(i, np.nan) for i in samples.id.tolist()]))})
    return {
        "names": samples.file_name.tolist(),
        "x": quantized(data.projection[:, 0] if len(samples) else np.zeros(0))["data"],
        "y": quantized(data.projection[:, 1] if len(samples) else np.zeros(0))["data"],
        "projection": data.meta.get("projection", "pca"),
        "colors": colors,
        "selected": b64(np.flatnonzero(np.isin(samples.id, data.new_picks)), "i4"),
        "preselected": b64(np.flatnonzero(np.isin(samples.id, data.preselected)), "i4"),
        "thumbOf": b64(np.array([rows.get(f, -1) for f in frame_of.tolist()]), "i4"),
        "thumbs": [data_uri(thumbs.jpeg(t)) for t in range(len(thumbs))],
        "stripThumbs": [data_uri(data.strips.thumbnails.jpeg(t)) for t in range(len(data.strips.thumbnails))],
        "thumbSize": thumbs.size.tolist(),
        "sampleBox": None if data.sample_box is None else b64(data.sample_box, "f4"),
    }


def _figure(data: ReportData, t: int, caption: str, highlight: np.ndarray | None = None) -> str:
    width, height = data.thumbnails.size[t].tolist()
    return (
        f"<figure class='thumb'><div class='frame' style='aspect-ratio:{width}/{height}'>"
        f"<img data-thumb='{t}' alt='{html.escape(caption)}'>{boxes_svg(data.thumbnails, t, highlight)}</div>"
        f"<figcaption>{caption}</figcaption></figure>"
    )


def gallery_section(data: ReportData) -> str:
    """Thumbnails of the selected frames in pick order, predicted and imputed boxes drawn; at
    object level each frame once, at its first pick, with every selected object of it outlined."""
    samples, rows = data.samples, thumb_rows(data)
    index = {i: r for r, i in enumerate(samples.id.tolist())}
    picks_of: dict[str, list[int]] = {}  # frame -> positions in data.selected of its picks
    for k, sample_id in enumerate(data.selected.tolist()):
        r = index.get(sample_id)
        picks_of.setdefault(sample_id if r is None or not samples.parent_id[r] else str(samples.parent_id[r]), []).append(k)
    figures = []
    for frame, picks in picks_of.items():
        if frame not in rows:
            continue
        k = picks[0]
        label = "preselected" if np.isnan(data.objective[k]) else f"#{k + 1 - len(data.preselected)} · objective {number(data.objective[k])}"
        boxes = _pick_boxes(data, index, picks)
        if boxes is not None and len(picks) > 1:
            label += f"<br>{len(picks)} objects selected: " + ", ".join(_pick_name(data, j) for j in picks)
        bars = why_bars(data.meta.get("why", []), k)
        figures.append(_figure(data, rows[frame], f"{html.escape(frame)}<br>{label}{bars}", boxes))
    level = data.meta.get("level") == "object"
    shown = f"{len(figures)} frames are shown" + (f" (those of {sum(len(picks_of[f]) for f in picks_of if f in rows)} objects)" if level else "")
    more = f"<p class='more'>{len(data.selected)} selected; {shown}</p>" if len(figures) < len(data.selected) else ""
    legend = class_legend(data) + (CROP_LEGEND if level else "") + why_legend(data.meta.get("why", []))
    body = legend + (f"<div class='gallery'>{''.join(figures)}</div>" if figures else "<p>no thumbnails</p>") + more
    return f"<section id='gallery'><h2>Selected {'objects, by frame' if level else 'frames'}</h2>{body}</section>"


CROP_LEGEND = "<p class='keys'><span class='box crop'></span>a selected object: the crop cut for it (its box padded by object_level.padding)</p>"


def _pick_boxes(data: ReportData, index: dict[str, int], picks: list[int]) -> np.ndarray | None:
    """The crop boxes (K, 4) of the picks at `picks` (positions in data.selected); None at frame level."""
    if data.sample_box is None:
        return None
    rows = [index[s] for s in data.selected[picks].tolist() if s in index]
    return data.sample_box[rows] if rows else None


def _pick_name(data: ReportData, k: int) -> str:
    """'#3' for this run's third pick, 'preselected' for an earlier one."""
    return "preselected" if np.isnan(data.objective[k]) else f"#{k + 1 - len(data.preselected)}"


def class_legend(data: ReportData) -> str:
    """The box key: each class in the thumbnails with its colour, then imputed boxes."""
    th = data.thumbnails
    drawn = sorted(set(th.box_label[~th.box_imputed].tolist())) if len(th.box_label) else []
    classes = "".join(f"<span class='box' style='border-color:{class_color(k)}'></span>{html.escape(str(th.labels[k]))} " for k in drawn)
    return f"<p class='keys'>predicted: {classes or 'none '}<span class='box imputed'></span>imputed (assertions), any class</p>"


def duplicates_section(data: ReportData) -> str:
    """Pairs of a kept sample and a near-duplicate left out, closest first, with their distance."""
    kept, other, distance = data.duplicates
    rows = thumb_rows(data)
    frame = dict(zip(data.samples.id.tolist(), np.where(data.samples.parent_id != "", data.samples.parent_id, data.samples.id).tolist()))
    items = []
    for a, b, d in zip(kept.tolist(), other.tolist(), distance.tolist()):
        kind = "exact duplicate, removed" if d == 0 and b not in frame else "not selected"
        cells = []
        for sample, role in ((a, "kept"), (b, kind)):
            t = rows.get(frame.get(sample, sample))
            box = _sample_box(data, sample)  # object level: the crop outlined in its frame
            cells.append(_figure(data, t, f"{html.escape(sample)}<br>{role}", box) if t is not None else f"<p>{html.escape(sample)}<br>{role}</p>")
        items.append(f"<div class='pair'>{''.join(cells)}<p class='distance'>distance {d:.4f}</p></div>")
    note = "<p>Euclidean distance between normalized embeddings (0 = identical, 2 = opposite)."
    note += " At object level each crop is outlined in yellow in its frame.</p>" if data.sample_box is not None else "</p>"
    pairs = f"<div class='pairs'>{''.join(items)}</div>" if items else "<p>none</p>"
    return f"<section id='duplicates'><h2>Near-duplicates</h2>{note}{pairs}</section>"


def _sample_box(data: ReportData, sample: str) -> np.ndarray | None:
    """The crop box of a crop sample (None at frame level or for a sample not in the bundle)."""
    if data.sample_box is None:
        return None
    hit = np.flatnonzero(data.samples.id == sample)
    return data.sample_box[hit[0]] if len(hit) else None


def scatter_section(data: ReportData) -> str:
    method = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}.get(data.meta.get("projection", "pca"), "PCA")
    return (
        f"<section id='embedding'><h2>Embeddings ({method})</h2>"
        "<div class='controls'><label>colour by <select id='color-by'></select></label>"
        "<span class='keys'><span class='ring'></span>selected <span class='diamond'></span>preselected</span>"
        "<span id='color-range'></span></div>"
        "<div class='scatter-wrap'><canvas id='scatter' width='900' height='560'></canvas>"
        "<div id='tooltip' hidden></div></div></section>"
    )


def page(data: ReportData) -> str:
    """The whole report as one HTML string."""
    meta = data.meta
    title = f"thresher run {meta.get('run_id', '')}"
    script_data = json.dumps(payload(data), separators=(",", ":")).replace("<", "\\u003c")
    nav = "".join(
        f"<a href='#{a}'>{t}</a>"
        for a, t in (
            ("sizes", "sizes"),
            ("inputs", "inputs"),
            ("classes", "classes"),
            ("embedding", "embeddings"),
            ("gallery", "selected"),
            ("flagged", "flagged frames"),
            ("timeline", "timeline"),
            ("duplicates", "duplicates"),
            ("removed", "removed"),
        )
    )
    body = "".join(
        [
            sections.sizes_section(data),
            sections.inputs_section(data),
            sections.classes_section(data),
            scatter_section(data),
            gallery_section(data),
            flagged_section(data),
            sections.timeline_section(data),
            duplicates_section(data),
            sections.removed_section(data),
        ]
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
        f"<title>{html.escape(title)}</title><style>{asset('report.css')}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><nav>{nav}</nav></header><main>{body}</main>"
        f"<script type='application/json' id='report-data'>{script_data}</script>"
        f"<script>{asset('scatter.js')}</script><script>{asset('report.js')}</script></body></html>"
    )
