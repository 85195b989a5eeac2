"""Gather a finished run's `ReportData` from its state after the selection (`thresher.run.state.Selected`).

What is read again: the inputs of the selection (each task's scores and predictions computed
once; the run's own resolver is reused, its tasks and metadata read already), the stored
embeddings of the samples, and the pixels of the frames that get a thumbnail (see
`thresher.report.sampling`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from thresher.errors import ConfigError, SchemaError
from thresher.frames import Frames
from thresher.io.lightly_metadata import read_metadata_schema
from thresher.io.problems import Problems
from thresher.report.data import ReportData, SampleObjects, Strips
from thresher.report.flagged import collect_strips
from thresher.report.neighbors import closest_pairs, nearest_other, normalized
from thresher.report.projection import project
from thresher.report.sampling import thumbnails_of_run
from thresher.report.why import explain

if TYPE_CHECKING:
    from thresher.run.state import Selected

DUPLICATE_PAIRS = 12
PAIRS_PER_KEPT = 2
NEAREST_SET_MAX = 4000  # within-set distances on at most this many members (seeded subsample)
PAIR_QUERIES_MAX = 40_000  # near-duplicate search over at most this many unselected samples


def collect(state: Selected, projection: str = "pca") -> ReportData:
    """The report data of a run after its selection."""
    outcome = state.outcome
    samples, selection, seed = state.samples, outcome.selection, state.options.seed
    n_pre = int(outcome.counts.get("preselected", 0))
    preselected, picks = selection.ids[:n_pre], selection.ids[n_pre:]
    resolver = _resolver(state)
    inputs, values = _inputs(state, resolver, samples, seed)
    class_tasks, classes = _classes(state, resolver, samples)
    colors = _colors(state, resolver, samples, inputs, values)
    random = _random_selection(samples.id, preselected, len(picks), seed)
    aligned = resolver.embeddings(None) if state.resolver.samples is samples else state.store.load().align(samples.id)  # the selection's, when the same samples
    vectors = normalized(aligned.vectors) if len(samples) else np.zeros((0, 1), np.float32)
    sets = {"selected": picks, "random": random, **({"datapool": selection.ids} if _uses_datapool(state) else {})}
    nearest = {name: _nearest_in_set(vectors, samples.id, ids, seed) for name, ids in sets.items()}
    duplicates = _duplicates(vectors, samples.id, selection.ids, state.removed, seed)
    meta = _meta(state, inputs, class_tasks, colors, projection)
    thumbs = thumbnails_of_run(state, samples, selection.ids, duplicates, seed)
    strips, flagged = collect_strips(state, resolver.all_metadata()) if state.artifacts.get("assertions") else (Strips.empty(), None)
    meta["flagged"] = flagged
    return ReportData(
        meta=meta,
        samples=samples,
        selected=selection.ids,
        objective=selection.objective,
        preselected=preselected,
        random=random,
        inputs=values,
        colors=colors,
        classes=classes,
        projection=project(vectors, projection, seed),
        nearest=nearest,
        removed=_removed(state.removed),
        duplicates=duplicates,
        thumbnails=thumbs,
        sample_box=None if state.crops is None else _crop_boxes(state, samples),
        strips=strips,
        sample_objects=None if state.crops is None else SampleObjects.of(state.resolver.object_columns(samples.id)),
    )


def _resolver(state: Selected) -> _Remembering:
    """The run's own resolver (its prediction tasks are read already), remembering what it computes."""
    return _Remembering(state.resolver)


class _Remembering:
    """A resolver that computes each task's scores and predictions once (inputs and colours both ask)."""

    def __init__(self, resolver):
        self._resolver, self._known = resolver, {}

    def _once(self, kind: str, key, compute):
        if (kind, key) not in self._known:
            self._known[(kind, key)] = compute(key)
        return self._known[(kind, key)]

    def scores(self, task):
        return self._once("scores", task, self._resolver.scores)

    def predictions(self, task):
        return self._once("predictions", task, self._resolver.predictions)

    def metadata(self, key):
        return self._once("metadata", key, self._resolver.metadata)

    def all_metadata(self):
        """The datasource's metadata over every frame (read once, shared with the run)."""
        return self._resolver.all_metadata()

    def embeddings(self, task):
        return self._resolver.embeddings(task)

    def query_embeddings(self, dataset_id, tag_name):
        return self._resolver.query_embeddings(dataset_id, tag_name)


def _uses_datapool(state: Selected) -> bool:
    return bool(state.worker.use_datapool)


def _inputs(state: Selected, resolver, samples: Frames, seed: int) -> tuple[list[dict], list[np.ndarray | None]]:
    """Every strategy's input over the samples (embedding inputs: None)."""
    from thresher.select import resolve_inputs
    from thresher.select.values import input_values

    strategies = state.config.selection_config.strategies
    plain = [e for e in strategies if e.input.type != "EMBEDDINGS"]
    resolved = resolve_inputs(state.config.selection_config.model_copy(update={"strategies": plain}), resolver, samples)
    described: list[dict] = []
    values: list[np.ndarray | None] = []
    for i, entry in enumerate(strategies):
        if entry.input.type == "EMBEDDINGS":
            label = f"embeddings:{entry.input.task}" if entry.input.task else "embeddings"
            described.append({"label": label, "strategy": entry.strategy.type, "kind": "vectors", "class_names": []})
            values.append(None)
            continue
        found = input_values(entry, resolved, samples.id, seed, f"strategies[{i}]")
        names = [] if found.class_names is None else found.class_names.tolist()
        described.append({"label": found.label, "strategy": entry.strategy.type, "kind": found.kind, "class_names": names})
        values.append(found.values.astype(np.float32 if found.kind == "classes" else np.float64))
    return described, values


def _tasks(state: Selected) -> list[str]:
    """Prediction tasks the run used: pretagging, the object-level task, the config's, and the
    one the exports carry (the assertions' task or `thresher.exports.task`)."""
    from thresher.run.config import PRETAGGING_TASK

    tasks = [PRETAGGING_TASK] if state.worker.pretagging else []
    tasks += [state.object_task] if state.object_task else []
    strategies = state.config.selection_config.strategies
    tasks += [e.input.task for e in strategies if e.input.type in ("SCORES", "PREDICTIONS") and e.input.task]
    for entry in strategies:
        weights = getattr(entry.strategy, "weights", None)  # WEIGHTED_KMEANS reads a second input
        if weights is not None and weights.type == "SCORES":
            tasks.append(weights.task)
    tasks += [state.export_task] if state.export_task else []
    return list(dict.fromkeys(tasks))


def _classes(state: Selected, resolver, samples: Frames):
    class_tasks, classes = [], {}
    for task in _tasks(state):
        try:
            predictions = resolver.predictions(task)
        except (ConfigError, SchemaError):
            continue
        row, col = np.nonzero(predictions.category_count)
        classes[task] = (row.astype(np.int32), col.astype(np.int32), predictions.category_count[row, col].astype(np.int32))
        class_tasks.append({"task": task, "class_names": predictions.class_names.tolist()})
    return class_tasks, classes


def _colors(state: Selected, resolver, samples: Frames, inputs: list[dict], values: list) -> dict[str, np.ndarray]:
    """Numbers to colour the scatter by: scalar inputs, every score of the run's tasks, numeric metadata."""
    colors = {d["label"]: v.astype(np.float32) for d, v in zip(inputs, values) if d["kind"] == "scalar"}
    for task in _tasks(state):
        try:
            scores = resolver.scores(task)
        except (ConfigError, SchemaError):
            continue
        for name in scores.names:
            colors.setdefault(f"scores:{task}/{name}", scores[name].astype(np.float32))
    for field in read_metadata_schema(state.source.lightly, Problems()):
        if field.numeric:
            colors.setdefault(f"metadata:{field.path}", resolver.metadata(field.path).values.astype(np.float32))
    return colors


def _random_selection(ids: np.ndarray, preselected: np.ndarray, size: int, seed: int) -> np.ndarray:
    """`size` ids drawn uniformly with `seed` from the samples not preselected, sorted."""
    pool = np.sort(ids[~np.isin(ids, preselected)])
    size = min(size, len(pool))
    return np.sort(pool[np.random.default_rng(seed).choice(len(pool), size, replace=False)]) if size else pool[:0]


def _nearest_in_set(vectors: np.ndarray, ids: np.ndarray, members: np.ndarray, seed: int) -> np.ndarray:
    rows = np.flatnonzero(np.isin(ids, members))
    if len(rows) > NEAREST_SET_MAX:
        rows = np.sort(np.random.default_rng(seed).choice(rows, NEAREST_SET_MAX, replace=False))
    distances = nearest_other(vectors[rows])
    return distances[np.isfinite(distances)]


def _duplicates(vectors, ids, selected, removed, seed: int):
    """Exact duplicates the run removed (distance 0), then the unselected samples closest to a selected one."""
    exact = [(d.removeprefix("identical to "), f, 0.0) for f, r, d in removed if r == "duplicate"][:DUPLICATE_PAIRS]
    chosen_rows = np.flatnonzero(np.isin(ids, selected))
    other_rows = np.flatnonzero(~np.isin(ids, selected))
    if len(other_rows) > PAIR_QUERIES_MAX:
        other_rows = np.sort(np.random.default_rng(seed).choice(other_rows, PAIR_QUERIES_MAX, replace=False))
    near = []
    if len(chosen_rows) and len(other_rows):
        other, chosen, distance = closest_pairs(vectors[other_rows], vectors[chosen_rows], 10 * DUPLICATE_PAIRS)
        near = list(zip(ids[chosen_rows[chosen]].tolist(), ids[other_rows[other]].tolist(), distance.tolist()))
    pairs = exact + _few_per_kept(near, PAIRS_PER_KEPT)[: max(0, DUPLICATE_PAIRS - len(exact))]
    return (np.array([p[0] for p in pairs], dtype=str), np.array([p[1] for p in pairs], dtype=str), np.array([p[2] for p in pairs], np.float32))


def _few_per_kept(pairs: list[tuple], limit: int) -> list[tuple]:
    """At most `limit` pairs per kept sample, so the examples show several selected samples."""
    seen: dict[str, int] = {}
    kept = []
    for pair in pairs:
        seen[pair[0]] = seen.get(pair[0], 0) + 1
        if seen[pair[0]] <= limit:
            kept.append(pair)
    return kept


def box_task(state: Selected) -> str | None:
    """The task whose boxes the report draws: the one the exports carry (`thresher.run.export_task`:
    the task the run read, the assertions' included), else the first task the run used."""
    if state.export_task:
        return state.export_task
    tasks = _tasks(state)
    return tasks[0] if tasks else None


def _crop_boxes(state: Selected, samples: Frames) -> np.ndarray:
    """(len(samples), 4) float32 box of each crop sample, x1 y1 x2 y2 in pixels of its frame."""
    assert state.crops is not None and state.crop_boxes is not None, "crop boxes exist at object level only"
    rows = state.crops.index_of(samples.id)
    return state.crop_boxes[rows].astype(np.float32)


def _removed(removed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = sorted(removed)
    file, reason, detail = (np.array([r[k] for r in rows], dtype=str) if rows else np.zeros(0, "<U1") for k in range(3))
    return file, reason, detail


def _meta(state: Selected, inputs, class_tasks, colors, projection: str) -> dict:
    frames, outcome = state.frames, state.outcome
    videos: dict[str, int] = {}  # video -> its number of frames (the last frame index + 1)
    is_frame = frames.kind == "frame"
    for video, index in zip(frames.video[is_frame].tolist(), frames.frame_index[is_frame].tolist()):
        videos[video] = max(videos.get(video, 0), index + 1)
    source = state.source
    return {
        "run_id": Path(state.folder).name.removesuffix(".partial"),
        "counts": dict(state.counts),
        "timings": dict(state.timings),
        "selection_timings": dict(outcome.timings),
        "stop_reason": outcome.stop_reason,
        "selection_counts": dict(outcome.counts),
        "selection_config": dict(outcome.selection.config),
        "seed": state.options.seed,
        "level": "object" if state.crops is not None else "frame",
        "inputs": inputs,
        "class_tasks": class_tasks,
        "colors": list(colors),
        "videos": videos,
        "box_task": box_task(state),
        "imputed_task": state.imputed_task,
        "datasource": {"input": _where(source.input), "lightly": _where(source.lightly)},
        "store": str(state.store.folder),
        "projection": projection,
        "uses_datapool": _uses_datapool(state),
        "n_frames": len(frames),
        "why": explain(state.config.selection_config, outcome),
    }


def _where(location) -> str:
    """An absolute local path, or the URL of a bucket (the app reopens the datasource from it)."""
    return str(Path(location.root).resolve()) if location.is_local else location.url
