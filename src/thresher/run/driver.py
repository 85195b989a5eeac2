"""The order of a run's stages (`thresher.run.stages`), each logged and timed.

`plan` runs the config check alone, so that a config the run cannot follow stops it before any
folder or model; `execute` runs the other stages, the optional ones when the config asks.
Each stage logs `<stage> …` as it starts, and its seconds join the state's `timings`.

Example (three stills, two picked at random)::

    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> from thresher.catalog import Catalog
    >>> from thresher.io.datasource import Datasource
    >>> from thresher.run.config import load_run_config
    >>> from thresher.workspace import workspace_for
    >>> folder = Path(tempfile.mkdtemp())
    >>> for k, name in enumerate("abc"):
    ...     Image.fromarray(np.full((48, 64, 3), 80 * k, np.uint8)).save(folder / f"{name}.png")
    >>> config = load_run_config(selection_config={"n_samples": 2, "strategies": [{"input": {"type": "RANDOM"}, "strategy": {"type": "WEIGHTS"}}]})
    >>> source = Datasource(folder)
    >>> workspace = workspace_for(source)  # folder/.thresher, created
    >>> (folder / "out").mkdir()  # `run()` makes it: the run's <id>.partial folder
    >>> with Catalog(workspace) as catalog:
    ...     setup = Setup(source=source, config=config, catalog=catalog, workspace=workspace, folder=folder / "out")
    ...     written = execute(plan(setup))
    >>> list(written.timings)
    ['config check', 'enumerate', 'corruptness check', 'embeddings', 'exact duplicates', 'selection', 'outputs']
    >>> len(written.outcome.selection), (folder / "out" / "selection.csv").exists()
    (2, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from thresher.run.stages import (
    check_config,
    check_corruption,
    embed,
    enumerate_frames,
    pretag,
    remove_duplicates,
    run_assertions,
    select,
    write_outputs,
)
from thresher.run.state import Found, Planned, Setup, State, Written


def stage(name: str, function: Callable[[State], Found], state: State) -> Found:
    """`function(state)`, logged as `<name> …`; the state it returns records its seconds as `name`."""
    start = time.perf_counter()
    state.log(f"{name} …")
    found = function(state)
    return replace(found, timings={**found.timings, name: round(time.perf_counter() - start, 3)})


def plan(setup: Setup) -> Planned:
    """The config check (`check_config`): what the run will do, decided before any work."""
    return stage("config check", check_config, setup)


def execute(planned: Planned) -> Written:
    """Every stage after the config check, in order; the outputs are in `planned.folder`."""
    worker = planned.worker
    state = stage("enumerate", enumerate_frames, planned)
    if worker.enable_corruptness_check:
        state = stage("corruptness check", check_corruption, state)
    if worker.pretagging:
        state = stage("pretagging", pretag, state)
    # from here on only this process writes `.lightly/` (metadata, imputed boxes), through this
    # location: each of its folders is listed once (`Location.kept_listings`)
    with state.source.lightly.kept_listings():
        if state.assertion_plan is not None:
            state = stage("assertions", run_assertions, state)
        embedded = stage("embeddings", embed, state)
        if worker.remove_exact_duplicates:
            embedded = stage("exact duplicates", remove_duplicates, embedded)
        selected = stage("selection", select, embedded)
        return stage("outputs", write_outputs, selected)
