"""`thresher convert coco|yolo|labelstudio`: the written task validates; bad input writes nothing; exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from tests.conftest import tree_digest, write_json
from tests.convert_fixtures import media  # noqa: F401 - fixture
from tests.io.test_coco import GT, result
from tests.io.test_yolo_export import ultralytics_training_set
from tests.test_validate import run_cli

PREDICTIONS = ".lightly/predictions"


@pytest.fixture
def yolo_run(tmp_path: Path) -> Path:
    """An Ultralytics-style run folder: flat labels/ with classes.txt inside, data.yaml beside."""
    run = tmp_path / "run"
    (run / "labels").mkdir(parents=True)
    (run / "labels/a.txt").write_text("0 0.5 0.5 0.25 0.5 0.9\n1 0.25 0.75 0.5 0.5 0.8\n")
    (run / "labels/car_3.txt").write_text("1 0.5 0.5 0.5 0.5 0.7\n")
    (run / "labels/classes.txt").write_text("person\ncar\n")
    (run / "data.yaml").write_text("names:\n  0: person\n  1: car\n")
    return run


def yolo_args(media: Path, run: Path, *extra: str, names: str = "data.yaml") -> list[str]:  # noqa: F811
    return ["convert", "yolo", str(media), "--task", "yolo", "--input", str(run / "labels"), "--names", str(run / names), *extra]


def test_yolo_conversion_validates(media, yolo_run, capsys):  # noqa: F811
    code, output = run_cli(yolo_args(media, yolo_run), capsys)
    assert code == 0, output
    assert "task yolo: 123 prediction files, 3 boxes, 0 samples left out" in output
    frame = json.loads((media / PREDICTIONS / "yolo/clips/car-002-mp4.json").read_text())
    assert frame == {"file_name": "clips/car-002-mp4.png", "predictions": [{"category_id": 1, "bbox": [44, 36, 88, 72], "score": 0.7}]}
    image = json.loads((media / PREDICTIONS / "yolo/img/a.json").read_text())
    assert [p["bbox"] for p in image["predictions"]] == [[240, 120, 160, 240], [0, 240, 320, 240]]
    assert json.loads((media / PREDICTIONS / "tasks.json").read_text()) == ["yolo"]
    assert json.loads((media / PREDICTIONS / "yolo/schema.json").read_text())["categories"] == [{"id": 0, "name": "person"}, {"id": 1, "name": "car"}]
    code, output = run_cli(["validate", str(media)], capsys)
    assert code == 0, output
    assert not (media / ".thresher/tmp").exists() or not any((media / ".thresher/tmp").iterdir())


def test_names_file_inside_the_labels_folder_is_not_a_label(media, yolo_run, capsys):  # noqa: F811
    (yolo_run / "labels/my_classes.txt").write_text("person\ncar\n")
    code, output = run_cli(yolo_args(media, yolo_run, names="labels/my_classes.txt"), capsys)
    assert code == 0, output
    assert "task yolo: 123 prediction files, 3 boxes" in output


def test_existing_task_is_kept_without_overwrite(media, yolo_run, capsys):  # noqa: F811
    assert run_cli(yolo_args(media, yolo_run), capsys)[0] == 0
    before = tree_digest(media)
    code, output = run_cli(yolo_args(media, yolo_run), capsys)
    assert code == 2
    assert "error: task 'yolo' exists in" in output and "pass --overwrite to replace it" in output
    assert tree_digest(media) == before


def test_overwrite_replaces_the_whole_task(media, yolo_run, capsys):  # noqa: F811
    assert run_cli(yolo_args(media, yolo_run), capsys)[0] == 0
    (yolo_run / "labels/car_3.txt").unlink()
    code, output = run_cli(yolo_args(media, yolo_run, "--overwrite", "--matched-only"), capsys)
    assert code == 0, output
    assert "task yolo: 1 prediction files, 2 boxes" in output
    files = sorted(p.relative_to(media / PREDICTIONS).as_posix() for p in (media / PREDICTIONS).rglob("*.json"))
    assert files == ["tasks.json", "yolo/img/a.json", "yolo/schema.json"]
    assert run_cli(["validate", str(media)], capsys)[0] == 0


def test_other_tasks_are_kept(media, yolo_run, capsys):  # noqa: F811
    write_json(media / PREDICTIONS / "tasks.json", ["old"])
    write_json(media / PREDICTIONS / "old/schema.json", {"task_type": "object-detection", "categories": [{"id": 0, "name": "x"}]})
    assert run_cli(yolo_args(media, yolo_run), capsys)[0] == 0
    assert json.loads((media / PREDICTIONS / "tasks.json").read_text()) == ["old", "yolo"]


def test_bad_input_writes_nothing(media, yolo_run, capsys):  # noqa: F811
    (yolo_run / "labels/a.txt").write_text("0 0.5 0.5 0.25\n")
    (yolo_run / "labels/zzz.txt").write_text("0 0.5 0.5 0.25 0.5\n")
    before = tree_digest(media)
    code, output = run_cli(yolo_args(media, yolo_run), capsys)
    assert code == 1
    assert "problem: " + str(yolo_run / "labels") + "/a.txt: line 1: expected 5 to 7 numbers" in output
    assert "/labels/zzz.txt: expected an image named zzz.<ext>" in output
    assert "error: 2 problem(s) in the input, nothing written (--skip-bad writes the usable part)" in output
    assert "Traceback" not in output
    assert tree_digest(media) == before


def test_skip_bad_writes_the_rest(media, yolo_run, capsys):  # noqa: F811
    (yolo_run / "labels/a.txt").write_text("0 0.5 0.5 0.25\n")
    code, output = run_cli(yolo_args(media, yolo_run, "--skip-bad"), capsys)
    assert code == 0, output
    assert "task yolo: 122 prediction files, 1 boxes, 1 samples left out for bad input" in output
    assert not (media / PREDICTIONS / "yolo/img/a.json").exists()


def test_skip_bad_on_a_video_frame_leaves_the_video_out_and_says_why(media, yolo_run, capsys):  # noqa: F811
    (yolo_run / "labels/car_5.txt").write_text("0 0.5 0.5 0.25\n")
    code, output = run_cli(yolo_args(media, yolo_run, "--skip-bad"), capsys)
    assert code == 0, output
    assert "task yolo: 3 prediction files, 2 boxes, 120 samples left out for bad input" in output
    assert "warning: clips/car.mp4: left out whole (120 frames), not only its frames with bad input: " in output
    assert "would read as 'no object'" in output
    assert not (media / PREDICTIONS / "yolo/clips").exists()


@pytest.mark.parametrize(
    "change, exit_code, message",
    [
        (lambda run: (run / "data.yaml").write_text("nc: 2\n"), 1, "data.yaml: names: expected a list of class names or a mapping {id: name}, got None"),
        (lambda run: (run / "data.yaml").unlink(), 2, "data.yaml: no such file"),
    ],
)
def test_bad_names_file(media, yolo_run, capsys, change, exit_code, message):  # noqa: F811
    change(yolo_run)
    code, output = run_cli(yolo_args(media, yolo_run), capsys)
    assert code == exit_code and message in output, output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--input", "nowhere"], "error: --input: expected a folder of YOLO txt files, got nowhere (no such folder)"),
        (["--task", "../x"], "error: task: expected a task name such as 'yolov8_det', got '../x'"),
        (["--vid-stride", "0"], "Invalid value for '--vid-stride'"),
    ],
)
def test_usage_errors(media, yolo_run, capsys, args, message):  # noqa: F811
    code, output = run_cli(yolo_args(media, yolo_run) + args, capsys)
    assert code == 2
    assert message in output


def test_the_run_folder_instead_of_its_labels_gets_one_hint(media, yolo_run, capsys):  # noqa: F811
    code, output = run_cli(yolo_args(media, yolo_run) + ["--input", str(yolo_run)], capsys)
    assert code == 2, output
    assert f"error: --input: every .txt of {yolo_run} is under labels/ and no sample of the datasource is: pass --input {yolo_run}/labels" in output
    assert "problem:" not in output and not (media / PREDICTIONS).exists()


def test_an_empty_labels_folder_is_refused(media, yolo_run, tmp_path, capsys):  # noqa: F811
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty/classes.txt").write_text("person\ncar\n")  # the class list is no label file
    code, output = run_cli(yolo_args(media, yolo_run) + ["--input", str(tmp_path / "empty")], capsys)
    assert code == 2, output
    assert f"error: --input: expected a folder of YOLO txt files, got {tmp_path / 'empty'}, which holds none (pass the labels/ folder of the Ultralytics run)" in output
    assert not (media / PREDICTIONS).exists()


def test_labels_under_a_datasource_folder_named_labels_still_match(tmp_path, carphone_mp4, yolo_run, capsys):
    """The hint is for txt files that cannot match: a datasource with a labels/ folder keeps working."""
    from tests.convert_fixtures import make_media

    root = make_media(tmp_path / "ds2", carphone_mp4)
    (root / "labels").mkdir()
    shutil.copyfile(root / "img/a.jpg", root / "labels/x.jpg")
    (tmp_path / "in/labels").mkdir(parents=True)
    (tmp_path / "in/labels/x.txt").write_text("0 0.5 0.5 0.25 0.5\n")
    code, output = run_cli(yolo_args(root, yolo_run, "--matched-only") + ["--input", str(tmp_path / "in")], capsys)
    assert code == 0, output
    assert "task yolo: 1 prediction files, 1 boxes" in output


def coco_args(media: Path, tmp_path: Path, results, gt=GT, *extra: str) -> list[str]:  # noqa: F811
    write_json(tmp_path / "res.json", results)
    write_json(tmp_path / "gt.json", gt)
    return ["convert", "coco", str(media), "--task", "coco", "--input", str(tmp_path / "res.json"), "--annotations", str(tmp_path / "gt.json"), *extra]


def test_coco_conversion_validates(media, tmp_path, capsys):  # noqa: F811
    gt = {**GT, "images": [{**image, "file_name": "val/" + image["file_name"]} for image in GT["images"]]}
    code, output = run_cli(coco_args(media, tmp_path, [result(), result(image_id=12, bbox=[90, 40, 20, 20])], gt, "--strip", "val/"), capsys)
    assert code == 0, output
    assert "task coco: 3 prediction files, 2 boxes" in output
    data = json.loads((media / PREDICTIONS / "coco/img/sub/b.json").read_text())
    assert data["predictions"] == [{"category_id": 3, "bbox": [90, 40, 10, 10], "score": 0.9}]
    assert run_cli(["validate", str(media)], capsys)[0] == 0


def test_coco_bad_input(media, tmp_path, capsys):  # noqa: F811
    code, output = run_cli(coco_args(media, tmp_path, [result(image_id=99)]), capsys)
    assert code == 1
    assert f"problem: {tmp_path / 'res.json'}: [0].image_id: expected an image id of {tmp_path / 'gt.json'}'s images, got 99" in output
    assert not (media / ".lightly").exists()


def test_coco_results_not_a_list_is_said_once(media, tmp_path, capsys):  # noqa: F811
    code, output = run_cli(coco_args(media, tmp_path, {"annotations": []}), capsys)
    assert code == 1
    assert output.count("expected a JSON list of {image_id, category_id, bbox, score}") == 1
    assert f"problem: {tmp_path / 'res.json'}: expected a JSON list" in output
    assert "error: 1 problem(s) in the input, nothing written (--skip-bad cannot help: nothing in the input can be converted)" in output


def test_coco_malformed_json(media, tmp_path, capsys):  # noqa: F811
    args = coco_args(media, tmp_path, [])
    (tmp_path / "res.json").write_text("[{")
    code, output = run_cli(args, capsys)
    assert code == 1
    assert f"error: {tmp_path / 'res.json'}: expected valid JSON, got malformed JSON" in output


def test_coco_missing_input_is_a_usage_error(media, tmp_path, capsys):  # noqa: F811
    args = coco_args(media, tmp_path, [])
    (tmp_path / "res.json").unlink()
    code, output = run_cli(args, capsys)
    assert code == 2
    assert f"error: {tmp_path / 'res.json'}: no such file" in output


def test_missing_datasource_is_a_usage_error(tmp_path, yolo_run, capsys):
    code, output = run_cli(yolo_args(tmp_path / "nope", yolo_run), capsys)
    assert code == 2
    assert f"error: {tmp_path / 'nope'}: no such folder" in output


def test_separate_lightly_location(media, yolo_run, tmp_path, capsys):  # noqa: F811
    lightly = tmp_path / "lightly"
    lightly.mkdir()
    code, output = run_cli(yolo_args(media, yolo_run, "--lightly", str(lightly)), capsys)
    assert code == 0, output
    assert (lightly / PREDICTIONS / "yolo/img/a.json").exists() and not (media / ".lightly").exists()
    assert run_cli(["validate", str(media), "--lightly", str(lightly)], capsys)[0] == 0


def labeled_export(tasks: list[dict]) -> list[dict]:
    """What Label Studio exports after a labeler accepted every predicted box (imputed ones too)."""
    return [{**t, "id": k + 1, "annotations": [{"id": k + 1, "result": t["predictions"][0]["result"], "was_cancelled": False, "ground_truth": False}]} for k, t in enumerate(tasks)]


def test_labelstudio_labels_become_a_task_coco_and_yolo(handoff_runs, tmp_path, capsys):
    from tests.handoff_fixtures import TASK
    from thresher.io.datasource import Datasource
    from thresher.io.lightly_predictions import read_predictions
    from thresher.io.storage import Location
    from thresher.io.yolo import read_label_files, yolo_to_task

    root = tmp_path / "ds"
    shutil.copytree(handoff_runs.root, root, ignore=shutil.ignore_patterns(".thresher"))
    run = handoff_runs.frames.folder
    tasks = json.loads((run / "label_studio_tasks.json").read_text())
    write_json(tmp_path / "export.json", labeled_export(tasks))
    args = ["convert", "labelstudio", str(tmp_path / "export.json"), "--datasource", str(root), "--task", "gt"]
    code, output = run_cli(args, capsys)
    assert code == 0, output
    out = tmp_path / "export-labels"
    boxes = sum(len(t["predictions"][0]["result"]) for t in tasks)
    assert f"task gt: {len(tasks)} prediction files, {boxes} boxes, 0 samples left out" in output
    source = Datasource(root)
    labels = read_predictions(source.lightly, "gt", source.frames())
    own = read_predictions(source.lightly, TASK, source.frames())
    imputed = read_predictions(source.lightly, f"{TASK}-imputed", source.frames())
    assert labels.schema == own.schema  # the classes of the task the tasks came from (data.thresher_task)
    assert sorted(set(labels.frames.file_name.tolist()) - set(labels.missing)) == sorted(t["data"]["thresher_id"] for t in tasks)
    for name in (t["data"]["thresher_id"] for t in tasks):
        expected = np.concatenate([t.detections.xyxy[t.frames.file_name[t.detections.frame] == name] for t in (own, imputed)])
        np.testing.assert_allclose(labels.detections.xyxy[labels.frames.file_name[labels.detections.frame] == name], expected, atol=1e-3)
    coco = json.loads((out / "labels_coco.json").read_text())
    assert [i["file_name"] for i in coco["images"]] == sorted(t["data"]["thresher_id"] for t in tasks) and len(coco["annotations"]) == boxes
    names = yaml.safe_load((out / "data.yaml").read_text())["names"]
    assert (out / "train.txt").read_text() == ""  # no images/ beside these labels: nothing to train on
    assert f"warning: {out / 'train.txt'}: {len(tasks)} labeled samples left out, no image in {out / 'images'}" in output
    assert "pass --out the run folder whose images/ holds them" in output
    images = Datasource(run / "images").frames()  # Ultralytics' layout: images/x.png beside labels/x.txt
    back = yolo_to_task(read_label_files(Location(out / "labels")), images, names, task="back")
    assert len(back.detections) == boxes and not back.invalid
    code, output = run_cli(args, capsys)  # again: the task and the files exist
    assert code == 2 and "exist(s) already; pass --merge to add this export's labels to them, or --overwrite to replace them" in output
    assert run_cli([*args, "--overwrite"], capsys)[0] == 0


def test_labelstudio_labels_land_in_the_run_folder_beside_its_own_exports(handoff_runs, tmp_path, capsys):
    """The documented `--out <run folder>`: labels/, data.yaml and labels_coco.json are added; the
    run's own coco.json (its pre-labels) and images/ are kept byte for byte."""
    root = tmp_path / "ds"
    shutil.copytree(handoff_runs.root, root, ignore=shutil.ignore_patterns(".thresher"))
    run = tmp_path / "run"
    shutil.copytree(handoff_runs.frames.folder, run)
    before = tree_digest(run)
    tasks = json.loads((run / "label_studio_tasks.json").read_text())
    export = labeled_export(tasks)
    export[1]["annotations"] = []  # a task the labeler never opened: its image is in images/, unlabeled
    write_json(tmp_path / "export.json", export)
    code, output = run_cli(["convert", "labelstudio", str(tmp_path / "export.json"), "--datasource", str(root), "--task", "gt", "--out", str(run)], capsys)
    assert code == 0, output
    after = tree_digest(run)
    assert {k: v for k, v in after.items() if k in before} == before
    assert {k.split("/")[0] for k in set(after) - set(before)} == {"labels", "data.yaml", "train.txt", "labels_coco.json"}
    assert f"labels: {run / 'labels_coco.json'}, {run / 'labels'}/, {run / 'train.txt'} ({len(tasks) - 1} labeled images) and {run / 'data.yaml'}" in output
    assert "warning" not in output
    # what Ultralytics trains on: the labeled images only, each with its label file
    boxes = {t["data"]["thresher_id"]: len(t["predictions"][0]["result"]) for k, t in enumerate(tasks) if k != 1}
    pairs = {image.relative_to(run / "images").as_posix(): (image, label) for image, label in ultralytics_training_set(run / "data.yaml")}
    assert sorted(pairs) == sorted(boxes)
    assert tasks[1]["data"]["thresher_id"] not in pairs and (run / "images" / tasks[1]["data"]["thresher_id"]).is_file()
    for name, (image, label) in pairs.items():
        with Image.open(image) as opened:
            opened.load()  # decodes (a frame's PNG, or a still through its link)
        assert len(label.read_text().splitlines()) == boxes[name]


def test_labelstudio_merge_adds_a_later_round_to_the_task(handoff_runs, tmp_path, capsys):
    from thresher.io.datasource import Datasource
    from thresher.io.lightly_predictions import read_predictions

    root = tmp_path / "ds"
    shutil.copytree(handoff_runs.root, root, ignore=shutil.ignore_patterns(".thresher"))
    tasks = json.loads((handoff_runs.frames.folder / "label_studio_tasks.json").read_text())
    first, second = labeled_export(tasks[:3]), labeled_export(tasks[2:5])
    second[0]["annotations"][0]["result"] = []  # round 2 labels tasks[2] again: no object after all
    write_json(tmp_path / "r1.json", first)
    write_json(tmp_path / "r2.json", second)
    assert run_cli(["convert", "labelstudio", str(tmp_path / "r1.json"), "--datasource", str(root), "--task", "gt"], capsys)[0] == 0
    code, output = run_cli(["convert", "labelstudio", str(tmp_path / "r2.json"), "--datasource", str(root), "--task", "gt", "--merge"], capsys)
    assert code == 0, output
    assert "(merged: 3 from the export, 1 of them replacing earlier labels; 2 earlier samples kept)" in output
    source = Datasource(root)
    labels = read_predictions(source.lightly, "gt", source.frames())
    names = [t["data"]["thresher_id"] for t in tasks[:5]]
    assert sorted(set(labels.frames.file_name.tolist()) - set(labels.missing)) == sorted(names)
    boxes = {n: int((labels.frames.file_name[labels.detections.frame] == n).sum()) for n in names}
    assert boxes == {t["data"]["thresher_id"]: 0 if k == 2 else len(t["predictions"][0]["result"]) for k, t in enumerate(tasks[:5])}


def test_labelstudio_merge_into_an_earlier_labels_folder_is_the_conversion_of_both_exports(handoff_runs, tmp_path, capsys):
    """Round 2's export merged into the folder and the task of round 1 gives what converting both
    exports at once gives (round 2 wins per image): a label deleted in Label Studio is gone, a
    changed one replaced, round 1's others kept; the exports themselves are not touched."""
    tasks = json.loads((handoff_runs.frames.folder / "label_studio_tasks.json").read_text())
    first, second = labeled_export(tasks[:3]), labeled_export(tasks[1:5])
    second[0]["annotations"] = []  # tasks[1]: its annotation deleted in Label Studio
    second[1]["annotations"][0]["result"] = second[1]["annotations"][0]["result"][:1]  # tasks[2]: boxes removed
    both = [first[0], *second]  # the union, round 2 winning for tasks[1] and tasks[2]
    for name, export in (("r1", first), ("r2", second), ("both", both)):
        write_json(tmp_path / f"{name}.json", export)
    exports = tree_digest(tmp_path)

    def copies(name: str) -> tuple[Path, Path]:
        root, run = tmp_path / name / "ds", tmp_path / name / "run"
        shutil.copytree(handoff_runs.root, root, ignore=shutil.ignore_patterns(".thresher"))
        shutil.copytree(handoff_runs.frames.folder, run)
        return root, run

    def convert(export: str, root: Path, run: Path, *extra: str) -> str:
        code, output = run_cli(["convert", "labelstudio", str(tmp_path / export), "--datasource", str(root), "--task", "gt", "--out", str(run), *extra], capsys)
        assert code == 0, output
        return output

    merged_root, merged_run = copies("merged")
    convert("r1.json", merged_root, merged_run)
    output = convert("r2.json", merged_root, merged_run, "--merge")
    assert "(merged: 3 from the export, 1 of them replacing earlier labels; 1 earlier samples kept; 1 earlier labels removed" in output
    once_root, once_run = copies("once")
    convert("both.json", once_root, once_run)

    def labels(run: Path) -> dict[str, str]:
        return {k: v for k, v in tree_digest(run).items() if k.split("/")[0] in ("labels", "train.txt", "labels_coco.json")}

    assert labels(merged_run) == labels(once_run)
    assert "labels/" + tasks[0]["data"]["thresher_id"].rsplit(".", 1)[0] + ".txt" in labels(merged_run)  # round 1's own label kept
    assert "labels/" + tasks[1]["data"]["thresher_id"].rsplit(".", 1)[0] + ".txt" not in labels(merged_run)  # deleted: gone
    layout = {run: yaml.safe_load((run / "data.yaml").read_text()) for run in (merged_run, once_run)}
    assert layout[merged_run] == {**layout[once_run], "path": str(merged_run)}
    task = {root: tree_digest(root / PREDICTIONS / "gt") for root in (merged_root, once_root)}
    assert task[merged_root] == task[once_root]
    assert {k: v for k, v in tree_digest(tmp_path).items() if k in exports} == exports
    assert not list(merged_run.glob(".thresher-tmp-*"))


def test_labelstudio_merge_into_labels_made_elsewhere_writes_nothing(handoff_runs, tmp_path, capsys):
    """A labels/ without labels_coco.json (not made by a conversion): whose labels it holds is unknown."""
    root = tmp_path / "ds"
    shutil.copytree(handoff_runs.root, root, ignore=shutil.ignore_patterns(".thresher"))
    tasks = json.loads((handoff_runs.frames.folder / "label_studio_tasks.json").read_text())
    write_json(tmp_path / "r2.json", labeled_export(tasks[:2]))
    (tmp_path / "theirs" / "labels").mkdir(parents=True)
    (tmp_path / "theirs" / "labels" / "x.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    before = {"ds": tree_digest(root), "theirs": tree_digest(tmp_path / "theirs")}
    code, output = run_cli(["convert", "labelstudio", str(tmp_path / "r2.json"), "--datasource", str(root), "--task", "gt", "--merge", "--out", str(tmp_path / "theirs")], capsys)
    assert code == 2
    assert (
        f"error: {tmp_path / 'theirs' / 'labels_coco.json'}: expected the list of the samples {tmp_path / 'theirs'} holds labels of (to merge into), got no file beside labels;"
        " --out another folder, or --overwrite without --merge to replace them with this export's labels alone"
    ) in output
    assert {"ds": tree_digest(root), "theirs": tree_digest(tmp_path / "theirs")} == before
