"""Every per-frame score in one table, and that table written to a file a user can open.

`score_frames(detections, frames)` joins the score families of `SCORE_FAMILIES` into one
`Scores` over the frames' ids (the library side of `thresher score`, which scores without
selecting). With `candidate_threshold`, the boxes below it are candidates only: the Lightly
and seed-002 scores see the boxes at or above it, `weak_candidates` sees the ones below.
`score_objects(detections, ids, families)` is the same per box: the columns of each family
that have a per-detection meaning (`OBJECT_FAMILIES`).
`write_scores_csv` writes one row per sample: `id` then one column per score (NaN = empty).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from thresher.detections import Detections
from thresher.errors import ConfigError, did_you_mean
from thresher.frames import Frames
from thresher.io.csv_cells import csv_cell
from thresher.scorers.candidates import weak_candidates
from thresher.scorers.detection import detection_scores, object_scores
from thresher.scorers.uncertainty import seed_detection_scores, seed_scores
from thresher.io.storage import write_file
from thresher.score_table import Scores


def _lightly(detections: Detections, frames: Frames | ArrayLike, options: dict) -> Scores:
    return detection_scores(
        detections,
        frames,
        frequency_penalty=options.get("frequency_penalty", 0.25),
        min_score=options.get("min_score", 0.9),
    )


def _candidates(detections: Detections, frames: Frames | ArrayLike, options: dict) -> Scores:
    return weak_candidates(
        options["all_boxes"],
        frames,
        threshold=options["candidate_threshold"],
        floor=options.get("candidate_floor", 0.0),
    )


def _seed(detections: Detections, frames: Frames | ArrayLike, options: dict) -> Scores:
    return seed_scores(detections, frames, how=options.get("how", "max"))


SCORE_FAMILIES: dict[str, Callable[[Detections, Frames | ArrayLike, dict], Scores]] = {
    "lightly": _lightly,
    "weak_candidates": _candidates,
    "seed": _seed,
}


def _lightly_objects(detections: Detections) -> dict[str, np.ndarray]:
    table = object_scores(detections, np.arange(len(detections)).astype(str))
    return {name: table[name] for name in table.names}


# per box: Lightly's `object_scores`; seed 002's entropy, albox, mcbox, mcclass (its
# combinations and class_balance_weight compare frames); weak_candidates rates frames by the
# boxes below the threshold, so it has no per-box column
OBJECT_FAMILIES: dict[str, Callable[[Detections], dict[str, np.ndarray]] | None] = {
    "lightly": _lightly_objects,
    "weak_candidates": None,
    "seed": seed_detection_scores,
}


def score_objects(detections: Detections, ids: ArrayLike, families: Sequence[str] = ("lightly", "seed")) -> Scores:
    """One row per box (`ids` in detection row order, e.g. `default_object_ids`) with the
    per-box columns of every family asked for (`OBJECT_FAMILIES`); higher = more worth labeling.

    >>> from thresher import Detections
    >>> boxes = Detections(frame=[0, 0], xyxy=[[0, 0, 10, 10], [0, 0, 20, 20]], score=[0.5, 1.0], class_id=[0, 1], probs=[[0.5, 0.5], [0.25, 0.75]])
    >>> table = score_objects(boxes, ["a-0-jpg.png", "a-1-jpg.png"])
    >>> table.names, table["entropy"].round(3).tolist()
    (['objectness_least_confidence', 'uncertainty_least_confidence', 'uncertainty_margin', 'uncertainty_entropy', 'entropy'], [1.0, 0.811])
    """
    columns: dict[str, np.ndarray] = {}
    for name in families:
        if name not in OBJECT_FAMILIES:
            raise ConfigError(f"families: unknown score family {name!r}{did_you_mean(name, OBJECT_FAMILIES)}; expected some of {sorted(OBJECT_FAMILIES)}")
        family = OBJECT_FAMILIES[name]
        columns.update(family(detections) if family is not None else {})
    return Scores(ids, columns)


def score_frames(
    detections: Detections,
    frames: Frames | ArrayLike,
    families: Sequence[str] = ("lightly", "seed"),
    *,
    candidate_threshold: float | None = None,
    **options: object,
) -> Scores:
    """One `Scores` table with the columns of every family asked for (see `SCORE_FAMILIES`).

    options: frequency_penalty, min_score (lightly), candidate_floor (weak_candidates),
    how = "max" | "mean" (seed). `weak_candidates` needs `candidate_threshold`.

    Example (Lightly's scores, one row per frame; seed 002's need class probabilities)::

        >>> from thresher import Detections, Frames
        >>> frames = Frames.build(["a.jpg", "b.jpg"], width=640, height=480)
        >>> boxes = Detections(frame=[0, 1], xyxy=[[10, 10, 60, 60], [10, 10, 60, 60]], score=[0.35, 0.99], class_id=[0, 0])
        >>> table = score_frames(boxes, frames, ["lightly"])
        >>> table.names[:2], table["objectness_least_confidence"].round(2).tolist()
        (['object_frequency', 'objectness_least_confidence'], [0.65, 0.01])
    """
    for name in families:
        if name not in SCORE_FAMILIES:
            raise ConfigError(f"families: unknown score family {name!r}{did_you_mean(name, SCORE_FAMILIES)}; expected some of {sorted(SCORE_FAMILIES)}")
    if "weak_candidates" in families and candidate_threshold is None:
        raise ConfigError("candidate_threshold: the weak_candidates family needs the score from which boxes count as detected")
    reported = detections if candidate_threshold is None else detections[detections.score >= candidate_threshold]
    settings = {**options, "all_boxes": detections, "candidate_threshold": candidate_threshold}
    tables = [SCORE_FAMILIES[name](reported, frames, settings) for name in families]
    result = tables[0]
    for table in tables[1:]:
        result = result.join(table)
    return result


def write_scores_csv(scores: Scores, path: str | os.PathLike, about: dict[str, np.ndarray] | None = None) -> None:
    """One row per sample: `id`, the columns of `about` (what each sample is, e.g. an object's box,
    class and score: `thresher.objects.object_columns`), then every score column (each float
    as its shortest exact text at its own precision, `thresher.io.csv_cells`; NaN empty).

    Written to a temporary name and renamed, so a failed write leaves no half file.
    """
    about = dict(about or {})
    handle = io.StringIO(newline="")
    writer = csv.writer(handle)
    writer.writerow(["id", *about, *scores.names])
    columns = [*about.values(), *(scores[name] for name in scores.names)]
    for row, sample in enumerate(scores.ids.tolist()):
        writer.writerow([sample, *(csv_cell(c[row]) for c in columns)])
    write_file(path, handle.getvalue().encode())
