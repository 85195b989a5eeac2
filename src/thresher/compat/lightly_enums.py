"""The enums the seeds import from `lightly.openapi_generated.swagger_client`, local.

Each member is also its plain string (`DatasetType.VIDEOS == "VIDEOS"`), as in lightly's
generated API models, so code that compares or formats them keeps working.
"""

from __future__ import annotations

from enum import Enum


class _StrEnum(str, Enum):
    def __str__(self) -> str:
        return self.value


class DatasetType(_StrEnum):
    """What a dataset holds (recorded only: a local dataset enumerates images and videos alike)."""

    IMAGES = "IMAGES"
    VIDEOS = "VIDEOS"
    CROPS = "CROPS"


class DatasourcePurpose(_StrEnum):
    """Which role a configured datasource plays.

    INPUT: where the images and videos are. LIGHTLY: where `.lightly/` (predictions,
    metadata) is. INPUT_OUTPUT: both in one place.
    """

    INPUT_OUTPUT = "INPUT_OUTPUT"
    INPUT = "INPUT"
    LIGHTLY = "LIGHTLY"


class SamplingMethod(_StrEnum):
    """The legacy sampling methods of `SamplerConfig` (see `thresher.compat.lightly_agent`);
    WEIGHTED_KMEANS is a thresher extension (uncertain candidates, then weighted k-means)."""

    ACTIVE_LEARNING = "ACTIVE_LEARNING"
    CORAL = "CORAL"
    CORESET = "CORESET"
    RANDOM = "RANDOM"
    WEIGHTED_KMEANS = "WEIGHTED_KMEANS"
