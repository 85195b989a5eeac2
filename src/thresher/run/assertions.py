"""Which assertions a run computes, on which task, with which parameters: decided before any
model runs, so a wrong `thresher.assertions` section fails in the first second.

- The task: `thresher.assertions.task` when given; else the one prediction task the selection
  config reads (SCORES / PREDICTIONS inputs); else the pretagging task when pretagging; else
  the object-level task. None of these, or two tasks read by the selection: a ConfigError
  asking for `thresher.assertions.task`.
- A selection that weights an assertion's metadata (`flickering`, `<assertion>_severity`)
  with no `thresher.assertions` section: thresher computes those assertions with their
  defaults, unless the datasource already holds that key from elsewhere (metadata the user
  computed and uploaded, as in seed 000: used as it is). With no task to compute them on, a
  ConfigError naming `thresher.assertions`.
- With a section, a selection reading `<assertion>_severity` of an assertion the section does
  not list is a ConfigError; so are unknown parameters and values out of range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from thresher.assertions.parameters import resolve_parameters
from thresher.assertions.registry import ASSERTIONS
from thresher.errors import ConfigError, did_you_mean
from thresher.io.assertion_record import read_record
from thresher.io.lightly_metadata import read_metadata_schema
from thresher.io.lightly_schema import read_task_names
from thresher.io.problems import Problems
from thresher.io.storage import Location
from thresher.run.config import PRETAGGING_TASK, AssertionOptions, RunConfig

SECTION = "thresher.assertions"


@dataclass(frozen=True)
class AssertionPlan:
    """What the run's assertions stage computes (`implicit`: the config has no section, the
    selection reads assertion metadata)."""

    task: str
    names: list[str]
    seed_compatible: bool
    parameters: dict[str, dict[str, Any]]
    implicit: bool = False

    def describe(self) -> dict[str, Any]:
        """For run.json and the report."""
        return {"task": self.task, "names": self.names, "seed_compatible": self.seed_compatible, "parameters": self.parameters, "implicit": self.implicit}


def assertion_keys(config: RunConfig) -> dict[str, str]:
    """{metadata key: assertion name} of the METADATA inputs that read assertion results."""
    keys = {}
    for entry in config.selection_config.strategies:
        key = entry.input.key if entry.input.type == "METADATA" else None
        if key == "flickering":
            keys[key] = "flicker"
        elif key and key.endswith("_severity") and key.removesuffix("_severity") in ASSERTIONS:
            keys[key] = key.removesuffix("_severity")
    return keys


def plan_assertions(config: RunConfig, lightly: Location) -> AssertionPlan | None:
    """The run's assertions (None: no assertions stage); see the module docstring."""
    options = config.thresher.assertions
    read = assertion_keys(config)
    implicit = options is None
    if options is None:
        needed = [name for name in ASSERTIONS if name in read.values() and not _provided(lightly, read, name)]
        if not needed:
            return None
        options = AssertionOptions(names=needed)
    else:
        missing = sorted({key for key, name in read.items() if name not in options.names})
        if missing:
            raise ConfigError(
                f"{SECTION}.names: the selection reads {', '.join(missing)} but the assertions are {options.names}; add {', '.join(sorted({read[k] for k in missing}))}"
            )
    task = _task(config, options, lightly, implicit, read)
    parameters = resolve_parameters(options.names, options.parameters, seed_compatible=options.seed_compatible, where=f"{SECTION}.parameters")
    return AssertionPlan(task, list(options.names), options.seed_compatible, parameters, implicit)


def _provided(lightly: Location, read: dict[str, str], name: str) -> bool:
    """The datasource holds the metadata keys of `name` that the selection reads, and thresher
    did not write them (the user's own values, e.g. seed 000's uploaded metadata)."""
    paths = {f.path for f in read_metadata_schema(lightly, Problems())}
    keys = [key for key, owner in read.items() if owner == name]
    return all(key in paths for key in keys) and read_record(lightly).get("seed_keys") is None


def _task(config: RunConfig, options: AssertionOptions, lightly: Location, implicit: bool, read: dict[str, str]) -> str:
    """The prediction task the assertions check (see the module docstring)."""
    worker = config.worker_config
    selected = sorted({e.input.task for e in config.selection_config.strategies if e.input.type in ("SCORES", "PREDICTIONS") and e.input.task})
    if options.task is None and len(selected) > 1:
        raise ConfigError(f"{SECTION}.task: the selection reads the tasks {selected}; name the one the assertions check")
    fallback = PRETAGGING_TASK if worker.pretagging else (worker.object_level.task_name if worker.object_level else None)
    task = options.task or (selected[0] if selected else fallback)
    if task is None:
        why = f"the selection reads {', '.join(sorted(read))}, computed by model assertions; add a {SECTION} section with " if implicit else ""
        raise ConfigError(f"{SECTION}.task: {why}the prediction task to check (no pretagging, object-level or selection task to default to)")
    known = read_task_names(lightly, Problems())
    if task not in known and not (task == PRETAGGING_TASK and worker.pretagging):
        raise ConfigError(f"{SECTION}.task: no prediction task {task!r}{did_you_mean(task, known)}; tasks: {known}")
    return task
