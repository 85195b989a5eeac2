"""The Python API of the seeds' `lightly` package, local: no server, no token, no lightly import.

Only the import lines of a seed script change:

    from thresher.compat.lightly import ApiWorkflowClient, DatasetType, DatasourcePurpose
    from thresher.compat.lightly import ActiveLearningAgent, SamplerConfig, SamplingMethod
    from thresher.compat.lightly import ScorerClassification, ScorerObjectDetection
    from thresher.compat import lightly          # then lightly.api.ApiWorkflowClient(...)

- Scorers, `BoundingBox`, `ObjectDetectionOutput`: the same objects and numbers as
  `lightly.active_learning` 1.4.6 (seed 003), see `lightly_scorers`.
- `ActiveLearningAgent`, `SamplerConfig`, `SamplingMethod`: seed 004, see `lightly_agent`.
- `ApiWorkflowClient`, `DatasetType`, `DatasourcePurpose`: seeds 000, 001, 004 on local datasets
  (`lightly_client`, `lightly_datasets`), runs through `thresher.run`.
- `lightly_magic`: the `lightly-magic` upload of seed 004's guide (`lightly_magic`).
"""

from types import SimpleNamespace as _Namespace

from thresher.compat.lightly_agent import ActiveLearningAgent, SamplerConfig, selection_config_for
from thresher.compat.lightly_client import ApiWorkflowClient, TagData
from thresher.compat.lightly_datasets import thresher_home
from thresher.compat.lightly_enums import DatasetType, DatasourcePurpose, SamplingMethod
from thresher.compat.lightly_magic import lightly_magic
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

# `lightly.api.ApiWorkflowClient(...)` (seed 001) works after `from thresher.compat import lightly`.
api = _Namespace(ApiWorkflowClient=ApiWorkflowClient)

__all__ = [
    "ActiveLearningAgent",
    "ApiWorkflowClient",
    "BoundingBox",
    "DatasetType",
    "DatasourcePurpose",
    "KeypointInstancePrediction",
    "KeypointPrediction",
    "ObjectDetectionOutput",
    "SamplerConfig",
    "SamplingMethod",
    "ScorerClassification",
    "ScorerKeypointDetection",
    "ScorerObjectDetection",
    "ScorerSemanticSegmentation",
    "TagData",
    "api",
    "lightly_magic",
    "selection_config_for",
    "thresher_home",
]
