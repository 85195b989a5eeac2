"""thresher: choose what to label in computer vision, on your own machine.

The public API is what `__all__` lists; everything else is internal and may change.
Subpackages hold the rest of each capability: `thresher.io` (formats), `thresher.models`,
`thresher.scorers`, `thresher.assertions`, `thresher.select`, `thresher.run` (the worker run),
`thresher.engines` (local and Ray), `thresher.report`, `thresher.app` (`thresher serve`),
`thresher.autolabel`, `thresher.simulate`, `thresher.compat.lightly` (the seeds' API).
"""

from thresher.assertions import (
    AssertionResult,
    appear,
    class_switch,
    compute_flickering_assertion,
    flicker,
    multibox,
    seed_flicker,
)
from thresher.catalog import Catalog
from thresher.detections import Detections
from thresher.embeddings import Embeddings
from thresher.errors import (
    ConfigError,
    DatasourceError,
    MissingDependencyError,
    NothingToSelectError,
    SchemaError,
    TableIndexError,
    ThresherError,
    UsageError,
)
from thresher.frames import Frames
from thresher.infer import run_models
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import PredictionTask, read_predictions, write_predictions
from thresher.io.lightly_schema import PredictionSchema
from thresher.scorers import (
    classification_scores,
    detection_scores,
    object_scores,
    score_frames,
    weak_candidates,
)
from thresher.score_table import Scores
from thresher.select import SelectionConfig, k_center_greedy, load_selection_config, run_selection
from thresher.selection_table import Selection
from thresher.validate import validate

__version__ = "0.1.0"

__all__ = [
    "AssertionResult",
    "Catalog",
    "ConfigError",
    "Datasource",
    "DatasourceError",
    "Detections",
    "Embeddings",
    "Frames",
    "MissingDependencyError",
    "NothingToSelectError",
    "PredictionSchema",
    "PredictionTask",
    "SchemaError",
    "Scores",
    "Selection",
    "SelectionConfig",
    "TableIndexError",
    "ThresherError",
    "UsageError",
    "__version__",
    "appear",
    "class_switch",
    "classification_scores",
    "compute_flickering_assertion",
    "detection_scores",
    "flicker",
    "k_center_greedy",
    "load_selection_config",
    "multibox",
    "object_scores",
    "read_predictions",
    "run_models",
    "run_selection",
    "score_frames",
    "seed_flicker",
    "validate",
    "weak_candidates",
    "write_predictions",
]
