"""Label Studio's JSON export of labeled tasks → a Lightly prediction task (the labels).

The input is what Label Studio writes with Export → JSON (`GET /api/projects/<id>/export?exportType=JSON`):
a list of tasks, each with `data` and `annotations` (every annotation a `result` list). For each task:

- **Its sample**: `data.thresher_id` (the Lightly name thresher's tasks carry), else the file the
  image value names (`data.image`: the `d` of a local-files URL, or the URL's path), matched on its
  longest trailing part that names a datasource sample (`runs/r1/images/data/bikes-007-mp4.png`
  → `data/bikes-007-mp4.png`). A sample named by two tasks is a problem.
- **Its labels**: the ground-truth annotation when one is marked, else the one updated last;
  cancelled (skipped) annotations do not count. A task with no such annotation is not labeled
  and gets no prediction file (its sample is listed in `unlabeled_samples`: merged into an
  earlier round's labels, it removes that sample's earlier label); an annotation with no box is a labeled sample with nothing on it
  (an empty prediction file).
- **Boxes**: `rectanglelabels` results, percent of the image → pixels of the datasource sample
  (x0 = x/100·W, …), clipped to the image; `original_width`/`original_height` must equal the
  sample's size; rotated boxes and a box with other than one label are problems. Results of
  other types (choices, text, …) are not boxes: they are counted in `ignored` and left out.
  Scores are 1.0 (labels).
- **Classes**: ids come from `schema` (a label it lacks is a problem); without one, the labels
  found, sorted by name, get ids 0, 1, ….

Example: `{"data": {"image": "/data/local-files/?d=runs/r1/images/a.jpg"}, "annotations":
[{"result": [{"type": "rectanglelabels", "original_width": 200, "original_height": 100,
"value": {"x": 10, "y": 20, "width": 50, "height": 30, "rotation": 0, "rectanglelabels": ["car"]}}]}]}`
→ `a.jpg` with the box [20, 20, 100, 30] (x, y, w, h in pixels) of class car.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from thresher.frames import Frames
from thresher.io.conversion import Boxes, MediaIndex, assemble_task, number
from thresher.io.labelstudio_urls import path_of_url
from thresher.io.lightly_predictions import PredictionTask
from thresher.io.lightly_schema import PredictionSchema
from thresher.io.problems import Problems, collector, shown

LABEL_SCORE = 1.0
SIZE_TOLERANCE = 0.5  # pixels between original_width/height and the sample's size
ROTATION_TOLERANCE = 1e-6  # degrees


@dataclass
class LabelStudioImport:
    """A converted export: the task, and what was left out."""

    task: PredictionTask
    unlabeled_samples: tuple[str, ...] = ()  # samples whose task has no (non-cancelled) annotation
    ignored: Counter = field(default_factory=Counter)  # results that are not boxes, by type

    @property
    def unlabeled(self) -> int:
        """How many tasks have no (non-cancelled) annotation."""
        return len(self.unlabeled_samples)


def export_tasks(export: object, file: str, problems: Problems | None = None) -> list[dict]:
    """The tasks of a Label Studio JSON export, checked to be a list of task objects."""
    problems = collector(problems)
    if not isinstance(export, list) or not all(isinstance(t, dict) for t in export):
        problems.add(file, "", "Label Studio's JSON export: a list of tasks, each with data and annotations", shown(export))
        return []
    if export and not any("annotations" in t for t in export):
        problems.add(file, "[0]", "tasks with 'annotations' (export with the JSON format, not JSON-MIN or CSV)", f"keys {sorted(export[0])}")
        return []
    return export


def export_labels(tasks: list[dict]) -> list[str]:
    """Every box label the tasks' chosen annotations use, sorted."""
    labels: set[str] = set()
    for task in tasks:
        annotation = chosen_annotation(task)
        for result in (annotation or {}).get("result") or []:
            if isinstance(result, dict) and result.get("type") == "rectanglelabels":
                labels.update(str(v) for v in (result.get("value") or {}).get("rectanglelabels") or [])
    return sorted(labels)


def chosen_annotation(task: dict) -> dict | None:
    """The ground-truth annotation, else the one updated last; cancelled ones are skipped."""
    annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
    if not annotations:
        return None
    return max(annotations, key=lambda a: (bool(a.get("ground_truth")), str(a.get("updated_at") or a.get("created_at") or ""), _int(a.get("id"))))


def labelstudio_to_task(
    tasks: list[dict], frames: Frames, *, task: str, schema: PredictionSchema | None = None, file: str = "export.json", problems: Problems | None = None
) -> LabelStudioImport:
    """The labels of `tasks` (from `export_tasks`) as a prediction task of the datasource `frames`.

    Args:
        frames: the datasource's samples (`Datasource.frames()`), with their sizes.
        schema: the categories; None: the labels found, sorted, ids 0, 1, ….
        problems: a collector to record every problem and leave out the tasks that have one;
            None raises `SchemaError` at the first.
    """
    problems = collector(problems)
    schema = schema or PredictionSchema.detection(export_labels(tasks))
    ids = {c.name: c.id for c in schema.categories}
    index = MediaIndex(frames)
    covered, invalid = np.zeros(len(frames), bool), np.zeros(len(frames), bool)
    unlabeled: list[str] = []
    ignored = Counter[str]()
    parts: list[Boxes] = []
    seen: dict[int, int] = {}
    for i, item in enumerate(tasks):
        where = f"[{i}]"
        row = _sample_row(item, index, file, where, problems)
        if row is None:
            continue
        if row in seen:
            problems.add(file, f"{where}.data", f"one task per sample (task [{seen[row]}] names it too)", repr(str(frames.file_name[row])))
            invalid[row] = True
            continue
        seen[row] = i
        annotation = chosen_annotation(item)
        if annotation is None:
            unlabeled.append(str(frames.file_name[row]))
            continue
        before = len(problems)
        boxes = _boxes(annotation, row, frames, ids, file, f"{where}.annotations[id={annotation.get('id')}]", ignored, problems)
        if len(problems) > before:
            invalid[row] = True
            continue
        covered[row] = True
        parts.append(boxes)
    return LabelStudioImport(assemble_task(task, schema, frames, covered, Boxes.concat(parts), invalid), tuple(unlabeled), ignored)


def _int(value: object) -> int:
    return value if isinstance(value, int) else -1


def _sample_row(item: dict, index: MediaIndex, file: str, where: str, problems: Problems) -> int | None:
    data = item.get("data")
    if not isinstance(data, dict):
        problems.add(file, f"{where}.data", "an object with the task's image", shown(data))
        return None
    name = data.get("thresher_id")
    if isinstance(name, str) and index.row(name) is not None:
        return index.row(name)
    image = data.get("image")
    if not isinstance(image, str):
        problems.add(file, f"{where}.data", "thresher_id or image naming a sample of the datasource", shown(data))
        return None
    path = path_of_url(image)
    parts = path.replace("\\", "/").split("/")
    for k in range(len(parts)):
        row = index.row("/".join(parts[k:]))
        if row is not None:
            return row
    problems.add(file, f"{where}.data.image", "an image or video frame of the datasource (its path, or a URL ending with it)", repr(image))
    return None


def _boxes(annotation: dict, row: int, frames: Frames, ids: dict[str, int], file: str, where: str, ignored: Counter, problems: Problems) -> Boxes:
    results = annotation.get("result")
    if not isinstance(results, list):
        problems.add(file, f"{where}.result", "a list of results", shown(results))
        return Boxes.concat([])
    width, height = float(frames.width[row]), float(frames.height[row])
    xyxy, classes = [], []
    for j, result in enumerate(results):
        at = f"{where}.result[{j}]"
        kind = result.get("type") if isinstance(result, dict) else None
        if kind != "rectanglelabels":
            ignored[str(kind)] += 1
            continue
        box = _box(result, width, height, ids, file, at, problems)
        if box is not None:
            xyxy.append(box[0])
            classes.append(box[1])
    n = len(xyxy)
    return Boxes(np.full(n, row, np.int64), np.array(xyxy, float).reshape(-1, 4), np.full(n, LABEL_SCORE), np.array(classes, np.int64))


def _box(result: dict, width: float, height: float, ids: dict[str, int], file: str, at: str, problems: Problems):
    value = result.get("value")
    keys = ("x", "y", "width", "height")
    if not isinstance(value, dict) or not all(isinstance(value.get(k), (int, float)) and not isinstance(value.get(k), bool) for k in keys):
        problems.add(file, f"{at}.value", "x, y, width and height in percent of the image", shown(value))
        return None
    for key, size in (("original_width", width), ("original_height", height)):
        stated = result.get(key)
        if stated is not None and (not isinstance(stated, (int, float)) or abs(float(stated) - size) > SIZE_TOLERANCE):
            problems.add(file, f"{at}.{key}", f"the sample's size, {number(size)} pixels", shown(stated))
            return None
    if abs(float(value.get("rotation") or 0.0)) > ROTATION_TOLERANCE:
        problems.add(file, f"{at}.value.rotation", "0 (rotated boxes cannot be converted to Lightly boxes)", shown(value.get("rotation")))
        return None
    labels = value.get("rectanglelabels")
    if not isinstance(labels, list) or len(labels) != 1:
        problems.add(file, f"{at}.value.rectanglelabels", "exactly one label", shown(labels))
        return None
    label = str(labels[0])
    if label not in ids:
        problems.add(file, f"{at}.value.rectanglelabels", f"a class of the schema ({', '.join(ids)}; --names sets them)", repr(label))
        return None
    x0, y0 = value["x"] / 100.0 * width, value["y"] / 100.0 * height
    x1, y1 = x0 + value["width"] / 100.0 * width, y0 + value["height"] / 100.0 * height
    return [x0, y0, x1, y1], ids[label]
