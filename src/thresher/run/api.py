"""`run()`: one LightlyOne-style worker run on the user's machine (`thresher run`).

Stages (`thresher.run.stages`, in the order `thresher.run.driver` runs them): enumerate →
corruptness check → pretagging → assertions → embeddings → exact duplicates → selection →
outputs. Each stage reuses what earlier runs computed for unchanged files (prediction files
and stored embeddings are reused; checks are cached by file size and modification time). The
run's folder is written as `<id>.partial/` and renamed when complete; the catalog then records the
run, its selection tag (`run-<id>`) and, with the datapool, the growing `datapool` tag, in one
transaction (`thresher.run.record`); a folder renamed but not recorded (the run killed between)
keeps its lock file and is removed by the next run (`thresher.run.partial`). A run killed at any moment leaves the catalog
and the user's files as they were, and the next run resumes; it first removes the temporaries
of the files the killed run was writing (`thresher.workspace.remove_stale_temporaries`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thresher.catalog import Catalog
from thresher.errors import UsageError
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.progress import Progress
from thresher.run.config import RunConfig, load_run_config
from thresher.run.driver import execute, plan
from thresher.run.partial import PartialFolder, remove_dead_partials, remove_unrecorded
from thresher.run.record import record_run
from thresher.run.state import Setup
from thresher.run.unwritten_picks import UNREADABLE_PICKS
from thresher.selection_table import Selection
from thresher.workspace import remove_stale_temporaries, stale_temporaries_line, workspace_for


@dataclass
class RunResult:
    """What a run produced: its id and folder, the samples, the selection and what was removed.

    `selection` holds the datapool's earlier picks first (objective NaN), then this run's;
    `picks` holds this run's new picks only, the ones the exports list for labeling.
    """

    run_id: str
    folder: Path
    samples: Frames
    selection: Selection
    removed: list[tuple[str, str, str]]
    artifacts: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    picks: Selection | None = None

    def summary(self) -> str:
        """`selected 6 of 58 samples`, or with the datapool `selected 3 new (15 already in the datapool) of 258 samples`
        (with 0 new among new candidates, a hint follows: n_samples counts the datapool's samples);
        picks whose image could not be written follow: `selected 5 of 58 samples (1 more picked:
        its image could not be written, removed_samples.csv lists it as unreadable)`."""
        picks = self.selection if self.picks is None else self.picks
        earlier = len(self.selection) - len(picks)
        what = f"{len(picks)} new ({earlier} already in the datapool)" if "already in the datapool" in self.counts else str(len(picks))
        new_candidates = self.counts.get("candidates", 0) > 0
        hint = "; n_samples counts the datapool's samples: raise it to select new ones" if len(picks) == 0 and earlier and new_candidates else ""
        unwritten = self.counts.get(UNREADABLE_PICKS, 0)
        if unwritten:
            its, it = ("its image", "it") if unwritten == 1 else ("their images", "them")
            hint += f" ({unwritten} more picked: {its} could not be written, removed_samples.csv lists {it} as unreadable)"
        return f"selected {what} of {len(self.samples)} samples{hint}"


def run(
    datasource: str | os.PathLike | Datasource,
    config: Mapping[str, Any] | str | os.PathLike | RunConfig | None = None,
    *,
    worker_config: Mapping[str, Any] | None = None,
    selection_config: Mapping[str, Any] | str | os.PathLike | None = None,
    lightly_config: Mapping[str, Any] | None = None,
    thresher: Mapping[str, Any] | None = None,
    lightly: str | os.PathLike | None = None,
    catalog: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    storage_options: Mapping[str, Any] | None = None,
    log: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    engine: str | Any = "local",
    address: str | None = None,
) -> RunResult:
    """Run the worker on a datasource; see the module docstring.

    Args:
        config: a run file (YAML/JSON) or dict with worker_config, selection_config,
            lightly_config and thresher sections; the separate arguments override it.
        lightly: where `.lightly/` lives when it is not the datasource.
        catalog: the local workspace folder (needed for buckets); default
            `<datasource>/.thresher/`.
        out: the folder for run outputs; default `<workspace>/runs/`.
        log: called with one line per stage.
        progress: called with (stage, done, total) as the stages that touch frames, files or
            crops advance (`thresher.progress`).
        engine: what runs decoding, prediction and embedding: "local" (this process) or
            "ray" (Ray Data, extra `ray`; `thresher.engines`), or an engine object (kept
            open). Both select the same samples.
        address: the Ray cluster to join (HOST:PORT, or "auto"), with engine="ray" only (an
            error with "local" or an engine object); None starts a local Ray instance (or joins
            RAY_ADDRESS's, or the `ray start` cluster of this machine). A HOST:PORT where no Ray
            head answers fails within seconds (`thresher.engines.ray.check_reachable`).

    Example (three stills, two picked at random, no model needed)::

        >>> import tempfile, numpy as np
        >>> from PIL import Image
        >>> folder = tempfile.mkdtemp()
        >>> for k, name in enumerate("abc"):
        ...     Image.fromarray(np.full((48, 64, 3), 80 * k, np.uint8)).save(f"{folder}/{name}.png")
        >>> picks = {"n_samples": 2, "strategies": [{"input": {"type": "RANDOM", "random_seed": 0}, "strategy": {"type": "WEIGHTS"}}]}
        >>> result = run(folder, selection_config=picks, log=lambda line: None)
        >>> len(result.selection), (result.folder / "selection.csv").exists()
        (2, True)
    """
    if not isinstance(config, RunConfig):
        config = load_run_config(config, worker_config=worker_config, selection_config=selection_config, lightly_config=lightly_config, thresher=thresher)
    from thresher.engines import make_engine

    options = {"log": log} if engine == "ray" and log is not None else {}
    if not isinstance(engine, str) and address is not None:
        raise UsageError(f"address={address!r}: an engine object joins the cluster it was built with; give it the address (RayEngine(address=...)), or pass engine='ray'")
    runner = make_engine(engine, address=address, **options) if isinstance(engine, str) else engine
    source = datasource if isinstance(datasource, Datasource) else Datasource(datasource, lightly, storage_options)
    workspace = workspace_for(source, catalog)
    runs_folder = Path(out) if out is not None else workspace / "runs"
    with Catalog(workspace) as store:
        run_id = store.start_run(config.model_dump(mode="json"))
        try:
            return _execute(source, config, store, workspace, runs_folder, run_id, log or (lambda line: None), runner, progress)
        except BaseException as exc:
            store.update_run(run_id, status="failed" if isinstance(exc, Exception) else "interrupted", error=str(exc)[:2000], finished=time.time())
            raise
        finally:
            if isinstance(engine, str):
                runner.close()


def _execute(source, config: RunConfig, store: Catalog, workspace: Path, runs_folder: Path, run_id: str, log, engine=None, progress=None) -> RunResult:
    setup = Setup(
        source=source,
        config=config,
        catalog=store,
        workspace=workspace,
        folder=runs_folder / f"{run_id}.partial",
        log=log,
        progress=progress,
        **({} if engine is None else {"engine": engine}),
    )
    planned = plan(setup)  # a config the run cannot follow stops it here, before any folder or model
    for dead in [*remove_dead_partials(runs_folder), *remove_unrecorded(runs_folder, {r.id: r.status for r in store.runs()})]:
        log(f"removed {dead.name}, left by a run that did not finish")
        _mark_dead(store, dead.name.removesuffix(".partial"), run_id)
    if line := stale_temporaries_line(remove_stale_temporaries(source, workspace)):
        log(line)
    partial = PartialFolder(planned.folder)
    try:
        written = execute(planned)
        folder = runs_folder / run_id
        if folder.exists():
            raise UsageError(f"{folder} exists already")
        artifacts = {**written.artifacts, "folder": str(folder)}
        partial.finish(folder)  # the lock file stays until the catalog records the run
        record_run(store, run_id, written, artifacts)
        partial.done()
    except Exception:
        partial.discard()  # a failed run's outputs are worthless; reusable work is in the workspace
        raise
    finally:
        partial.release()
    selection = written.outcome.selection
    picks = selection[written.new_picks()]
    counts, timings = dict(written.counts), dict(written.timings)
    return RunResult(run_id, folder, written.samples, selection, list(written.removed), artifacts, counts, timings, picks)


def _mark_dead(store: Catalog, dead_id: str, run_id: str) -> None:
    """A run whose folder the run `run_id` removed as dead (killed, e.g. SIGKILL, so it could not
    say so itself) is `interrupted` in the catalog instead of `running` forever; a run of
    another status, or unknown to the catalog, is left as it is."""
    statuses = {r.id: r.status for r in store.runs()}
    if statuses.get(dead_id) == "running":
        store.update_run(dead_id, status="interrupted", error=f"killed before it finished; its folder was removed by run {run_id}", finished=time.time())


__all__ = ["RunResult", "run"]
