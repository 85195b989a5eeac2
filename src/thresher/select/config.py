"""LightlyOne's v4 `selection_config`, as pydantic models.

The dict a LightlyOne user passes to `schedule_compute_worker_run(selection_config=...)`
validates here unchanged (snake_case keys, and the camelCase aliases of the API models).
`load_selection_config` takes a dict, a YAML or JSON file, or a model; every mistake is a
`ConfigError` naming the dotted path (`strategies[1].strategy.type`), what was expected,
what came, and the nearest valid name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from thresher.errors import ConfigError
from thresher.select._config_errors import check_keys, format_validation_error


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


# ---- inputs ---------------------------------------------------------------------------------
class EmbeddingsInput(_Model):
    """The samples' embeddings; `task` names object embeddings; `tag_name` a query set."""

    type: Literal["EMBEDDINGS"]
    task: str | None = None
    dataset_id: str | None = Field(None, alias="datasetId")
    tag_name: str | None = Field(None, alias="tagName", min_length=1)


class ScoresInput(_Model):
    """An active-learning score `score` of prediction task `task` (higher = more worth labeling)."""

    type: Literal["SCORES"]
    task: str
    score: str = Field(min_length=1)


class MetadataInput(_Model):
    """A metadata value by dotted key (`weather.temperature`, `lightly.sharpness`)."""

    type: Literal["METADATA"]
    key: str = Field(min_length=1)


class PredictionsInput(_Model):
    """CLASS_DISTRIBUTION (summed class probabilities) or CATEGORY_COUNT (objects) of a task."""

    type: Literal["PREDICTIONS"]
    task: str
    name: Literal["CLASS_DISTRIBUTION", "CATEGORY_COUNT"]
    categories: list[str] | None = Field(None, min_length=1)


class RandomInput(_Model):
    """One uniform random number in (0, 1] per sample, from `random_seed`."""

    type: Literal["RANDOM"]
    random_seed: int | None = Field(None, alias="randomSeed")


SelectionInput = Annotated[
    Union[EmbeddingsInput, ScoresInput, MetadataInput, PredictionsInput, RandomInput],
    Field(discriminator="type"),
]


# ---- strategies -----------------------------------------------------------------------------
Strength = Annotated[float, Field(ge=-1e9, le=1e9)]


class DiversityStrategy(_Model):
    type: Literal["DIVERSITY"]
    strength: Strength = 1.0
    stopping_condition_minimum_distance: float | None = Field(None, ge=0, le=2, alias="stoppingConditionMinimumDistance")


class WeightsStrategy(_Model):
    type: Literal["WEIGHTS"]
    strength: Strength = 1.0
    stopping_condition_max_sum: float | None = Field(None, ge=0, alias="stoppingConditionMaxSum")


class ThresholdStrategy(_Model):
    type: Literal["THRESHOLD"]
    strength: Strength = 1.0
    threshold: float
    operation: Literal["SMALLER", "SMALLER_EQUAL", "BIGGER", "BIGGER_EQUAL"]


class BalanceStrategy(_Model):
    type: Literal["BALANCE"]
    strength: Strength = 1.0
    target: dict[str, Annotated[float, Field(ge=0, le=1)]] | None = None
    distribution: Literal["TARGET", "UNIFORM", "INPUT"] | None = None

    @model_validator(mode="after")
    def _target_matches_distribution(self) -> "BalanceStrategy":
        if self.distribution in (None, "TARGET"):
            if not self.target:
                raise ValueError("target: distribution TARGET needs a non-empty {class name: fraction} mapping (or set distribution UNIFORM or INPUT)")
            total = sum(self.target.values())
            if total > 1 + 1e-9:
                raise ValueError(f"target: fractions must sum to at most 1, got {total:g}")
        elif self.target is not None:
            raise ValueError(f"target: only used with distribution TARGET, got distribution {self.distribution}")
        return self

    @property
    def resolved_distribution(self) -> str:
        return self.distribution or "TARGET"


class SimilarityStrategy(_Model):
    type: Literal["SIMILARITY"]
    strength: Strength = 1.0


class TypicalityStrategy(_Model):
    type: Literal["TYPICALITY"]
    strength: Strength = 1.0
    num_nearest_neighbors: int | None = Field(None, ge=2, alias="numNearestNeighbors")
    stopping_condition_minimum_typicality: float | None = Field(None, gt=0, le=1, alias="stoppingConditionMinimumTypicality")


class ScoresWeights(_Model):
    """WEIGHTED_KMEANS weights: score `score` of prediction task `task` (higher = more worth
    labeling; `uncertainty_margin` = 1 − margin gives Zhdanov's weights)."""

    type: Literal["SCORES"]
    task: str
    score: str = Field(min_length=1)


class TypicalityWeights(_Model):
    """WEIGHTED_KMEANS weights: TYPICALITY's typicality (no model needed: the first round)."""

    type: Literal["TYPICALITY"]
    num_nearest_neighbors: int | None = Field(None, ge=2, alias="numNearestNeighbors")


KMeansWeights = Annotated[Union[ScoresWeights, TypicalityWeights], Field(discriminator="type")]


DEFAULT_CANDIDATES_PER_PICK = 10


class WeightedKMeansStrategy(_Model):
    """thresher extension (not in LightlyOne): a batch picked at once, on EMBEDDINGS.

    The `candidates_per_pick` × batch candidates of highest weight are clustered by weighted
    k-means into one cluster per pick; each cluster gives its candidate nearest to the
    center (Zhdanov 2019; docs/selection.md). Combines only with THRESHOLD.
    `candidates_per_pick` defaults to 10 with SCORES weights and to every candidate with
    TYPICALITY weights (TypiClust clusters the whole pool).
    """

    type: Literal["WEIGHTED_KMEANS"]
    weights: KMeansWeights
    candidates_per_pick: int | None = Field(None, ge=1, le=1_000_000, alias="candidatesPerPick")

    @property
    def per_pick(self) -> int | None:
        """Candidates per pick in effect (None = every candidate)."""
        if self.candidates_per_pick is not None:
            return self.candidates_per_pick
        return DEFAULT_CANDIDATES_PER_PICK if self.weights.type == "SCORES" else None


SelectionStrategy = Annotated[
    Union[DiversityStrategy, WeightsStrategy, ThresholdStrategy, BalanceStrategy, SimilarityStrategy, TypicalityStrategy, WeightedKMeansStrategy],
    Field(discriminator="type"),
]


# ---- which strategy takes which input -------------------------------------------------------
def input_kind(inp: Any) -> str:
    """EMBEDDINGS, SCORES, METADATA, RANDOM, or PREDICTIONS.<name>."""
    return f"PREDICTIONS.{inp.name}" if inp.type == "PREDICTIONS" else inp.type


COMBINATIONS: dict[str, tuple[str, ...]] = {
    "EMBEDDINGS": ("DIVERSITY", "SIMILARITY", "TYPICALITY", "WEIGHTED_KMEANS"),
    "SCORES": ("WEIGHTS", "THRESHOLD"),
    "METADATA": ("WEIGHTS", "THRESHOLD", "BALANCE"),
    "PREDICTIONS.CATEGORY_COUNT": ("WEIGHTS", "THRESHOLD"),
    "PREDICTIONS.CLASS_DISTRIBUTION": ("BALANCE",),
    "RANDOM": ("WEIGHTS", "THRESHOLD"),
}


# Strategies that choose the whole batch at once instead of one sample per greedy step.
BATCH_STRATEGIES = ("WEIGHTED_KMEANS",)


class StrategyEntry(_Model):
    """One objective: an input and the strategy applied to it."""

    input: SelectionInput
    strategy: SelectionStrategy

    @model_validator(mode="after")
    def _combination_is_possible(self) -> "StrategyEntry":
        kind = input_kind(self.input)
        allowed = COMBINATIONS[kind]
        if self.strategy.type not in allowed:
            raise ValueError(f"strategy.type: {self.strategy.type} cannot take {kind} input; {kind} works with {', '.join(allowed)}")
        if isinstance(self.input, EmbeddingsInput):
            if self.input.dataset_id and not self.input.tag_name:
                raise ValueError("input.tag_name: dataset_id names a query set only together with tag_name")
            if self.strategy.type == "SIMILARITY" and not self.input.tag_name:
                raise ValueError("input.tag_name: SIMILARITY needs the query set: set tag_name (and dataset_id when the tag is in another dataset)")
            if self.strategy.type in ("TYPICALITY", "WEIGHTED_KMEANS") and self.input.tag_name:
                raise ValueError(f"input.tag_name: {self.strategy.type} is measured on the samples themselves; remove tag_name")
        return self


class SelectionConfig(_Model):
    """LightlyOne v4 selection_config: how many samples, and the objectives.

    Exactly one of `n_samples` (total selected, preselected samples included; -1 = no count
    limit, stop on the strategies' stopping conditions only) and `proportion_samples`
    (fraction of the input samples, in [0, 1]).
    """

    n_samples: int | None = Field(None, ge=-1, alias="nSamples")
    proportion_samples: float | None = Field(None, ge=0, le=1, alias="proportionSamples")
    strategies: list[StrategyEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_size(self) -> "SelectionConfig":
        if (self.n_samples is None) == (self.proportion_samples is None):
            given = "both" if self.n_samples is not None else "neither"
            raise ValueError(f"n_samples: set exactly one of n_samples and proportion_samples, got {given}")
        return self

    @model_validator(mode="after")
    def _batch_strategy_alone(self) -> "SelectionConfig":
        batch = [i for i, e in enumerate(self.strategies) if e.strategy.type in BATCH_STRATEGIES]
        if not batch:
            return self
        i = batch[0]
        others = [(j, e.strategy.type) for j, e in enumerate(self.strategies) if j != i and e.strategy.type != "THRESHOLD"]
        if others:
            j, kind = others[0]
            raise ValueError(
                f"strategies[{j}].strategy.type: {self.strategies[i].strategy.type} (strategies[{i}]) picks "
                f"the whole batch at once and combines only with THRESHOLD, got {kind}; "
                f"filter with THRESHOLD or run {kind} in a selection of its own"
            )
        if self.n_samples == -1:
            raise ValueError(f"n_samples: {self.strategies[i].strategy.type} picks a batch of a given size; expected n_samples >= 0 or proportion_samples, got -1")
        return self

    @property
    def batch_index(self) -> int | None:
        """The entry of a batch strategy (WEIGHTED_KMEANS), None when the greedy picks."""
        return next((i for i, e in enumerate(self.strategies) if e.strategy.type in BATCH_STRATEGIES), None)

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain LightlyOne dict (snake_case keys, unset fields left out)."""
        return self.model_dump(exclude_none=True, mode="json")


def _type_name(model: type[BaseModel]) -> str:
    """The one value of a model's `type: Literal[...]` field, e.g. "DIVERSITY"."""
    return get_args(model.model_fields["type"].annotation)[0]


MODELS = {
    "config": SelectionConfig,
    "entry": StrategyEntry,
    "input": {_type_name(m): m for m in (EmbeddingsInput, ScoresInput, MetadataInput, PredictionsInput, RandomInput)},
    "strategy": {
        _type_name(m): m for m in (DiversityStrategy, WeightsStrategy, ThresholdStrategy, BalanceStrategy, SimilarityStrategy, TypicalityStrategy, WeightedKMeansStrategy)
    },
    "weights": {_type_name(m): m for m in (ScoresWeights, TypicalityWeights)},
}


def load_selection_config(source: "SelectionConfig | Mapping[str, Any] | str | os.PathLike[str]", *, where: str = "", section: str = "") -> SelectionConfig:
    """Validate a selection_config given as a model, a dict, or a .yaml/.yml/.json file path.

    where: what errors start with (`run.yaml: `; a file path given as `source` names itself);
    section: the key path of the selection config in its file (`selection_config.` in a run
    file), put in front of every key path an error names.

    Example (a LightlyOne selection_config as a dict)::

        >>> config = load_selection_config({"n_samples": 10, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]})
        >>> config.n_samples, config.strategies[0].strategy.type
        (10, 'DIVERSITY')
    """
    if isinstance(source, SelectionConfig):
        return source
    if isinstance(source, (str, os.PathLike)):
        where = f"{os.fspath(source)}: "
        source = _read_file(Path(source))
    if not isinstance(source, Mapping):
        raise ConfigError(f"{where}{section.removesuffix('.') or 'selection_config'}: expected a mapping with n_samples and strategies, got {type(source).__name__}")
    run_sections = sorted({"worker_config", "selection_config", "lightly_config", "thresher"} & set(source))
    if run_sections:
        raise ConfigError(
            f"{where}a run file (it has {', '.join(run_sections)}), not a selection_config: run it with "
            f"`thresher run DATASOURCE --config {where.removesuffix(': ') or 'FILE'}`, or give only its selection_config section"
        )
    check_keys(source, MODELS, where + section)
    try:
        return SelectionConfig.model_validate(dict(source))
    except ValidationError as exc:
        raise ConfigError(where + format_validation_error(exc, MODELS, section)) from None


def _read_file(path: Path) -> Any:
    from thresher.config_text import parse_config

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the selection config: {exc.strerror or exc}") from exc
    return parse_config(path, text)
