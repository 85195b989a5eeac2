"""The run report: one self-contained `report.html` per run, and the data to rebuild it.

    from thresher.report import build_report
    build_report("path/to/run")                     # rebuilds report.html from the run's bundle
    build_report("path/to/run", projection="tsne")  # t-SNE instead of PCA (extra report-tsne)

A run saves `report_data.npz` + `report_data.json` (see `thresher.report.data`) and writes
`report.html`: sizes and timings; every selection input's distribution over the sets input /
selected / random (same size, seeded) / datapool (numeric: histogram, mean, std, min, median,
max; categorical: counts, Gini imbalance, normalized entropy); class distributions of the
predictions; a 2-D embedding scatter coloured by any score or metadata with the selected
samples marked and a thumbnail on hover; the selected frames with predicted (solid) and
imputed (dashed) boxes; the frames flicker flagged, worst first, each beside the frames before
and after it (`thresher.report.flagged`); a timeline per video; near-duplicate pairs with their
distance. The
page loads nothing: scripts, styles and images are inlined, and its Content-Security-Policy
forbids any request.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from thresher.errors import UsageError
from thresher.report.data import ReportData, load_report_data, save_report_data
from thresher.report.stats import categorical_summary, gini_imbalance, histogram, normalized_entropy, numeric_summary, shared_edges

if TYPE_CHECKING:
    from thresher.run.state import Selected

REPORT_FILE = "report.html"


def write_report(data: ReportData, path: str | os.PathLike) -> Path:
    """Write the page of `data` to `path` (whole, then renamed)."""
    from thresher.report.render import page
    from thresher.io.storage import write_file

    path = Path(path)
    write_file(path, page(data).encode("utf-8"))
    return path


def write_run_report(state: Selected, projection: str = "pca") -> Path:
    """Collect a finished run's report data (`state`: the run after its selection, see
    `thresher.run.state`), save the bundle in its folder, write report.html; returns its path."""
    from thresher.report.collect import collect

    data = collect(state, projection)
    save_report_data(state.folder, data)
    return write_report(data, Path(state.folder) / REPORT_FILE)


def reproject(data: ReportData, projection: str) -> ReportData:
    """The same data with another 2-D projection of the run's stored embeddings."""
    from thresher.embedding_store import EmbeddingStore
    from thresher.report.projection import project

    store = EmbeddingStore(data.meta.get("store", ""))
    embeddings = store.load()
    missing = ~np.isin(data.samples.id, embeddings.ids)
    if missing.any():
        raise UsageError(
            f"projection {projection!r}: the run's embeddings are not all in {store.folder} "
            f"(e.g. {str(data.samples.id[missing][0])!r}); only the saved {data.meta.get('projection', 'pca')} projection is available"
        )
    vectors = embeddings.align(data.samples.id).vectors
    return replace(data, projection=project(vectors, projection, int(data.meta.get("seed", 0))), meta={**data.meta, "projection": projection})


def build_report(run_folder: str | os.PathLike, projection: str | None = None, out: str | os.PathLike | None = None) -> Path:
    """Rebuild a run's report.html from its saved report data; returns the page's path.

    projection: None keeps the saved one (PCA unless the run asked otherwise); "pca", "tsne"
    or "umap" recompute it from the embedding store the run used.
    """
    folder = Path(run_folder)
    data = load_report_data(folder)
    if projection is not None and projection != data.meta.get("projection"):
        data = reproject(data, projection)
        save_report_data(folder, data)
    return write_report(data, Path(out) if out is not None else folder / REPORT_FILE)


__all__ = [
    "REPORT_FILE",
    "ReportData",
    "build_report",
    "categorical_summary",
    "gini_imbalance",
    "histogram",
    "load_report_data",
    "normalized_entropy",
    "numeric_summary",
    "save_report_data",
    "shared_edges",
    "write_report",
    "write_run_report",
]
