"""The catalog's record of a finished run: its samples, its tags and its status, in one transaction.

Example: a run `r1` that selected `a.png` adds its samples, tags them `run-r1` and, with the
datapool, adds them to the `datapool` tag; `record_run(catalog, "r1", written, artifacts)`.
"""

from __future__ import annotations

import time

from thresher.catalog import Catalog
from thresher.run.stages import DATAPOOL_TAG
from thresher.run.state import Written


def record_run(store: Catalog, run_id: str, written: Written, artifacts: dict) -> None:
    """Catalog updates of a finished run (samples, tags, status), in one transaction."""
    with store.batch():
        _record_all(store, run_id, written, artifacts)


def _record_all(store: Catalog, run_id: str, written: Written, artifacts: dict) -> None:
    selection, worker = written.outcome.selection, written.worker
    store.add_samples(written.frames, run_id=run_id)
    if written.crops is not None:
        store.add_samples(written.crops, run_id=run_id)
    store.create_tag(f"run-{run_id}", selection.ids.tolist(), run_id=run_id, note="selection of the run")
    if worker.use_datapool and worker.datasource.enable_datapool_update:
        previous = store.tag(DATAPOOL_TAG) if DATAPOOL_TAG in store.tags() else []
        pool = list(dict.fromkeys(previous + selection.ids.tolist()))
        store.create_tag(DATAPOOL_TAG, pool, run_id=run_id, note="every sample selected with the datapool", replace=True)
    store.update_run(run_id, status="done", finished=time.time(), counts=dict(written.counts), timings=dict(written.timings), artifacts=artifacts)
