"""Active-learning scores: pure functions from `Detections` (or class probabilities) to `Scores`.

Every score column follows one direction: **higher = more worth labeling**; NaN = not
applicable. Families:

- Lightly's scores, bit-identical to lightly 1.4.6: `classification_scores`,
  `detection_scores` (per frame), `object_scores` (per box), `segmentation_scores`,
  `keypoint_scores`.
- `weak_candidates`: rates frames by the boxes the detector almost reported.
- Seed 002 (uncertainty-detection-autolabeling): `seed_scores` and the functions of
  `thresher.scorers.uncertainty`, `fuse_passes` for several stochastic passes, the batch
  rules `top_k`, `bottom_k`, `nee`, perceptual-hash pruning (`image_hashes`,
  `hash_distances`, `prune_groups`, `rescale_budget`).
- Calibration: `match_detections`, `fit_calibrator` -> `Calibrator` (apply, save, load),
  `confidence_metrics`, `box_metrics`, `reliability`.
- `score_frames` joins the families into one table (`score_objects`: one row per box, the
  families' per-box columns); `write_scores_csv` writes it.
"""

from thresher.scorers.batch import bottom_k, nee, prune_groups, rescale_budget, top_k
from thresher.scorers.calibration import Calibrator, fit_calibrator
from thresher.scorers.calibration_metrics import box_metrics, confidence_metrics, reliability
from thresher.scorers.candidates import weak_candidates
from thresher.scorers.classification import classification_scores, uncertainty_scores
from thresher.scorers.detection import default_object_ids, detection_scores, object_scores
from thresher.scorers.fusion import FusedPasses, fuse_passes
from thresher.scorers.hashing import hash_distances, image_hashes, phash, whash
from thresher.scorers.keypoints import keypoint_scores
from thresher.scorers.matching import Matches, match_detections
from thresher.scorers.registry import OBJECT_FAMILIES, SCORE_FAMILIES, score_frames, score_objects, write_scores_csv
from thresher.scorers.segmentation import segmentation_scores
from thresher.scorers.uncertainty import seed_detection_scores, seed_scores

__all__ = [
    "OBJECT_FAMILIES",
    "SCORE_FAMILIES",
    "Calibrator",
    "FusedPasses",
    "Matches",
    "bottom_k",
    "box_metrics",
    "classification_scores",
    "confidence_metrics",
    "default_object_ids",
    "detection_scores",
    "fit_calibrator",
    "fuse_passes",
    "hash_distances",
    "image_hashes",
    "keypoint_scores",
    "match_detections",
    "nee",
    "object_scores",
    "phash",
    "prune_groups",
    "reliability",
    "rescale_budget",
    "score_frames",
    "score_objects",
    "seed_detection_scores",
    "seed_scores",
    "segmentation_scores",
    "top_k",
    "uncertainty_scores",
    "weak_candidates",
    "whash",
    "write_scores_csv",
]
