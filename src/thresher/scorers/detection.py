"""Lightly's object-detection scores over a whole `Detections` table, number for number.

Per frame (docs/formulas.md §1, lightly 1.4.6), every score **higher = more worth labeling**:

- `objectness_least_confidence` = 1 - mean of the frame's box scores; 0 for a frame with no box.
- `object_frequency`: n = sum over the classes present of 1 + penalty * (count - 1), then mapped
  linearly from [min n, max n] over all frames given to [`min_score`, 1] (1 when all n are equal).
- `uncertainty_least_confidence | margin | entropy`: the normalized classification scores of each
  box's class probabilities (`thresher.scorers.classification`), maximum over the frame's boxes;
  0 for a frame with no box.

A frame with no box gets 0 from every Lightly score, so it can never be chosen by them; see
`thresher.scorers.candidates` for a score that rates such frames.

When `Detections.probs` is absent, the class vectors are made up the way Lightly's
`ObjectDetectionOutput.from_scores` does: per frame K = max(largest class id, 1), each box gets a
vector of K + 1 entries, its score s at its class id and (1 - s) / K elsewhere.

All reductions are vectorized over the frame column (`thresher.scorers._reduce`), and sums are
taken in the order Lightly's Python loops take them, so the results are bit-identical.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from thresher.detections import Detections
from thresher.errors import ConfigError, SchemaError
from thresher.frames import Frames
from thresher.scorers import classification
from thresher.scorers._reduce import FrameGroups, frame_ids, segment_max, segment_mean
from thresher.score_table import Scores

OBJECT_FREQUENCY = "object_frequency"
OBJECTNESS_LEAST_CONFIDENCE = "objectness_least_confidence"
SCORE_NAMES = (OBJECT_FREQUENCY, OBJECTNESS_LEAST_CONFIDENCE, *classification.SCORE_NAMES)


def detection_scores(
    detections: Detections,
    frames: Frames | ArrayLike,
    *,
    frequency_penalty: float = 0.25,
    min_score: float = 0.9,
    threads: int = 1,
) -> Scores:
    """Every Lightly detection score of every frame: `Scores` over the frames' ids.

    frames: the `Frames` table the detections' `frame` column points into (or its ids).
    frequency_penalty, min_score: the `object_frequency` settings, each in [0, 1].
    threads: for the per-box class scores (see `classification.uncertainty_scores`).

    Example (one frame with a doubtful box, one with a sure box)::

        >>> from thresher import Detections, Frames
        >>> frames = Frames.build(["a.jpg", "b.jpg"], width=640, height=480)
        >>> boxes = Detections(frame=[0, 1], xyxy=[[10, 10, 60, 60], [10, 10, 60, 60]], score=[0.35, 0.99], class_id=[0, 0])
        >>> detection_scores(boxes, frames)["objectness_least_confidence"].round(2).tolist()
        [0.65, 0.01]
    """
    ids = frame_ids(frames)
    groups = FrameGroups.of(detections.frame, len(ids))
    columns = {
        OBJECT_FREQUENCY: object_frequency(detections.class_id, groups, frequency_penalty, min_score),
        OBJECTNESS_LEAST_CONFIDENCE: objectness_least_confidence(detections.score, groups),
    }
    per_box = box_uncertainty(detections, groups, threads)
    for name, values in per_box.items():
        columns[name] = segment_max(groups.sort(values), groups.starts, groups.counts, empty=0.0)
    return Scores(ids, columns)


def objectness_least_confidence(score: np.ndarray, groups: FrameGroups) -> np.ndarray:
    """1 - mean box score of each frame (Lightly's per-image `np.mean`, same bits); 0 if no box."""
    means = segment_mean(groups.sort(score), groups.starts, groups.counts, empty=np.nan)
    return np.nan_to_num(np.where(groups.counts > 0, 1.0 - means, 0.0))


def object_frequency(class_id: np.ndarray, groups: FrameGroups, frequency_penalty: float = 0.25, min_score: float = 0.9) -> np.ndarray:
    """Lightly's object frequency of each frame, in [min_score, 1]; higher = more, more varied objects."""
    for name, value in (("frequency_penalty", frequency_penalty), ("min_score", min_score)):
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"{name}: expected a number in [0, 1], got {value!r}")
    n_objects = _weighted_object_counts(groups.sort(class_id), groups, frequency_penalty)
    if len(n_objects) == 0:
        return n_objects
    low, high = n_objects.min(), n_objects.max()
    return np.nan_to_num(np.interp(n_objects, (low, high), (min_score, 1.0)))


def _weighted_object_counts(labels: np.ndarray, groups: FrameGroups, penalty: float) -> np.ndarray:
    """sum over classes of 1 + penalty + penalty + ..., added in Lightly's order.

    Lightly adds the penalty once per further box of a class, then adds up the classes of an
    image in the order they first appear; both orders are kept so the float sums agree
    (`np.bincount` with weights adds left to right).
    """
    n_frames = len(groups.counts)
    frame = np.repeat(np.arange(n_frames), groups.counts)
    if len(labels) == 0:
        return np.zeros(n_frames)
    if int(labels.max()) - int(labels.min()) >= 1 << 20:  # keep frame * span far from overflow
        labels = np.unique(labels, return_inverse=True)[1].reshape(-1)
    span = int(labels.max()) - int(labels.min()) + 1
    key = frame * span + (labels - labels.min())
    by_class = np.argsort(key, kind="stable")  # boxes of a class of a frame, in row order
    starts = np.flatnonzero(np.r_[True, key[by_class][1:] != key[by_class][:-1]])
    count = np.diff(np.r_[starts, len(labels)])
    totals = np.add.accumulate(np.r_[1.0, np.full(int(count.max()) - 1, penalty)])
    class_value = np.zeros(len(labels))  # at the first box of each class, in row order
    first_row = by_class[starts]
    class_value[first_row] = totals[count - 1]
    first = np.zeros(len(labels), dtype=bool)
    first[first_row] = True
    return np.bincount(frame[first], weights=class_value[first], minlength=n_frames)


def box_uncertainty(detections: Detections, groups: FrameGroups | None = None, threads: int = 1) -> dict[str, np.ndarray]:
    """The normalized classification scores of every box (in row order), Lightly's way.

    Uses `detections.probs`; without it, the made-up class vectors of `from_scores` (see the
    module docstring), which need the frames of the boxes (`groups`).
    """
    if detections.probs is not None:
        return classification.uncertainty_scores(detections.probs, threads=threads)
    if groups is None:
        groups = FrameGroups.of(detections.frame, int(detections.frame.max(initial=-1)) + 1)
    return _from_scores_uncertainty(detections, groups)


def _from_scores_uncertainty(detections: Detections, groups: FrameGroups) -> dict[str, np.ndarray]:
    score, label = detections.score, detections.class_id
    if len(score) and (score.min() < 0 or score.max() > 1):
        raise SchemaError(f"Detections.score: expected scores in [0, 1] to make up class probabilities, got [{score.min()}, {score.max()}]")
    if len(label) and label.min() < 0:
        raise SchemaError(f"Detections.class_id: expected ids >= 0, got {label.min()}")
    top_label = segment_max(groups.sort(label.astype(np.float64)), groups.starts, groups.counts, 0.0)
    n_classes = np.maximum(top_label, 1).astype(np.int64)[detections.frame]
    out = {name: np.empty(len(score)) for name in classification.SCORE_NAMES}
    for k in np.unique(n_classes):
        rows = np.flatnonzero(n_classes == k)
        for start in range(0, len(rows), 4096):
            block = rows[start : start + 4096]
            probs = np.repeat(((1 - score[block]) / k)[:, None], k + 1, axis=1)
            probs[np.arange(len(block)), label[block]] = score[block]
            for name, values in classification.uncertainty_scores(probs, threads=1).items():
                out[name][block] = values
    return out


def object_scores(detections: Detections, ids: ArrayLike) -> Scores:
    """Per-object scores, one row per box (`ids` in detection row order, e.g. the crops' ids).

    Columns: the three normalized classification uncertainties of the box and
    `objectness_least_confidence` = 1 - box score. Higher = more worth labeling.

    Example (two boxes, as crops)::

        >>> from thresher import Detections
        >>> boxes = Detections(frame=[0, 0], xyxy=[[10, 10, 60, 60], [70, 10, 90, 60]], score=[0.35, 0.99], class_id=[0, 1])
        >>> object_scores(boxes, ["a-0-jpg.png", "a-1-jpg.png"])["objectness_least_confidence"].round(2).tolist()
        [0.65, 0.01]
    """
    per_box = box_uncertainty(detections)
    return Scores(ids, {OBJECTNESS_LEAST_CONFIDENCE: 1.0 - detections.score, **per_box})


def default_object_ids(detections: Detections, frames: Frames | ArrayLike) -> np.ndarray:
    """The crop name of every box, in row order: `<frame name without extension>-<k>-<ext>.png`.

    k is the box's position among its frame's boxes (see `thresher.objects.crop_name`), so
    object scores and object-level crops share their ids.
    """
    from thresher.objects import box_index_in_frame, crop_name

    ids = frame_ids(frames)
    within = box_index_in_frame(detections)
    return np.array([crop_name(f, k) for f, k in zip(ids[detections.frame].tolist(), within.tolist())], dtype=str)
