"""Auto-labeling with an error budget (seed 002's cost-sensitive thresholding, docs/formulas.md §2).

    model, report = fit_autolabeler(val_predictions, val_truth, budget=0.95, metric="fd@cd")
    print(report.text())                      # each uncertainty alone and fused
    split = model.split(new_predictions, len(new_frames))
    split.labels(new_predictions)             # final labels of the labeled frames
    review_tasks(new_frames, new_predictions, split, names)   # Label Studio, most uncertain first

Uncertainties are per detection and **higher = more likely a false detection**; every metric
(FD@CD(b), CD@FD(b), AUROC) is higher = better. Parts: `correctness` (CD / FD at IoU
0.50:0.05:0.75), `uncertainties`, `thresholding` (the metrics, vectorized), `fusion` (scaled
weighted sum, weights searched on the simplex), `model` (`AutoLabeler`, `fit_autolabeler`),
`split` (labeled / examine), `export` (Lightly task, COCO, Label Studio), `report`.
"""

from thresher.autolabel.correctness import IOU_THRESHOLDS, correct_detections
from thresher.autolabel.export import labels_coco, labels_task, review_order, review_tasks, split_rows
from thresher.autolabel.fusion import Scaling, search_weights, simplex_grid
from thresher.autolabel.model import AutoLabeler, fit_autolabeler
from thresher.autolabel.report import FitReport
from thresher.autolabel.split import AutoLabelSplit, split_frames
from thresher.autolabel.thresholding import METRICS, auroc, budget_metric, keep_thresholds, shares_at
from thresher.autolabel.uncertainties import detection_uncertainties

__all__ = [
    "IOU_THRESHOLDS",
    "METRICS",
    "AutoLabelSplit",
    "AutoLabeler",
    "FitReport",
    "Scaling",
    "auroc",
    "budget_metric",
    "correct_detections",
    "detection_uncertainties",
    "fit_autolabeler",
    "keep_thresholds",
    "labels_coco",
    "labels_task",
    "review_order",
    "review_tasks",
    "search_weights",
    "shares_at",
    "simplex_grid",
    "split_frames",
    "split_rows",
]
