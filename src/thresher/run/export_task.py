"""Which prediction task's boxes a run's exports carry: the task the run read.

The candidates are the tasks the config names: SCORES and PREDICTIONS inputs of the selection,
`worker_config.object_level.task_name` and the task the assertions check (decided by
`thresher.run.assertions.plan_assertions`); when it names none,
the pretagging task (with `pretagging: true`); else no task (exports without boxes).
`thresher.exports.task` chooses explicitly; with several candidates and no choice, the run
stops before any work with one line naming them.

Example: SCORES on `yolov8_detection` and pretagging on → `yolov8_detection`; SCORES on `a`
and object level on `b` → an error asking for `thresher.exports.task: a` (or `b`).
"""

from __future__ import annotations

from thresher.errors import ConfigError
from thresher.run.config import PRETAGGING_TASK, RunConfig


def tasks_named(config: RunConfig, assertion_task: str | None = None) -> list[str]:
    """The prediction tasks the run reads, in a stable order, without repeats: the selection's
    SCORES / PREDICTIONS tasks, the object-level task and the task the assertions check."""
    names: list[str | None] = [e.input.task for e in config.selection_config.strategies if e.input.type in ("SCORES", "PREDICTIONS")]
    if config.worker_config.object_level is not None:
        names.append(config.worker_config.object_level.task_name)
    names.append(assertion_task)
    return list(dict.fromkeys(n for n in names if n))


def export_task(config: RunConfig, assertion_task: str | None = None) -> str | None:
    """The task whose boxes (and `<task>-imputed` boxes) the exports carry (module docstring);
    `assertion_task`: the task the run's assertions check (`thresher.run.assertions`), if any."""
    chosen = config.thresher.exports.task
    if chosen:
        return chosen
    named = tasks_named(config, assertion_task)
    if len(named) > 1:
        listed = ", ".join(named)
        raise ConfigError(
            f"thresher.exports.task: the run reads several prediction tasks ({listed}) and the exports carry the boxes "
            f"of one; expected one of them, got none: add `thresher: {{exports: {{task: {named[0]}}}}}` to the run file"
        )
    if named:
        return named[0]
    return PRETAGGING_TASK if config.worker_config.pretagging else None
