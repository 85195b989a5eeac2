"""Model assertions over video: flicker, appear, multibox, class switch.

Each assertion is a function from `Detections` (+ the `Frames` they point into) to an
`AssertionResult`: a severity per frame (0 = abstain, higher = more worth labeling) and the
weak labels it proposes (imputed or corrected boxes) as `Detections`.
"""

from thresher.assertions.flicker import compute_flickering_assertion, flicker, seed_flicker
from thresher.assertions.result import AssertionResult

__all__ = [
    "AssertionResult",
    "compute_flickering_assertion",
    "flicker",
    "seed_flicker",
]
