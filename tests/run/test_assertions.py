"""A run's assertions stage: which task, when it computes implicitly, when it fails early, reuse."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.assertions.test_task import users_own_imputed_task
from tests.conftest import tree_digest
from thresher.errors import ConfigError, UsageError
from thresher.io.datasource import Datasource
from thresher.io.lightly_metadata import read_metadata
from thresher.run import load_run_config, run
from thresher.run.assertions import plan_assertions

WEIGH_FLICKERING = {
    "n_samples": 4,
    "strategies": [
        {"input": {"type": "SCORES", "task": "ssd", "score": "objectness_least_confidence"}, "strategy": {"type": "WEIGHTS"}},
        {"input": {"type": "METADATA", "key": "flickering"}, "strategy": {"type": "WEIGHTS"}},
    ],
}
FAST = {"every": 25, "exports": {"images": False, "label_studio": False, "coco": False}}


def plan(root, **config):
    return plan_assertions(load_run_config(config), Datasource(root).lightly)


def test_a_selection_weighting_flickering_computes_it_on_the_task_it_selects_on(bikes_datasource_copy):
    lines = []
    result = run(bikes_datasource_copy, {"selection_config": WEIGH_FLICKERING, "thresher": FAST}, log=lines.append)
    assert any("computing flicker on task ssd (defaults)" in line for line in lines)
    info = result.artifacts["assertions"]
    assert info["task"] == "ssd" and info["implicit"] and info["names"] == ["flicker"]
    assert info["parameters"]["flicker"]["presence"] == "coverage" and not info["reused"]
    source = Datasource(bikes_datasource_copy)
    metadata = read_metadata(source.lightly, source.frames())
    assert result.counts["flicker flagged"] == int((metadata["flickering"] == 1.0).sum()) > 0
    record = json.loads((bikes_datasource_copy / ".lightly/thresher/assertions.json").read_text())
    assert record["seed_keys"] == "ssd" and record["tasks"]["ssd"]["parameters"] == info["parameters"]
    again = run(bikes_datasource_copy, {"selection_config": WEIGH_FLICKERING, "thresher": FAST})
    assert again.artifacts["assertions"]["reused"] and again.counts["flicker flagged"] == result.counts["flicker flagged"]
    assert again.selection.ids.tolist() == result.selection.ids.tolist()
    # the task's predictions change: the assertions are computed again
    path = bikes_datasource_copy / ".lightly/predictions/ssd/bikes-120-mp4.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "predictions": []}))
    assert not run(bikes_datasource_copy, {"selection_config": WEIGH_FLICKERING, "thresher": FAST}).artifacts["assertions"]["reused"]


def test_no_task_to_compute_flickering_on_fails_before_any_model_runs(bikes_datasource_copy):
    selection = {"n_samples": 4, "strategies": [{"input": {"type": "METADATA", "key": "flickering"}, "strategy": {"type": "WEIGHTS"}}]}
    with pytest.raises(ConfigError, match=r"thresher\.assertions\.task: the selection reads flickering, computed by model assertions; add a thresher\.assertions section"):
        run(bikes_datasource_copy, {"selection_config": selection, "thresher": FAST})
    assert not (bikes_datasource_copy / ".thresher" / "embeddings").exists()


def test_a_run_refuses_the_users_own_imputed_task_before_any_work(bikes_datasource_copy):
    root = bikes_datasource_copy
    users_own_imputed_task(root)
    before = tree_digest(root)
    with pytest.raises(UsageError, match=r"/\.lightly/predictions/ssd-imputed: task 'ssd-imputed' exists and was not written by thresher's assertions"):
        run(root, {"selection_config": WEIGH_FLICKERING, "thresher": FAST})
    assert {k: v for k, v in tree_digest(root).items() if not k.startswith(".thresher/")} == before  # the workspace's catalog records the failed run
    assert not (root / ".thresher" / "runs").exists() and not (root / ".thresher" / "embeddings").exists()


@pytest.mark.parametrize(
    "config, message",
    [
        (
            {"thresher": {"assertions": {"names": ["flicker"], "parameters": {"flicker": {"presense": "iou"}}}}},
            r'thresher\.assertions\.parameters\.flicker\.presense: unknown parameter \(did you mean "presence"\?\)',
        ),
        (
            {"thresher": {"assertions": {"names": ["flicker"], "parameters": {"flicker": {"max_box_share": 0}}}}},
            r"thresher\.assertions\.parameters\.flicker\.max_box_share: expected a share of the frame in \(0, 1\], got 0",
        ),
        (
            {"thresher": {"assertions": {"names": ["flicker"], "seed_compatible": True, "parameters": {"flicker": {"max_gap": 2}}}}},
            r"flicker\.max_gap: unknown parameter \(seed-compatible flicker\)",
        ),
        ({"thresher": {"assertions": {"names": ["flicker"], "task": "sdd"}}}, r"thresher\.assertions\.task: no prediction task 'sdd' \(did you mean \"ssd\"\?\)"),
        ({"thresher": {"assertions": {"names": ["appear"]}}}, r"thresher\.assertions\.names: the selection reads flickering but the assertions are \['appear'\]"),
    ],
)
def test_bad_assertion_sections_fail_first(bikes_datasource_copy, config, message):
    with pytest.raises(ConfigError, match=message):
        plan(bikes_datasource_copy, selection_config=WEIGH_FLICKERING, **config)


def test_which_task(bikes_datasource_copy):
    two_tasks = {
        "n_samples": 4,
        "strategies": [
            *WEIGH_FLICKERING["strategies"],
            {"input": {"type": "SCORES", "task": "other", "score": "objectness_least_confidence"}, "strategy": {"type": "WEIGHTS"}},
        ],
    }
    with pytest.raises(ConfigError, match=r"thresher\.assertions\.task: the selection reads the tasks \['other', 'ssd'\]"):
        plan(bikes_datasource_copy, selection_config=two_tasks)
    assert plan(bikes_datasource_copy, selection_config=two_tasks, thresher={"assertions": {"task": "ssd"}}).task == "ssd"
    diversity = {"n_samples": 4, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}
    assert plan(bikes_datasource_copy, selection_config=diversity) is None  # nothing reads assertion results
    pretagged = plan(
        bikes_datasource_copy, selection_config={**diversity, "strategies": [*diversity["strategies"], WEIGH_FLICKERING["strategies"][1]]}, worker_config={"pretagging": True}
    )
    assert pretagged.task == "lightly_pretagging" and pretagged.implicit


def test_flickering_the_user_provides_is_used_as_it_is(bikes_datasource_copy):
    """Seed 000 computes flickering itself and uploads it: no assertions section, no task —
    the run reads the user's values (thresher computes nothing)."""
    root = bikes_datasource_copy
    meta = root / ".lightly/metadata"
    meta.mkdir(parents=True)
    (meta / "schema.json").write_text(json.dumps([{"name": "Flickering", "path": "flickering", "defaultValue": 0.5, "valueDataType": "NUMERIC_FLOAT"}]))
    (meta / "bikes-100-mp4.json").write_text(json.dumps({"file_name": "bikes-100-mp4.png", "type": "frame", "metadata": {"flickering": 1.0}}))
    selection = {"n_samples": 1, "strategies": [{"input": {"type": "METADATA", "key": "flickering"}, "strategy": {"type": "WEIGHTS"}}]}
    assert plan(root, selection_config=selection) is None
    result = run(root, {"selection_config": selection, "thresher": {"every": 50, **{k: v for k, v in FAST.items() if k != "every"}}})
    assert result.selection.ids.tolist() == ["bikes-100-mp4.png"] and "assertions" not in result.artifacts
    assert not (root / ".lightly/thresher").exists()
    values = read_metadata(Datasource(root).lightly, Datasource(root).frames())["flickering"]
    assert np.count_nonzero(values == 1.0) == 1


@pytest.mark.slow
def test_frames_pretagging_did_not_predict_are_unknown_not_empty_after_an_interrupted_predict(tmp_path, carphone_mp4, ssd):
    import shutil

    from thresher.infer import run_models
    from thresher.provenance import prediction_key, prepare_task

    (tmp_path / "ds").mkdir()
    shutil.copyfile(carphone_mp4, tmp_path / "ds" / "car.mp4")
    source = Datasource(tmp_path / "ds")
    frames = source.frames()
    # what `thresher predict` (every frame, the run's settings) leaves when killed after 40 frames
    prepare_task(source, frames, np.arange(len(frames)), tmp_path / "ds" / ".thresher", "lightly_pretagging", prediction_key("ssd-mobilenet-v2-coco", 0.1, None))
    run_models(source, detector=ssd, task="lightly_pretagging", frames=frames, rows=np.arange(40))
    selection = {"n_samples": 2, "strategies": [{"input": {"type": "METADATA", "key": "flickering"}, "strategy": {"type": "WEIGHTS"}}]}
    thresher = {**FAST, "every": 2, "assertions": {"names": ["flicker"]}}
    lines: list[str] = []
    result = run(tmp_path / "ds", {"worker_config": {"pretagging": True}, "selection_config": selection, "thresher": thresher}, log=lines.append)
    assert result.counts["pretagged frames"] == 40 and result.counts["pretagged frames reused"] == 20
    assert result.counts["assertions on task lightly_pretagging: frames"] == 80  # frames 0-39 and the even ones after
    assert "assertions: frames without a prediction file (no object)" not in result.counts
    flickering = read_metadata(source.lightly, source.frames())["flickering"]
    flagged = frames.frame_index[np.asarray(flickering) == 1.0]
    assert (flagged < 40).all(), f"flagged frames without predicted neighbours: {flagged[flagged >= 40].tolist()}"
