"""The prediction task list and schema of a Lightly datasource.

```
.lightly/predictions/tasks.json            ["my_task", ...]
.lightly/predictions/my_task/schema.json   {"task_type": "object-detection",
                                            "categories": [{"id": 0, "name": "car"}, ...]}
```

The older key `task_description` is accepted for `task_type`. Probability vectors of a task
follow the order of its category ids (ascending), whatever the order of the list in the file;
thresher keeps categories sorted by id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import orjson

from thresher.errors import ConfigError, did_you_mean
from thresher.io.problems import Problems, collector, shown
from thresher.io.storage import Location

PREDICTIONS_DIR = ".lightly/predictions"
TASKS_FILE = f"{PREDICTIONS_DIR}/tasks.json"
TASK_TYPES = (
    "object-detection",
    "classification",
    "semantic-segmentation",
    "instance-segmentation",
    "keypoint-detection",
)


@dataclass(frozen=True)
class Category:
    id: int
    name: str


@dataclass(frozen=True)
class PredictionSchema:
    """A task's type and its categories sorted by id (the order of probability vectors)."""

    task_type: str
    categories: tuple[Category, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(sorted(self.categories, key=lambda c: c.id)))

    @property
    def ids(self) -> np.ndarray:
        return np.array([c.id for c in self.categories], dtype=np.int64)

    @property
    def names(self) -> dict[int, str]:
        return {c.id: c.name for c in self.categories}

    @classmethod
    def detection(cls, names: dict[int, str] | list[str]) -> "PredictionSchema":
        """An object-detection schema from {id: name} or a list of names (ids 0, 1, …)."""
        items = names.items() if isinstance(names, dict) else enumerate(names)
        return cls("object-detection", tuple(Category(int(i), str(n)) for i, n in items))

    def to_json(self) -> dict:
        return {"task_type": self.task_type, "categories": [{"id": c.id, "name": c.name} for c in self.categories]}


def schema_file(task: str) -> str:
    return f"{PREDICTIONS_DIR}/{task}/schema.json"


def load_json(location: Location, name: str, problems: Problems) -> object | None:
    """Parsed JSON of a file, or None after recording why it could not be read."""
    try:
        raw = location.read_bytes(name)
    except Exception as exc:  # noqa: BLE001 - reported as a problem
        problems.add(name, "", "a readable file", str(exc))
        return None
    return parse_json(raw, name, problems)


def parse_json(raw: bytes | Exception, name: str, problems: Problems) -> object | None:
    if isinstance(raw, Exception):
        problems.add(name, "", "a readable file", f"{type(raw).__name__}: {raw}")
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass  # strict JSON failed: the standard parser also reads NaN and Infinity, reported later
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.add(name, "", "valid JSON", f"malformed JSON ({exc})")
        return None


def read_task_names(lightly: Location, problems: Problems | None = None) -> list[str]:
    """Task names of `.lightly/predictions/tasks.json` ([] when there is no predictions folder)."""
    problems = collector(problems)
    if not lightly.exists(TASKS_FILE):
        if lightly.isdir(PREDICTIONS_DIR) and lightly.files(PREDICTIONS_DIR):
            problems.add(TASKS_FILE, "", "a tasks.json listing the prediction tasks", "no such file")
        return []
    data = load_json(lightly, TASKS_FILE, problems)
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(t, str) and t.strip() for t in data):
        problems.add(TASKS_FILE, "", "a JSON list of task names", shown(data))
        return []
    names = []
    for i, name in enumerate(data):
        if name in names:
            problems.add(TASKS_FILE, f"[{i}]", "unique task names", f"{name!r} twice")
        elif not _valid_task_name(name):
            problems.add(TASKS_FILE, f"[{i}]", "a task name without '..', '\\' or a leading '/'", repr(name))
        else:
            names.append(name)
    return names


def require_task(lightly: Location, name: str) -> None:
    """ConfigError naming the tasks of tasks.json when it does not list `name`. A task folder
    that tasks.json does not list is a task whose predict did not finish (tasks.json is written
    last): the message says so and how to complete it.

    `thresher select`, a run's selection and `thresher score` refuse such a task the same way.
    """
    known = read_task_names(lightly, Problems())
    if name not in known:
        raise ConfigError(f"task {name!r}: no such prediction task{did_you_mean(name, known)}; tasks: {known}{unlisted_task_hint(lightly, name)}")


def unlisted_task_hint(lightly: Location, name: str) -> str:
    """'; <folder> exists but tasks.json does not list it …' when the task's folder exists, else ''."""
    folder = f"{PREDICTIONS_DIR}/{name}"
    if not (_valid_task_name(name) and lightly.isdir(folder)):
        return ""
    return f"; {lightly.display(folder)} exists but tasks.json does not list it (a predict that did not finish): run the same predict again to complete it"


def _valid_task_name(name: str) -> bool:
    return ".." not in name.split("/") and "\\" not in name and not name.startswith("/")


def read_schema(lightly: Location, task: str, problems: Problems | None = None) -> PredictionSchema | None:
    """The schema of a task, or None after recording the problems that make it unusable."""
    problems = collector(problems)
    name = schema_file(task)
    if not lightly.exists(name):
        problems.add(name, "", f"the schema of task {task!r}", "no such file")
        return None
    data = load_json(lightly, name, problems)
    return None if data is None else parse_schema(data, name, problems)


def parse_schema(data: object, name: str, problems: Problems) -> PredictionSchema | None:
    if not isinstance(data, dict):
        problems.add(name, "", "a JSON object with task_type and categories", shown(data))
        return None
    task_type = _task_type(data, name, problems)
    categories = _categories(data.get("categories"), name, problems)
    unknown = set(data) - {"task_type", "task_description", "categories"}
    for key in sorted(unknown):
        problems.add(name, key, "only task_type and categories", f"unknown key {key!r}{did_you_mean(key, ['task_type', 'categories'])}")
    if task_type is None or categories is None:
        return None
    return PredictionSchema(task_type, categories)


def _task_type(data: dict, name: str, problems: Problems) -> str | None:
    value = data.get("task_type", data.get("task_description"))
    if value is None:
        problems.add(name, "task_type", f"one of {', '.join(TASK_TYPES)}", "nothing")
        return None
    if value not in TASK_TYPES:
        problems.add(name, "task_type", f"one of {', '.join(TASK_TYPES)}", f"{shown(value)}{did_you_mean(str(value), TASK_TYPES)}")
        return None
    return value


def _categories(value: object, name: str, problems: Problems) -> tuple[Category, ...] | None:
    if not isinstance(value, list) or not value:
        problems.add(name, "categories", "a non-empty list of {id, name}", shown(value))
        return None
    categories, seen = [], set()
    for i, item in enumerate(value):
        ok = isinstance(item, dict) and type(item.get("id")) is int and isinstance(item.get("name"), str)
        if not ok:
            problems.add(name, f"categories[{i}]", "{id: integer, name: string}", shown(item))
        elif item["id"] in seen:
            problems.add(name, f"categories[{i}].id", "unique category ids", f"{item['id']} again")
        else:
            seen.add(item["id"])
            categories.append(Category(item["id"], item["name"]))
    return tuple(categories) if len(categories) == len(value) else None


def write_schema(lightly: Location, task: str, schema: PredictionSchema) -> None:
    """Write the task's schema.json (left alone when it already holds these bytes)."""
    lightly.write_changed(schema_file(task), json.dumps(schema.to_json(), indent=2).encode())


def add_task_name(lightly: Location, task: str) -> None:
    """Append `task` to tasks.json (created when missing); other tasks are kept."""
    names = read_task_names(lightly) if lightly.exists(TASKS_FILE) else []
    if task not in names:
        lightly.write_bytes(TASKS_FILE, json.dumps(names + [task], indent=2).encode())


def remove_task_name(lightly: Location, task: str) -> None:
    """Take `task` out of tasks.json (written whole: temporary name, then rename); other tasks
    are kept, and nothing is written when it is not listed. Its files stay: a task whose files
    are being replaced is unlisted until its predict finishes (`require_task` names it then)."""
    names = read_task_names(lightly) if lightly.exists(TASKS_FILE) else []
    if task in names:
        lightly.write_bytes(TASKS_FILE, json.dumps([name for name in names if name != task], indent=2).encode())
