"""Boxes drawn over a frame's image: one SVG layer in the frame's own pixels (viewBox), so it
scales with the image. Predicted boxes solid in their class's colour (opacity by score),
imputed boxes dashed magenta; optionally each box's class and score written on it.
"""

from __future__ import annotations

import html

import numpy as np

from thresher.report.data import Thumbnails

PALETTE = ("#1a73e8", "#e8710a", "#188038", "#9334e6", "#d01884", "#12b5cb", "#b06000", "#5f6368")


def boxes_svg(thumbs: Thumbnails, t: int, highlight: np.ndarray | None = None, labels: bool = False) -> str:
    """SVG overlay (viewBox in the frame's pixels) with thumbnail t's boxes; `labels` writes
    each box's class and score on it."""
    width, height = thumbs.size[t].tolist()
    font = max(10.0, width / 32)  # about 12 px when the frame is shown 400 px wide
    parts, texts = [], []
    for b in np.flatnonzero(thumbs.box_thumb == t).tolist():
        x0, y0, x1, y1 = thumbs.box_xyxy[b].tolist()
        label = str(thumbs.labels[thumbs.box_label[b]]) if len(thumbs.labels) else ""
        imputed = bool(thumbs.box_imputed[b])
        color = "#ff00ff" if imputed else PALETTE[int(thumbs.box_label[b]) % len(PALETTE)]
        tip = f"{'imputed' if imputed else 'predicted'} {label} {thumbs.box_score[b]:.2f}"
        parts.append(
            f"<rect class='{'imputed' if imputed else 'predicted'}' x='{x0:.1f}' y='{y0:.1f}' width='{x1 - x0:.1f}' height='{y1 - y0:.1f}' "
            f"stroke='{color}' stroke-opacity='{0.4 + 0.6 * float(thumbs.box_score[b]):.2f}'><title>{html.escape(tip)}</title></rect>"
        )
        if labels:
            text = f"{'imputed ' if imputed else ''}{label} {thumbs.box_score[b]:.2f}"
            y = y1 - font * 0.25 if imputed else y0 + font
            texts.append(f"<text class='label' x='{x0 + 2:.1f}' y='{y:.1f}' font-size='{font:.1f}' fill='{color}'>{html.escape(text)}</text>")
    if highlight is not None:
        x0, y0, x1, y1 = highlight.tolist()
        parts.append(f"<rect class='crop' x='{x0:.1f}' y='{y0:.1f}' width='{x1 - x0:.1f}' height='{y1 - y0:.1f}'/>")
    return f"<svg class='boxes' viewBox='0 0 {width} {height}' preserveAspectRatio='none'>{''.join(parts + texts)}</svg>"
