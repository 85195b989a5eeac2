"""thresher's hand-off judged by a real Label Studio (1.23, from requirements/label-studio.txt).

The runs of tests/handoff_fixtures.py (bikes.mp4 and two stills, the user's own task written the
seed-000 way, flicker's imputed boxes, frame and object level) are imported through Label
Studio's REST API exactly as docs/run.md tells a user to: a project with the run's
`label_studio_config.xml`, a local-files storage on the folder the run reports, then
`label_studio_tasks.json`. Label Studio must keep every task with every prediction (count,
labels, coordinates, region and task meta) and serve every task's image with the bytes of the
run's `images/`. Then a labeler's work (boxes accepted, moved, deleted, one task skipped, one
left alone) is exported from Label Studio and converted back with `thresher convert labelstudio`.

The Label Studio environment is built once and cached (tests/label_studio_server.py); the test
is skipped, with pip's reason, only when the package cannot be installed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.handoff_fixtures import CAR, CAT, CAT_PHOTO, TASK
from tests.label_studio_server import InstallError, LabelStudio, installed_python
from tests.test_validate import run_cli
from thresher.io.labelstudio_urls import path_of_url

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def studio(handoff_runs, tmp_path_factory):
    """Label Studio serving local files below the runs' workspace (their document root)."""
    try:
        python = installed_python()
    except InstallError as exc:
        pytest.skip(f"label-studio cannot be installed here: {exc}")
    root = Path(handoff_runs.frames.artifacts["label_studio_document_root"])
    with LabelStudio.start(python, root, tmp_path_factory.mktemp("label-studio")) as running:
        yield running


def import_run(studio: LabelStudio, result, title: str) -> tuple[int, list[dict]]:
    """The steps of docs/run.md through the API: project, local-files storage, import. Returns
    the project id and the tasks as Label Studio holds them, in import order."""
    tasks = json.loads((result.folder / "label_studio_tasks.json").read_text())
    return import_tasks(studio, result.folder / "label_studio_config.xml", result.artifacts["label_studio_storage_path"], tasks, title)


def import_tasks(studio: LabelStudio, config_file: Path, storage_path: str, tasks: list[dict], title: str) -> tuple[int, list[dict]]:
    """A project with the labeling config of `config_file`, a local-files storage on
    `storage_path`, and `tasks` imported; returns the project id and the tasks Label Studio holds."""
    project = studio.call("POST", "/api/projects", {"title": title, "label_config": config_file.read_text()})["id"]
    storage = {"project": project, "title": "thresher runs", "path": storage_path, "use_blob_urls": True}
    studio.call("POST", "/api/storages/localfiles/", storage)
    imported = studio.call("POST", f"/api/projects/{project}/import", tasks)
    assert (imported["task_count"], imported["prediction_count"]) == (len(tasks), len(tasks))
    held = studio.call("GET", f"/api/tasks/?project={project}&fields=all&page_size=1000")["tasks"]
    return project, sorted(held, key=lambda t: t["id"])


@pytest.mark.parametrize("level", ["frames", "everything", "objects"])
def test_label_studio_keeps_every_prediction_and_opens_every_image(studio, handoff_runs, level):
    result = getattr(handoff_runs, level)
    ours = json.loads((result.folder / "label_studio_tasks.json").read_text())
    _, held = import_run(studio, result, f"thresher {level}")
    assert len(held) == len(ours)
    kinds = set()
    for mine, theirs in zip(ours, held):
        assert theirs["data"] == mine["data"]
        assert (theirs.get("meta") or {}) == (mine.get("meta") or {})
        [prediction] = theirs["predictions"]
        assert prediction["score"] == mine["predictions"][0]["score"] and prediction["model_version"] == "thresher"
        assert prediction["result"] == mine["predictions"][0]["result"]  # count, labels, coordinates, region meta
        status, body = studio.get(theirs["data"]["image"])
        assert status == 200, theirs["data"]["image"]
        assert body == (result.folder / "images" / mine["data"]["thresher_id"]).read_bytes()
        assert body == (Path(result.artifacts["label_studio_document_root"]) / path_of_url(theirs["data"]["image"])).read_bytes()
        kinds.add("frame" if mine["data"]["thresher_id"].startswith("data/bikes-") else "still")
    results = [r for t in held for r in t["predictions"][0]["result"]]
    assert {r["value"]["rectanglelabels"][0] for r in results} <= {"car", "cat"}
    if level != "objects":
        assert any(r["meta"]["imputed"] for r in results)
    if level != "frames":
        assert kinds == {"frame", "still"}
    if level == "objects":
        assert all(t["meta"]["selected_objects"] for t in held)


def test_label_studio_opens_the_review_tasks_of_autolabel_apply(studio, handoff_runs, capsys):
    """`thresher autolabel apply` into a folder below the document root, as docs/autolabel.md
    tells: Label Studio takes its config and tasks and serves every image of its `images/`."""
    from tests.commands.test_autolabel_cli import write_labeler
    from thresher.io.datasource import Datasource
    from thresher.io.lightly_predictions import read_predictions

    root = handoff_runs.root
    document_root = Path(handoff_runs.frames.artifacts["label_studio_document_root"])
    out = document_root / "autolabel-review"
    cars = read_predictions(Datasource(root).lightly, TASK).detections
    confident = cars[(cars.class_id == CAR) & (cars.score > 0.5)]
    frame_uncertainty = np.zeros(int(confident.frame.max()) + 1)
    np.maximum.at(frame_uncertainty, confident.frame, (1 - confident.score) / 0.25)
    threshold = float(np.sort(frame_uncertainty)[-5])  # the 4 most uncertain frames (ties aside) ...
    model = write_labeler(out.parent / "autolabel-labeler.json", threshold, class_weights={CAT: (100.0,)})
    code, output = run_cli(["autolabel", "apply", str(root), "--task", TASK, "--model", str(model), "--output", str(out)], capsys)  # ... and the cat (fused 40)
    assert code in (0, None), output
    assert f"LOCAL_FILES_DOCUMENT_ROOT={document_root}, add a local-files storage with path {out}" in output
    ours = json.loads((out / "review_label_studio.json").read_text())
    names = [t["data"]["thresher_id"] for t in ours]
    assert CAT_PHOTO in names and any(n.startswith("data/bikes-") for n in names)
    _, held = import_tasks(studio, out / "label_studio_config.xml", str(out), ours, "thresher autolabel review")
    assert len(held) == len(ours)
    for mine, theirs in zip(ours, held):
        assert theirs["data"] == mine["data"]
        [prediction] = theirs["predictions"]
        assert 0 <= prediction["score"] == mine["predictions"][0]["score"] <= 1
        assert prediction["result"] == mine["predictions"][0]["result"]
        status, body = studio.get(theirs["data"]["image"])
        assert status == 200, theirs["data"]["image"]
        assert body == (out / "images" / mine["data"]["thresher_id"]).read_bytes()


def labeler(task: dict, k: int) -> dict | None:
    """What a labeler does with the k-th task: accept, move a box, delete one, skip, or nothing."""
    result = [dict(r, value=dict(r["value"])) for r in task["predictions"][0]["result"]]
    for r in result:
        r.pop("score", None)
        r.pop("meta", None)
    if k % 5 == 1 and result:
        result[0]["value"]["x"] = max(0.0, result[0]["value"]["x"] - 1.5)
    if k % 5 == 2 and result:
        result = result[1:]
    if k % 5 == 3:
        return {"result": [], "was_cancelled": True}
    if k % 5 == 4:
        return None
    return {"result": result}


def test_labels_exported_by_label_studio_come_back_as_a_task_coco_and_yolo(studio, handoff_runs, tmp_path, capsys):
    from thresher.io.datasource import Datasource
    from thresher.io.lightly_predictions import read_predictions
    from thresher.io.storage import Location
    from thresher.io.yolo import read_label_files, yolo_to_task

    result = handoff_runs.everything
    project, held = import_run(studio, result, "thresher labels")
    expected, annotated = {}, 0
    for k, task in enumerate(held):
        work = labeler(task, k)
        if work is not None:
            studio.call("POST", f"/api/tasks/{task['id']}/annotations/", work)
            annotated += 1
            if not work.get("was_cancelled"):
                expected[task["data"]["thresher_id"]] = work["result"]
    status, body = studio.get(f"/api/projects/{project}/export?exportType=JSON")  # Export → JSON: the annotated tasks
    assert status == 200
    export = tmp_path / "project-export.json"
    export.write_bytes(body)
    assert len(json.loads(body)) == annotated

    root = tmp_path / "ds"  # a copy: the labels are written into the datasource
    shutil.copytree(handoff_runs.root, root, ignore=shutil.ignore_patterns(".thresher"))
    code, output = run_cli(["convert", "labelstudio", str(export), "--datasource", str(root), "--task", "labels"], capsys)
    assert code == 0, output
    assert f"{annotated - len(expected)} tasks not labeled (no annotation, or skipped) left out" in output
    source = Datasource(root)
    labels = read_predictions(source.lightly, "labels", source.frames())
    assert labels.schema == read_predictions(source.lightly, TASK, source.frames()).schema
    assert sorted(set(labels.frames.file_name.tolist()) - set(labels.missing)) == sorted(expected)
    for name, regions in expected.items():
        boxes = labels.detections.xyxy[labels.frames.file_name[labels.detections.frame] == name]
        want = [
            [
                r["value"]["x"] * r["original_width"] / 100,
                r["value"]["y"] * r["original_height"] / 100,
                (r["value"]["x"] + r["value"]["width"]) * r["original_width"] / 100,
                (r["value"]["y"] + r["value"]["height"]) * r["original_height"] / 100,
            ]
            for r in regions
        ]
        np.testing.assert_allclose(boxes, np.array(want).reshape(-1, 4), atol=1e-3)
    out = tmp_path / "project-export-labels"
    coco = json.loads((out / "labels_coco.json").read_text())
    assert sorted(i["file_name"] for i in coco["images"]) == sorted(expected)
    assert len(coco["annotations"]) == sum(len(r) for r in expected.values())
    names = yaml.safe_load((out / "data.yaml").read_text())["names"]
    back = yolo_to_task(read_label_files(Location(out / "labels")), Datasource(result.folder / "images").frames(), names, task="back")
    assert len(back.detections) == len(coco["annotations"]) and not back.invalid
