"""The Python API of the seeds' `lightly` package, local: no server, no token, no lightly import.

    from thresher.compat.lightly import ScorerObjectDetection, ObjectDetectionOutput, BoundingBox

gives the same objects and numbers as `lightly.active_learning` 1.4.6 (seed 003).
"""

from thresher.compat.lightly_scorers import (
    BoundingBox,
    KeypointInstancePrediction,
    KeypointPrediction,
    ObjectDetectionOutput,
    ScorerClassification,
    ScorerKeypointDetection,
    ScorerObjectDetection,
    ScorerSemanticSegmentation,
)

__all__ = [
    "BoundingBox",
    "KeypointInstancePrediction",
    "KeypointPrediction",
    "ObjectDetectionOutput",
    "ScorerClassification",
    "ScorerKeypointDetection",
    "ScorerObjectDetection",
    "ScorerSemanticSegmentation",
]
