"""Why each sample was picked: every strategy's value, normalized objective and factor, as data and as bars.

For pick k and strategy i the selector gives (`SelectionOutcome`): the input value
(a score, a metadata value, the classes, or for embeddings the distance), the objective o_i at
pick time and its factor o_i^s_i in the pick's objective (the product of the factors). The report
adds the *normalized* objective: o_i divided by the largest o_i among this run's picks (1 = the
pick that scored best on that strategy). Each thumbnail of the gallery gets one small bar per
strategy, as long as the normalized objective, with every number on hover. A strategy whose
objective is 0 for every pick (WEIGHTS on a score that is 0 everywhere, as `uncertainty_margin`
of a one-class detector) has no normalized objective: it keeps its legend entry and an empty
bar, marked "0 for every pick", and a note says that its floor factor scales every pick's
objective alike.
"""

from __future__ import annotations

import html
import math

import numpy as np

from thresher.report.svg import number

STRATEGY_COLORS = ("#1a73e8", "#e8710a", "#188038", "#12b5cb", "#b06000", "#5f6368")
BAR_WIDTH, ROW_HEIGHT = 120, 9


def explain(config, outcome) -> list[dict]:
    """Per strategy: name, strategy type, strength, and per selected sample (in `selection.ids`
    order) its value, objective, normalized objective and factor (None where not defined)."""
    explained = []
    for entry, name in zip(config.strategies, outcome.values):
        objective = np.asarray(outcome.objectives.get(name, np.full(len(outcome.selection), np.nan)), dtype=np.float64)
        best = np.nanmax(objective) if np.isfinite(objective).any() else np.nan
        normalized = objective / best if np.isfinite(best) and best > 0 else np.full(len(objective), np.nan)
        factor = np.asarray(outcome.factors.get(name, np.full(len(objective), np.nan)), dtype=np.float64)
        explained.append(
            {
                "name": name,
                "strategy": entry.strategy.type,
                "strength": float(getattr(entry.strategy, "strength", 1.0)),
                "value": [_json(v) for v in outcome.values[name]],
                "objective": [_json(v) for v in objective],
                "normalized": [_json(v) for v in normalized],
                "factor": [_json(v) for v in factor],
                "zero": bool(np.isfinite(best) and best <= 0),  # 0 for every pick: no pick is better on it
            }
        )
    return explained


def _json(value: object) -> object:
    """A JSON-ready cell: floats (None for NaN) or text."""
    if isinstance(value, (float, np.floating, int, np.integer)):
        return None if not math.isfinite(float(value)) else float(value)
    return None if value is None else str(value)


def why_bars(explained: list[dict], k: int) -> str:
    """The bars of pick k (its position in the selection): one per strategy, numbers on hover."""
    rows: list[str] = []
    for i, entry in enumerate(explained):
        normalized = entry["normalized"][k] if k < len(entry["normalized"]) else None
        zero = entry.get("zero", False) and k < len(entry["objective"]) and entry["objective"][k] is not None
        if normalized is None and not zero:
            continue
        width = 0.0 if normalized is None else BAR_WIDTH * min(max(normalized, 0.0), 1.0)
        y = len(rows) * ROW_HEIGHT
        share = "0 for every pick" if normalized is None else f"{normalized:.0%} of the best pick's"
        tip = (
            f"{entry['name']} (strength {number(entry['strength'])}): value {_shown(entry['value'][k])}, "
            f"objective {_shown(entry['objective'][k])} ({share}), factor {_shown(entry['factor'][k])}"
        )
        color = STRATEGY_COLORS[i % len(STRATEGY_COLORS)]
        rows.append(
            f"<g class='why-row'><title>{html.escape(tip)}</title>"
            f"<rect class='track' x='0' y='{y + 1}' width='{BAR_WIDTH}' height='{ROW_HEIGHT - 2}'/>"
            f"<rect class='bar' x='0' y='{y + 1}' width='{width:.1f}' height='{ROW_HEIGHT - 2}' fill='{color}'/></g>"
        )
    if not rows:
        return ""
    height = len(rows) * ROW_HEIGHT
    return f"<svg class='why' viewBox='0 0 {BAR_WIDTH} {height}' width='{BAR_WIDTH}' height='{height}'>{''.join(rows)}</svg>"


def why_legend(explained: list[dict]) -> str:
    """The key of the bars: each strategy's colour and name ("0 for every pick" for a strategy
    that could not tell the picks apart), and a note on those."""
    if not explained:
        return ""
    keys = "".join(
        f"<span class='key'><i style='background:{STRATEGY_COLORS[i % len(STRATEGY_COLORS)]}'></i>{html.escape(e['name'])}{' (0 for every pick)' if e.get('zero') else ''}</span>"
        for i, e in enumerate(explained)
        if e.get("zero") or any(v is not None for v in e["normalized"])
    )
    return (
        "<p class='why-note'>Bars under each frame: every strategy's objective for that pick relative to the best pick's "
        f"(hover for the value, the objective and its factor in the product).</p><div class='legend'>{keys}</div>{_zero_note(explained)}"
    )


def _zero_note(explained: list[dict]) -> str:
    """Why a strategy shows no bar and the objectives are tiny: it is 0 for every pick."""
    zero = [e for e in explained if e.get("zero")]
    if not zero:
        return ""
    names = ", ".join(html.escape(e["name"]) for e in zero)
    floors = sorted({f for e in zero for f in e["factor"] if f is not None})
    floor = f" (its factor is the floor {number(floors[0])} for every pick, which scales every pick's objective alike)" if len(floors) == 1 else ""
    return (
        f"<p class='why-note'>{names}: objective 0 for every pick, so it could not tell the picks apart and did not "
        f"influence the choice{floor}. Its input is probably constant over the candidates (e.g. uncertainty_margin of "
        "a one-class detector); pick another input or drop the strategy.</p>"
    )


def _shown(value: object) -> str:
    if value is None:
        return "—"
    return number(float(value)) if isinstance(value, float) else str(value)
