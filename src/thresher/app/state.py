"""What `thresher serve` shows, read from the catalog and the runs' report bundles.

The catalog is the only map from an id to a file: a sample id from the browser is looked up
in the catalog (unknown ids are refused), a run id likewise, and the files read are the ones
the catalog and the run's bundle name (the datasource, the run folder's `report.html`). No
string from the browser is ever joined onto a path. Scores, classes and the 2-D embedding come
from a run's `report_data` bundle (the latest run that has one, or the run asked for).
"""

from __future__ import annotations

import os
import threading

import numpy as np
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from thresher.catalog import CATALOG_FILE, Catalog
from thresher.errors import UsageError
from thresher.frames import Frames
from thresher.report import REPORT_FILE
from thresher.report.data import DATA_JSON, DATA_NPZ, ReportData, has_report_data, load_report_data

if TYPE_CHECKING:
    from thresher.io.datasource import Datasource

THUMB_SIDES = (200, 640)
CACHE_IMAGES = 2000
MAX_PAGE = 200
MAX_VIEWS = 4  # run bundles kept in memory (each holds a run's thumbnails and per-sample arrays)


class NotFound(UsageError):
    """An id from the browser that the catalog does not know (HTTP 404)."""


@dataclass
class RunView:
    """A run's bundle and what the app derived from it (built once per run folder)."""

    run_id: str
    folder: Path
    data: ReportData
    row_of: dict[str, int]
    stamp: tuple = ()  # modification times of the bundle's two files when read


class AppState:
    """Shared by the request threads; each request opens its own catalog connection."""

    def __init__(self, catalog: str | os.PathLike, storage_options: dict | None = None):
        self.catalog_path = Path(catalog)
        self.storage_options = storage_options
        if not (self.catalog_path.is_file() or (self.catalog_path / CATALOG_FILE).is_file()):
            hint = ""
            if (self.catalog_path / ".thresher" / CATALOG_FILE).is_file():
                hint = f": that is a datasource; its catalog is {self.catalog_path / '.thresher'} (serve --catalog {self.catalog_path / '.thresher'})"
            raise UsageError(f"catalog: no thresher catalog at {self.catalog_path} (a workspace folder holding {CATALOG_FILE}, or the file){hint}")
        with self.catalog() as store:  # fail early on a path that is no catalog
            self.catalog_path = store.path
        self._views: OrderedDict[str, RunView] = OrderedDict()  # the last MAX_VIEWS bundles read
        self._images: OrderedDict[tuple[str, int, str | None], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def catalog(self) -> Catalog:
        return Catalog(self.catalog_path)

    # runs -----------------------------------------------------------------------------

    def run_folder(self, store: Catalog, run_id: str) -> Path:
        """The folder of a run the catalog knows (NotFound otherwise)."""
        try:
            run = store.run(run_id)
        except UsageError as exc:
            raise NotFound(str(exc)) from None
        folder = run.artifacts.get("folder")
        if not folder:
            raise NotFound(f"run {run_id!r} has no output folder (status {run.status})")
        return Path(folder)

    def report_page(self, run_id: str) -> bytes:
        with self.catalog() as store:
            path = self.run_folder(store, run_id) / REPORT_FILE
        if not path.is_file():
            raise NotFound(f"run {run_id!r} has no {REPORT_FILE}")
        return path.read_bytes()

    def runs(self) -> list[dict]:
        with self.catalog() as store:
            runs = store.runs()
        out = []
        for run in reversed(runs):
            folder = run.artifacts.get("folder")
            out.append(
                {
                    "id": run.id,
                    "status": run.status,
                    "created": run.created,
                    "finished": run.finished,
                    "selected": run.counts.get("selected"),
                    "samples": run.counts.get("selection input"),
                    "report": bool(folder and (Path(folder) / REPORT_FILE).is_file()),
                    "browsable": bool(folder and has_report_data(folder)),
                }
            )
        return out

    def view(self, run_id: str | None = None) -> RunView | None:
        """The bundle of `run_id`, or of the latest run that has one (None when no run has)."""
        with self.catalog() as store:
            if run_id:
                candidates = [(run_id, self.run_folder(store, run_id))]
            else:
                candidates = [(r.id, Path(r.artifacts["folder"])) for r in reversed(store.runs()) if r.artifacts.get("folder")]
        for rid, folder in candidates:
            if has_report_data(folder):
                return self._view(rid, folder)
        if run_id:
            raise NotFound(f"run {run_id!r} has no report data (report_data.npz)")
        return None

    def _view(self, run_id: str, folder: Path) -> RunView:
        """The run's bundle, read again when `thresher report` rewrote it meanwhile."""
        stamp = tuple((folder / name).stat().st_mtime_ns for name in (DATA_NPZ, DATA_JSON))  # both halves of the bundle
        with self._lock:
            cached = self._views.get(run_id)
            if cached is None or cached.stamp != stamp:
                data = load_report_data(folder)
                cached = RunView(run_id, folder, data, {s: i for i, s in enumerate(data.samples.id.tolist())}, stamp)
                self._views[run_id] = cached
            self._views.move_to_end(run_id)
            while len(self._views) > MAX_VIEWS:
                self._views.popitem(last=False)
            return cached

    # samples --------------------------------------------------------------------------

    def known(self, store: Catalog, ids: list[str]) -> Frames:
        """The catalog's rows of `ids` (NotFound for any id it does not hold)."""
        try:
            return store.samples(ids)
        except UsageError as exc:
            raise NotFound(str(exc)) from None

    def as_seen(self, store: Catalog, sample_id: str, view: RunView | None) -> Frames:
        """The sample's row as the run `view` saw it (its bundle's row), else the catalog's.

        A catalog shared by several datasources (`--catalog`) keeps one row per sample id, the
        first datasource's: another datasource's `img_005.jpg` may be another size, or a still
        image named like a video frame. NotFound when neither holds the id.
        """
        row = view.row_of.get(sample_id) if view is not None else None
        if view is not None and row is not None:
            return view.data.samples[np.array([row])]
        return self.known(store, [sample_id])

    def tags(self) -> list[dict]:
        with self.catalog() as store:
            return [{"name": name, "size": len(store.tag(name))} for name in store.tags()]

    def tag_ids(self, name: str) -> list[str]:
        with self.catalog() as store:
            try:
                return store.tag(name)
            except UsageError as exc:
                raise NotFound(str(exc)) from None

    def create_tag(self, name: object, ids: object) -> int:
        """A tag of sample ids the catalog knows; returns its size."""
        if not isinstance(name, str) or not name.strip():
            raise UsageError(f"name: expected a non-empty tag name, got {name!r}")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise UsageError("ids: expected a non-empty list of sample ids")
        if len(set(ids)) != len(ids):
            repeated = next(i for i in ids if ids.count(i) > 1)
            raise UsageError(f"ids: expected each sample id once, got {repeated!r} more than once")
        with self.catalog() as store:
            self.known(store, ids)
            return store.create_tag(name.strip(), ids, note="lasso in thresher serve")

    # images ---------------------------------------------------------------------------

    def image(self, sample_id: str, side: int, run_id: str | None = None) -> bytes:
        """JPEG of a catalog sample, its longer side `side` pixels (a crop: the crop itself),
        read from the datasource of the run it is shown for (`view_holding`)."""
        from thresher.app.images import sample_jpeg

        if side not in THUMB_SIDES:
            raise UsageError(f"size: expected one of {THUMB_SIDES}, got {side}")
        key = (sample_id, side, run_id)  # as asked: a cached answer costs no catalog query
        with self._lock:
            if key in self._images:
                self._images.move_to_end(key)
                return self._images[key]
        view = view_holding(self, sample_id, run_id)
        with self.catalog() as store:
            row = self.as_seen(store, sample_id, view)
            parent = self.as_seen(store, str(row.parent_id[0]), view) if row.kind[0] == "crop" else None
        jpeg = sample_jpeg(self, row, parent, side, view)
        with self._lock:
            self._images[key] = jpeg
            while len(self._images) > CACHE_IMAGES:
                self._images.popitem(last=False)
        return jpeg


def datasource_of(state: AppState, view: RunView | None = None) -> Datasource:
    """The datasource a run read (`view`, default: the latest run with report data, else the
    catalog's own folder). A catalog shared by several datasources (`--catalog`) holds runs
    of each, so a sample is read from the datasource of the run it is shown for."""
    view = view if view is not None else state.view()
    if view is not None:
        where = view.data.meta.get("datasource", {})
        return _cached_source(where.get("input"), where.get("lightly"), state.storage_options, state.catalog_path.parent)
    folder = state.catalog_path.parent
    if folder.name == ".thresher":
        return _cached_source(str(folder.parent), None, state.storage_options, folder)
    raise NotFound("no run with report data tells where the datasource is")


def bucket_datasources(state: AppState) -> list[str]:
    """The bucket URLs (input and LIGHTLY) that the catalog's runs with report data read, from
    each bundle's `report_data.json` (no array is loaded), newest run first."""
    import json

    from thresher.io.storage import is_url

    with state.catalog() as store:
        folders = [Path(r.artifacts["folder"]) for r in reversed(store.runs()) if r.artifacts.get("folder")]
    found: dict[str, None] = {}
    for folder in folders:
        if not has_report_data(folder):
            continue
        try:
            where = json.loads((folder / DATA_JSON).read_text(encoding="utf-8")).get("datasource") or {}
        except (OSError, ValueError, AttributeError):
            continue  # an unreadable bundle says so when it is shown
        for url in (where.get("input"), where.get("lightly")):
            if isinstance(url, str) and is_url(url):
                found[url] = None
    return list(found)


def credentials_warnings(state: AppState, environ: dict[str, str] | None = None) -> list[str]:
    """One `warning:` line per bucket the runs read when the server has no storage options and
    the environment no credentials for it (`credentials_in_environment`): its images will fail."""
    from thresher.io.datasource import CREDENTIALS_HINT, credentials_in_environment

    if state.storage_options:
        return []
    lines = []
    for url in bucket_datasources(state):
        if credentials_in_environment(url, environ):
            continue
        hint = CREDENTIALS_HINT.get(url.split("://", 1)[0], "pass credentials with --storage-options")
        lines.append(
            f"warning: {url}: runs of this catalog read this bucket, and neither --storage-options nor credentials in the "
            f"environment are given: its images will not show; restart with the --storage-options of the run, or {hint}"
        )
    return lines


def view_holding(state: AppState, sample_id: str, run_id: str | None = None) -> RunView | None:
    """The run a sample is shown for: `run_id` (the page's run: its datasource also holds the
    neighbouring frames of a strip), else the latest run whose bundle holds the sample, else
    the latest run with report data (None: no run has).

    Example: `view_holding(state, "clip-000042-mp4.png").run_id` → "20261205-214414-8ffaf3".
    """
    if run_id:
        return state.view(run_id)  # NotFound when that run has no report data
    for run in state.runs():
        if run["browsable"]:
            view = state.view(run["id"])
            if view is not None and sample_id in view.row_of:
                return view
    return state.view()


_SOURCES: dict[tuple, Datasource] = {}


def _cached_source(input_url: str, lightly_url: str | None, storage_options: dict | None = None, workspace: Path | None = None) -> Datasource:
    """One `Datasource` per location for the server's life, knowing the video indexes that
    `workspace`'s runs recorded (a frame of an unchanged video is found without a demux pass)."""
    import json

    from thresher.io.datasource import Datasource
    from thresher.io.video_index_cache import load_video_indexes, video_index_path

    key = (input_url, lightly_url if lightly_url != input_url else None, json.dumps(storage_options, sort_keys=True))
    if key not in _SOURCES:
        source = Datasource(key[0], key[1], storage_options)
        if workspace is not None:
            source.video_infos.adopt(load_video_indexes(video_index_path(workspace, source.input.url)))
        _SOURCES[key] = source
    return _SOURCES[key]
