"""A plain summary of a run as `report.html`: sizes, timings, the selection, what was removed.

Self-contained (no script, no network); the full report with distributions and plots
replaces it (issue 8).
"""

from __future__ import annotations

import html
from pathlib import Path

from thresher.io.storage import write_file

MAX_ROWS = 200


def _table(header: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows[:MAX_ROWS])
    more = f"<p>… and {len(rows) - MAX_ROWS} more</p>" if len(rows) > MAX_ROWS else ""
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def write_summary(path: Path, work, outcome) -> None:
    selection = outcome.selection
    picks = [[k + 1, i, "" if v != v else f"{v:.4g}"] for k, (i, v) in enumerate(zip(selection.ids.tolist(), selection.objective.tolist()))]
    parts = [
        "<!doctype html><meta charset='utf-8'><title>thresher run</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}</style>",
        "<h1>thresher run</h1>",
        f"<p>Stopped by: {html.escape(outcome.stop_reason)}</p>",
        "<h2>Counts</h2>", _table(["what", "count"], [[k, v] for k, v in work.counts.items()]),
        "<h2>Timings (s)</h2>", _table(["stage", "seconds"], [[k, v] for k, v in work.timings.items()]),
        "<h2>Selection, in pick order</h2>", _table(["#", "sample", "objective"], picks),
        "<h2>Removed samples</h2>", _table(["file", "reason", "detail"], [list(r) for r in sorted(work.removed)]),
    ]
    write_file(path, "\n".join(parts).encode())
