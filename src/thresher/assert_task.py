"""`thresher assert`: run model assertions on a prediction task and write what they find.

Writes Lightly metadata for every predicted frame (`flickering` = 1.0 when flagged, 0.5
otherwise, as seed 000 does, and one `<assertion>_severity` number per assertion) so a
selection config can use them as METADATA inputs, and writes the imputed boxes as their own
prediction task `<task>-imputed`, to be offered as pre-labels by the exports.

Only frames with a valid prediction file take part; frames are compared only when they are
consecutive in their video, so predictions made with `--every N > 1` have no neighbours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thresher.assertions import AssertionResult, get_assertion, lightly_outputs, seed_flicker
from thresher.detections import Detections
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.lightly_metadata import MetadataField, write_metadata
from thresher.io.lightly_predictions import PredictionTask, predicted_part, read_predictions, write_predictions
from thresher.io.problems import Problems

IMPUTED_SUFFIX = "-imputed"


@dataclass
class AssertReport:
    frames: Frames
    results: list[AssertionResult]
    imputed_task: str


def assert_task(
    source: Datasource,
    task: str,
    names: Sequence[str] = ("flicker",),
    *,
    seed_compatible: bool = False,
    parameters: Mapping[str, Mapping[str, object]] | None = None,
    cache: Path | None = None,
    frames: Frames | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AssertReport:
    """Run the named assertions on `task` and write metadata and `<task>-imputed`.

    Args:
        names: assertions among flicker, appear, multibox, class_switch.
        seed_compatible: flicker exactly as seed 000's code (window 3, IoU thresholds
            `iou_thresh_tracking` / `iou_thresh_assertion` in `parameters["flicker"]`).
        parameters: keyword arguments per assertion name.
        cache: folder of the columnar cache of prediction tasks.
        frames: the datasource's frames when already enumerated (default: enumerated here).
        progress: called with (prediction files read, files in the task).
    """
    parameters = parameters or {}
    functions = {name: get_assertion(name) for name in names}  # unknown names fail before any work
    frames = source.frames(Problems()) if frames is None else frames
    loaded = read_predictions(source.lightly, task, frames, Problems(), cache=cache, progress=progress)
    frames, detections = predicted_part(loaded)
    results = []
    for name, function in functions.items():
        options = dict(parameters.get(name, {}))
        if name == "flicker" and seed_compatible:
            function = seed_flicker
        results.append(function(detections, frames, **options))
    outputs = lightly_outputs(results, frames)
    fields = tuple(MetadataField(f["name"], f["path"], f["defaultValue"], f["valueDataType"]) for f in outputs.schema)
    values = {path: np.array([r["metadata"][path] for r in outputs.records]) for path in (f.path for f in fields)}
    write_metadata(source.lightly, fields, frames, values)
    imputed_task = f"{task}{IMPUTED_SUFFIX}"
    write_predictions(source.lightly, PredictionTask(imputed_task, loaded.schema, frames, _without_probs(outputs.imputed)), skip_unchanged=True)
    return AssertReport(frames, results, imputed_task)


def _without_probs(detections: Detections) -> Detections:
    """Imputed boxes carry a class, not a probability vector."""
    return Detections(frame=detections.frame, xyxy=detections.xyxy, score=detections.score, class_id=detections.class_id)
