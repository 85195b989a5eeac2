"""Which prediction task's boxes a run's exports carry: the task the run read.

The candidates are the tasks the config names: SCORES and PREDICTIONS inputs of the selection,
`worker_config.object_level.task_name` and the task the assertions check (`thresher.assertions.task`,
by default the pretagging task, else the object-level task); when it names none,
the pretagging task (with `pretagging: true`); else no task (exports without boxes).
`thresher.exports.task` chooses explicitly; with several candidates and no choice, the run
stops before any work with one line naming them.

Example: SCORES on `yolov8_detection` and pretagging on → `yolov8_detection`; SCORES on `a`
and object level on `b` → an error asking for `thresher.exports.task: a` (or `b`).
"""

from __future__ import annotations

from thresher.errors import ConfigError
from thresher.run.config import PRETAGGING_TASK, RunConfig


def tasks_named(config: RunConfig) -> list[str]:
    """The prediction tasks the config names, in a stable order, without repeats."""
    names = [e.input.task for e in config.selection_config.strategies if e.input.type in ("SCORES", "PREDICTIONS")]
    if config.worker_config.object_level is not None:
        names.append(config.worker_config.object_level.task_name)
    if config.thresher.assertions is not None:
        names.append(assertion_task(config))
    return list(dict.fromkeys(n for n in names if n))


def assertion_task(config: RunConfig) -> str | None:
    """The task the assertions check: `thresher.assertions.task`, else pretagging's, else object level's."""
    options, worker = config.thresher.assertions, config.worker_config
    if options is not None and options.task:
        return options.task
    if worker.pretagging:
        return PRETAGGING_TASK
    return worker.object_level.task_name if worker.object_level is not None else None


def export_task(config: RunConfig) -> str | None:
    """The task whose boxes (and `<task>-imputed` boxes) the exports carry (module docstring)."""
    chosen = config.thresher.exports.task
    if chosen:
        return chosen
    named = tasks_named(config)
    if len(named) > 1:
        listed = ", ".join(named)
        raise ConfigError(
            f"thresher.exports.task: the run reads several prediction tasks ({listed}) and the exports carry the boxes "
            f"of one; expected one of them, got none: add `thresher: {{exports: {{task: {named[0]}}}}}` to the run file"
        )
    if named:
        return named[0]
    return PRETAGGING_TASK if config.worker_config.pretagging else None
