"""The states of a run, each frozen: a stage (`thresher.run.stages`) takes one and returns the next.

    Setup ─check_config─▶ Planned ─enumerate─▶ Enumerated ─(corruptness check, pretagging,
    assertions: Enumerated → Enumerated)─▶ ─embed─▶ Embedded ─(exact duplicates: Embedded →
    Embedded)─▶ ─select─▶ Selected ─write_outputs─▶ Written

Each state holds every field of the one before (a subclass), so the report and the outputs
take the state they need (`Selected`) and read its fields; nothing is set later or probed.
A stage never changes the state it gets: it returns a new one (`advance`, or
`dataclasses.replace` for a state of the same kind). Arrays held by a state are not written
to after the state is made.

What every state carries from `Planned` on, for the run's files and the catalog: `removed`
(one (file_name, reason, detail) row per sample taken out, for `removed_samples.csv`),
`counts` (what each stage found, in stage order), `timings` (seconds per finished stage) and
`artifacts` (what `run.json` lists besides counts and timings).

Example (the fields a stage adds)::

    >>> [f.name for f in fields(Embedded) if f.name not in {g.name for g in fields(Enumerated)}]
    ['samples', 'store', 'crops', 'crop_boxes']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

import numpy as np

from thresher.frames import Frames
from thresher.run.config import ExportOptions, RunConfig, ThresherOptions, WorkerConfig

if TYPE_CHECKING:
    from thresher.catalog import Catalog
    from thresher.embedding_store import EmbeddingStore
    from thresher.engines import Engine
    from thresher.io.datasource import Datasource
    from thresher.io.lightly_predictions import PredictionTask
    from thresher.progress import Progress
    from thresher.run.assertions import AssertionPlan
    from thresher.run.exports import LabelStudioRoot
    from thresher.run.resolver import RunResolver
    from thresher.select import SelectionOutcome

Removed = tuple[str, str, str]  # (file_name, reason, detail): a row of removed_samples.csv
State = TypeVar("State", bound="Setup")  # any state
Found = TypeVar("Found", bound="Planned")  # a state a stage returns (it has timings)


def _silent(line: str) -> None:
    """The default log: says nothing."""


def _local_engine() -> Engine:
    from thresher.engines.local import LocalEngine

    return LocalEngine()


@dataclass(frozen=True, eq=False, kw_only=True)
class Setup:
    """What a run is given; it does not change while the run goes.

    source: the datasource (its input files and its `.lightly/` folder).
    config: the run's configuration (worker_config, selection_config, thresher options).
    catalog: the workspace's open catalog (samples, tags, runs).
    workspace: the datasource's workspace folder (`.thresher/`: caches, embeddings, runs).
    folder: where the run writes its outputs (a run's `runs/<id>.partial/`).
    log: called with one line per stage and per note.
    engine: what runs decoding, prediction and embedding (`thresher.engines`).
    progress: called with (stage, done, total) as stages advance (`thresher.progress`).
    """

    source: Datasource
    config: RunConfig
    catalog: Catalog
    workspace: Path
    folder: Path
    log: Callable[[str], None] = _silent
    engine: Engine = field(default_factory=_local_engine)
    progress: Progress | None = None

    @property
    def worker(self) -> WorkerConfig:
        """The config's `worker_config` section."""
        return self.config.worker_config

    @property
    def options(self) -> ThresherOptions:
        """The config's `thresher` section."""
        return self.config.thresher

    @property
    def exports(self) -> ExportOptions:
        """The config's `thresher.exports` section."""
        return self.config.thresher.exports

    @property
    def task_cache(self) -> Path:
        """The folder of the workspace's columnar cache of prediction files (`thresher.io.lightly_cache`)."""
        return self.workspace / "cache" / "tasks"

    @property
    def metadata_cache(self) -> Path:
        """The folder of the workspace's columnar cache of metadata files (`thresher.io.metadata_cache`)."""
        return self.workspace / "cache" / "metadata"

    @property
    def object_task(self) -> str | None:
        """The prediction task whose boxes are the samples at object level (None: frame level)."""
        level = self.worker.object_level
        return None if level is None else level.task_name


@dataclass(frozen=True, eq=False, kw_only=True)
class Planned(Setup):
    """A run whose config was checked, with what it decided before any work.

    assertion_plan: the assertions the run computes (None: no assertions stage).
    export_task: the prediction task whose boxes the exports carry (None: no boxes).
    label_studio_root: Label Studio's document root and storage path (None: no local-files URLs).
    final_folder: the run's folder once complete (`folder` without `.partial`).
    removed, counts, timings, artifacts: see the module docstring; timings in seconds.
    """

    assertion_plan: AssertionPlan | None
    export_task: str | None
    label_studio_root: LabelStudioRoot | None
    final_folder: Path
    removed: tuple[Removed, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)
    artifacts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False, kw_only=True)
class Enumerated(Planned):
    """The frames of the datasource and which of them take part.

    The corruptness check, the pretagging and the assertions each return an `Enumerated`
    again: fewer candidates, more counts, `embedded_in_pretagging` and `imputed_task`.

    frames: every image and video frame that could be read, one row each.
    candidate: bool (len(frames),): the frame may be selected (not removed, not left out,
        not in the datapool already).
    preselected: ids (str) of the datapool's earlier picks, selected before any new one (at
        object level the ids of crops).
    preselected_frames: ids (str) of the frames of `preselected` (the same ids at frame level;
        at object level each crop's frame): they take part whether or not they are candidates.
    left_out: {why: number of frames} that are no candidates without being removed.
    embedded_in_pretagging: frames the pretagging's forward pass embedded too (0: none).
    imputed_task: the prediction task holding the assertions' imputed boxes (None: none).
    read_tasks: prediction tasks a stage read over `frames` ({name: PredictionTask}, the
        assertions' task), which the later stages take instead of reading them again.
    """

    frames: Frames
    candidate: np.ndarray
    preselected: np.ndarray
    preselected_frames: np.ndarray
    left_out: Mapping[str, int]
    embedded_in_pretagging: int = 0
    imputed_task: str | None = None
    read_tasks: Mapping[str, PredictionTask] = field(default_factory=dict)

    def active_rows(self) -> np.ndarray:
        """Rows of `frames` that take part: the candidates and the frames of the preselected samples."""
        return np.flatnonzero(self.candidate | np.isin(self.frames.id, self.preselected_frames))

    def dropping(self, mask: np.ndarray, reason: str, detail: list[str] | str) -> Self:
        """The same state without the candidates in `mask`, listed as removed with `reason`.

        `detail`: one string per dropped candidate (in row order), or one for all of them.
        """
        mask = mask & self.candidate
        details = detail if isinstance(detail, list) else [detail] * int(mask.sum())
        removed = tuple(zip(self.frames.file_name[mask].tolist(), [reason] * int(mask.sum()), details))
        return replace(self, candidate=self.candidate & ~mask, removed=self.removed + removed)


@dataclass(frozen=True, eq=False, kw_only=True)
class Embedded(Enumerated):
    """The samples that take part, with their embeddings stored.

    The exact-duplicates stage returns an `Embedded` again, without the duplicates.

    samples: the frames that take part (rows of `frames`), or at object level the crops.
    store: the embedding store holding the samples' vectors.
    crops: object level: one row per object crop (`parent_id` its frame); None at frame level.
    crop_boxes: float (len(crops), 4): each crop's box, x1 y1 x2 y2 in pixels of its frame.
    """

    samples: Frames
    store: EmbeddingStore
    crops: Frames | None = None
    crop_boxes: np.ndarray | None = None


@dataclass(frozen=True, eq=False, kw_only=True)
class Selected(Embedded):
    """The selection of the run.

    outcome: the selector's outcome (the datapool's earlier picks first, then this run's).
    resolver: the selection inputs as read (the report reads the same tasks again from it).
    preselected_samples: ids of the samples the datapool selected earlier.
    """

    outcome: SelectionOutcome
    resolver: RunResolver
    preselected_samples: np.ndarray

    def new_picks(self) -> np.ndarray:
        """One bool per selected sample: True for this run's picks, False for the datapool's earlier ones."""
        return ~np.isin(self.outcome.selection.ids, self.preselected_samples)


@dataclass(frozen=True, eq=False, kw_only=True)
class Written(Selected):
    """A run whose outputs are in `folder`; `report`: the path of its report.html."""

    report: Path


def advance(state: Setup, kind: type[State], **new: Any) -> State:
    """The next state, of `kind`: every field of `state`, then the `new` ones (which win).

    >>> from thresher.run.config import load_run_config
    >>> config = load_run_config(selection_config={"n_samples": 2, "strategies": [{"input": {"type": "RANDOM"}, "strategy": {"type": "WEIGHTS"}}]})
    >>> setup = Setup(source=None, config=config, catalog=None, workspace=Path("ws"), folder=Path("ws/runs/r.partial"))
    >>> planned = advance(setup, Planned, assertion_plan=None, export_task=None, label_studio_root=None, final_folder=Path("ws/runs/r"))
    >>> planned.folder, planned.counts
    (PosixPath('ws/runs/r.partial'), {})
    """
    given = {f.name: getattr(state, f.name) for f in fields(state) if f.init}
    return kind(**{**given, **new})
