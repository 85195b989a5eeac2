"""Seed 002's stacked strategy names, e.g. `perc_norm_box_prune_bottomk_mean_mcbox`, parsed and run.

The seed builds an active-learning strategy by stacking options in front of a score, the score
last (its README, "Note 1"). thresher reads the same names:

- the score (last): `entropy`, `mcbox`, `albox`, `mcclass`, a combination (`ental`, `epuncert`,
  `alluncert`, `highep_lowal`, `sota`), `random`, or any per-frame score of the task
  (`thresher score` lists them, e.g. `uncertainty_margin`);
- `mean`: the per-image mean over the detections (default: the maximum);
- `norm`: localization uncertainty relative to the box's [h, w, h, w] (`box` marks a
  localization score, as the seed asks; without `norm`, `albox` and `mcbox` are absolute σ in
  pixels; the combinations always use the relative one, by their definition);
- `perc`: class balancing, the score times the image's class weight (docs/formulas.md §2);
- `bottomk` or `nee`: the batch rule (default top-k); `prune`: perceptual-hash pruning first
  (`thresher.scorers.batch.prune_groups`).

Refused, each with its reason (`SeedStrategyError`): `calib` (needs a calibrator fitted on
labeled frames), `combo` (needs the fusion weights of `thresher autolabel fit`), `full_prune`
(a training schedule), `baseline` and `lossatt` (training setups).

>>> parse_seed_strategy("perc_norm_box_bottomk_mean_mcbox")
SeedStrategy(name='perc_norm_box_bottomk_mean_mcbox', score='mcbox', perc=True, relative=True, how='mean', rule='bottomk', prune=False)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from thresher.detections import Detections
from thresher.errors import ConfigError, did_you_mean
from thresher.frames import Frames
from thresher.scorers._reduce import frame_ids
from thresher.score_table import Scores
from thresher.scorers.uncertainty import COMBINATIONS, aggregate, box_uncertainty_per_detection, class_balance_weights, combine, entropy

BASE_SCORES = ("entropy", "mcbox", "albox", "mcclass", "random")
OPTIONS = ("perc", "norm", "box", "mean", "bottomk", "nee", "prune")
REFUSED = {
    "calib": "calibrated uncertainty needs a calibrator fitted on labeled frames; calibrate with `thresher autolabel fit --calibrate iso_percls` "
    "(or `--calibrate-box iso_perclscoo`) and select on the auto-labeler's fused uncertainty",
    "combo": "the optimally combined uncertainty needs the fusion weights `thresher autolabel fit` finds on labeled frames",
    "full_prune": "a training schedule (prune, then train once on the rest): thresher trains no detector; `prune` prunes before selecting",
    "baseline": "a training setup of the seed's detector (no uncertainty head): thresher trains no detector",
    "lossatt": "a training setup of the seed's detector (loss attenuation only): thresher trains no detector",
}


class SeedStrategyError(ConfigError):
    """A seed-002 strategy name that thresher cannot run, with the reason and the valid parts."""


@dataclass(frozen=True)
class SeedStrategy:
    """A parsed stacked name (module docstring); `rule` is "topk", "bottomk" or "nee"."""

    name: str
    score: str
    perc: bool = False
    relative: bool = False
    how: str = "max"
    rule: str = "topk"
    prune: bool = False

    @property
    def selects(self) -> bool:
        """Whether the name holds a batch rule or pruning, which choose frames rather than score them."""
        return self.rule != "topk" or self.prune


def parse_seed_strategy(name: str, task_scores: Collection[str] = ()) -> SeedStrategy:
    """The parts of `name`; `task_scores` are the task's own per-frame score columns, also valid last."""
    scores = [*BASE_SCORES, *COMBINATIONS, *task_scores]
    tokens = name.split("_")
    if tokens[-1] in REFUSED:  # `combo`, a score thresher does not compute
        raise SeedStrategyError(f"seed strategy {name!r}: {tokens[-1]!r} is not run by thresher: {REFUSED[tokens[-1]]}")
    for cut in range(len(tokens)):  # the longest known score at the end wins (`highep_lowal`, `uncertainty_margin`)
        if "_".join(tokens[cut:]) in scores:
            score, options = "_".join(tokens[cut:]), tokens[:cut]
            break
    else:
        last = tokens[-1]
        raise SeedStrategyError(f"seed strategy {name!r}: no score at its end{did_you_mean(last, scores)}; it ends with one of {', '.join(scores)}")
    return _with_options(name, score, _joined(options))


def _joined(tokens: list[str]) -> list[str]:
    """Tokens with `full_prune` kept whole."""
    out: list[str] = []
    for token in tokens:
        if token == "prune" and out and out[-1] == "full":
            out[-1] = "full_prune"
        else:
            out.append(token)
    return out


def _with_options(name: str, score: str, options: list[str]) -> SeedStrategy:
    for option in options:
        if option in REFUSED:
            raise SeedStrategyError(f"seed strategy {name!r}: {option!r} is not run by thresher: {REFUSED[option]}")
        if option not in OPTIONS:
            raise SeedStrategyError(f"seed strategy {name!r}: unknown option {option!r}{did_you_mean(option, OPTIONS)}; options: {', '.join(OPTIONS)}")
    if "bottomk" in options and "nee" in options:
        raise SeedStrategyError(f"seed strategy {name!r}: bottomk and nee are two batch rules; keep one")
    rule = "bottomk" if "bottomk" in options else "nee" if "nee" in options else "topk"
    return SeedStrategy(name, score, "perc" in options, "norm" in options, "mean" if "mean" in options else "max", rule, "prune" in options)


def seed_strategy_scores(strategy: SeedStrategy, detections: Detections, frames: Frames | ArrayLike, task_scores: Scores | None = None, seed: int = 0) -> np.ndarray:
    """(N,) the strategy's score per frame (NaN: not applicable, e.g. no detection; higher = more worth labeling).

    task_scores: a `Scores` table of the task's per-frame scores (for a score that is one of its
    columns); seed: of `random`.
    """
    ids = frame_ids(frames)
    values = _base_scores(strategy, detections, frames, task_scores, seed, len(ids))
    if strategy.perc:
        values = values * class_balance_weights(detections, frames)
    return values


def _base_scores(strategy: SeedStrategy, detections: Detections, frames: Frames | ArrayLike, task_scores: Scores | None, seed: int, n: int) -> np.ndarray:
    score = strategy.score
    if score == "random":
        return np.random.default_rng(seed).random(n)
    if score not in (*BASE_SCORES, *COMBINATIONS):  # one of the task's own columns, taken as it is
        if task_scores is None or score not in task_scores.columns:
            raise SeedStrategyError(f"seed strategy {strategy.name!r}: no per-frame score {score!r} for this task")
        return np.asarray(task_scores[score], dtype=np.float64)
    per_detection = _per_detection(detections, relative=True)
    if score in COMBINATIONS:
        columns = {name: aggregate(values, detections, frames, strategy.how) for name, values in per_detection.items()}
        if not all(i in columns for i in COMBINATIONS[score][0]):
            raise SeedStrategyError(f"seed strategy {strategy.name!r}: {score} needs {', '.join(COMBINATIONS[score][0])}; the task's files have {sorted(columns) or 'none'}")
        return combine(score, columns)
    own = _per_detection(detections, relative=strategy.relative) if score in ("albox", "mcbox") else per_detection
    if score not in own:
        raise SeedStrategyError(f"seed strategy {strategy.name!r}: {score} cannot be computed from this task: {NEEDS[score]}")
    return aggregate(own[score], detections, frames, strategy.how)


NEEDS = {
    "entropy": "its prediction files carry no class probabilities",
    "albox": "its prediction files carry no box_std (docs/datasource.md)",
    "mcbox": "its prediction files carry no box_spread (thresher predict --tta, or several passes fused)",
    "mcclass": "its prediction files carry no class_spread (thresher predict --tta, or several passes fused)",
}


def _per_detection(detections: Detections, relative: bool) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    if detections.probs is not None:
        found["entropy"] = entropy(detections.probs)
    if detections.box_std is not None:
        found["albox"] = box_uncertainty_per_detection(detections.xyxy, detections.box_std, relative=relative)
    if detections.box_spread is not None:
        found["mcbox"] = box_uncertainty_per_detection(detections.xyxy, detections.box_spread, relative=relative)
    if detections.class_spread is not None:
        found["mcclass"] = detections.class_spread
    return found


def stacked_score_names(config, standard: Collection[str]) -> dict[str, list[str]]:
    """{task: [names]} of the SCORES inputs of a selection config whose score is a seed-002 stacked
    name rather than one of the `standard` columns. A name made of seed parts that cannot run
    (`calib_…`, a batch rule) raises its SeedStrategyError; any other unknown name is left to the
    selection's own "no score named" message."""
    found: dict[str, list[str]] = {}
    for entry in config.strategies:
        name = entry.input.score if entry.input.type == "SCORES" else None
        if not name or name in standard:
            continue
        tokens = set(name.split("_"))
        try:
            strategy = parse_seed_strategy(name, standard)
        except SeedStrategyError:
            if tokens & (set(OPTIONS) | set(REFUSED)):
                raise
            continue
        if strategy.selects:
            raise SeedStrategyError(
                f"score {name!r}: {strategy.rule if strategy.rule != 'topk' else 'prune'} is a batch rule; in a "
                f"selection config the strategies choose (WEIGHTS on the score is top-k): drop it, or run `thresher select --seed-strategy {name}`"
            )
        found.setdefault(entry.input.task, []).append(name)
    return found
