"""`thresher select --seed-strategy NAME`: seed 002's selection of B frames from a prediction task.

The stacked name (`thresher.scorers.seed_strategy`) gives one score per predicted frame; with
`prune`, frames are grouped by perceptual hash (pHash of the decoded frame, 8 × 8) and one random
member of each group of near-identical frames stays (`prune_threshold` × the largest Hamming
distance; 0.1 by default, a thresher choice: the seed leaves it to its configuration); the batch
rule (top-k, bottom-k, nee) then picks B frames among those that have a score. With a budget given
as a number of frames, the seed's rescaling of percent budgets after pruning changes nothing.
Writes `selection.csv` (pick order, the strategy's score as objective) and `selection.json`.

>>> select_seed_strategy(Datasource("data/"), "perc_bottomk_mean_mcbox", task="tta", n=20, out="sel/")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from thresher.infer import sample_rows
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import predicted_part, read_predictions
from thresher.io.pixels import iter_pixels
from thresher.io.problems import Problems
from thresher.io.storage import write_file
from thresher.run.resolver import SCORE_FAMILIES
from thresher.scorers import score_frames
from thresher.scorers.batch import bottom_k, nee, prune_groups, top_k
from thresher.scorers.hashing import hash_distances, image_hashes
from thresher.scorers.seed_strategy import parse_seed_strategy, seed_strategy_scores
from thresher.score_table import Scores
from thresher.select import write_selection_csv
from thresher.selection_table import Selection

RULES = {"topk": top_k, "bottomk": bottom_k, "nee": nee}
PRUNE_THRESHOLD = 0.1


def select_seed_strategy(
    source: Datasource,
    name: str,
    *,
    task: str,
    n: int,
    out: str | os.PathLike,
    every: int = 1,
    seed: int = 0,
    prune_threshold: float = PRUNE_THRESHOLD,
) -> Selection:
    """Select `n` frames of `task`'s predicted frames with the seed-002 strategy `name` (module docstring)."""
    frames, detections = predicted_part(read_predictions(source.lightly, task, source.frames(Problems()), Problems()))
    rows = sample_rows(frames, every)
    kept = detections[np.isin(detections.frame, rows)]
    frames, detections = frames[rows], kept.replace(frame=np.searchsorted(rows, kept.frame))
    task_scores = score_frames(detections, frames, SCORE_FAMILIES)
    strategy = parse_seed_strategy(name, task_scores.names)
    values = seed_strategy_scores(strategy, detections, frames, task_scores, seed)
    if strategy.prune:
        values = np.where(_pruned(source, frames, values, prune_threshold, seed), values, np.nan)
    table = Scores(frames.id, {name: values})
    selection = RULES[strategy.rule](table, name, n)
    selection = Selection(selection.ids, selection.objective, {**selection.config, "seed_strategy": name, "task": task, "seed": seed})
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_selection_csv(out / "selection.csv", frames, selection, {name: selection.objective})
    summary = {"config": dict(selection.config), "selected": len(selection), "candidates": int(np.isfinite(values).sum())}
    write_file(out / "selection.json", json.dumps(summary, indent=1).encode())
    return selection


def _pruned(source: Datasource, frames, values: np.ndarray, threshold: float, seed: int) -> np.ndarray:
    """Keep-mask over the frames: near-identical frames (pHash) leave one random member each."""
    scored = np.flatnonzero(np.isfinite(values))
    pixels = dict(iter_pixels(source, frames, scored, Problems()))
    rows = np.array([r for r in scored.tolist() if r in pixels], dtype=np.int64)
    keep = np.zeros(len(frames), bool)
    if len(rows):
        kept = prune_groups(hash_distances(image_hashes([pixels[r] for r in rows.tolist()])), threshold, seed)
        keep[rows[kept]] = True
    return keep
