"""Selection strategies of the simulation, every one a LightlyOne selection config run by
`thresher.select.run_selection`, with the labeled set as preselected samples.

What a config can read each round (the names to use in a custom config):

- `{"type": "EMBEDDINGS"}`: the pool's feature vectors (L2-normalized by the selector);
- `{"type": "SCORES", "task": "model", "score": S}` with S one of Lightly's classification
  scores of the current model's probabilities: `uncertainty_entropy`, `uncertainty_margin`,
  `uncertainty_least_confidence` (normalized, higher = more uncertain);
- `{"type": "PREDICTIONS", "task": "model", "name": "CLASS_DISTRIBUTION"}`: the probabilities;
- `{"type": "RANDOM"}`: seeded per round.

Built-in names: `random`; `entropy`, `margin`, `least_confidence` (top-k, WEIGHTS on the
score); `coreset` (DIVERSITY, k-center greedy); `coral` or `coral:<score>` (DIVERSITY x
WEIGHTS on a score, entropy by default: LightlyOne's CORAL); `typicality` (TYPICALITY);
`weighted_kmeans` or `weighted_kmeans:<m>` (WEIGHTED_KMEANS weighted by `uncertainty_margin`,
m = 10 candidates per pick by default: Zhdanov's margin candidates, then weighted k-means);
`typical_kmeans` (WEIGHTED_KMEANS weighted by typicality over every candidate, TypiClust-like:
no model needed, so it can also pick the start set); `typical_first_kmeans` (its first round `typical_kmeans`, then
`weighted_kmeans`: the typicality-first variant for a first model too weak to trust).
Any other strategy: `{"name": ..., "config": selection_config}` or `config:<file.yaml|json>`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from thresher.errors import ConfigError, did_you_mean
from thresher.scorers.classification import ENTROPY, LEAST_CONFIDENCE, MARGIN
from thresher.select.config import load_selection_config

MODEL_TASK = "model"
SCORES = {"entropy": ENTROPY, "margin": MARGIN, "least_confidence": LEAST_CONFIDENCE}
_EMBEDDINGS = {"type": "EMBEDDINGS"}


def _weights(score: str) -> dict:
    return {"input": {"type": "SCORES", "task": MODEL_TASK, "score": SCORES[score]}, "strategy": {"type": "WEIGHTS"}}


def _diversity() -> dict:
    return {"input": _EMBEDDINGS, "strategy": {"type": "DIVERSITY"}}


def weighted_kmeans(weights: dict, per_pick: int | None = None) -> dict:
    """A WEIGHTED_KMEANS entry on the pool's features with the given weights (per_pick None:
    the strategy's default, 10 with SCORES weights, every candidate with TYPICALITY)."""
    strategy: dict[str, object] = {"type": "WEIGHTED_KMEANS", "weights": weights}
    if per_pick is not None:
        strategy["candidates_per_pick"] = per_pick
    return {"input": _EMBEDDINGS, "strategy": strategy}


MARGIN_WEIGHTS = {"type": "SCORES", "task": MODEL_TASK, "score": MARGIN}
TYPICALITY_WEIGHTS = {"type": "TYPICALITY"}
KMEANS_PREFIX = "weighted_kmeans"

BUILT_IN = {
    "random": [{"input": {"type": "RANDOM"}, "strategy": {"type": "WEIGHTS"}}],
    **{name: [_weights(name)] for name in SCORES},
    "coreset": [_diversity()],
    "coral": [_diversity(), _weights("entropy")],
    **{f"coral:{name}": [_diversity(), _weights(name)] for name in SCORES},
    "typicality": [{"input": _EMBEDDINGS, "strategy": {"type": "TYPICALITY"}}],
    KMEANS_PREFIX: [weighted_kmeans(MARGIN_WEIGHTS)],
    "typical_kmeans": [weighted_kmeans(TYPICALITY_WEIGHTS)],
    "typical_first_kmeans": [weighted_kmeans(MARGIN_WEIGHTS)],
}
# Strategies whose first round (the first pick after the start set) runs another config.
FIRST_ROUND = {"typical_first_kmeans": [weighted_kmeans(TYPICALITY_WEIGHTS)]}


@dataclass(frozen=True)
class Strategy:
    """A named list of selection-config strategies; `needs_model` when it reads the model.

    `first_round`: the strategies of its first round (the first pick after the start set),
    when that round differs (None = the same every round)."""

    name: str
    strategies: tuple
    first_round: tuple | None = None

    @property
    def needs_model(self) -> bool:
        return _reads_model(self.strategies) or (self.first_round is not None and _reads_model(self.first_round))

    def config(self, n_samples: int, round_index: int = 1) -> dict:
        """The selection config picking up to `n_samples` in total (labeled ones included) in
        round `round_index` (0 = the first pick after the start set)."""
        entries = self.first_round if round_index == 0 and self.first_round is not None else self.strategies
        return {"n_samples": int(n_samples), "strategies": [dict(entry) for entry in entries]}

    def round_needs_model(self, round_index: int) -> bool:
        """Whether round `round_index`'s config reads the current model's predictions."""
        return _reads_model(self.first_round if round_index == 0 and self.first_round is not None else self.strategies)


def _reads_model(entries) -> bool:
    def reads(entry) -> bool:
        weights = entry["strategy"].get("weights") or {}
        return entry["input"].get("task") == MODEL_TASK or weights.get("task") == MODEL_TASK

    return any(reads(entry) for entry in entries)


def resolve_strategy(spec: str | Mapping | Strategy) -> Strategy:
    """A built-in name, `config:<file>`, a {"name", "config"} mapping, or a Strategy."""
    if isinstance(spec, Strategy):
        return spec
    if isinstance(spec, Mapping):
        if set(spec) != {"name", "config"}:
            raise ConfigError(f"strategy: expected a mapping with keys name and config, got keys {sorted(spec)}")
        return _from_config(str(spec["name"]), spec["config"])
    if spec.startswith("config:"):
        path = spec.split(":", 1)[1]
        return _from_config(Path(path).stem, path)
    if spec.startswith(f"{KMEANS_PREFIX}:"):
        per_pick = spec.split(":", 1)[1]
        if not per_pick.isdigit() or int(per_pick) < 1:
            raise ConfigError(f"strategy: {spec!r}: expected {KMEANS_PREFIX}:<candidates per pick, an integer >= 1>, e.g. {KMEANS_PREFIX}:10")
        return Strategy(spec, (weighted_kmeans(MARGIN_WEIGHTS, int(per_pick)),))
    if spec not in BUILT_IN:
        raise ConfigError(f"strategy: unknown {spec!r}{did_you_mean(spec, BUILT_IN)}; expected one of {sorted(BUILT_IN)}, {KMEANS_PREFIX}:<m> or config:<selection config file>")
    first = FIRST_ROUND.get(spec)
    return Strategy(spec, tuple(BUILT_IN[spec]), None if first is None else tuple(first))


def _from_config(name: str, config: str | os.PathLike[str] | Mapping) -> Strategy:
    """Keep the strategies of a selection config; its n_samples is set each round."""
    loaded = load_selection_config(config).to_dict()
    return Strategy(name, tuple(loaded["strategies"]))
