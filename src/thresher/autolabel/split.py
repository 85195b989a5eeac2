"""Split frames into *labeled* (the model's boxes are taken as labels) and *examine* (a human looks).

A detection is *considered* when its score is above the score threshold (the others are
dropped, as a detector's display threshold drops them) and *uncertain* when it is considered
and its fused uncertainty is above the uncertainty threshold. A frame is labeled when none of
its considered detections is uncertain (seed 002: every detection above the score threshold is
below the uncertainty threshold). A frame with no considered detection is labeled as empty by
default; `empty="examine"` sends it to a human instead (a detector that missed everything
looks exactly like an empty frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresher.detections import Detections
from thresher.errors import ConfigError
from thresher.scorers._reduce import FrameGroups, per_frame

EMPTY_POLICIES = ("labeled", "examine")


@dataclass(frozen=True, eq=False)
class AutoLabelSplit:
    """The outcome over `n_frames` frames and the M detections it was computed from.

    labeled: (n_frames,) bool, True = auto-labeled, False = to examine.
    considered, uncertain: (M,) bool (module docstring). fused: (M,) fused uncertainty.
    frame_uncertainty: (n_frames,) the largest fused uncertainty of the frame's considered
        detections, NaN without one; higher = more worth a look (review priority).
    """

    labeled: np.ndarray
    considered: np.ndarray
    uncertain: np.ndarray
    fused: np.ndarray
    frame_uncertainty: np.ndarray

    @property
    def examine(self) -> np.ndarray:
        return ~self.labeled

    def labels(self, detections: Detections) -> Detections:
        """The final labels: the considered detections of the labeled frames."""
        return detections[self.considered & self.labeled[detections.frame]]

    def review(self, detections: Detections) -> Detections:
        """The pre-labels of the frames to examine: their considered detections."""
        return detections[self.considered & ~self.labeled[detections.frame]]

    def summary(self) -> dict[str, int]:
        return {
            "frames": int(len(self.labeled)),
            "labeled": int(self.labeled.sum()),
            "examine": int((~self.labeled).sum()),
            "detections_considered": int(self.considered.sum()),
            "detections_uncertain": int(self.uncertain.sum()),
        }


def split_frames(
    detections: Detections,
    fused: np.ndarray,
    n_frames: int,
    *,
    score_threshold: float,
    uncertainty_threshold: float,
    empty: str = "labeled",
) -> AutoLabelSplit:
    """Labeled / examine per frame from per-detection fused uncertainties (module docstring)."""
    if empty not in EMPTY_POLICIES:
        raise ConfigError(f"empty: expected one of {EMPTY_POLICIES}, got {empty!r}")
    fused = np.asarray(fused, dtype=np.float64)
    considered = detections.score > score_threshold
    uncertain = considered & (fused > uncertainty_threshold)
    groups = FrameGroups.of(detections.frame, n_frames)
    n_uncertain = per_frame(uncertain.astype(np.float64), groups, "max", 0.0)
    n_considered = per_frame(considered.astype(np.float64), groups, "max", 0.0)
    top = per_frame(np.where(considered, fused, -np.inf), groups, "max", -np.inf)
    labeled = n_uncertain == 0
    if empty == "examine":
        labeled &= n_considered > 0
    frame_uncertainty = np.where(np.isfinite(top), top, np.nan)
    return AutoLabelSplit(labeled, considered, uncertain, fused, frame_uncertainty)
