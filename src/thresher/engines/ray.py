"""The Ray engine: the per-frame stages of a run as Ray Data pipelines (extra `ray`).

    shards ──▶ decode (Ray tasks, fractional CPUs) ──▶ models (actor pool) ──▶ driver
               frames read on the workers             loaded once per actor    embeddings stored,
               through fsspec (folder or bucket)      prediction files written  sorted by id

The driver plans the work with the local engine's own rule (`thresher.plan`: sampled rows,
resume, redo), forms the local engine's batches (`_plan`), cuts them into shards of
consecutive batches, and streams them through the pipeline. Workers rebuild the datasource from its URLs and storage options; they write each
frame's prediction file whole into the datasource's `.lightly/` (which must be reachable from
every node: a bucket, or a shared folder), and send the embeddings back to the driver, which
stores them in the workspace every `FLUSH_EVERY` vectors, sorted by sample id. Ray delivers
batches in completion order, so nothing here depends on it.

Resume is ours, not Ray's (open-source Ray has no job checkpointing): a restarted run plans
again and skips every frame whose prediction file is present and valid and every sample whose
embedding is stored. A worker that dies mid-run is replaced by Ray, which retries its tasks
(Ray's task retries; Ray Data restarts dead actors and retries their batches); a batch computed
twice writes the same files and the same vectors.

Pitfalls handled: actors get a fraction of a CPU and the reading tasks the rest (actors that
reserve every CPU leave none for the reading tasks and the pipeline deadlocks); each actor
computes with `threads` threads (default 1) so that actors do not oversubscribe the cores.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from thresher.embeddings import Embeddings
from thresher.engines import _plan
from thresher.engines._ray_head import check_reachable
from thresher.engines._ray_worker import ModelActor, Shard, SourceSpec, decode_shards, video_info_of
from thresher.errors import UsageError, require
from thresher.frames import Frames
from thresher.infer import FLUSH_EVERY, InferenceResult
from thresher.io.problems import Problem, Problems
from thresher.plan import ModelsPlan, crop_keys, plan_crops, plan_models, write_task_schema


SHARD_BYTES = 256 * 2**20  # decoded pixels a reading task holds at most (RayEngine.shard_bytes)


class RayEngine:
    """Runs `run_models` / `embed_crops` on a Ray cluster; see the module docstring.

    Args:
        address: the cluster ("HOST:PORT" of a `ray start --head`, or "auto"). None: the Ray
            instance this process already started, else a new local one.
        workers: actors holding the models (default: one per CPU of the cluster).
        batch_size: frames per model call, as the local engine's `run_models` (8); crops use 32.
        shard_frames: frames (or crops) per reading task at most, the unit of retry; smaller
            when there are few frames, so that every actor gets shards (an actor takes a whole
            shard: Ray Data spreads blocks, not rows, over an actor pool).
        shard_bytes: decoded bytes (width x height x 3 per frame; the parent frames of crops)
            per reading task at most, 256 MiB: 10 frames of 4K video, 64 of 640x480 (where
            `shard_frames` binds). A shard holds at least one batch (`batch_size` frames).
        read_cpus: logical CPUs reserved by each reading task; actors share the rest.
        threads: compute threads of each actor (OpenCV, torch).
        num_cpus: CPUs of a local Ray instance started here (default: all).
        log: called with one line naming the cluster run on (address, nodes, CPUs).
        quiet: Ray's own log lines silenced too: its Python loggers show errors only and its
            C++ core (`RAY_BACKEND_LOG_LEVEL`, unless set) fatal errors only.

    Raises UsageError within seconds when no Ray head answers at `address` (`check_reachable`:
    a TCP connection, then Ray's own GCS client).
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int | None = None,
        batch_size: int = 8,
        shard_frames: int = 64,
        shard_bytes: int = SHARD_BYTES,
        read_cpus: float = 0.25,
        threads: int = 1,
        num_cpus: int | None = None,
        log: Callable[[str], None] | None = None,
        quiet: bool = False,
    ) -> None:
        for label, value in (("workers", workers), ("batch_size", batch_size), ("shard_frames", shard_frames), ("shard_bytes", shard_bytes), ("threads", threads)):
            if value is not None and (int(value) != value or value < 1):
                raise UsageError(f"{label}: expected an integer >= 1, got {value!r}")
        if not 0 < read_cpus <= 1:
            raise UsageError(f"read_cpus: expected a fraction of a CPU in (0, 1], got {read_cpus!r}")
        self.address, self.workers, self.batch_size, self.shard_frames = address, workers, batch_size, shard_frames
        self.shard_bytes = shard_bytes
        self.read_cpus, self.threads, self.num_cpus = read_cpus, threads, num_cpus
        self.log = log or (lambda line: None)
        self.quiet = quiet
        self._started = False
        check_reachable(address)

    def __repr__(self) -> str:
        return f"RayEngine(address={self.address!r}, workers={self.workers}, shard_frames={self.shard_frames}, shard_bytes={self.shard_bytes})"

    # the cluster ------------------------------------------------------------------------

    def connect(self) -> Any:
        """The `ray` module, connected (joins `address`, or starts a local instance once)."""
        with quiet_ray():
            return self._connect()

    def _connect(self) -> Any:
        ray = require("ray", "ray")
        level = logging.ERROR if self.quiet else logging.WARNING
        if not ray.is_initialized():
            if self.quiet:  # read by the core worker ray.init starts in this process (and a local instance's processes)
                os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
            with _stderr_discarded(self.quiet):  # the core worker's C++ log, below Python's logging, says it set that level
                ray.init(address=self.address, num_cpus=self.num_cpus if self.address is None else None, include_dashboard=False, log_to_driver=False, logging_level=level)
            self._started = True
            self.log(cluster_line(ray))
        context = require("ray.data", "ray").DataContext.get_current()
        logging.getLogger("ray.data").setLevel(level)  # after importing ray.data, which configures its logger
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        context.enable_auto_log_stats = False
        return ray

    def close(self) -> None:
        """Shut down the local Ray instance this engine started (a joined cluster stays up)."""
        if self._started:
            import ray

            ray.shutdown()
            self._started = False

    def resources(self, ray: Any) -> tuple[int, int, float]:
        """(actors, reading tasks, CPUs per actor): actors share what the readers leave."""
        cpus = float(ray.cluster_resources().get("CPU", 1))
        workers = self.workers or max(1, int(cpus))
        readers = max(1, min(workers, int(cpus)))
        actor_cpus = min(1.0, (cpus - readers * self.read_cpus) / workers)
        if actor_cpus <= 0:
            raise UsageError(f"workers: {workers} actors do not fit in the cluster's {cpus:g} CPUs next to {readers} reading tasks")
        return workers, readers, actor_cpus

    # the stages -------------------------------------------------------------------------

    def run_models(
        self,
        source: Any,
        *,
        detector: Any = None,
        task: str | None = None,
        embedder: Any = None,
        store: Any = None,
        every: int = 1,
        batch_size: int | None = None,
        resume: bool = True,
        progress: Callable[[int, int], None] | None = None,
        frames: Frames | None = None,
        rows: np.ndarray | None = None,
        redo: np.ndarray | None = None,
        cache: Any = None,
    ) -> InferenceResult:
        """`thresher.infer.run_models` on the cluster: same arguments, files and result."""
        problems = Problems()
        plan = plan_models(source, detector=detector, task=task, embedder=embedder, store=store, every=every, resume=resume,
                           frames=frames, rows=rows, redo=redo, cache=cache, problems=problems)  # fmt: skip
        frames = plan.frames
        if task is not None:  # with a detector (`check_models`)
            write_task_schema(source, task, detector)
        result = InferenceResult(frames, reused=plan.reused, predictions_reused=plan.predictions_reused)
        batches = _plan.frame_batches(frames, plan.work, batch_size or self.batch_size)
        if batches:
            ray = self.connect()
            spec = SourceSpec.of(source)
            shards = self._frame_shards(ray, spec, frames, batches, plan)
            keys = KeysById(frames.id[plan.todo_emb], plan.keys[plan.todo_emb]) if store is not None else None
            self._execute(ray, spec, shards, (detector, task, embedder), store, result, progress, len(plan.work), keys)
        if task is not None:
            from thresher.io.lightly_schema import add_task_name

            add_task_name(source.lightly, task)
        result.skipped = list(problems) + result.skipped
        return result

    def embed_crops(
        self,
        source: Any,
        frames: Frames,
        crops: Frames,
        boxes: np.ndarray,
        embedder: Any,
        store: Any,
        *,
        batch_size: int = 32,
        resume: bool = True,
        progress: Callable[[int, int], None] | None = None,
    ) -> InferenceResult:
        """`thresher.infer.embed_crops` on the cluster: same arguments, vectors and result."""
        keys = crop_keys(source, crops, boxes)
        todo = plan_crops(crops, store, resume, keys)
        result = InferenceResult(crops, reused=len(crops) - len(todo))
        if len(todo) == 0:
            return result
        parent_rows = frames.index_of(crops.parent_id[todo])
        batches = _plan.crop_batches(frames, parent_rows, batch_size)
        shards = []
        ray = self.connect()
        groups = _plan.reading_shards(frames, batches, self._shard_size(ray, len(todo)), self.shard_bytes, parents=parent_rows)
        for index, group in enumerate(groups):
            members = [batches[i] for i in group]
            chosen = np.concatenate(members)
            parents = np.unique(parent_rows[chosen])
            shards.append(Shard(
                index, frames[parents], _local(members), np.zeros(len(parents), bool), np.ones(len(parents), bool),
                crop_ids=crops.id[todo[chosen]], crop_boxes=np.asarray(boxes)[todo[chosen]],
                crop_parent=np.searchsorted(parents, parent_rows[chosen]),
            ))  # fmt: skip
        self._execute(ray, SourceSpec.of(source), shards, (None, None, embedder), store, result, progress, len(todo), KeysById(crops.id[todo], keys[todo]))
        return result

    # planning and execution -------------------------------------------------------------

    def _shard_size(self, ray: Any, items: int) -> int:
        """`shard_frames`, or less so that each actor gets about two shards."""
        workers = self.resources(ray)[0]
        return max(1, min(self.shard_frames, -(-items // (2 * workers))))

    def _frame_shards(self, ray: Any, spec: SourceSpec, frames: Frames, batches: list[np.ndarray], plan: ModelsPlan) -> list[Shard]:
        groups = _plan.reading_shards(frames, batches, self._shard_size(ray, sum(len(b) for b in batches)), self.shard_bytes)
        members = [[batches[i] for i in group] for group in groups]
        rows = [np.concatenate(m) for m in members]
        infos = self._split_video_infos(ray, spec, frames, rows)
        shards = []
        for index, (batch_list, shard_rows) in enumerate(zip(members, rows)):
            names = set(frames.video[shard_rows].tolist())
            shards.append(Shard(
                index, frames[shard_rows], _local(batch_list), np.isin(shard_rows, plan.todo_pred),
                np.isin(shard_rows, plan.todo_emb), {n: infos[n] for n in names if n in infos},
            ))  # fmt: skip
        return shards

    def _split_video_infos(self, ray: Any, spec: SourceSpec, frames: Frames, rows: list[np.ndarray]) -> dict:
        """Infos of videos read by several shards, computed once each on the cluster (a
        reader would otherwise demux the whole file again for every shard)."""
        counts: dict[str, int] = {}
        for shard_rows in rows:
            for name in set(frames.video[shard_rows[frames.kind[shard_rows] == "frame"]].tolist()):
                counts[name] = counts.get(name, 0) + 1
        split = sorted(n for n, c in counts.items() if c > 1)
        if not split:
            return {}
        remote = ray.remote(num_cpus=self.read_cpus)(video_info_of)
        found = ray.get([remote.remote(spec, name) for name in split])
        return {name: info for name, info in zip(split, found) if info is not None}

    def _execute(
        self, ray: Any, spec: SourceSpec, shards: list[Shard], models: tuple, store: Any, result: InferenceResult, progress: Callable | None, total: int,
        keys: KeysById | None = None,
    ) -> None:  # fmt: skip
        """Run the shards through the pipeline; the vectors go to `store` with their `keys`."""
        collector = _Collector(store, result, progress, total, keys)
        try:
            with quiet_ray():
                for batch in self._pipeline(ray, spec, shards, models).iter_batches(batch_size=None, batch_format="numpy"):
                    for payload in batch["payload"]:
                        collector.add(pickle.loads(payload))
        finally:
            collector.flush()
        result.skipped = collector.problems()

    def _pipeline(self, ray: Any, spec: SourceSpec, shards: list[Shard], models: tuple) -> Any:
        """shards → decode tasks → model actors (a lazy Ray Dataset of pickled `Outcome`s)."""
        data = require("ray.data", "ray")
        detector, task, embedder = models
        items = [{"payload": pickle.dumps(shard, protocol=5)} for shard in shards]
        workers, readers, actor_cpus = self.resources(ray)
        workers = min(workers, len(items))  # an actor takes whole shards: no idle actors
        dataset = data.from_items(items, override_num_blocks=len(items))
        dataset = dataset.map_batches(
            decode_shards, batch_size=None, fn_kwargs={"spec": spec}, num_cpus=self.read_cpus, compute=data.TaskPoolStrategy(size=min(readers, len(items)))
        )
        dataset = dataset.map_batches(
            ModelActor, batch_size=1, compute=data.ActorPoolStrategy(size=workers), num_cpus=actor_cpus,
            fn_constructor_kwargs={"spec": spec, "detector": detector, "task": task, "embedder": embedder, "threads": self.threads},
        )  # fmt: skip
        return dataset


def cluster_line(ray: Any) -> str:
    """The cluster this process runs on: its head's address, its live nodes and CPUs (with no
    address Ray joins the cluster `ray start` left on this machine, if any, or RAY_ADDRESS's)."""
    nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
    cpus = float(ray.cluster_resources().get("CPU", 0))
    return f"  Ray cluster at {ray.get_runtime_context().gcs_address}: {nodes} node{'s' * (nodes != 1)}, {cpus:g} CPUs"


@contextlib.contextmanager
def _stderr_discarded(discard: bool) -> Iterator[None]:
    """File descriptor 2 sent to /dev/null while `discard` (Ray's C++ core writes there directly)."""
    if not discard:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def quiet_ray() -> Iterator[None]:
    """Ray's own deprecation notices and tuning hints are not the user's to act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ray(\.|$)")
        warnings.filterwarnings("ignore", category=UserWarning, module=r"ray(\.|$)")
        yield


class KeysById:
    """The key rows of frame or crop ids (`thresher.plan.frame_keys`, `crop_keys`), looked up by id on the driver."""

    def __init__(self, ids: np.ndarray, keys: np.ndarray) -> None:
        order = np.argsort(ids, kind="stable")
        self.ids, self.keys = np.asarray(ids)[order], np.asarray(keys)[order]

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        """The rows of `ids` (each one of the ids given at construction)."""
        return self.keys[np.searchsorted(self.ids, ids)]


class _Collector:
    """Gathers the actors' outcomes on the driver: stores embeddings by id with their keys,
    counts, problems."""

    def __init__(self, store: Any, result: InferenceResult, progress: Callable | None, total: int, keys: KeysById | None = None) -> None:
        self.store, self.result, self.progress, self.total, self.keys = store, result, progress, total, keys
        self.pending: list[Embeddings] = []
        self.found: dict[str, tuple[tuple[int, int], Problem]] = {}
        self.done = 0

    def add(self, outcome: Any) -> None:
        self.result.predicted += outcome.predicted
        if outcome.vectors is not None and len(outcome.ids):
            self.pending.append(Embeddings(outcome.ids, outcome.vectors))
            self.result.embedded += len(outcome.ids)
        for problem in outcome.problems:  # a file split over shards: keep its first problem in reading order
            place = (outcome.shard, outcome.batch)
            if problem.file not in self.found or place < self.found[problem.file][0]:
                self.found[problem.file] = (place, problem)
        self.done += max(outcome.predicted, len(outcome.ids))
        if self.progress:
            self.progress(min(self.done, self.total), self.total)
        if sum(len(e) for e in self.pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.pending and self.store is not None:
            gathered = Embeddings.concat(self.pending)
            gathered = gathered[np.argsort(gathered.ids, kind="stable")]
            self.store.append(gathered, None if self.keys is None else self.keys(gathered.ids))
        self.pending = []

    def problems(self) -> list[Problem]:
        return [problem for _, problem in sorted(self.found.values(), key=lambda pair: pair[0])]


def _local(batches: list[np.ndarray]) -> list[np.ndarray]:
    """Batches as positions in their shard (the shard holds their items back to back)."""
    sizes = np.cumsum([0] + [len(b) for b in batches])
    return [np.arange(sizes[i], sizes[i + 1]) for i in range(len(batches))]
