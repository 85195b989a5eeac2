"""The app's JSON answers: the sample grid with filters, one sample, the embedding view.

Filters of the grid (all optional, combined with AND): a catalog tag; a score column of the
run's bundle with a range [min, max] (samples without a value are left out once a range is
given); a predicted class (samples with at least one object of it). Sorted by the chosen
score, highest first (higher = more worth labeling), else in the run's sample order (frames
by Lightly name; crops in the order of their task's detections).
"""

from __future__ import annotations

import math

import numpy as np

from thresher.app.state import MAX_PAGE, AppState, NotFound, RunView, datasource_of, view_holding
from thresher.errors import UsageError
from thresher.catalog import Catalog
from thresher.frames import Frames
from thresher.io.names import frame_name
from thresher.report.data import Thumbnails
from thresher.report.render import b64, quantized


def _float(text: str | None, name: str) -> float | None:
    if text in (None, ""):
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value):
        raise UsageError(f"{name}: expected a number, got {text!r}")
    return value


def _int(text: str | None, name: str, default: int) -> int:
    if text in (None, ""):
        return default
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{name}: expected an integer, got {text!r}") from None


def _column(view: RunView, name: str) -> np.ndarray:
    if name not in view.data.colors:
        raise NotFound(f"score {name!r}: not in run {view.run_id}; scores: {sorted(view.data.colors)}")
    return view.data.colors[name]


def browsable_runs(state: AppState) -> list[str]:
    """Ids of the runs with report data, newest first (the pages' run pickers)."""
    return [run["id"] for run in state.runs() if run["browsable"]]


def class_names(view: RunView) -> list[str]:
    return sorted({c for t in view.data.meta.get("class_tasks", []) for c in t["class_names"]})


def _has_class(view: RunView, name: str) -> np.ndarray:
    mask = np.zeros(len(view.data.samples), bool)
    for task in view.data.meta.get("class_tasks", []):
        if name in task["class_names"]:
            row, col, count = view.data.classes[task["task"]]
            mask[row[(col == task["class_names"].index(name)) & (count > 0)]] = True
    return mask


def grid(state: AppState, query: dict[str, str]) -> dict:
    """One page of samples matching the filters, with their boxes (see module docstring)."""
    view = state.view(query.get("run") or None)
    if view is None:
        return {"run": None, "runs": [], "total": 0, "items": [], "scores": [], "classes": [], "tags": state.tags()}
    data = view.data
    keep = np.ones(len(data.samples), bool)
    if query.get("tag"):
        keep &= np.isin(data.samples.id, state.tag_ids(query["tag"]))
    score = query.get("score") or None
    values = _column(view, score) if score else None
    low, high = _float(query.get("min"), "min"), _float(query.get("max"), "max")
    if values is not None and (low is not None or high is not None):
        keep &= np.isfinite(values) & (values >= (-math.inf if low is None else low)) & (values <= (math.inf if high is None else high))
    if query.get("class"):
        keep &= _has_class(view, query["class"])
    rows = np.flatnonzero(keep)
    if values is not None:
        rows = rows[np.lexsort((data.samples.id[rows], -np.nan_to_num(values[rows].astype(np.float64), nan=-np.inf)))]
    limit = min(MAX_PAGE, max(1, _int(query.get("limit"), "limit", 60)))
    last_page = (len(rows) - 1) // limit * limit if len(rows) else 0
    offset = min(max(0, _int(query.get("offset"), "offset", 0)), last_page)  # past the end: the last page
    selected = set(data.new_picks.tolist())
    page = rows[offset : offset + limit]
    boxes = boxes_of(state, view, data.samples[page])
    items = [_item(view, int(r), values, selected, b) for r, b in zip(page.tolist(), boxes)]
    return {
        "run": view.run_id,
        "runs": browsable_runs(state),
        "total": int(len(rows)),
        "offset": offset,
        "limit": limit,
        "items": items,
        "scores": list(data.meta.get("colors", [])),
        "classes": class_names(view),
        "tags": state.tags(),
    }


def _item(view: RunView, row: int, values: np.ndarray | None, selected: set, boxes: list[dict]) -> dict:
    s = view.data.samples
    sample_id = str(s.id[row])
    crop = s.kind[row] == "crop"
    return {
        "id": sample_id,
        "file_name": str(s.file_name[row]),
        "kind": str(s.kind[row]),
        "width": int(s.width[row]),
        "height": int(s.height[row]),
        "selected": sample_id in selected,
        "score": None if values is None or not np.isfinite(values[row]) else float(values[row]),
        "boxes": [] if crop else boxes,
    }


def boxes_of(state: AppState, view: RunView, frames: Frames, tasks: tuple[str | None, str | None] | None = None, held: tuple[Thumbnails, ...] | None = None) -> list[list[dict]]:
    """Per frame of `frames`: its predicted (the run's box task) and imputed boxes.

    Frames whose boxes the run's bundle keeps (`held`, searched in order; default the report's thumbnails: the
    selected frames and the others the report shows) get the boxes as the run saw them; the
    others are read from the datasource's prediction files as they are now. tasks: (predicted,
    imputed) task names instead of the run's. Only those frames' prediction files are read, so
    a page costs the same for any datasource size.
    """
    from thresher.report.thumbs import read_boxes

    held = (view.data.thumbnails,) if held is None else held
    out: list[list[dict] | None] = [next((b for b in (_held_boxes(t, str(i)) for t in held) if b is not None), None) for i in frames.id.tolist()]
    unread = np.array([k for k, boxes in enumerate(out) if boxes is None], np.int64)
    for k in unread.tolist():
        out[k] = []
    pairs = tasks if tasks is not None else (view.data.meta.get("box_task"), view.data.meta.get("imputed_task"))
    for task, imputed in zip(pairs, (False, True)):
        found = read_boxes(datasource_of(state, view).lightly, task, frames[unread]) if task and len(unread) else None
        if found is None:
            continue
        detections, names = found
        for row, xyxy, score, class_id in zip(detections.frame.tolist(), detections.xyxy.tolist(), detections.score.tolist(), detections.class_id.tolist()):
            out[int(unread[row])].append({"xyxy": [round(v, 1) for v in xyxy], "label": names.get(class_id, str(class_id)), "score": round(score, 4), "imputed": imputed})  # type: ignore[union-attr]
    return [boxes or [] for boxes in out]


def _held_boxes(thumbs: Thumbnails, frame_id: str) -> list[dict] | None:
    """The boxes drawn on the bundle's thumbnail of `frame_id` (None: the bundle has none)."""
    hit = np.flatnonzero(thumbs.frame_id == frame_id)
    if not len(hit):
        return None
    mine = np.flatnonzero(thumbs.box_thumb == hit[0])
    xyxy, labels = thumbs.box_xyxy[mine].tolist(), thumbs.labels[thumbs.box_label[mine]].tolist()
    scores, imputed = thumbs.box_score[mine].tolist(), thumbs.box_imputed[mine].tolist()
    return [{"xyxy": [round(v, 1) for v in box], "label": label, "score": round(score, 4), "imputed": bool(i)} for box, label, score, i in zip(xyxy, labels, scores, imputed)]


def sample(state: AppState, sample_id: str, run_id: str | None = None) -> dict:
    """One sample as the run it is shown for saw it, its tags, boxes, and every score and input of
    each run of that datasource that has it.

    The boxes and the frame strip are those of the run it is shown for (`run_id`, else the
    latest run whose bundle holds it: `view_holding`), read from that run's datasource.
    """
    view = view_holding(state, sample_id, run_id)
    with state.catalog() as store:
        row = state.as_seen(store, sample_id, view)
        tags = [name for name in store.tags() if sample_id in set(store.tag(name))]
    runs = []
    for run in state.runs():
        if not run["browsable"]:
            continue
        other = state.view(run["id"])
        assert other is not None  # asked for a run by its id: its bundle, or NotFound raised
        r = other.row_of.get(sample_id)
        if r is None or (view is not None and _datasource(other) != _datasource(view)):
            continue  # a run of another datasource sharing the catalog: its sample of that name is another file
        data = other.data
        picks = data.selected.tolist()
        runs.append(
            {
                "run": other.run_id,
                "selected": sample_id in picks,
                "pick": picks.index(sample_id) + 1 if sample_id in picks else None,
                "scores": {name: _number(data.colors[name][r]) for name in data.meta.get("colors", [])},
            }
        )
    crop = row.kind[0] == "crop"
    boxes = [] if view is None else crop_object(view, sample_id) if crop else boxes_of(state, view, row)[0]
    fields = _fields(row, 0)
    shown = view.run_id if view is not None else None
    classes = [] if view is None else sorted({b["label"] for b in boxes}) if crop else class_names(view)
    return {"sample": fields, "tags": tags, "runs": runs, "run": shown, "classes": classes, "boxes": boxes, "strip": strip(state, view, sample_id)}


def crop_object(view: RunView, crop_id: str) -> list[dict]:
    """The one box a crop shows, as the run saw it: `xyxy` in the crop's pixels (drawn on it),
    `frame_xyxy` in its frame's, class and score; [] when the run's bundle has none (written
    before bundles kept them)."""
    row = view.row_of.get(crop_id)
    objects, crop_box = view.data.sample_objects, view.data.sample_box
    if row is None or objects is None or crop_box is None or not objects.label[row]:
        return []
    frame_xyxy = objects.xyxy[row].astype(np.float64)
    inside = frame_xyxy - np.tile(crop_box[row][:2].astype(np.float64), 2)
    return [
        {
            "xyxy": [round(v, 1) for v in inside.tolist()],
            "frame_xyxy": [round(v, 1) for v in frame_xyxy.tolist()],
            "label": str(objects.label[row]),
            "score": round(float(objects.score[row]), 4),
            "imputed": False,
        }
    ]


def _datasource(view: RunView) -> tuple:
    where = view.data.meta.get("datasource", {})
    return where.get("input"), where.get("lightly")


def _fields(frames: Frames, row: int) -> dict:
    return {name: getattr(frames, name)[row].item() for name in ("id", "kind", "file_name", "video", "frame_index", "parent_id", "width", "height")}


def strip(state: AppState, view: RunView | None, sample_id: str) -> dict | None:
    """A video frame with the frames before and after it, as the report's flagged-frames strip:
    the boxes of the task the run's assertions checked and the imputed ones, and the frame's
    flicker severity for that task (None when the sample is no video frame or no run has
    report data). The frames are those of the run's datasource (`neighbours`)."""
    if view is None:
        return None
    with state.catalog() as store:
        found = neighbours(state, store, view, sample_id)
    if found is None:
        return None
    ids, rows = found
    about = view.data.meta.get("flagged") or {}
    tasks = (about.get("task") or view.data.meta.get("box_task"), about.get("imputed_task") or view.data.meta.get("imputed_task"))
    same = tasks == (view.data.meta.get("box_task"), view.data.meta.get("imputed_task"))  # the thumbnails show these tasks too
    boxes = boxes_of(state, view, rows, tasks, (view.data.strips.thumbnails, view.data.thumbnails) if same else (view.data.strips.thumbnails,))
    position: dict[str | None, int] = {i: k for k, i in enumerate(rows.id.tolist())}  # None (no such frame): absent
    frames = []
    for role, frame_id in zip(("t−1", "t", "t+1"), ids):
        k = position.get(frame_id)
        frames.append(None if k is None else {"role": role, **_fields(rows, k), "boxes": boxes[k]})
    flagged = np.flatnonzero(view.data.strips.frame_id == sample_id)  # the run's own figure, when its report shows the strip
    if len(flagged):
        severity: float | None = float(view.data.strips.severity[flagged[0]])
    else:
        severity = _severity(state, view, rows[position[ids[1]] : position[ids[1]] + 1], tasks[0])
    return {"task": tasks[0], "imputed_task": tasks[1], "severity": severity, "frames": frames}


def neighbours(state: AppState, store: Catalog, view: RunView, sample_id: str) -> tuple[list[str | None], Frames] | None:
    """([t−1, t, t+1] ids, None past either end; their rows) of a video frame as the run `view`
    saw it: the frames of its video by index, in the run's datasource (a frame the run's
    bundle does not hold takes the frame's own size). None when the sample is no video frame.
    Runs without the videos' frame counts fall back on the catalog's rows."""
    row = state.as_seen(store, sample_id, view)
    if row.kind[0] != "frame":
        return None
    video, index = str(row.video[0]), int(row.frame_index[0])
    n_frames = view.data.meta.get("videos", {}).get(video)
    if not isinstance(n_frames, int):
        ids = store.neighbours(sample_id)
        return ids, state.known(store, [i for i in ids if i is not None])
    ids = [frame_name(video, k, n_frames) if 0 <= k < n_frames else None for k in (index - 1, index, index + 1)]
    rows = [row if k == index else _frame_row(view, row, frame_id, k) for k, frame_id in zip((index - 1, index, index + 1), ids) if frame_id is not None]
    return ids, Frames.concat(rows)


def _frame_row(view: RunView, row: Frames, frame_id: str, index: int) -> Frames:
    """Frame `index` of `row`'s video: the run bundle's row, else `row`'s with that id and index."""
    held = view.row_of.get(frame_id)
    if held is not None:
        return view.data.samples[np.array([held])]
    return row.replace(id=np.array([frame_id]), file_name=np.array([frame_id]), frame_index=np.array([index]))


def _severity(state: AppState, view: RunView, frame: Frames, task: str | None) -> float | None:
    """The frame's flicker severity for `task` as the run saw it (its bundle's metadata column,
    when the run's samples include the frame), else from its Lightly metadata file now (None:
    none recorded)."""
    import json

    from thresher.assertions.metadata import task_prefix
    from thresher.io.lightly_metadata import METADATA_DIR
    from thresher.io.names import json_name

    if task is None:
        return None
    key = f"{task_prefix(task)}flicker_severity"
    row = view.row_of.get(str(frame.id[0]))
    column = view.data.colors.get(f"metadata:{key}")
    if row is not None and column is not None:
        return _number(float(column[row]))
    try:
        metadata = json.loads(datasource_of(state, view).lightly.read_bytes(f"{METADATA_DIR}/{json_name(str(frame.file_name[0]))}"))["metadata"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    node: object = metadata
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return float(node) if isinstance(node, (int, float)) else None


def _number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def embedding(state: AppState, run_id: str | None) -> dict:
    """The run's 2-D projection, colour columns and selection, compact (16-bit, base64)."""
    view = state.view(run_id or None)
    if view is None:
        return {"run": None, "runs": [], "ids": [], "colors": []}
    data = view.data
    projection = data.projection if len(data.samples) else np.zeros((0, 2), np.float32)
    return {
        "run": view.run_id,
        "runs": browsable_runs(state),
        "ids": data.samples.id.tolist(),
        "names": data.samples.file_name.tolist(),
        "x": quantized(projection[:, 0])["data"],
        "y": quantized(projection[:, 1])["data"],
        "colors": [{"name": name, **quantized(data.colors[name])} for name in data.meta.get("colors", [])],
        "selected": b64(np.flatnonzero(np.isin(data.samples.id, data.new_picks)), "i4"),
        "preselected": b64(np.flatnonzero(np.isin(data.samples.id, data.preselected)), "i4"),
    }
