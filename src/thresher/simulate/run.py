"""Active-learning rounds on a fully labeled pool: what each selection strategy would have bought.

For every seed: split the data into a pool and a test set (stratified or random, seeded) unless
a test set is given; scale the features if asked (z-scores measured on the pool); pick the start set (`start_strategy`, random by default; the same start for
every strategy of that seed); then for each strategy, `rounds` times: train a fresh model on
the labeled samples, measure it on the test set, let the strategy pick `budget` more pool
samples (their labels are revealed). The metric after the last pick is measured too. Every
random choice derives from the seed, so a run is reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from thresher._blas import limit_blas_threads
from thresher.embeddings import Embeddings
from thresher.errors import ConfigError, SchemaError, did_you_mean
from thresher.frames import Frames
from thresher.scorers.classification import classification_scores
from thresher.select.selector import run_selection
from thresher.select.inputs import Predictions, SelectionInputs
from thresher.simulate.curves import Curves
from thresher.simulate.models import ModelFactory, accuracy, model_factory
from thresher.simulate.strategies import MODEL_TASK, Strategy, resolve_strategy

Metric = Callable[[np.ndarray, np.ndarray], float]
# Below this many pool samples the numpy k-center kernel wins: the numba kernel's parallel
# dispatch costs ~9 ms per center on a busy 2-core host (0.02 ms for numpy at 1,300 x 64),
# and the preselected labeled set adds one center each round (plus a 7 s compile once).
NUMPY_KERNEL_BELOW = 20_000
SPLITS = ("stratified", "random")
SCALINGS = ("none", "zscore")


@dataclass(frozen=True)
class Pool:
    """The pool of one seed: features, labels, and what every selection reuses."""

    features: np.ndarray
    labels: np.ndarray
    class_names: np.ndarray
    frames: Frames
    embeddings: Embeddings

    @classmethod
    def build(cls, features: np.ndarray, labels: np.ndarray, class_names: np.ndarray) -> "Pool":
        width = len(str(max(len(labels) - 1, 0)))
        ids = np.array([f"{i:0{width}d}" for i in range(len(labels))])  # sorted ids = row order
        return cls(features, labels, class_names, Frames.build(ids), Embeddings(ids, features.astype(np.float32)))

    def pick(self, strategy: Strategy, labeled: np.ndarray, n_new: int, probs: np.ndarray | None, seed: int, round_index: int = 1) -> np.ndarray:
        """Rows of up to `n_new` new samples chosen by `strategy` in round `round_index` (0 = the
        first pick after the start set; labeled rows are preselected)."""
        ids = self.frames.id
        scores, predictions = {}, {}
        if probs is not None:
            scores[MODEL_TASK] = classification_scores(probs, ids)
            counts = np.zeros_like(probs)
            counts[np.arange(len(probs)), probs.argmax(axis=1)] = 1.0
            predictions[MODEL_TASK] = Predictions(ids, self.class_names, probs, counts)
        inputs = SelectionInputs(self.frames, embeddings={"": self.embeddings}, scores=scores, predictions=predictions, preselected=ids[labeled])
        backend = "numpy" if len(ids) < NUMPY_KERNEL_BELOW else "auto"
        outcome = run_selection(strategy.config(int(labeled.sum()) + n_new, round_index), inputs, seed=seed, backend=backend)
        new = outcome.selection.ids[int(labeled.sum()) :]
        return np.array([int(i) for i in new], dtype=np.int64)


def simulate(
    features: object,
    labels: object,
    strategies: Sequence[str | dict | Strategy],
    *,
    start: int = 20,
    budget: int = 20,
    rounds: int = 10,
    seeds: Sequence[int] = range(30),
    test_size: float = 0.3,
    split: str = "stratified",
    scaling: str = "none",
    test_features: object = None,
    test_labels: object = None,
    model: str | ModelFactory = "logistic",
    model_options: dict | None = None,
    metric: Metric = accuracy,
    metric_name: str = "accuracy",
    start_strategy: str | dict | Strategy = "random",
    blas_threads: int | None = 1,
) -> Curves:
    """Learning curves (metric vs number of labels) of each strategy over the seeds.

    features: (N, D) feature vectors (embeddings); labels: (N,) class labels of any type.
    start: size of the start set; budget: labels bought per round; rounds: number of rounds.
    seeds: one run per seed (30 by default: what a mean curve needs to separate strategies
        a few labels apart, BENCHMARKS.md); each seed draws its own split and start set.
    split: "stratified" (the same share of every class goes to the test set) or "random"
        (a seeded permutation); test_size: the share held out (unless test_features given).
    scaling: "none", or "zscore" (each feature minus its mean, divided by its standard
        deviation, both measured on the seed's pool; constant features become 0); the model
        and the selection both see the scaled features.
    model: "logistic", "sklearn-logistic" or a factory (n_classes, seed) -> Model
        (`thresher.simulate.models`); model_options: keyword arguments of a named model (C, max_iter).
    metric: (test labels as indices, (N, C) probabilities) -> float, higher = better.
    start_strategy: picks the start set (random by default; any strategy that needs no model,
        e.g. "typical_kmeans"); the same start set for every strategy of a seed.
    blas_threads: BLAS threads during the run (None = leave as is). One by default: on the
        small matrices of a simulation, a BLAS thread pool costs far more than it computes
        (50x slower measured on a busy 2-core host). Needs threadpoolctl (extra `simulate`).
    """
    x, y, class_names = _data(features, labels)
    _check(start, budget, rounds, seeds, test_size)
    if split not in SPLITS:
        raise ConfigError(f"split: expected one of {', '.join(SPLITS)}, got {split!r}{did_you_mean(str(split), SPLITS)}")
    if scaling not in SCALINGS:
        raise ConfigError(f"scaling: expected one of {', '.join(SCALINGS)}, got {scaling!r}{did_you_mean(str(scaling), SCALINGS)}")
    factory = model_factory(model, **(model_options or {}))
    plans = [resolve_strategy(s) for s in strategies]
    first = resolve_strategy(start_strategy)
    if first.needs_model:
        raise ConfigError(f"start_strategy: {first.name!r} needs a model's predictions; the start set has none")
    test = None if test_features is None else _data(test_features, test_labels, class_names)[:2]
    records: list[tuple[str, int, int, float]] = []
    with limit_blas_threads(blas_threads):
        for seed in seeds:
            pool_rows, test_rows = _split(y, test_size, seed, split) if test is None else (np.arange(len(y)), None)
            test_x, test_y = (x[test_rows], y[test_rows]) if test is None else test
            pool_x, test_x = _scaled(x[pool_rows], test_x, scaling)
            pool = Pool.build(pool_x, y[pool_rows], class_names)
            if start >= len(pool_rows):
                raise ConfigError(f"start: expected fewer labels than the pool holds ({len(pool_rows)} samples after the test split), got {start}; no round could add any")
            start_rows = pool.pick(first, np.zeros(len(pool_rows), bool), start, None, seed)
            for plan in plans:
                for n_labels, value in _rounds(pool, plan, start_rows, budget, rounds, factory, metric, test_x, test_y, seed):
                    records.append((plan.name, int(seed), n_labels, value))
    return Curves.from_records(records, metric_name)


def _rounds(pool: Pool, plan: Strategy, start_rows, budget, rounds, factory, metric, test_x, test_y, seed):
    labeled = np.zeros(len(pool.labels), dtype=bool)
    labeled[start_rows] = True
    n_classes = len(pool.class_names)
    for r in range(rounds + 1):
        model = factory(n_classes, seed).fit(pool.features[labeled], pool.labels[labeled])
        yield int(labeled.sum()), float(metric(test_y, model.predict_proba(test_x)))
        if r == rounds or labeled.all():
            return
        probs = model.predict_proba(pool.features) if plan.round_needs_model(r) else None
        picks = pool.pick(plan, labeled, min(budget, int((~labeled).sum())), probs, seed * 100_003 + r + 1, round_index=r)
        if len(picks) == 0:  # a stopping condition of the config: nothing more to buy
            return
        labeled[picks] = True


def _data(features, labels, class_names=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(features, dtype=np.float64)
    raw = np.asarray(labels)
    if x.ndim != 2 or len(x) != len(raw) or len(x) == 0:
        raise SchemaError(f"features, labels: expected (N, D) features and N labels, N > 0, got {x.shape} and {raw.shape}")
    if not np.isfinite(x).all():
        raise SchemaError("features: expected finite numbers, got NaN or inf")
    if class_names is None:
        class_names, y = np.unique(raw, return_inverse=True)
        if len(class_names) < 2:
            raise SchemaError(f"labels: expected at least 2 classes, got {len(class_names)}")
        return x, y.reshape(-1), class_names.astype(str)
    position = {name: k for k, name in enumerate(class_names.tolist())}
    unknown = sorted({str(v) for v in raw.astype(str).tolist()} - set(position))
    if unknown:
        raise SchemaError(f"test_labels: classes {unknown[:5]} are not in the pool's labels")
    return x, np.array([position[v] for v in raw.astype(str).tolist()], dtype=np.int64), class_names


def _check(start, budget, rounds, seeds, test_size) -> None:
    for name, value, low in (("start", start, 1), ("budget", budget, 1), ("rounds", rounds, 0)):
        if int(value) != value or value < low:
            raise ConfigError(f"{name}: expected an integer >= {low}, got {value!r}")
    if len(seeds) == 0:
        raise ConfigError("seeds: expected at least one seed, got none")
    if not 0.0 < test_size < 1.0:
        raise ConfigError(f"test_size: expected a share in (0, 1), got {test_size}")


def _scaled(pool_x: np.ndarray, test_x: np.ndarray, scaling: str) -> tuple[np.ndarray, np.ndarray]:
    """Both sets scaled by what the pool measures (see `simulate`'s `scaling`)."""
    if scaling == "none":
        return pool_x, test_x
    mean, std = pool_x.mean(axis=0), pool_x.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (pool_x - mean) / std, (test_x - mean) / std


def _split(y: np.ndarray, test_size: float, seed: int, split: str = "stratified") -> tuple[np.ndarray, np.ndarray]:
    """Seeded pool / test split: stratified (the same share of every class goes to the test
    set) or random (the first round(test_size · N) rows of a seeded permutation)."""
    rng = np.random.default_rng(seed)
    if split == "random":
        test_rows = np.sort(rng.permutation(len(y))[: int(round(test_size * len(y)))])
        return np.setdiff1d(np.arange(len(y)), test_rows), test_rows
    test = []
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        test.append(rows[: int(round(test_size * len(rows)))])
    test_rows = np.sort(np.concatenate(test))
    pool_rows = np.setdiff1d(np.arange(len(y)), test_rows)
    return pool_rows, test_rows
