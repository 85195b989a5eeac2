"""A score for the frames the detector almost found something in.

Lightly's detection scores give a frame with no reported box 0 on every score, so a frame in
which the detector missed everything can never be chosen by them, although it is often the
most useful one to label. `weak_candidates` rates a frame by its *candidates*: the boxes the
detector scored below its reporting threshold (run the detector with a low score threshold,
or keep the low-score boxes of its output, to have them).

    weak_candidates = 1 - prod over candidates (1 - score)

is the probability that at least one candidate is a real object, if each candidate's score
were a calibrated, independent probability. It is **higher = more likely a missed object =
more worth labeling**, lies in [0, 1), rises with every added candidate and with every
candidate's score, and ignores reported boxes (score >= threshold): a frame of confident
detections only scores 0, a frame with only weak candidates scores above 0. A frame without
any box, even below the threshold, scores 0: there is nothing to go on.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from thresher.detections import Detections
from thresher.errors import ConfigError
from thresher.frames import Frames
from thresher.scorers._reduce import FrameGroups, frame_ids
from thresher.score_table import Scores

WEAK_CANDIDATES = "weak_candidates"
EXPECTED_MISSED = "expected_missed_objects"


def candidate_mask(score: np.ndarray, threshold: float, floor: float = 0.0) -> np.ndarray:
    """Boxes that count as candidates: floor <= score < threshold."""
    if not 0.0 <= floor <= threshold <= 1.0:
        raise ConfigError(f"floor, threshold: expected 0 <= floor <= threshold <= 1, got floor={floor}, threshold={threshold}")
    return (score >= floor) & (score < threshold)


def weak_candidates(detections: Detections, frames: Frames | ArrayLike, *, threshold: float = 0.5, floor: float = 0.0) -> Scores:
    """Per frame: `weak_candidates` (probability of at least one missed object, see the module
    docstring) and `expected_missed_objects` (sum of the candidates' scores).

    threshold: the score from which the detector reports a box (boxes at or above it are
        detections, not candidates). floor: candidates scoring below it are ignored as noise.

    Example (a frame with a candidate under the detector's threshold, and one without)::

        >>> from thresher import Detections, Frames
        >>> frames = Frames.build(["a.jpg", "b.jpg"], width=640, height=480)
        >>> boxes = Detections(frame=[0, 1], xyxy=[[10, 10, 60, 60], [10, 10, 60, 60]], score=[0.4, 0.9], class_id=[0, 0])
        >>> weak_candidates(boxes, frames, threshold=0.5)["expected_missed_objects"].tolist()
        [0.4, 0.0]
    """
    ids = frame_ids(frames)
    FrameGroups.of(detections.frame, len(ids))  # validates the frame rows
    weak = candidate_mask(detections.score, threshold, floor)
    frame, score = detections.frame[weak], detections.score[weak]
    log_none_real = np.bincount(frame, weights=np.log1p(-score), minlength=len(ids))
    expected = np.bincount(frame, weights=score, minlength=len(ids))
    return Scores(ids, {WEAK_CANDIDATES: -np.expm1(log_none_real), EXPECTED_MISSED: expected})
