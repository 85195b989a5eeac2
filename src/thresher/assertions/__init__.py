"""Model assertions over video: flicker, appear, multibox, class switch.

Each assertion is a function from `Detections` (+ the `Frames` they point into) to an
`AssertionResult`: a severity per frame (0 = abstain, higher = more worth labeling) and the
weak labels it proposes (imputed or corrected boxes) as `Detections`. Frames are compared
only when consecutive in their video (same `Frames.video`, `frame_index` one apart).

`compute_flickering_assertion` is seed 000's function, same arguments and results, and
`seed_flicker` its algorithm on `Detections` (`thresher.assertions.seed000`);
`thresher.assertions.parameters` resolves and checks the parameters of a set of assertions.
docs/assertions.md describes every assertion and parameter.
"""

from thresher.assertions.appear import appear
from thresher.assertions.class_switch import class_switch
from thresher.assertions.flicker import compute_flickering_assertion, flicker, seed_flicker
from thresher.assertions.metadata import (
    FLICKERING_SCHEMA,
    LightlyOutputs,
    imputed_boxes,
    lightly_outputs,
    metadata_records,
    metadata_schema,
)
from thresher.assertions.multibox import multibox
from thresher.assertions.registry import ASSERTIONS, get_assertion
from thresher.assertions.result import AssertionResult

__all__ = [
    "ASSERTIONS",
    "AssertionResult",
    "FLICKERING_SCHEMA",
    "LightlyOutputs",
    "appear",
    "class_switch",
    "compute_flickering_assertion",
    "flicker",
    "get_assertion",
    "imputed_boxes",
    "lightly_outputs",
    "metadata_records",
    "metadata_schema",
    "multibox",
    "seed_flicker",
]
