"""Predictions are reused by content: the same model and options, whoever wrote them (predict or a run)."""

from __future__ import annotations

import shutil
import time
import subprocess
import sys

import pytest

from thresher.run import run

SELECTION = {"n_samples": 3, "strategies": [{"input": {"type": "SCORES", "task": "lightly_pretagging", "score": "uncertainty_margin"}, "strategy": {"type": "WEIGHTS"}}]}


def config(object_level: bool = False, confidence: float = 0.1) -> dict:
    worker = {"pretagging": True, "enable_corruptness_check": False}
    if object_level:
        worker["object_level"] = {"task_name": "lightly_pretagging"}
    return {"worker_config": worker, "selection_config": SELECTION, "thresher": {"every": 10, "pretagging": {"confidence": confidence}}}


def predict(datasource, *options: str) -> str:
    result = subprocess.run([sys.executable, "-m", "thresher", "predict", str(datasource), "--every", "10", *options], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_a_run_reuses_what_predict_wrote_and_the_object_level_switch_reuses_the_run(tmp_path, carphone_mp4):
    (tmp_path / "ds").mkdir()
    shutil.copyfile(carphone_mp4, tmp_path / "ds" / "car.mp4")
    assert "task lightly_pretagging: predicted 12 frames, reused 0" in predict(tmp_path / "ds")
    frame_level = run(tmp_path / "ds", config())
    assert (frame_level.counts["pretagged frames"], frame_level.counts["pretagged frames reused"]) == (0, 12)
    object_level = run(tmp_path / "ds", config(object_level=True))
    assert (object_level.counts["pretagged frames"], object_level.counts["pretagged frames reused"]) == (0, 12)
    assert "predicted 0 frames, reused 12" in predict(tmp_path / "ds")  # and back: predict reuses the runs' files


@pytest.mark.slow
def test_other_options_predict_the_whole_task_again(tmp_path, carphone_mp4):
    (tmp_path / "ds").mkdir()
    shutil.copyfile(carphone_mp4, tmp_path / "ds" / "car.mp4")
    predict(tmp_path / "ds")
    lines: list[str] = []
    stricter = run(tmp_path / "ds", config(confidence=0.5), log=lines.append)
    assert stricter.counts["pretagged frames"] == 12  # never a task mixing two confidences
    assert "  task lightly_pretagging: other settings than the recorded ones (confidence 0.1 → 0.5): removed 12 prediction files first" in lines
    assert "predicted 12 frames, reused 0" in predict(tmp_path / "ds")


@pytest.mark.slow
def test_embedding_after_predicting_counts_the_prediction_files_reused(tmp_path, carphone_mp4):
    """`predict --embed` after `predict`: every prediction file is kept, every frame embedded."""
    (tmp_path / "ds").mkdir()
    shutil.copyfile(carphone_mp4, tmp_path / "ds" / "car.mp4")
    predict(tmp_path / "ds")
    assert "task lightly_pretagging: predicted 0 frames, reused 12, embedded 12" in predict(tmp_path / "ds", "--embed")
    assert "task lightly_pretagging: predicted 0 frames, reused 12, embedded 0" in predict(tmp_path / "ds", "--embed")


def task_files(datasource, task: str = "lightly_pretagging") -> list[str]:
    """The task's prediction files (schema.json aside), by name."""
    folder = datasource / ".lightly" / "predictions" / task
    return sorted(p.name for p in folder.glob("*.json") if p.name != "schema.json")


def run_predict(datasource, *options: str) -> str:
    """`thresher predict` with exactly these options."""
    result = subprocess.run([sys.executable, "-m", "thresher", "predict", str(datasource), *options], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_other_settings_on_fewer_frames_leave_no_file_of_the_old_settings(tmp_path, carphone_mp4):
    (tmp_path / "ds").mkdir()
    shutil.copyfile(carphone_mp4, tmp_path / "ds" / "car.mp4")
    run_predict(tmp_path / "ds", "--every", "5")
    assert len(task_files(tmp_path / "ds")) == 24
    again = run_predict(tmp_path / "ds", "--every", "10", "--confidence", "0.3")
    assert "task lightly_pretagging: other settings than the recorded ones (confidence 0.1 → 0.3): removed 24 prediction files first" in again
    assert "predicted 12 frames, reused 0" in again
    assert task_files(tmp_path / "ds") == [f"car-{k:03d}-mp4.json" for k in range(0, 120, 10)]  # the 0.1 files between are gone
    # the frames between are predicted at 0.3 now, not taken from the 0.1 run
    assert "predicted 12 frames, reused 12" in run_predict(tmp_path / "ds", "--every", "5", "--confidence", "0.3")


@pytest.mark.slow
def test_files_of_a_killed_predict_are_not_trusted_under_other_settings(tmp_path, bikes_mp4):
    (tmp_path / "ds").mkdir()
    shutil.copyfile(bikes_mp4, tmp_path / "ds" / "bikes.mp4")
    killed = subprocess.Popen([sys.executable, "-m", "thresher", "predict", str(tmp_path / "ds")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(task_files(tmp_path / "ds")) < 16 and killed.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    killed.kill()
    killed.wait()
    left = len(task_files(tmp_path / "ds"))
    assert 16 <= left < 250, "the predict was killed while writing"
    assert "predicted 5 frames, reused 0" in run_predict(tmp_path / "ds", "--every", "50", "--confidence", "0.3")
    assert len(task_files(tmp_path / "ds")) == 5  # none of the killed predict's files is left under the 0.3 task


def test_prepare_task_removes_the_files_the_new_settings_would_not_have_made(tmp_path):
    import numpy as np
    from PIL import Image

    from thresher import Datasource
    from thresher.provenance import prediction_key, prepare_task, read_json_cache, provenance_file

    for name in ("a", "b"):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / f"{name}.png")
    source = Datasource(tmp_path)
    frames = source.frames()
    low, high = prediction_key("m", 0.1, None), prediction_key("m", 0.3, None)
    assert prepare_task(source, frames, np.arange(2), tmp_path / "ws", "t", low).removed == 0
    assert read_json_cache(provenance_file(tmp_path / "ws", "t"))["key"] == low  # recorded before any file is written
    folder = tmp_path / ".lightly" / "predictions" / "t"
    folder.mkdir(parents=True)
    for name in ("a", "b", "schema"):
        (folder / f"{name}.json").write_text("{}")
    Image.fromarray(np.zeros((9, 9, 3), np.uint8)).save(tmp_path / "a.png")  # a changed since its file was made
    changed = prepare_task(source, frames, np.array([1]), tmp_path / "ws", "t", low)
    assert changed.removed == 1  # a's file goes, though a is not predicted now
    assert changed.note("t", low) == "task t: 1 media file changed since it was predicted: removed 1 prediction file first"
    assert task_files(tmp_path, "t") == ["b.json"]
    other = prepare_task(source, frames, np.array([1]), tmp_path / "ws", "t", high)
    assert other.removed == 1  # other settings: every file goes
    assert other.note("t", high) == "task t: other settings than the recorded ones (confidence 0.1 → 0.3): removed 1 prediction file first"
    assert task_files(tmp_path, "t") == [] and (folder / "schema.json").exists()
    assert prepare_task(source, frames, np.array([1]), tmp_path / "ws", "t", high).note("t", high) is None  # nothing removed, nothing said


def two_files_task(tmp_path, task: str = "t"):
    """A datasource of two images, its task `task` (listed, with a file per image) and the frames."""
    import json

    import numpy as np
    from PIL import Image

    from thresher import Datasource

    for name in ("a", "b"):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / f"{name}.png")
    folder = tmp_path / ".lightly" / "predictions" / task
    folder.mkdir(parents=True)
    for name in ("a", "b", "schema"):
        (folder / f"{name}.json").write_text("{}")
    (folder.parent / "tasks.json").write_text(json.dumps(["other", task]))
    source = Datasource(tmp_path)
    return source, source.frames()


def test_a_task_whose_files_are_removed_is_unlisted_until_its_predict_finishes(tmp_path):
    import json

    import numpy as np

    from thresher.errors import ConfigError
    from thresher.io.lightly_schema import add_task_name, require_task
    from thresher.provenance import prediction_key, prepare_task

    source, frames = two_files_task(tmp_path)
    tasks = tmp_path / ".lightly" / "predictions" / "tasks.json"
    prepare_task(source, frames, np.arange(2), tmp_path / "ws", "t", prediction_key("m", 0.1, None))
    assert json.loads(tasks.read_text()) == ["other", "t"]  # the same settings, nothing removed: still listed
    prepare_task(source, frames, np.arange(2), tmp_path / "ws", "t", prediction_key("m", 0.3, None))
    assert json.loads(tasks.read_text()) == ["other"]  # half a task is never read as one without objects
    with pytest.raises(ConfigError, match="exists but tasks.json does not list it"):
        require_task(source.lightly, "t")
    add_task_name(source.lightly, "t")  # what the predict does when it finishes
    assert json.loads(tasks.read_text()) == ["other", "t"]


def test_the_record_of_the_settings_survives_deleting_the_caches(tmp_path):
    import numpy as np

    from thresher.provenance import prediction_key, prepare_task

    source, frames = two_files_task(tmp_path)
    prepare_task(source, frames, np.arange(2), tmp_path / "ws", "t", prediction_key("m", 0.1, None))
    shutil.rmtree(tmp_path / "ws" / "cache", ignore_errors=True)  # docs/run.md: cache/ can be deleted at any time
    assert prepare_task(source, frames, np.arange(2), tmp_path / "ws", "t", prediction_key("m", 0.3, None)).removed == 2
    assert task_files(tmp_path, "t") == []


def test_a_record_at_the_old_place_is_read_and_moved(tmp_path):
    import numpy as np

    from thresher.provenance import prediction_key, prepare_task, provenance_file, read_json_cache, write_json_cache

    source, frames = two_files_task(tmp_path)
    old = tmp_path / "ws" / "cache" / "predictions" / "t.json"
    write_json_cache(old, {"key": prediction_key("m", 0.1, None), "files": {}})  # a workspace of an earlier version
    assert prepare_task(source, frames, np.arange(2), tmp_path / "ws", "t", prediction_key("m", 0.3, None)).removed == 2
    assert not old.exists() and read_json_cache(provenance_file(tmp_path / "ws", "t"))["key"]["confidence"] == 0.3


@pytest.mark.slow
def test_a_predict_killed_under_other_settings_leaves_the_task_unlisted(tmp_path, bikes_mp4):
    import json

    from thresher import Datasource
    from thresher.errors import ConfigError
    from thresher.io.lightly_schema import require_task

    (tmp_path / "ds").mkdir()
    shutil.copyfile(bikes_mp4, tmp_path / "ds" / "bikes.mp4")
    run_predict(tmp_path / "ds", "--every", "50")
    tasks = tmp_path / "ds" / ".lightly" / "predictions" / "tasks.json"
    assert json.loads(tasks.read_text()) == ["lightly_pretagging"]
    killed = subprocess.Popen([sys.executable, "-m", "thresher", "predict", str(tmp_path / "ds"), "--confidence", "0.3"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(task_files(tmp_path / "ds")) < 16 and killed.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    killed.kill()
    killed.wait()
    assert 16 <= len(task_files(tmp_path / "ds")) < 250, "the predict was killed while writing"
    assert json.loads(tasks.read_text()) == []  # score, select and a run refuse the half task
    with pytest.raises(ConfigError, match="a predict that did not finish"):
        require_task(Datasource(tmp_path / "ds").lightly, "lightly_pretagging")
    finished = run_predict(tmp_path / "ds", "--every", "50", "--confidence", "0.3")
    assert "removed" not in finished and "reused 1" in finished  # the same settings: the killed predict's frame 0 is kept
    assert json.loads(tasks.read_text()) == ["lightly_pretagging"]


def users_own_task(root, task: str, categories: dict[int, str]) -> dict[str, bytes]:
    """Two photos and the user's own task `task` in the Lightly layout (listed in tasks.json,
    schema.json with `categories` {id: name}, a prediction file for one photo only); returns
    the bytes of every file under .lightly/."""
    import json

    from tests.conftest import package_file

    root.mkdir()
    for name in ("chelsea.png", "coffee.png"):
        shutil.copyfile(package_file("skimage", "data", name), root / name)
    folder = root / ".lightly" / "predictions" / task
    folder.mkdir(parents=True)
    (folder.parent / "tasks.json").write_text(json.dumps([task]))
    schema = {"task_type": "object-detection", "categories": [{"id": i, "name": n} for i, n in categories.items()]}
    (folder / "schema.json").write_text(json.dumps(schema))
    cat = {"category_id": next(i for i, n in categories.items() if n == "cat"), "bbox": [140, 20, 200, 260], "score": 0.97}
    (folder / "chelsea.json").write_text(json.dumps({"file_name": "chelsea.png", "predictions": [cat]}))
    return lightly_files(root)


def lightly_files(root) -> dict[str, bytes]:
    """The bytes of every file under .lightly/, by name."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / ".lightly").rglob("*")) if p.is_file()}


def test_predict_refuses_the_users_own_task_and_touches_none_of_its_files(tmp_path, ssd):
    """The user's task has the detector's very categories: only its missing record tells it is not thresher's."""
    from tests.test_user_errors import one_error_line, thresher

    root = tmp_path / "ds"
    before = users_own_task(root, "mine", dict(ssd.categories))
    refused = thresher("predict", "ds", "--task", "mine", cwd=tmp_path)
    assert refused.returncode == 2
    assert one_error_line(refused) == (
        f"error: ds/.lightly/predictions/mine: task 'mine' exists and was not predicted by thresher in this workspace "
        f"(no record {root}/.thresher/predictions/mine.json); thresher does not add its predictions to another's task nor remove its files: "
        "pass another --task, or remove that folder to let thresher predict this task"
    )
    assert lightly_files(root) == before and not (root / ".thresher" / "predictions").exists()
    assert thresher("predict", "ds", "--task", "ours", cwd=tmp_path).returncode == 0  # another name: predicted beside the user's
    assert {k: v for k, v in lightly_files(root).items() if "/ours/" not in k and not k.endswith("tasks.json")} == {k: v for k, v in before.items() if not k.endswith("tasks.json")}


def test_a_runs_pretagging_refuses_the_users_own_lightly_pretagging(tmp_path, ssd):
    from thresher.errors import UsageError

    root = tmp_path / "ds"
    before = users_own_task(root, "lightly_pretagging", dict(ssd.categories))
    with pytest.raises(UsageError, match=r"task 'lightly_pretagging' exists and was not predicted by thresher in this workspace .*set worker_config.pretagging: false"):
        run(root, config())
    assert lightly_files(root) == before
