"""thresher: choose what to label in computer vision, on your own machine.

The public API is what `__all__` lists; everything else is internal and may change.
"""

from thresher.detections import Detections
from thresher.embeddings import Embeddings
from thresher.errors import (
    ConfigError,
    DatasourceError,
    MissingDependencyError,
    SchemaError,
    ThresherError,
    UsageError,
)
from thresher.frames import Frames
from thresher.scores import Scores
from thresher.selection import Selection

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DatasourceError",
    "Detections",
    "Embeddings",
    "Frames",
    "MissingDependencyError",
    "SchemaError",
    "Scores",
    "Selection",
    "ThresherError",
    "UsageError",
    "__version__",
]
