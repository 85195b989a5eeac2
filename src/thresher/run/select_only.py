"""Selection alone over a datasource: the run's enumerate, embeddings and selection stages.

Used by `thresher select`: no pretagging, assertions, checks or exports; writes
`selection.csv` and `selection.json` into `out`. Stored embeddings are reused and missing
ones computed (only when the config has an EMBEDDINGS input).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from thresher.catalog import Catalog
from thresher.io.datasource import Datasource
from thresher.run.config import load_run_config
from thresher.run.config_check import check_run_config
from thresher.run.stages import embed_or_skip, enumerate_frames, select
from thresher.run.state import Planned
from thresher.select import SelectionConfig, SelectionOutcome, write_selection_csv, write_selection_json
from thresher.workspace import workspace_for


def select_only(
    source: Datasource,
    selection_config: SelectionConfig | Mapping[str, Any] | str | os.PathLike,
    out: str | os.PathLike,
    *,
    embedder: str = "ssd-mobilenet-v2-coco",
    seed: int = 0,
    every: int = 1,
    catalog: str | os.PathLike | None = None,
) -> SelectionOutcome:
    """Select `selection_config` (a model, a dict or a .yaml/.json path) over `source` every
    `every`-th video frame; writes `out`/selection.csv and selection.json and returns the outcome,
    e.g. `select_only(source, {"n_samples": 10, "strategies": [...]}, "out").selection`."""
    config = load_run_config(
        worker_config={"enable_corruptness_check": False, "remove_exact_duplicates": False},
        selection_config=selection_config,
        thresher={"embedder": embedder, "seed": seed, "every": every},
    )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with Catalog(workspace_for(source, catalog)) as store:
        check_run_config(source, config, store)
        planned = Planned(
            source=source,
            config=config,
            catalog=store,
            workspace=store.path.parent,
            folder=out,
            assertion_plan=None,
            export_task=None,
            label_studio_root=None,
            final_folder=out,
        )  # no assertions and no exports: the config was checked without them
        selected = select(embed_or_skip(enumerate_frames(planned)))
    outcome = selected.outcome
    write_selection_csv(out / "selection.csv", selected.samples, outcome.selection, outcome.values)
    write_selection_json(out / "selection.json", outcome, seed=seed)
    return outcome
