"""Boxes drawn over a frame's image: one SVG layer in the frame's own pixels (viewBox), so it
scales with the image. Predicted boxes solid in their class's colour (opacity by score; no class
colour near magenta), imputed boxes dashed magenta; each box's class and score written on it.
"""

from __future__ import annotations

import html

import numpy as np

from thresher.boxes import xyxy_to_xywh
from thresher.report.data import Thumbnails

# Class colours of predicted boxes: none near the imputed boxes' magenta (#ff00ff, dashed).
PALETTE = ("#1a73e8", "#e8710a", "#188038", "#00acc1", "#b06000", "#5f6368", "#f9ab00", "#3949ab", "#7cb342", "#000000")
IMPUTED_COLOR = "#ff00ff"
LABELLED = 3  # predicted boxes per frame whose label shows without hovering (labels=False)
CHAR_WIDTH = 0.62  # the widest a sans-serif label's character runs on average, in font sizes (digits are 0.56)


def class_color(label: int) -> str:
    """The colour of predicted boxes of class `label` (an index into `Thumbnails.labels`)."""
    return PALETTE[label % len(PALETTE)]


def boxes_svg(thumbs: Thumbnails, t: int, highlight: np.ndarray | None = None, labels: bool = False) -> str:
    """SVG overlay (viewBox in the frame's pixels) with thumbnail t's boxes, each labelled with its
    class and score: every label with `labels`, else the `LABELLED` best-scoring predicted boxes'
    and the imputed ones', the others while the pointer is on the frame (CSS `text.minor`).
    `highlight`: boxes (K, 4) outlined in yellow (class `crop`: the selected objects' crops)."""
    width, height = thumbs.size[t].tolist()
    # by the longer side, which the page fits to a fixed size (a portrait frame's height is capped):
    # ~12 px in a 400 px strip frame, ~8 px on a 200 px thumbnail
    font = max(10.0, max(width, height) / 32) if labels else max(width, height) / 24
    mine = np.flatnonzero(thumbs.box_thumb == t)
    ranked = mine[np.argsort(-thumbs.box_score[mine], kind="stable")]
    shown = set(mine.tolist()) if labels else set(ranked[~thumbs.box_imputed[ranked]][:LABELLED].tolist()) | set(mine[thumbs.box_imputed[mine]].tolist())
    parts, texts = [], []
    xywh = xyxy_to_xywh(thumbs.box_xyxy)
    for b in mine.tolist():
        x0, y0, box_w, box_h = xywh[b].tolist()
        y1 = float(thumbs.box_xyxy[b, 3])
        label = str(thumbs.labels[thumbs.box_label[b]]) if len(thumbs.labels) else ""
        imputed = bool(thumbs.box_imputed[b])
        color = IMPUTED_COLOR if imputed else class_color(int(thumbs.box_label[b]))
        tip = f"{'imputed' if imputed else 'predicted'} {label} {thumbs.box_score[b]:.2f}"
        parts.append(
            f"<rect class='{'imputed' if imputed else 'predicted'}' x='{x0:.1f}' y='{y0:.1f}' width='{box_w:.1f}' height='{box_h:.1f}' "
            f"stroke='{color}' stroke-opacity='{0.4 + 0.6 * float(thumbs.box_score[b]):.2f}'><title>{html.escape(tip)}</title></rect>"
        )
        text = f"{'imputed ' if imputed else ''}{label} {thumbs.box_score[b]:.2f}"
        y = y1 - font * 0.25 if imputed else y0 + font
        cls = "label" if b in shown else "label minor"
        x, anchor = label_x(x0, x0 + box_w, len(text) * CHAR_WIDTH * font, width)
        texts.append(f"<text class='{cls}' x='{x:.1f}' y='{y:.1f}'{anchor} font-size='{font:.1f}' fill='{color}'>{html.escape(text)}</text>")
    if highlight is not None:
        for x0, y0, box_w, box_h in xyxy_to_xywh(np.asarray(highlight).reshape(-1, 4)).tolist():
            parts.append(f"<rect class='crop' x='{x0:.1f}' y='{y0:.1f}' width='{box_w:.1f}' height='{box_h:.1f}'/>")
    return f"<svg class='boxes' viewBox='0 0 {width} {height}' preserveAspectRatio='none'>{''.join(parts + texts)}</svg>"


def label_x(x0: float, x1: float, text_width: float, width: float) -> tuple[float, str]:
    """Where a box's label starts so that it stays inside the frame (0..width): at the box's
    left edge, or, when it would run past the frame's right edge, ending at the box's right
    edge (or the frame's), as `(x, text-anchor attribute)`.

    >>> label_x(10, 60, 40, 400), label_x(380, 398, 40, 400)
    ((12.0, ''), (396.0, " text-anchor='end'"))
    """
    if x0 + 2 + text_width <= width:
        return float(x0 + 2), ""
    return float(max(min(x1, width) - 2, min(text_width, width))), " text-anchor='end'"
