"""Model assertions on the built-in detector's real predictions for bikes.mp4."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.assertions.seed000_numpy import compute_flickering_assertion as seed_transcription
from tests.conftest import tree_digest
from tests.test_validate import run_cli
from thresher.assertions import compute_flickering_assertion
from thresher.io.datasource import Datasource
from thresher.io.lightly_metadata import read_metadata
from thresher.io.lightly_predictions import read_predictions


def predictions_list(root) -> list[dict]:
    """The seed's predictions_list: Lightly files of every frame, in frame order, int bboxes as the seed writes."""
    files = sorted((root / ".lightly/predictions/ssd").glob("bikes-*.json"))
    out = []
    for path in files:
        data = json.loads(path.read_text())
        for p in data["predictions"]:
            p["bbox"] = [int(v) for v in p["bbox"]]
        out.append(data)
    return out


@pytest.mark.parametrize("tracking, assertion", [(0.9, 0.6), (0.8, 0.6), (0.6, 0.5), (0.5, 0.3)])
def test_flicker_matches_the_seed_on_real_detections(bikes_predicted, tracking, assertion):
    for min_score in (0.1, 0.3):
        preds = [{**d, "predictions": [p for p in d["predictions"] if p["score"] >= min_score]} for d in predictions_list(bikes_predicted)]
        ours = compute_flickering_assertion(preds, iou_thresh_tracking=tracking, iou_thresh_assertion=assertion)
        seed = seed_transcription(preds, iou_thresh_tracking=tracking, iou_thresh_assertion=assertion)
        assert ours == seed


def test_real_video_has_flicker(bikes_predicted):
    preds = predictions_list(bikes_predicted)
    flags, imputed = compute_flickering_assertion(preds, iou_thresh_tracking=0.6, iou_thresh_assertion=0.5)
    assert 0 < sum(flags) < len(flags)
    assert all(len(boxes) > 0 for flag, boxes in zip(flags, imputed) if flag)


def test_assert_command_writes_metadata_and_imputed_task(bikes_datasource_copy, capsys):
    root = bikes_datasource_copy
    media = {k: v for k, v in tree_digest(root).items() if not k.startswith(".lightly")}
    code, output = run_cli(["assert", str(root), "--task", "ssd", "--assertion", "flicker,multibox,class_switch,appear"], capsys)
    assert code in (0, None), output
    assert "flicker:" in output and "imputed boxes to task ssd-imputed" in output
    source = Datasource(root)
    frames = source.frames()
    metadata = read_metadata(source.lightly, frames)
    assert set(np.unique(metadata["flickering"])) <= {0.5, 1.0}
    flagged = metadata["flickering"] == 1.0
    assert (metadata["flicker_severity"][flagged] > 0).all() and (metadata["flicker_severity"][~flagged] == 0).all()
    imputed = read_predictions(source.lightly, "ssd-imputed", frames)
    assert set(np.unique(imputed.detections.frame)) <= set(np.flatnonzero(flagged | (metadata["multibox_severity"] > 0) | (metadata["class_switch_severity"] > 0)))
    schema = json.loads((root / ".lightly/metadata/schema.json").read_text())
    assert {"name": "Flickering", "path": "flickering", "defaultValue": 0.5, "valueDataType": "NUMERIC_FLOAT"} in schema
    assert {k: v for k, v in tree_digest(root).items() if not k.startswith(".lightly")} == media
    code, output = run_cli(["validate", str(root)], capsys)
    assert code == 0, output


def test_seed_compatible_assert_flags_the_seed_frames(bikes_datasource_copy, capsys):
    root = bikes_datasource_copy
    code, output = run_cli(["assert", str(root), "--task", "ssd", "--seed-compatible", "--iou-thresh-tracking", "0.6", "--iou-thresh-assertion", "0.5"], capsys)
    assert code in (0, None), output
    flags, _ = seed_transcription(predictions_list(root), iou_thresh_tracking=0.6, iou_thresh_assertion=0.5)
    source = Datasource(root)
    frames = source.frames()
    flickering = read_metadata(source.lightly, frames)["flickering"]
    assert (flickering == 1.0).tolist() == flags


def test_unknown_assertion_is_a_usage_error(bikes_datasource_copy, capsys):
    code, output = run_cli(["assert", str(bikes_datasource_copy), "--task", "ssd", "--assertion", "flickr"], capsys)
    assert code == 2 and 'did you mean "flicker"' in output


def test_rerun_rewrites_only_what_changed(bikes_datasource_copy):
    """Same task and parameters: no metadata or imputed file is written again; other thresholds
    rewrite exactly the files whose content changes (not the schemas, the same for both), and
    the result is as if written fresh."""
    from thresher.assertions.task import assert_task

    root = bikes_datasource_copy
    source = Datasource(root)
    assert_task(source, "ssd", ["flicker"])
    outputs = sorted([*(root / ".lightly/metadata").glob("*.json"), *(root / ".lightly/predictions/ssd-imputed").glob("*.json")])
    assert {root / ".lightly/metadata/schema.json", root / ".lightly/predictions/ssd-imputed/schema.json"} <= set(outputs)
    stamps = {p: p.stat().st_mtime_ns for p in outputs}
    before = {p: p.read_bytes() for p in outputs}
    assert_task(source, "ssd", ["flicker"])
    assert {p: p.stat().st_mtime_ns for p in outputs} == stamps
    assert_task(source, "ssd", ["flicker"], parameters={"flicker": {"match_iou": 0.3}})
    changed = {p for p in outputs if p.read_bytes() != before[p]}
    assert changed and changed == {p for p in outputs if p.stat().st_mtime_ns != stamps[p]}
    again = {p: p.read_bytes() for p in outputs}
    for path in outputs:
        path.unlink()
    assert_task(source, "ssd", ["flicker"], parameters={"flicker": {"match_iou": 0.3}})
    assert {p: p.read_bytes() for p in outputs} == again


# ---- seed 000's own layout: no prediction file for a frame without a box ---------------------


COCO_CAR = 3


def seed_layout(bikes_predicted, root) -> list[dict]:
    """bikes.mp4 with the built-in detector's cars written as seed 000's script writes them
    (int bboxes, a file only for frames with a box); returns its `all_predictions` (every frame)."""
    root.mkdir(parents=True)
    shutil.copyfile(bikes_predicted / "bikes.mp4", root / "bikes.mp4")
    task = read_predictions(Datasource(bikes_predicted).lightly, "ssd")
    folder = root / ".lightly/predictions/yolov8_detection"
    folder.mkdir(parents=True)
    (root / ".lightly/predictions/tasks.json").write_text(json.dumps(["yolov8_detection"]))
    (folder / "schema.json").write_text(json.dumps({"task_type": "object-detection", "categories": [{"id": 2, "name": "car"}]}))
    dets = task.detections
    all_predictions = []
    for row in np.argsort(task.frames.frame_index):
        index = int(task.frames.frame_index[row])
        mine = (dets.frame == row) & (dets.class_id == COCO_CAR)
        boxes = [[int(x0), int(y0), int(x1 - x0), int(y1 - y0)] for x0, y0, x1, y1 in dets.xyxy[mine].tolist()]
        entry = {"file_name": f"bikes-{index:03d}-mp4.png", "predictions": [{"category_id": 2, "bbox": b, "score": s} for b, s in zip(boxes, dets.score[mine].tolist())]}
        all_predictions.append(entry)
        if entry["predictions"]:
            (folder / f"bikes-{index:03d}-mp4.json").write_text(json.dumps(entry))
    return all_predictions


def flagged_frames(root) -> list[int]:
    source = Datasource(root)
    frames = source.frames()
    flickering = read_metadata(source.lightly, frames)["flickering"]
    return sorted(frames.frame_index[flickering == 1.0].tolist())


@pytest.mark.parametrize("tracking, assertion", [(0.8, 0.6), (0.9, 0.6)])
def test_seed_compatible_flags_what_seed_000_flags_on_its_own_layout(bikes_predicted, tmp_path, capsys, tracking, assertion):
    """Frames without a file are the seed's empty lists: same flags and imputed boxes as the
    seed's code on the full list, including frames flagged because they have no file."""
    root = tmp_path / "ds"
    all_predictions = seed_layout(bikes_predicted, root)
    without_file = [i for i, entry in enumerate(all_predictions) if not entry["predictions"]]
    assert 50 < len(without_file) < 200
    code, output = run_cli(
        ["assert", str(root), "--task", "yolov8_detection", "--seed-compatible", "--iou-thresh-tracking", str(tracking), "--iou-thresh-assertion", str(assertion)], capsys
    )
    assert code in (0, None), output
    assert f"{len(without_file)} of these frames have no prediction file" in output
    flags, imputed = seed_transcription(all_predictions, iou_thresh_tracking=tracking, iou_thresh_assertion=assertion)
    assert flagged_frames(root) == [i for i, flag in enumerate(flags) if flag]
    assert set(without_file) & set(flagged_frames(root)), "the real video has frames flagged because they have no file"
    source = Datasource(root)
    frames = source.frames()
    boxes = read_predictions(source.lightly, "yolov8_detection-imputed", frames).detections
    got = [sorted(boxes.xyxy[boxes.frame == row].astype(int).tolist()) for row in np.argsort(frames.frame_index)]
    assert got == [sorted(box for [box] in per_frame) for per_frame in imputed]


def test_default_flicker_flags_a_frame_whose_file_is_missing(bikes_predicted, tmp_path, capsys):
    """A car tracked through frames t-1, t, t+1: remove frame t's file, as seed 000's script
    does when the model finds nothing, and t is flagged, with the car imputed near its box;
    an empty file for t gives the same."""
    root = tmp_path / "ds"
    all_predictions = seed_layout(bikes_predicted, root)
    run_cli(["assert", str(root), "--task", "yolov8_detection"], capsys)
    before = flagged_frames(root)
    t = next(i for i in range(1, len(all_predictions) - 1) if i not in before and all(len(all_predictions[k]["predictions"]) == 1 for k in (i - 1, i, i + 1)))
    [[x, y, w, h]] = [p["bbox"] for p in all_predictions[t]["predictions"]]
    file = root / f".lightly/predictions/yolov8_detection/bikes-{t:03d}-mp4.json"
    file.unlink()
    code, output = run_cli(["assert", str(root), "--task", "yolov8_detection"], capsys)
    assert code in (0, None), output
    assert t in flagged_frames(root) and set(flagged_frames(root)) - {t} <= set(before)
    source = Datasource(root)
    frames = source.frames()
    imputed = read_predictions(source.lightly, "yolov8_detection-imputed", frames).detections
    [box] = imputed.xyxy[frames.frame_index[imputed.frame] == t].tolist()
    assert abs(box[0] - x) < w / 4 and abs(box[2] - x - w) < w / 4 and abs(box[1] - y) < h / 4
    after = flagged_frames(root)
    file.write_text(json.dumps({"file_name": f"bikes-{t:03d}-mp4.png", "predictions": []}))
    run_cli(["assert", str(root), "--task", "yolov8_detection"], capsys)
    assert flagged_frames(root) == after


def test_every_nth_frame_is_not_read_as_empty_frames_between(bikes_predicted, tmp_path, capsys):
    """Predictions on every 2nd frame (thresher predict --every 2 writes those files only,
    empty ones too): the frames between were never predicted, so nothing flickers there."""
    root = tmp_path / "ds"
    all_predictions = seed_layout(bikes_predicted, root)
    folder = root / ".lightly/predictions/yolov8_detection"
    for path in folder.glob("bikes-*.json"):
        path.unlink()
    for index in range(0, len(all_predictions), 2):
        (folder / f"bikes-{index:03d}-mp4.json").write_text(json.dumps(all_predictions[index]))
    code, output = run_cli(["assert", str(root), "--task", "yolov8_detection"], capsys)
    assert code in (0, None), output
    assert "flicker: 0 of 125 frames flagged" in output
    code, output = run_cli(["validate", str(root), "--quick"], capsys)
    assert "125 samples without a file (0 frames of predicted videos, read as no object; 125 not predicted)" in output


# ---- assertions belong to a task ---------------------------------------------------------------


def test_two_tasks_never_overwrite_each_other_silently(bikes_datasource_copy, capsys):
    """Each task's results stay under assertions.<task>.*; the seed keys hold the task asserted
    last, and the command says when they change task."""
    from thresher.assertions.task import assert_task

    root = bikes_datasource_copy
    source = Datasource(root)
    frames = source.frames()
    people = root / ".lightly/predictions/people"
    shutil.copytree(root / ".lightly/predictions/ssd", people)
    for path in people.glob("bikes-*.json"):  # a second task: the same model's persons only
        data = json.loads(path.read_text())
        data["predictions"] = [p for p in data["predictions"] if p["category_id"] == 1]
        path.write_text(json.dumps(data))
    tasks = json.loads((root / ".lightly/predictions/tasks.json").read_text())
    (root / ".lightly/predictions/tasks.json").write_text(json.dumps(tasks + ["people"]))
    first = assert_task(source, "ssd")
    code, output = run_cli(["assert", str(root), "--task", "people"], capsys)
    assert code in (0, None), output
    assert "note: flickering and the *_severity metadata keys now hold the assertions of task 'people'" in output
    second = assert_task(source, "people")
    assert not second.notes
    metadata = read_metadata(source.lightly, frames)
    assert np.array_equal(metadata["assertions.ssd.flicker_severity"], first.results[0].values)
    assert np.array_equal(metadata["assertions.people.flicker_severity"], second.results[0].values)
    assert np.array_equal(metadata["flicker_severity"], second.results[0].values)
    assert not np.array_equal(first.results[0].values, second.results[0].values)
    record = json.loads((root / ".lightly/thresher/assertions.json").read_text())
    assert record["seed_keys"] == "people" and set(record["tasks"]) == {"ssd", "people"}
    assert record["tasks"]["ssd"]["parameters"]["flicker"]["presence"] == "coverage"


def test_reuse_only_when_task_parameters_and_predictions_are_unchanged(bikes_datasource_copy):
    from thresher.assertions.task import assert_task

    root = bikes_datasource_copy
    source = Datasource(root)
    first = assert_task(source, "ssd", reuse=True)
    assert not first.reused
    again = assert_task(source, "ssd", reuse=True)
    assert again.reused and again.flagged == first.flagged and len(again.frames) == len(first.frames)
    assert not assert_task(source, "ssd", parameters={"flicker": {"max_gap": 2}}, reuse=True).reused
    assert not assert_task(source, "ssd", reuse=True).reused  # the parameters changed back
    assert assert_task(source, "ssd", reuse=True).reused
    path = root / ".lightly/predictions/ssd/bikes-100-mp4.json"
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "predictions": data["predictions"][:-1]}))
    assert not assert_task(source, "ssd", reuse=True).reused
    (root / ".lightly/metadata/bikes-007-mp4.json").unlink()
    assert not assert_task(source, "ssd", reuse=True).reused
    assert (root / ".lightly/metadata/bikes-007-mp4.json").exists()


def test_bad_parameters_fail_before_anything_is_written(bikes_datasource_copy, capsys):
    root = bikes_datasource_copy
    before = tree_digest(root)
    for args, message in (
        (["--presence", "cover"], "presence: expected one of coverage, iou, got 'cover' (did you mean \"coverage\"?)"),
        (["--seed-compatible", "--max-gap", "2"], "flicker.max_gap: unknown parameter (seed-compatible flicker)"),
        (["--parameter", "appear.min_lenght=4", "--assertion", "flicker,appear"], 'appear.min_lenght: unknown parameter (did you mean "min_length"?)'),
        (["--parameter", "multibox.iou=2", "--assertion", "multibox"], "multibox.iou: expected an IoU in (0, 1], got 2"),
        (["--parameter", "appear=4"], "--parameter: expected NAME.KEY=VALUE"),
    ):
        code, output = run_cli(["assert", str(root), "--task", "ssd", *args], capsys)
        assert code == 2 and message in output and "Traceback" not in output, output
    assert tree_digest(root) == before


def test_frames_the_new_task_does_not_cover_lose_the_old_tasks_seed_values(bikes_datasource_copy):
    """Task ssd covers two videos, task people one: after people, the seed keys of the other
    video are the defaults, never ssd's values mixed with people's; ssd's copy stays."""
    from thresher.assertions.task import assert_task

    root = bikes_datasource_copy
    shutil.copyfile(root / "bikes.mp4", root / "other.mp4")
    ssd = root / ".lightly/predictions/ssd"
    for path in sorted(ssd.glob("bikes-*.json")):
        data = json.loads(path.read_text())
        name = path.name.replace("bikes-", "other-")
        (ssd / name).write_text(json.dumps({**data, "file_name": name.replace(".json", ".png")}))
    people = root / ".lightly/predictions/people"
    people.mkdir()
    shutil.copyfile(ssd / "schema.json", people / "schema.json")
    for path in sorted(ssd.glob("bikes-*.json")):
        data = json.loads(path.read_text())
        (people / path.name).write_text(json.dumps({**data, "predictions": [p for p in data["predictions"] if p["category_id"] == 1]}))
    (root / ".lightly/predictions/tasks.json").write_text(json.dumps(["ssd", "people"]))
    source = Datasource(root)
    frames = source.frames()
    first = assert_task(source, "ssd", frames=frames)
    assert len(first.frames) == 500
    other = frames.video == "other.mp4"
    before = read_metadata(source.lightly, frames)
    assert (before["flicker_severity"][other] > 0).any()
    second = assert_task(source, "people", frames=frames)
    assert len(second.frames) == 250 and second.notes
    after = read_metadata(source.lightly, frames)
    assert (after["flicker_severity"][other] == 0).all() and (after["flickering"][other] == 0.5).all()
    assert np.array_equal(after["assertions.ssd.flicker_severity"], before["assertions.ssd.flicker_severity"])
    assert (after["assertions.people.flicker_severity"][other] == 0).all()  # the default: people never covered them
    imputed = read_predictions(source.lightly, "people-imputed", frames)
    assert set(frames.video[imputed.detections.frame].tolist()) <= {"bikes.mp4"}


# ---- a task of the user's own named `<task>-imputed` ------------------------------------------


def users_own_imputed_task(root) -> None:
    """The user's task `ssd-imputed` in the Lightly layout (listed in tasks.json, a schema, one
    prediction file), made by the user, not by thresher's assertions."""
    tasks = root / ".lightly/predictions/tasks.json"
    tasks.write_text(json.dumps([*json.loads(tasks.read_text()), "ssd-imputed"]))
    folder = root / ".lightly/predictions/ssd-imputed"
    folder.mkdir()
    shutil.copyfile(root / ".lightly/predictions/ssd/schema.json", folder / "schema.json")
    box = {"category_id": 1, "bbox": [10, 20, 30, 40], "score": 0.9}
    (folder / "bikes-003-mp4.json").write_text(json.dumps({"file_name": "bikes-003-mp4.png", "predictions": [box]}))


def test_a_task_of_the_users_own_named_like_the_imputed_task_is_refused_and_untouched(bikes_datasource_copy, tmp_path):
    from tests.test_user_errors import one_error_line, thresher

    root = bikes_datasource_copy
    users_own_imputed_task(root)
    before = tree_digest(root)
    refused = thresher("assert", "ds", "--task", "ssd", cwd=tmp_path)
    assert refused.returncode == 2
    assert one_error_line(refused) == (
        "error: ds/.lightly/predictions/ssd-imputed: task 'ssd-imputed' exists and was not written by thresher's assertions "
        "(not named in ds/.lightly/thresher/assertions.json); the assertions on task 'ssd' write their imputed boxes to that task "
        "and would overwrite its files: rename that folder to keep it, or remove it to let them write there"
    )
    assert tree_digest(root) == before  # not even the metadata was written
    shutil.move(root / ".lightly/predictions/ssd-imputed", tmp_path / "kept")
    assert thresher("assert", "ds", "--task", "ssd", cwd=tmp_path).returncode == 0  # the folder renamed: written there
    assert thresher("assert", "ds", "--task", "ssd", "--max-gap", "2", cwd=tmp_path).returncode == 0  # thresher's own: rewritten


def test_an_imputed_task_an_interrupted_call_left_is_thresher_s(bikes_datasource_copy):
    """The record names the imputed task before its first file is written: a call that stops
    halfway (here a folder where a frame's file goes) leaves files the next call may rewrite."""
    from thresher.assertions.task import assert_task

    root = bikes_datasource_copy
    blocker = root / ".lightly/predictions/ssd-imputed/bikes-200-mp4.json"
    blocker.mkdir(parents=True)
    with pytest.raises(OSError):
        assert_task(Datasource(root), "ssd", ["flicker"])
    assert (root / ".lightly/predictions/ssd-imputed/bikes-000-mp4.json").exists()  # written before it stopped
    blocker.rmdir()
    report = assert_task(Datasource(root), "ssd", ["flicker"])
    assert len(read_predictions(Datasource(root).lightly, "ssd-imputed", report.frames).frames) == 250


def test_an_imputed_task_stays_thresher_s_when_the_record_changes_version(bikes_datasource_copy):
    """A record of another version is read as empty (nothing reused), but the imputed tasks it
    names stay thresher's."""
    from thresher.assertions.task import assert_task

    root = bikes_datasource_copy
    assert_task(Datasource(root), "ssd", ["flicker"])
    path = root / ".lightly/thresher/assertions.json"
    record = json.loads(path.read_text())
    assert record["imputed_tasks"] == ["ssd-imputed"]
    del record["imputed_tasks"]  # as written before the list existed
    path.write_text(json.dumps({**record, "version": 1}))
    assert not assert_task(Datasource(root), "ssd", ["flicker"], reuse=True).reused
    assert json.loads(path.read_text())["imputed_tasks"] == ["ssd-imputed"]
