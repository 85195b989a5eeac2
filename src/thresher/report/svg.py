"""Inline SVG charts (no script, no library): grouped histograms, grouped class bars, bars.

Every chart compares named sets (input, selected, random, datapool) in fixed colours, as
shares of each set (so sets of different sizes compare bar by bar).
"""

from __future__ import annotations

import html

import numpy as np

SET_COLORS = {"input": "#9aa0a6", "selected": "#d93025", "random": "#1a73e8", "datapool": "#188038"}
WIDTH, HEIGHT = 620, 200
LEFT, RIGHT, TOP, BOTTOM = 46, 10, 10, 34


SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def number(value: float) -> str:
    """A short human form of a number ("—" for NaN or None); a tiny or huge one as a power of
    ten, which reads as such (`6.61×10⁻¹⁰`, not `6.61e-10`).

    >>> number(0.25), number(3.0), number(6.6099e-10), number(2.5e12)
    ('0.25', '3', '6.61×10⁻¹⁰', '2.5×10¹²')
    """
    if value is None or np.isnan(value):
        return "—"
    value = float(value)
    if np.isinf(value):
        return "∞" if value > 0 else "−∞"
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    if 0 < abs(value) < 1e-4 or abs(value) >= 1e9:
        mantissa, exponent = f"{value:.2e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}×10{str(int(exponent)).translate(SUPERSCRIPT)}"
    return f"{value:.4g}"


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total > 0 else np.zeros(len(counts))


def legend(names: list[str]) -> str:
    items = "".join(f"<span class='key'><i style='background:{SET_COLORS[n]}'></i>{html.escape(n)}</span>" for n in names)
    return f"<div class='legend'>{items}</div>"


def grouped_histogram(edges: np.ndarray, counts: dict[str, np.ndarray], title: str = "") -> str:
    """Bars of each set's share per bin, grouped by bin; x labels at the bin edges' ends."""
    names = list(counts)
    shares = {n: _shares(np.asarray(c, float)) for n, c in counts.items()}
    top = max([float(s.max()) for s in shares.values() if len(s)] + [1e-9])
    bins = len(edges) - 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / bins
    bar = slot * 0.9 / max(len(names), 1)
    rects = []
    for b in range(bins):
        for k, name in enumerate(names):
            h = plot_h * shares[name][b] / top
            x = LEFT + b * slot + slot * 0.05 + k * bar
            tip = f"{name}: {shares[name][b]:.1%} in [{number(edges[b])}, {number(edges[b + 1])}]"
            rects.append(
                f"<rect x='{x:.1f}' y='{TOP + plot_h - h:.1f}' width='{bar:.1f}' height='{h:.1f}' fill='{SET_COLORS.get(name, '#555')}'><title>{html.escape(tip)}</title></rect>"
            )
    labels = [(LEFT, "start", edges[0]), (LEFT + plot_w / 2, "middle", (edges[0] + edges[-1]) / 2), (LEFT + plot_w, "end", edges[-1])]
    axis = "".join(f"<text x='{x:.1f}' y='{HEIGHT - 14}' text-anchor='{a}'>{number(v)}</text>" for x, a, v in labels)
    return _frame("histogram", title, "".join(rects) + axis + _y_axis(top, plot_h))


def _y_axis(top: float, plot_h: float) -> str:
    return (
        f"<line x1='{LEFT}' y1='{TOP + plot_h}' x2='{WIDTH - RIGHT}' y2='{TOP + plot_h}' stroke='#888'/>"
        f"<text x='{LEFT - 4}' y='{TOP + 10}' text-anchor='end'>{top:.0%}</text>"
        f"<text x='{LEFT - 4}' y='{TOP + plot_h}' text-anchor='end'>0</text>"
    )


def grouped_classes(class_names: list[str], counts: dict[str, np.ndarray], title: str = "") -> str:
    """Horizontal bars of each set's share per class, one group of bars per class."""
    names = list(counts)
    shares = {n: _shares(np.asarray(c, float)) for n, c in counts.items()}
    top = max([float(s.max()) for s in shares.values() if len(s)] + [1e-9])
    row_h = 4 + 7 * len(names)
    height = TOP + row_h * len(class_names) + 8
    label_w, plot_w = 150, WIDTH - 150 - RIGHT - 40
    parts = []
    for c, cname in enumerate(class_names):
        y0 = TOP + c * row_h
        parts.append(f"<text x='{label_w - 6}' y='{y0 + row_h / 2 + 4:.1f}' text-anchor='end'>{html.escape(_short(cname))}</text>")
        for k, name in enumerate(names):
            w = plot_w * shares[name][c] / top
            tip = f"{cname} — {name}: {shares[name][c]:.1%} ({number(float(counts[name][c]))})"
            parts.append(f"<rect x='{label_w}' y='{y0 + 2 + 7 * k}' width='{w:.1f}' height='6' fill='{SET_COLORS.get(name, '#555')}'><title>{html.escape(tip)}</title></rect>")
    parts.append(f"<text x='{WIDTH - RIGHT}' y='{height - 2}' text-anchor='end'>max {top:.0%}</text>")
    return _frame("classes", title, "".join(parts), height)


def horizontal_bars(labels: list[str], values: list[float], unit: str = "", title: str = "") -> str:
    """One bar per label (e.g. seconds per stage)."""
    top = max(values + [1e-9])
    label_w, plot_w, row_h = 150, WIDTH - 150 - RIGHT - 70, 18
    parts = []
    for i, (label, value) in enumerate(zip(labels, values)):
        y = TOP + i * row_h
        w = plot_w * value / top
        parts.append(
            f"<text x='{label_w - 6}' y='{y + 12}' text-anchor='end'>{html.escape(_short(label))}</text>"
            f"<rect x='{label_w}' y='{y + 2}' width='{w:.1f}' height='13' fill='#5f6368'/>"
            f"<text x='{label_w + w + 4:.1f}' y='{y + 12}'>{number(value)}{unit}</text>"
        )
    return _frame("bars", title, "".join(parts), TOP + row_h * len(labels) + 6)


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _frame(kind: str, title: str, body: str, height: int = HEIGHT) -> str:
    label = f" aria-label='{html.escape(title)}'" if title else ""
    return f"<svg class='chart {kind}' viewBox='0 0 {WIDTH} {height}' width='{WIDTH}' height='{height}' role='img'{label}>{body}</svg>"
