"""Lightly's semantic-segmentation scores: per-pixel classification uncertainty, mean over pixels.

Each prediction is an H x W x C array of class probabilities. Every pixel is scored like a
classification output (`thresher.scorers.classification`, normalized to [0, 1]: 0 for a
one-hot pixel, 1 for a uniform one) and the image's score is the mean over its pixels, as
lightly 1.4.6 computes it (same bits). Higher = more uncertain = more worth labeling.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike

from thresher.errors import SchemaError
from thresher.scorers import classification
from thresher.score_table import Scores


def image_segmentation_scores(prediction: ArrayLike) -> dict[str, float]:
    """The three scores of one H x W x C prediction, each the mean over its pixels."""
    prediction = np.asarray(prediction)
    if prediction.ndim != 3:
        raise SchemaError(f"prediction: expected an H x W x C array of class probabilities, got shape {prediction.shape}")
    height, width, n_classes = prediction.shape
    per_pixel = classification.uncertainty_scores(prediction.reshape(height * width, n_classes))
    return {name: float(np.mean(values)) for name, values in per_pixel.items()}


def segmentation_scores(predictions: Iterable[ArrayLike], ids: ArrayLike) -> Scores:
    """`Scores` over `ids`, one H x W x C prediction per id (a list, a generator, or an
    N x H x W x C array), read once in order."""
    columns: dict[str, list[float]] = {name: [] for name in classification.SCORE_NAMES}
    for prediction in predictions:
        for name, value in image_segmentation_scores(prediction).items():
            columns[name].append(value)
    return Scores(ids, columns)
