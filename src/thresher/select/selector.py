"""The selector: a pure function from a config and resolved inputs to a Selection.

Order of work (docs/selection.md): resolve every strategy's input over the samples (sorted
by id, so every tie goes to the lowest id); group frames into sequences when
`sequence_length` is set; drop candidates failing any THRESHOLD; then pick greedily, one
sample (or sequence) at a time, the candidate maximizing sum(strength * log objective) =
log prod(objective ^ strength), until the count is reached, a stopping condition fires, or
no candidate is left. A batch strategy (WEIGHTED_KMEANS, alone with THRESHOLDs) replaces the
greedy: it picks the whole batch at once (`thresher.select.weighted_kmeans`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from thresher.selection_table import Selection
from thresher.select import strategies as st
from thresher.select.approximate import Approximation
from thresher.select.config import SelectionConfig, WeightedKMeansStrategy, load_selection_config
from thresher.select.inputs import SelectionInputs
from thresher.select.units import Units, sample_units, sequence_units
from thresher.select.values import InputValues, input_values, score_weights
from thresher.select.weighted_kmeans import weighted_kmeans_batch


@dataclass(frozen=True, eq=False)
class SelectionOutcome:
    """A Selection and what explains it.

    selection: preselected ids first (objective NaN), then the new picks in pick order.
    values: one column per strategy (name "<strategy>:<input label>"), aligned to
        `selection.ids`: the sample's input value (scalars), its classes as
        "name=mass;…" (class inputs), or the strategy objective at pick time (embeddings).
    objectives / factors: per strategy (same names as `values`), aligned to `selection.ids`:
        its objective o_i at pick time, and its factor o_i^s_i in the pick's objective
        (the objective clipped at its floor; the product of the factors is `objective`).
        NaN for preselected samples. WEIGHTED_KMEANS picks its batch at once: its
        objective is the weight of the pick's cluster (also `selection.objective`), its
        factor NaN (no product), its value the pick's own weight (score or typicality).
    stop_reason: "n_samples", "exhausted" (no candidate left) or the stopping condition.
    counts: input samples, candidates after THRESHOLD (sequences when sequence_length is
        set), preselected, newly selected.
    timings: seconds spent resolving inputs, building objectives, and picking.
    notes: warnings on the config as these inputs met it, one line each (a WEIGHTS input that
        is the same for every candidate, so it cannot influence the choice).
    """

    selection: Selection
    values: dict[str, np.ndarray]
    stop_reason: str
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    objectives: dict[str, np.ndarray] = field(default_factory=dict)
    factors: dict[str, np.ndarray] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def target_units(config: SelectionConfig, n_samples_input: int, units: Units) -> int:
    """How many units the selection holds in total (preselected included); -1 = no limit."""
    if config.n_samples is not None:
        wanted = config.n_samples
    else:
        assert config.proportion_samples is not None, "SelectionConfig holds exactly one of n_samples and proportion_samples"
        wanted = int(np.floor(config.proportion_samples * n_samples_input + 0.5))
    if wanted < 0:
        return -1
    return wanted // units.length if units.length > 1 else wanted


#: Per strategy entry (by index in the config), one value per pick.
PerPick = dict[int, list[float]]


def _build_objectives(
    config: SelectionConfig,
    unit_values: list[InputValues],
    active: np.ndarray,
    chosen: np.ndarray,
    seed: int,
    backend: str,
    approximation: Approximation | None = None,
) -> list[tuple[st.Objective, int]]:
    """(objective, entry index) for every strategy that is not a THRESHOLD."""
    objectives: list[tuple[st.Objective, int]] = []
    for i, entry in enumerate(config.strategies):
        s, values = entry.strategy, unit_values[i]
        sub = values.take(active)
        obj: st.Objective
        if s.type == "DIVERSITY":
            obj = st.Diversity(s, sub, chosen, backend, approximation)
        elif s.type == "WEIGHTS":
            obj = st.Weights(s, sub, chosen)
        elif s.type == "SIMILARITY":
            obj = st.Similarity(s, sub)
        elif s.type == "TYPICALITY":
            obj = st.Typicality(s, sub, values.values, active, seed)
        elif s.type == "BALANCE":
            matrix, target = st.balance_problem(s, values, f"strategies[{i}]")
            obj = st.Balance(matrix[active], target, chosen, s.strength)
        else:
            continue
        objectives.append((obj, i))
    return objectives


def _greedy(objectives: list[tuple[st.Objective, int]], chosen: np.ndarray, n_new: int) -> tuple[list[int], list[float], tuple[PerPick, PerPick], str]:
    """Pick up to n_new rows (-1 = unlimited); see the module docstring.

    Returns (picked rows, each pick's objective, (o_i, s_i · log(o_i clipped)) of each
    strategy at each pick, stop reason).
    """
    candidate = ~chosen
    static = np.zeros(len(chosen))
    for obj, _ in objectives:
        if not obj.dynamic and obj.strength:
            static += obj.strength * obj.log_objective()
    picks: list[int] = []
    products: list[float] = []
    why: PerPick = {i: [] for _, i in objectives}  # o_i at each pick
    terms: PerPick = {i: [] for _, i in objectives}  # s_i · log(o_i clipped) at each pick
    for obj, _ in objectives:
        if obj.stopped():
            return picks, products, (why, terms), obj.stop_reason
    while n_new < 0 or len(picks) < n_new:
        if not candidate.any():
            return picks, products, (why, terms), "exhausted"
        total = static.copy()
        allowed = candidate.copy()
        blocking = None
        dynamic_terms: dict[int, np.ndarray] = {}
        for obj, i in objectives:
            if obj.dynamic and obj.strength:
                dynamic_terms[i] = obj.strength * obj.log_objective()
                total += dynamic_terms[i]
            mask = obj.eligible()
            if mask is not None:
                if blocking is None and not (allowed & mask).any():
                    blocking = obj.stop_reason
                allowed &= mask
        if not allowed.any():
            return picks, products, (why, terms), blocking or "exhausted"
        total[~allowed] = -np.inf
        best = int(np.argmax(total))
        picks.append(best)
        products.append(float(np.exp(total[best])))
        for obj, i in objectives:
            why[i].append(float(obj.raw()[best]))
            term = dynamic_terms[i][best] if i in dynamic_terms else (obj.strength * obj.log_objective()[best] if obj.strength else 0.0)
            terms[i].append(float(term))
            obj.pick(best)
        candidate[best] = False
        for obj, _ in objectives:
            if obj.stopped():
                return picks, products, (why, terms), obj.stop_reason
    return picks, products, (why, terms), "n_samples"


def run_selection(
    config: SelectionConfig | Mapping[str, Any] | str | os.PathLike[str],
    inputs: SelectionInputs,
    *,
    seed: int = 0,
    sequence_length: int | None = None,
    backend: str = "auto",
    approximation: Approximation | None = None,
) -> SelectionOutcome:
    """Run a selection_config over resolved inputs; deterministic for a given seed.

    Args:
        config: a SelectionConfig, a LightlyOne selection_config dict, or a YAML/JSON path.
        inputs: the resolved inputs (samples, embeddings, scores, metadata, predictions,
            preselected ids). At object level the samples are crops (`Frames.kind == "crop"`);
            `parent_frames` maps the result back to frames.
        seed: seed of every random choice (RANDOM inputs without random_seed, the
            TYPICALITY reference subset).
        sequence_length: the worker's `selected_sequence_length`: frames of a video are cut
            into sequences of that many consecutive frame indices, selected whole;
            n_samples still counts frames (n_samples // length sequences).
        backend: nearest-distance kernel for DIVERSITY ("auto", "numba", "numpy").
        approximation: a `thresher.select.approximate.Approximation` whose storage (float16,
            int8) and PCA apply to DIVERSITY's embeddings (None = exact; partitions are for
            `approximate_k_center` alone: the selector picks one sample at a time over all).

    Example (pick the two most uncertain of three frames)::

        >>> import numpy as np
        >>> from thresher import Frames, Scores
        >>> from thresher.select import SelectionInputs
        >>> frames = Frames.build(["a.jpg", "b.jpg", "c.jpg"])
        >>> scores = {"det": Scores(frames.id, {"objectness_least_confidence": np.array([0.1, 0.9, 0.5])})}
        >>> config = {"n_samples": 2, "strategies": [{"input": {"type": "SCORES", "task": "det", "score": "objectness_least_confidence"}, "strategy": {"type": "WEIGHTS"}}]}
        >>> run_selection(config, SelectionInputs(frames, scores=scores)).selection.ids.tolist()
        ['b.jpg', 'c.jpg']
    """
    config = load_selection_config(config)
    if approximation is not None and approximation.partitions != 1:
        from thresher.errors import UsageError

        raise UsageError(f"approximation.partitions: the selector takes storage and pca_dims only, got partitions={approximation.partitions}; use approximate_k_center")
    clock = [time.perf_counter()]
    units = sequence_units(inputs.frames, sequence_length) if sequence_length and sequence_length > 1 else sample_units(inputs.frames)
    ids = units.sample_ids
    streamed = approximation if units.length == 1 else None  # sequences average float32 vectors first
    sample_values = [input_values(e, inputs, ids, seed, f"strategies[{i}]", streamed) for i, e in enumerate(config.strategies)]
    unit_values = [units.aggregate(v) for v in sample_values]
    chosen_units = units.any_of(np.isin(ids, inputs.preselected))
    candidate = ~chosen_units
    for entry, entry_values in zip(config.strategies, unit_values):
        if entry.strategy.type == "THRESHOLD":
            candidate &= st.threshold_mask(entry_values.values, entry.strategy.threshold, entry.strategy.operation)
    active = np.flatnonzero(candidate | chosen_units)
    chosen = chosen_units[active]
    wanted = target_units(config, len(ids), units)
    n_new = -1 if wanted < 0 else max(0, wanted - int(chosen.sum()))
    clock.append(time.perf_counter())
    batch = config.batch_index
    if batch is None:
        objectives = _build_objectives(config, unit_values, active, chosen, seed, backend, approximation)
        clock.append(time.perf_counter())
        picks, products, (why, terms), reason = _greedy(objectives, chosen, n_new)
    else:
        kmeans = config.strategies[batch].strategy
        assert isinstance(kmeans, WeightedKMeansStrategy), "WEIGHTED_KMEANS is the only batch strategy"
        weights = _batch_weights(config.strategies[batch], f"strategies[{batch}]", inputs, ids, units, unit_values[batch], seed)
        clock.append(time.perf_counter())
        found = weighted_kmeans_batch(unit_values[batch].values[active], weights.per_unit[active], ~chosen, n_new, per_pick=kmeans.per_pick, seed=seed)
        picks, products = found.rows.tolist(), found.cluster_weight.tolist()
        why, terms = {batch: products}, {batch: [np.nan] * len(picks)}  # no product of factors
        reason = "n_samples" if len(picks) == n_new else "exhausted"
    clock.append(time.perf_counter())
    picked_units = active[np.array(picks, dtype=np.int64)]
    selection, rows, unit_of_row = units.selection(inputs.preselected, picked_units, np.array(products), config.to_dict())
    values = _value_columns(config, sample_values, rows, unit_of_row, picked_units, why)
    if batch is not None:
        values[list(values)[batch]] = weights.of_rows(rows, unit_of_row)
    names = list(values)
    objectives_at_pick = {names[i]: _per_row(why.get(i, []), unit_of_row, picked_units) for i in range(len(names))}
    factors = {names[i]: np.exp(_per_row(terms.get(i, []), unit_of_row, picked_units)) for i in range(len(names))}
    counts = {"input": len(ids), "candidates": int(candidate.sum()), "preselected": len(inputs.preselected), "selected": len(selection) - len(inputs.preselected)}
    timings = dict(zip(("inputs", "objectives", "greedy"), np.diff(clock).tolist()))
    notes = constant_weights_notes(config, unit_values, candidate)
    return SelectionOutcome(selection, values, reason, counts, timings, objectives_at_pick, factors, notes)


def constant_weights_notes(config: SelectionConfig, unit_values: list[InputValues], candidate: np.ndarray) -> list[str]:
    """One line per WEIGHTS strategy whose input is the same for every candidate (two or more):
    its objective cannot tell them apart, so it does not influence the choice.

    >>> from thresher.select.values import InputValues
    >>> margin = {"type": "SCORES", "task": "det", "score": "uncertainty_margin"}
    >>> config = load_selection_config({"n_samples": 1, "strategies": [{"input": margin, "strategy": {"type": "WEIGHTS"}}]})
    >>> print(*constant_weights_notes(config, [InputValues("scalar", np.zeros(3), "scores:det/uncertainty_margin")], np.ones(3, bool)))
    strategies[0] (WEIGHTS on scores:det/uncertainty_margin): the input is 0 for every candidate (3), so this strategy cannot influence the choice; ...
    """
    notes = []
    for i, (entry, values) in enumerate(zip(config.strategies, unit_values)):
        if entry.strategy.type != "WEIGHTS" or values.kind != "scalar" or int(candidate.sum()) < 2:
            continue
        here = values.values[candidate]
        finite = here[np.isfinite(here)]
        if len(finite) and finite.min() != finite.max():
            continue
        if not len(finite):
            what = "without a value for any candidate"
        else:
            what = f"{finite[0]:g} for every candidate" if len(finite) == len(here) else f"{finite[0]:g} or missing for every candidate"
        notes.append(f"strategies[{i}] (WEIGHTS on {values.label}): the input is {what} ({len(here)}), so this strategy cannot influence the choice; pick another input or drop it")
    return notes


@dataclass(frozen=True, eq=False)
class _BatchWeights:
    """WEIGHTED_KMEANS weights: per unit (what is clustered), and per sample when they are scores."""

    per_unit: np.ndarray
    per_sample: np.ndarray | None

    def of_rows(self, rows: np.ndarray, unit_of_row: np.ndarray) -> np.ndarray:
        """The weight shown for each selected sample: its own score, or its unit's typicality."""
        return (self.per_unit[unit_of_row] if self.per_sample is None else self.per_sample[rows]).astype(np.float64)


def _batch_weights(entry, path: str, inputs: SelectionInputs, ids: np.ndarray, units: Units, vectors: InputValues, seed: int) -> _BatchWeights:
    """The weights of a WEIGHTED_KMEANS entry: its SCORES (mean over a unit's samples), or the
    typicality of every unit among all units (docs/selection.md section 7)."""
    scores = score_weights(entry, inputs, ids, path)
    if scores is not None:
        return _BatchWeights(units.aggregate(scores).values, scores.values)
    every = np.arange(len(vectors.values))
    return _BatchWeights(st.typicality(vectors.values, vectors.values, every, entry.strategy.weights.num_nearest_neighbors, seed), None)


def _per_row(per_pick: list[float], unit_of_row, picked_units) -> np.ndarray:
    """A value per pick spread over the selection's rows (each row gets its unit's; NaN for
    preselected rows)."""
    pick_of_unit = {int(u): k for k, u in enumerate(picked_units)}
    return np.array([per_pick[pick_of_unit[int(u)]] if int(u) in pick_of_unit and per_pick else np.nan for u in unit_of_row], dtype=np.float64)


def select(config: SelectionConfig | Mapping[str, Any] | str | os.PathLike[str], inputs: SelectionInputs, **options: Any) -> Selection:
    """`run_selection(...).selection`: the chosen ids in pick order."""
    return run_selection(config, inputs, **options).selection


def _classes_text(matrix: np.ndarray, names: np.ndarray) -> np.ndarray:
    out = []
    for row in matrix:
        nz = np.flatnonzero(row)
        out.append(";".join(f"{names[j]}={row[j]:g}" for j in nz))
    return np.array(out, dtype=object)


def _value_columns(config, sample_values: list[InputValues], rows, unit_of_row, picked_units, why) -> dict[str, np.ndarray]:
    """Per strategy, the value shown for each selected sample (see SelectionOutcome)."""
    columns = {}
    pick_of_unit = {int(u): k for k, u in enumerate(picked_units)}
    for i, (entry, values) in enumerate(zip(config.strategies, sample_values)):
        name = f"{entry.strategy.type.lower()}:{values.label}"
        if values.kind == "scalar":
            columns[name] = values.values[rows]
        elif values.kind == "classes":
            assert values.class_names is not None, "a class input always names its classes"
            columns[name] = _classes_text(values.values[rows], values.class_names)
        else:
            objective = [why[i][pick_of_unit[int(u)]] if int(u) in pick_of_unit else np.nan for u in unit_of_row]
            columns[name] = np.array(objective, dtype=np.float64)
    return columns
