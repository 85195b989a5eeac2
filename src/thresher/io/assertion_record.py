"""What thresher's assertions wrote into `.lightly/`, for which task, with which parameters.

`thresher assert` and a run's assertions stage write Lightly metadata: seed 000's keys
(`flickering`, and thresher's `<assertion>_severity`), which hold the results of one task, and
a copy per task under `assertions.<task>.` (see `thresher.assertions.task`). This record, kept
beside them in `.lightly/thresher/assertions.json`, says which task the seed keys hold and,
per task, what was computed:

```
{"version": 2, "seed_keys": "lightly_pretagging", "imputed_tasks": ["lightly_pretagging-imputed"],
 "tasks": {"lightly_pretagging": {"names": ["flicker"], "seed_compatible": false,
           "parameters": {"flicker": {"max_gap": 1, ...}}, "imputed_task": "lightly_pretagging-imputed",
           "predictions": "<digest>", "outputs": "<digest>", "frames": 250, "flagged": {"flicker": 14}}}}
```

`predictions` digests the task's prediction files (names, sizes, modification times) and the
frames they were matched to; `outputs` digests the metadata and imputed files as written. A
run reuses the results only when both still match and the seed keys hold that task.
`imputed_tasks` names every `<task>-imputed` the assertions write, recorded before their first
file: a folder of that name the record does not name is the user's, never written into. It
outlives a change of the record's version (a record of another version is read as empty, its
imputed tasks kept), and a record written before it existed gives its tasks' `imputed_task`.
The record is not part of Lightly's format; LightlyOne ignores it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from thresher.io.lightly_metadata import METADATA_DIR
from thresher.io.lightly_predictions import task_dir
from thresher.io.storage import Location

RECORD_FILE = ".lightly/thresher/assertions.json"
#: Bumped whenever an assertion's results change for the same inputs and parameters.
RECORD_VERSION = 2


def read_record(lightly: Location) -> dict[str, Any]:
    """The record, or an empty one when there is none or it is unreadable or of another version;
    either way with `imputed_tasks`, the imputed tasks thresher wrote (sorted names)."""
    try:
        data = json.loads(lightly.read_bytes(RECORD_FILE))
    except (OSError, ValueError):
        data = {}
    data = data if isinstance(data, dict) else {}
    current = data.get("version") == RECORD_VERSION and isinstance(data.get("tasks"), dict)
    record = data if current else {"version": RECORD_VERSION, "seed_keys": None, "tasks": {}}
    return {**record, "imputed_tasks": imputed_tasks(data)}


def imputed_tasks(data: dict[str, Any]) -> list[str]:
    """The imputed tasks a record's data names, whatever its version: its `imputed_tasks` and
    its tasks' `imputed_task` (a record written before `imputed_tasks` existed).

    >>> imputed_tasks({"version": 1, "tasks": {"ssd": {"imputed_task": "ssd-imputed"}}, "imputed_tasks": ["det-imputed"]})
    ['det-imputed', 'ssd-imputed']
    """
    listed = data.get("imputed_tasks")
    tasks = data.get("tasks")
    names = list(listed) if isinstance(listed, list) else []
    names += [entry.get("imputed_task") for entry in tasks.values() if isinstance(entry, dict)] if isinstance(tasks, dict) else []
    return sorted({name for name in names if isinstance(name, str)})


def write_record(lightly: Location, record: dict[str, Any]) -> None:
    """Write the record whole (temporary name, then renamed); left alone when it holds the same bytes."""
    lightly.write_changed(RECORD_FILE, json.dumps(record, indent=1, sort_keys=True).encode())


def outputs_digest(lightly: Location, imputed_task: str) -> str:
    """Digest of the metadata folder and the imputed task's files (names, sizes, times in ns;
    hidden folders left out)."""
    digest = hashlib.sha256()
    for folder in (METADATA_DIR, task_dir(imputed_task)):
        digest.update(folder.encode())
        for array in lightly.file_listing(folder):
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:32]
