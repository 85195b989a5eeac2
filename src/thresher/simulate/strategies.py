"""Selection strategies of the simulation, every one a LightlyOne selection config run by
`thresher.select.run_selection`, with the labeled set as preselected samples.

What a config can read each round (the names to use in a custom config):

- `{"type": "EMBEDDINGS"}`: the pool's feature vectors (L2-normalized by the engine);
- `{"type": "SCORES", "task": "model", "score": S}` with S one of Lightly's classification
  scores of the current model's probabilities: `uncertainty_entropy`, `uncertainty_margin`,
  `uncertainty_least_confidence` (normalized, higher = more uncertain);
- `{"type": "PREDICTIONS", "task": "model", "name": "CLASS_DISTRIBUTION"}`: the probabilities;
- `{"type": "RANDOM"}`: seeded per round.

Built-in names: `random`; `entropy`, `margin`, `least_confidence` (top-k, WEIGHTS on the
score); `coreset` (DIVERSITY, k-center greedy); `coral` or `coral:<score>` (DIVERSITY x
WEIGHTS on a score, entropy by default: LightlyOne's CORAL); `typicality` (TYPICALITY).
Any other strategy: `{"name": ..., "config": selection_config}` or `config:<file.yaml|json>`.
"""

from __future__ import annotations

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


BUILT_IN = {
    "random": [{"input": {"type": "RANDOM"}, "strategy": {"type": "WEIGHTS"}}],
    **{name: [_weights(name)] for name in SCORES},
    "coreset": [_diversity()],
    "coral": [_diversity(), _weights("entropy")],
    **{f"coral:{name}": [_diversity(), _weights(name)] for name in SCORES},
    "typicality": [{"input": _EMBEDDINGS, "strategy": {"type": "TYPICALITY"}}],
}


@dataclass(frozen=True)
class Strategy:
    """A named list of selection-config strategies; `needs_model` when it reads the model."""

    name: str
    strategies: tuple

    @property
    def needs_model(self) -> bool:
        return any(entry["input"].get("task") == MODEL_TASK for entry in self.strategies)

    def config(self, n_samples: int) -> dict:
        """The selection config picking up to `n_samples` in total (labeled ones included)."""
        return {"n_samples": int(n_samples), "strategies": [dict(entry) for entry in self.strategies]}


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
    if spec not in BUILT_IN:
        raise ConfigError(
            f"strategy: unknown {spec!r}{did_you_mean(spec, BUILT_IN)}; expected one of {sorted(BUILT_IN)} "
            "or config:<selection config file>"
        )
    return Strategy(spec, tuple(BUILT_IN[spec]))


def _from_config(name: str, config: object) -> Strategy:
    """Keep the strategies of a selection config; its n_samples is set each round."""
    loaded = load_selection_config(config).to_dict()
    return Strategy(name, tuple(loaded["strategies"]))
