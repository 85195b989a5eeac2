"""`thresher run`: one LightlyOne-style worker run on the user's machine.

    from thresher.run import run
    result = run("data/", "run.yaml")        # result.selection, result.folder

- `api`: `run()` and its `RunResult`; `record`: the catalog's record of a finished run.
- `state`: the run's frozen states (`Setup` → `Planned` → `Enumerated` → `Embedded` →
  `Selected` → `Written`); `stages`: each stage, a function from one state to the next;
  `driver`: their order, logged and timed.
- `config`, `config_check`, `assertions`, `export_task`: the run file and what it decides
  before any work; `resolver`: the selection's inputs; `outputs`, `images`, `exports`,
  `partial`: the run's folder and its hand-off; `select_only`, `seed_select`: `thresher select`.
"""

from __future__ import annotations

from thresher.run.api import RunResult, run
from thresher.run.config import PRETAGGING_TASK, load_run_config
from thresher.run.partial import remove_dead_partials
from thresher.run.stages import DATAPOOL_TAG

__all__ = ["DATAPOOL_TAG", "PRETAGGING_TASK", "RunResult", "load_run_config", "remove_dead_partials", "run"]
