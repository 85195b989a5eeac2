"""`ActiveLearningAgent` and `SamplerConfig` of the old `lightly.active_learning` (seed 004), local.

The agent keeps a query set (a tag, `initial-tag` = the whole dataset by default), a labeled
set (the preselected tag, empty by default) and, after a query, the added set. `query` runs
thresher's selector over query set ∪ labeled set with the labeled set preselected, so
`n_samples` counts the labeled set, and stores the new labeled set as a tag named
`sampler_config.name`. The legacy methods become selection configs:

- CORESET: DIVERSITY on the dataset's embeddings (k-center greedy).
- RANDOM: WEIGHTS on a RANDOM input (uniform, seeded).
- CORAL: DIVERSITY on the embeddings × WEIGHTS on one active-learning score of the scorer:
  `uncertainty_margin` by default, the score LightlyOne's worker used for `method: coral`
  (its default `active_learning.score_name`); the lightly client sent every score and left
  the choice to the server, which is not public. A scorer without that score (keypoints:
  `mean_uncertainty`) uses its only score; `query(..., score_name=...)` picks another.
- ACTIVE_LEARNING: WEIGHTS on that score alone (the highest scores first).
- WEIGHTED_KMEANS (a thresher extension, not in lightly): WEIGHTED_KMEANS on the embeddings,
  weighted by that score (`uncertainty_margin` = 1 − margin by default): the m · b most
  uncertain unlabeled samples, weighted k-means into b clusters, the sample nearest each
  center (docs/selection.md); m = `SamplerConfig(..., candidates_per_pick=m)`, default 10.
  Without a scorer (the first round: no model yet) the weights are the samples' typicality.
`min_distance` (> 0) is DIVERSITY's `stopping_condition_minimum_distance` on unit-normalized
embeddings; with RANDOM and ACTIVE_LEARNING it is enforced by a DIVERSITY of strength 0;
WEIGHTED_KMEANS refuses it (a batch strategy combines only with THRESHOLD).

Scores must follow the query set's order (as lightly 1.1 checked) or the unlabeled set's
(as the seed's guide computes them); both orders are accepted, by their length.
`query` returns the new labeled set (the seed's guide: `assert len(labeled_set) == 200`).
"""

from __future__ import annotations

import warnings
from datetime import datetime

import numpy as np

from thresher.compat.lightly_client import ApiWorkflowClient
from thresher.compat.lightly_datasets import INITIAL_TAG
from thresher.compat.lightly_enums import SamplingMethod
from thresher.errors import SchemaError, UsageError, did_you_mean
from thresher.score_table import Scores
from thresher.select import SelectionInputs, run_selection

AGENT_TASK = "active_learning"
DEFAULT_SCORE = "uncertainty_margin"
NEEDS_SCORES = (SamplingMethod.CORAL, SamplingMethod.ACTIVE_LEARNING)


class SamplerConfig:
    """How to sample: method, n_samples (the labeled set included; -1 = no limit), min_distance
    (-1 = none), and the name of the tag the query creates (default: method, sizes and time).
    `candidates_per_pick` (thresher extension, WEIGHTED_KMEANS only): m, the candidates per
    pick (None = the strategy's default)."""

    def __init__(self, method: str = SamplingMethod.CORESET, n_samples: int = 32, min_distance: float = -1, name: str | None = None, *, candidates_per_pick: int | None = None):
        self.method = method
        self.n_samples = n_samples
        self.min_distance = min_distance
        self.candidates_per_pick = candidates_per_pick
        if name is None:
            name = f"{method}_{n_samples}_{min_distance}_{datetime.now().strftime('%m_%d_%Y__%H_%M_%S')}"
        self.name = name

    def __repr__(self) -> str:
        extra = "" if self.candidates_per_pick is None else f", candidates_per_pick={self.candidates_per_pick}"
        return f"SamplerConfig(method={str(self.method)!r}, n_samples={self.n_samples}, min_distance={self.min_distance}, name={self.name!r}{extra})"


def sampling_method(method: object) -> SamplingMethod:
    try:
        return SamplingMethod(str(method))
    except ValueError:
        names = [m.value for m in SamplingMethod]
        raise UsageError(f"sampler_config.method: expected one of {names}, got {method!r}{did_you_mean(str(method), names)}") from None


def selection_config_for(sampler_config: SamplerConfig, score_name: str | None = None, *, with_scores: bool = True) -> dict:
    """The LightlyOne v4 selection_config of a legacy SamplerConfig (see the module docstring);
    `with_scores` False: WEIGHTED_KMEANS without a scorer (typicality weights)."""
    method = sampling_method(sampler_config.method)
    per_pick = getattr(sampler_config, "candidates_per_pick", None)
    if per_pick is not None and method != SamplingMethod.WEIGHTED_KMEANS:
        raise UsageError(f"sampler_config.candidates_per_pick: only WEIGHTED_KMEANS uses it, got method {method}")
    if method == SamplingMethod.WEIGHTED_KMEANS:
        return _weighted_kmeans_config(sampler_config, score_name if with_scores else None, with_scores, per_pick)
    diversity: dict[str, object] = {"type": "DIVERSITY"}
    if sampler_config.min_distance is not None and sampler_config.min_distance > 0:
        diversity["stopping_condition_minimum_distance"] = float(sampler_config.min_distance)
    embeddings = {"input": {"type": "EMBEDDINGS"}, "strategy": diversity}
    score = {"input": {"type": "SCORES", "task": AGENT_TASK, "score": score_name or DEFAULT_SCORE}, "strategy": {"type": "WEIGHTS"}}
    by_method: dict[SamplingMethod, list[dict]] = {
        SamplingMethod.CORESET: [embeddings],
        SamplingMethod.CORAL: [embeddings, score],
        SamplingMethod.RANDOM: [{"input": {"type": "RANDOM"}, "strategy": {"type": "WEIGHTS"}}],
        SamplingMethod.ACTIVE_LEARNING: [score],
    }
    strategies = by_method[method]
    if method in (SamplingMethod.RANDOM, SamplingMethod.ACTIVE_LEARNING) and len(diversity) > 1:
        strategies = [*strategies, {"input": {"type": "EMBEDDINGS"}, "strategy": {**diversity, "strength": 0.0}}]
    n_samples = int(sampler_config.n_samples)
    return {"n_samples": n_samples if n_samples >= 0 else -1, "strategies": strategies}


def _weighted_kmeans_config(sampler_config: SamplerConfig, score_name: str | None, with_scores: bool, per_pick: int | None) -> dict:
    if sampler_config.min_distance is not None and sampler_config.min_distance > 0:
        raise UsageError(f"sampler_config.min_distance: WEIGHTED_KMEANS picks a batch at once and has no minimum distance; use -1, got {sampler_config.min_distance}")
    if int(sampler_config.n_samples) < 0:
        raise UsageError(f"sampler_config.n_samples: WEIGHTED_KMEANS picks a batch of a given size; expected n_samples >= 0, got {sampler_config.n_samples}")
    weights = {"type": "SCORES", "task": AGENT_TASK, "score": score_name or DEFAULT_SCORE} if with_scores else {"type": "TYPICALITY"}
    strategy: dict[str, object] = {"type": "WEIGHTED_KMEANS", "weights": weights}
    if per_pick is not None:
        strategy["candidates_per_pick"] = int(per_pick)
    return {"n_samples": int(sampler_config.n_samples), "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": strategy}]}


def _needs_embeddings(config: dict) -> bool:
    return any(s["input"]["type"] == "EMBEDDINGS" for s in config["strategies"])


class ActiveLearningAgent:
    """Active-learning queries on a local dataset (see the module docstring).

    Attributes:
        query_set: file names that can be selected (the query tag), in dataset order.
        labeled_set: file names selected so far (the preselected tag, then each query's tag).
        unlabeled_set: query_set minus labeled_set, in dataset order.
        added_set: what the last query added; RuntimeError before a query.
    """

    def __init__(self, api_workflow_client: ApiWorkflowClient, query_tag_name: str = INITIAL_TAG, preselected_tag_name: str | None = None, *, seed: int = 0):
        self.api_workflow_client = api_workflow_client
        self.seed = seed
        tags = api_workflow_client.tag_names()
        for parameter, name in (("query_tag_name", query_tag_name), ("preselected_tag_name", preselected_tag_name)):
            if name is not None and name not in tags:
                raise UsageError(f"{parameter}: the dataset has no tag {name!r}{did_you_mean(name, tags)}; tags: {tags}")
        order = api_workflow_client.get_filenames()
        self._order = {name: k for k, name in enumerate(order)}
        self._query = self._in_order(api_workflow_client.tag_filenames(query_tag_name))
        self._labeled = self._in_order(api_workflow_client.tag_filenames(preselected_tag_name)) if preselected_tag_name else []
        self._old_labeled: list[str] | None = None

    def _in_order(self, names: list[str]) -> list[str]:
        """Names in dataset order (names outside the dataset last, as given)."""
        return sorted(names, key=lambda n: self._order.get(n, len(self._order)))

    @property
    def query_set(self) -> list[str]:
        return list(self._query)

    @property
    def labeled_set(self) -> list[str]:
        return list(self._labeled)

    @property
    def unlabeled_set(self) -> list[str]:
        labeled = set(self._labeled)
        return [n for n in self._query if n not in labeled]

    @property
    def added_set(self) -> list[str]:
        if self._old_labeled is None:
            raise RuntimeError('Cannot compute "added set" before querying.')
        old = set(self._old_labeled)
        return [n for n in self._labeled if n not in old]

    def query(self, sampler_config: SamplerConfig, al_scorer=None, *, score_name: str | None = None) -> list[str]:
        """Select up to `sampler_config.n_samples` in total, store the tag, return the new labeled set.

        Args:
            al_scorer: any object with `calculate_scores() -> {name: array}` (e.g.
                `ScorerClassification`), one value per sample of the query set or of the
                unlabeled set, in that set's order. Required for CORAL and ACTIVE_LEARNING;
                optional for WEIGHTED_KMEANS (without it: typicality weights).
            score_name: the score CORAL, ACTIVE_LEARNING and WEIGHTED_KMEANS weigh (default:
                see module docstring).
        """
        method = sampling_method(sampler_config.method)
        if 0 <= sampler_config.n_samples < len(self._labeled):
            warnings.warn(
                f"ActiveLearningAgent.query: n_samples ({sampler_config.n_samples}) is smaller than the labeled set ({len(self._labeled)}); the query is skipped.",
                stacklevel=2,
            )
            self._old_labeled = self._labeled  # nothing added by this query (lightly: `return self.labeled_set, []`)
            return self.labeled_set
        if method in NEEDS_SCORES and al_scorer is None:
            raise UsageError(f"al_scorer: {method} weighs active-learning scores; pass a scorer such as ScorerClassification(predictions)")
        if sampler_config.name in self.api_workflow_client.tag_names():
            raise RuntimeError(f"There already exists a tag with tag_name {sampler_config.name}.")
        scores = self._scores(al_scorer) if al_scorer is not None else None
        weighs_scores = method in NEEDS_SCORES or (method == SamplingMethod.WEIGHTED_KMEANS and scores is not None)
        score_name = self._score_name(scores, score_name) if weighs_scores and scores is not None else None
        config = selection_config_for(sampler_config, score_name, with_scores=scores is not None)
        picked = self._select(config, scores)
        with self.api_workflow_client.catalog() as store:
            store.create_tag(sampler_config.name, picked, note=f"ActiveLearningAgent.query {sampler_config!r}")
        self._old_labeled = self._labeled
        self._labeled = self._in_order(picked)
        return self.labeled_set

    def _scores(self, al_scorer) -> Scores:
        computed = al_scorer.calculate_scores()
        if not computed:
            raise ValueError("No scores found when calling `.calculate_scores()` of the scorer.")
        unlabeled = self.unlabeled_set
        lengths = {len(np.asarray(v).reshape(-1)) for v in computed.values()}
        if lengths == {len(self._query)}:
            ids = self._query
        elif lengths == {len(unlabeled)}:
            ids = unlabeled
        else:
            raise ValueError(
                f"Number of scores ({sorted(lengths)}) must match the number of samples of the query set "
                f"({len(self._query)}) or of the unlabeled set ({len(unlabeled)}), in that set's order."
            )
        return Scores(np.array(ids, dtype=str), {k: np.asarray(v, dtype=np.float64).reshape(-1) for k, v in computed.items()})

    @staticmethod
    def _score_name(scores: Scores, wanted: str | None) -> str:
        if wanted is not None:
            if wanted not in scores.columns:
                raise UsageError(f"score_name: the scorer has no score {wanted!r}{did_you_mean(wanted, scores.names)}; scores: {scores.names}")
            return wanted
        if DEFAULT_SCORE in scores.columns:
            return DEFAULT_SCORE
        if len(scores.names) == 1:
            return scores.names[0]
        raise UsageError(f"score_name: the scorer has no {DEFAULT_SCORE!r}; choose one of {scores.names} with query(..., score_name=...)")

    def _select(self, config: dict, scores: Scores | None) -> list[str]:
        client = self.api_workflow_client
        pool = list(dict.fromkeys([*self._labeled, *self._query]))
        with client.catalog() as store:
            known = store.samples()  # one read, then a vectorized lookup: faster than ids in chunks
        frames = known[known.index_of(pool)]
        embeddings = {"": self._embeddings(frames.id)} if _needs_embeddings(config) else {}
        inputs = SelectionInputs(
            frames,
            embeddings=embeddings,
            scores={AGENT_TASK: scores} if scores is not None else {},
            preselected=np.array(self._labeled, dtype=str),
        )
        outcome = run_selection(config, inputs, seed=self.seed)
        return outcome.selection.ids.tolist()

    def _embeddings(self, ids: np.ndarray):
        try:
            return self.api_workflow_client.embeddings().align(ids)
        except SchemaError as exc:
            raise UsageError(
                f"{exc}: the dataset's embeddings must cover the query and labeled sets; upload embeddings of every sample with upload_embeddings(csv, name)"
            ) from None
