"""`thresher score`: every score of a task, no selection."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from thresher.cli import app
from thresher.commands.common import STORAGE_OPTIONS, open_datasource


@app.command()
def score(
    datasource: str = typer.Argument(..., help="Folder or URL of images and videos."),
    task: str = typer.Option(..., "--task", help="The prediction task to score."),
    out: Path = typer.Option(Path("scores.csv"), "--out", help="CSV of every score, one row per frame."),
    objects: Optional[Path] = typer.Option(
        None,
        "--objects",
        help="Also write per-object scores here, one row per box: id, x1 y1 x2 y2 (pixels), class, score,"
        " then the --families' per-box columns (seed: entropy/albox/mcbox/mcclass).",
    ),
    families: str = typer.Option("lightly,seed", "--families", help="Score families: lightly, seed, weak_candidates."),
    candidate_threshold: Optional[float] = typer.Option(None, "--candidate-threshold", help="weak_candidates: boxes below this score are candidates the detector did not report."),
    strategies: Optional[str] = typer.Option(
        None, "--strategy", help="Also seed-002 stacked strategy names, comma-separated (e.g. perc_mean_mcbox): one column each (docs/seed002.md)."
    ),
    lightly: Optional[str] = typer.Option(None, "--lightly", help="Location holding .lightly/ when it is not the datasource."),
    storage_options: Optional[str] = STORAGE_OPTIONS,
) -> None:
    """Write every active-learning score of every predicted frame (and object) to CSV, without selecting.

    Higher means more worth labeling, for every column; an empty cell means not applicable.
    """
    from thresher.errors import UsageError
    from thresher.io.lightly_predictions import predicted_part, read_predictions
    from thresher.io.lightly_schema import require_task
    from thresher.io.problems import Problems
    from thresher.objects import object_columns
    from thresher.scorers import default_object_ids, score_frames, score_objects, write_scores_csv

    names = [f.strip() for f in families.split(",") if f.strip()]
    if "weak_candidates" in names and candidate_threshold is None:
        raise UsageError(
            "--families weak_candidates needs --candidate-threshold: expected the score from which a box counts as "
            "detected (0 to 1, e.g. --candidate-threshold 0.5), got none; give it or leave weak_candidates out"
        )
    source = open_datasource(datasource, lightly, storage_options)
    require_task(source.lightly, task)  # as `thresher select`: a task tasks.json does not list is refused
    frames = source.frames(Problems())
    predictions = read_predictions(source.lightly, task, frames, Problems())
    frames, detections = predicted_part(predictions)
    table = score_frames(detections, frames, names, candidate_threshold=candidate_threshold)
    if strategies:
        table = _with_seed_strategies(table, [s.strip() for s in strategies.split(",") if s.strip()], detections, frames)
    write_scores_csv(table, out)
    typer.echo(f"{len(table)} frames, {len(table.names)} scores: {out}")
    if objects is not None:
        per_object = score_objects(detections, default_object_ids(detections, frames), names)
        write_scores_csv(per_object, objects, object_columns(detections, predictions.schema.names))
        typer.echo(f"{len(per_object)} objects: {objects}")


def _with_seed_strategies(table, names: list[str], detections, frames):
    """`table` plus one column per seed-002 strategy name (a name with a batch rule selects, it does not score)."""
    from thresher.errors import UsageError
    from thresher.run.resolver import SCORE_FAMILIES
    from thresher.scorers import score_frames
    from thresher.scorers.seed_strategy import parse_seed_strategy, seed_strategy_scores
    from thresher.score_table import Scores

    own = score_frames(detections, frames, SCORE_FAMILIES)
    columns = {name: table[name] for name in table.names}
    for name in names:
        strategy = parse_seed_strategy(name, own.names)
        if strategy.selects:
            raise UsageError(
                f"--strategy {name}: {strategy.rule if strategy.rule != 'topk' else 'prune'} chooses frames rather than scoring them; "
                f"use `thresher select --seed-strategy {name} --task … --n …`"
            )
        columns[name] = seed_strategy_scores(strategy, detections, frames, own)
    return Scores(table.ids, columns)
