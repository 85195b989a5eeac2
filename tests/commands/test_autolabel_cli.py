"""`thresher autolabel fit|apply` and `thresher simulate` on small datasources and arrays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from thresher import Detections
from thresher.io.lightly_predictions import PredictionTask, read_predictions, write_predictions
from thresher.io.lightly_schema import PredictionSchema
from thresher.io.labelstudio_urls import path_of_url
from thresher.io.storage import Location
from thresher.io.lightly_predictions import frames_from_names
from tests.autolabel.autolabel_synthetic import labeled_set
from tests.test_validate import run_cli

N_IMAGES = 40
SCHEMA = PredictionSchema.detection({0: "person", 1: "car", 2: "dog"})


def noise_images(root: Path, seed: int) -> tuple[Path, list[str]]:
    """`root` holding N_IMAGES random 480x80 PNG images, and their names."""
    root.mkdir()
    rng = np.random.default_rng(seed)
    names = [f"img_{i:02d}.png" for i in range(N_IMAGES)]
    for name in names:
        Image.fromarray(rng.integers(0, 255, (80, 480, 3), dtype=np.uint8)).save(root / name)
    return root, names


@pytest.fixture
def datasource(tmp_path: Path) -> Path:
    """40 images of 480x80; task det: every truth box found plus a false one per image;
    task gt: the truth (score 1) on the first 30 images only."""
    root, names = noise_images(tmp_path / "ds", seed=0)
    predictions, truth, _, _ = labeled_set(n_frames=N_IMAGES)
    frames = frames_from_names(np.array(names))
    lightly = Location(root)
    write_predictions(lightly, PredictionTask("det", SCHEMA, frames, predictions))
    labeled = truth[truth.frame < 30]
    write_predictions(lightly, PredictionTask("gt", SCHEMA, frames[:30], Detections(labeled.frame, labeled.xyxy, np.ones(len(labeled)), labeled.class_id)))
    coco = {
        "images": [{"id": i + 1, "file_name": n, "width": 480, "height": 80} for i, n in enumerate(names[:30])],
        "categories": [{"id": k, "name": v} for k, v in SCHEMA.names.items()],
        "annotations": [{"id": j + 1, "image_id": int(f) + 1, "category_id": int(c), "bbox": [float(v) for v in b]}
                        for j, (f, c, b) in enumerate(zip(labeled.frame, labeled.class_id, labeled.xywh))],
    }  # fmt: skip
    (tmp_path / "gt_coco.json").write_text(json.dumps(coco))
    return root


def test_fit_then_apply(datasource, tmp_path, capsys):
    model = tmp_path / "out" / "labeler.json"
    code, output = run_cli(["autolabel", "fit", str(datasource), "--task", "det", "--truth", "gt", "--output", str(model), "--score-threshold", "0.1"], capsys)
    assert code in (0, None), output
    assert "FD@CD(0.95)" in output and model.exists() and (tmp_path / "out" / "labeler-report.csv").exists()
    out = tmp_path / "apply"
    code, output = run_cli(["autolabel", "apply", str(datasource), "--task", "det", "--model", str(model), "--output", str(out), "--labels-task", "auto"], capsys)
    assert code in (0, None), output
    rows = (out / "split.csv").read_text().splitlines()
    assert rows[0] == "id,status,frame_uncertainty,boxes,uncertain_boxes" and len(rows) == N_IMAGES + 1
    labeled = [r.split(",")[0] for r in rows[1:] if ",labeled," in r]
    coco = json.loads((out / "labels_coco.json").read_text())
    assert sorted(i["file_name"] for i in coco["images"]) == sorted(labeled)
    review = json.loads((out / "review_label_studio.json").read_text())
    assert len(review) == N_IMAGES - len(labeled) > 0
    task = read_predictions(Location(datasource), "auto")
    assert sorted(task.frames.file_name.tolist()) == sorted(labeled)
    assert f"{len(labeled)} of {N_IMAGES} frames auto-labeled" in output


def test_coco_ground_truth_gives_the_same_auto_labeler(datasource, tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    base = ["autolabel", "fit", str(datasource), "--task", "det", "--score-threshold", "0.1"]
    assert run_cli([*base, "--truth", "gt", "--output", str(a)], capsys)[0] in (0, None)
    assert run_cli([*base, "--truth-coco", str(tmp_path / "gt_coco.json"), "--output", str(b)], capsys)[0] in (0, None)
    assert json.loads(a.read_text()) == json.loads(b.read_text())


def test_fit_with_calibration_and_per_class_weights(datasource, tmp_path, capsys):
    model = tmp_path / "m.json"
    args = ["autolabel", "fit", str(datasource), "--task", "det", "--truth", "gt", "--output", str(model), "--score-threshold", "0.1",
            "--calibrate", "isotonic", "--per-class", "--metric", "cd@fd", "--budget", "0.9"]  # fmt: skip
    code, output = run_cli(args, capsys)
    assert code in (0, None), output
    saved = json.loads(model.read_text())
    assert saved["calibrator"]["probs"]["method"] == "isotonic" and saved["metric"] == "cd@fd" and "CD@FD(0.9)" in output


def test_fit_needs_exactly_one_ground_truth(datasource, tmp_path, capsys):
    code, output = run_cli(["autolabel", "fit", str(datasource), "--task", "det", "--output", str(tmp_path / "m.json")], capsys)
    assert code == 2 and "exactly one of --truth" in output


def test_simulate_on_an_npz(tmp_path, capsys):
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 40)
    features = rng.normal(0, 1, (120, 4)) + labels[:, None] * 2.0
    np.savez(tmp_path / "data.npz", features=features, labels=labels)
    out = tmp_path / "sim"
    args = ["simulate", "--data", str(tmp_path / "data.npz"), "--strategies", "random,margin,coreset,weighted_kmeans", "--start", "6",
            "--budget", "6", "--rounds", "3", "--seeds", "2", "--first-seed", "7", "--scaling", "zscore", "--target-labels", "18",
            "--output", str(out)]  # fmt: skip
    code, output = run_cli(args, capsys)
    assert code in (0, None), output
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG"
    curves = (out / "curves.csv").read_text().splitlines()
    assert curves[0] == "strategy,seed,n_labels,accuracy" and {line.split(",")[1] for line in curves[1:]} == {"7", "8"}
    summary = (out / "summary.csv").read_text().splitlines()[0].split(",")
    assert summary[:5] == ["strategy", "final", "final_std", "area", "area_ratio"]
    assert {"median_labels_to_target", "area_vs_reference", "area_vs_reference_se"} <= set(summary)
    paired = (out / "paired.csv").read_text().splitlines()
    assert paired[0] == "strategy,reference,n_labels,difference,se,seeds" and len(paired) == 1 + 3 * 4  # 3 strategies x 4 label counts
    assert "weighted_kmeans" in output and "labels to reach" in output and "area vs margin" in output
    code, output = run_cli(args[:-2] + ["--scaling", "minmax", "--output", str(out)], capsys)
    assert code == 2 and 'did you mean "none"' not in output and "scaling: expected one of none, zscore" in output
    code, output = run_cli(["simulate", "--data", str(tmp_path / "missing.npz")], capsys)
    assert code == 2 and "--data" in output


VIDEO = "street cams/bikes.mp4"  # a space: URLs must encode it
CAR_PHONE = "car&phone+5.png"  # & and + mean something in a URL
COFFEE = "my photos/coffee cup.png"
# score of each sample's one box: with the labeler below (1 - score, scaled by 0.25, threshold
# 1.0), frames 5 and 40 and both stills go to examine (fused 1.6 to 1.8: above 1), frame 20 is labeled
BOX_SCORES = {"street cams/bikes-005-mp4.png": 0.6, "street cams/bikes-020-mp4.png": 0.9, "street cams/bikes-040-mp4.png": 0.55, CAR_PHONE: 0.58, COFFEE: 0.6}
TO_EXAMINE = sorted(set(BOX_SCORES) - {"street cams/bikes-020-mp4.png"})


def write_labeler(path: Path, threshold: float = 1.0, class_weights: dict[int, tuple[float, ...]] | None = None) -> Path:
    """An auto-labeler on 1 - score alone: fused = (1 - score) / 0.25 (times the class's weight
    in `class_weights`), uncertain above `threshold`; boxes scoring 0.5 or less are dropped."""
    from thresher.autolabel import AutoLabeler, Scaling

    scaling = Scaling(("one_minus_score",), (0.0,), (0.25,))
    AutoLabeler(scaling, (1.0,), threshold, score_threshold=0.5, budget=0.95, metric="fd@cd", class_weights=class_weights or {}).save(path)
    return path


@pytest.fixture
def review_datasource(tmp_path: Path, bikes_mp4) -> Path:
    """bikes.mp4 under a folder with a space and two stills with URL-unsafe names, each sample
    with one box of task det (seed-000 style: files for these five samples only)."""
    import shutil

    from tests.conftest import package_file

    root = tmp_path / "ds"
    (root / "street cams").mkdir(parents=True)
    (root / "my photos").mkdir()
    shutil.copyfile(bikes_mp4, root / VIDEO)
    shutil.copyfile(package_file("skimage", "data", "chelsea.png"), root / CAR_PHONE)
    shutil.copyfile(package_file("skimage", "data", "coffee.png"), root / COFFEE)
    task = root / ".lightly" / "predictions" / "det"
    task.mkdir(parents=True)
    (task.parent / "tasks.json").write_text(json.dumps(["det"]))
    (task / "schema.json").write_text(json.dumps({"task_type": "object-detection", "categories": [{"id": 2, "name": "car"}, {"id": 15, "name": "cat"}]}))
    for name, score in BOX_SCORES.items():
        path = task / f"{name.rsplit('.', 1)[0]}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"file_name": name, "predictions": [{"category_id": 2, "bbox": [10, 20, 100, 80], "score": score}]}))
    return root


def video_frame(path: Path, index: int) -> np.ndarray:
    """Frame `index` of a video, decoded in order by PyAV."""
    import av

    with av.open(str(path)) as container:
        for k, frame in enumerate(container.decode(video=0)):
            if k == index:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"{path} has no frame {index}")


def test_apply_hands_off_review_tasks_label_studio_opens(review_datasource, tmp_path, capsys):
    """The review hand-off is a run's: images/ (frames as PNG, stills linked), local-files URLs
    that name those files, a labeling config, prediction scores in [0, 1]."""
    import xml.etree.ElementTree as ET

    from thresher.io.labelstudio_urls import path_of_url

    model = write_labeler(tmp_path / "labeler.json")
    out = tmp_path / "work" / "review"
    code, output = run_cli(["autolabel", "apply", str(review_datasource), "--task", "det", "--model", str(model), "--output", str(out)], capsys)
    assert code in (0, None), output
    assert "1 of 5 frames auto-labeled, 4 to examine" in output
    assert f"LOCAL_FILES_DOCUMENT_ROOT={tmp_path / 'work'}, add a local-files storage with path {out}" in output
    tasks = json.loads((out / "review_label_studio.json").read_text())
    assert sorted(t["data"]["thresher_id"] for t in tasks) == TO_EXAMINE
    written = sorted(str(p.relative_to(out / "images")) for p in (out / "images").rglob("*") if not p.is_dir())
    assert written == TO_EXAMINE  # the frames to examine, and only those
    for task in tasks:
        name, url = task["data"]["thresher_id"], task["data"]["image"]
        assert url.startswith("/data/local-files/?d=review/images/") and " " not in url and "&" not in url.split("?d=")[1]
        target = tmp_path / "work" / path_of_url(url)  # what Label Studio serves below its document root
        assert target == out / "images" / name and target.is_file()
        with Image.open(target) as image:
            pixels = np.asarray(image.convert("RGB"))
        if name.startswith("street cams/"):
            assert not target.is_symlink() and target.read_bytes()[:4] == b"\x89PNG"
            np.testing.assert_array_equal(pixels, video_frame(review_datasource / VIDEO, int(name.split("-")[1])))
        else:
            assert target.is_symlink() and target.read_bytes() == (review_datasource / name).read_bytes()
        assert 0.0 <= task["predictions"][0]["score"] <= 1.0
        assert task["data"]["thresher_uncertainty"] == pytest.approx((1 - BOX_SCORES[name]) / 0.25)
    assert [t["predictions"][0]["score"] for t in tasks] == [1.0, 0.75, 0.5, 0.25]  # most uncertain first
    view = ET.fromstring((out / "label_studio_config.xml").read_text())
    labels = {label.get("value") for label in view.iter("Label")}
    assert labels == {"car", "cat"}
    regions = [r for t in tasks for r in t["predictions"][0]["result"]]
    assert regions and all(r["from_name"] == "label" and r["to_name"] == "image" and r["value"]["rectanglelabels"][0] in labels for r in regions)
    assert {view.find("Image").get("name"), view.find("RectangleLabels").get("name")} == {"image", "label"}


def test_apply_leaves_out_of_the_review_the_frames_of_a_video_cut_since_it_was_read(review_datasource, tmp_path, capsys, monkeypatch):
    """The video is cut after `apply` read its frames and predictions, before it writes images/:
    its frames to examine get no review task naming a missing image, and the command says so."""
    import thresher.autolabel.handoff as handoff

    write_images = handoff.write_images

    def cut_first(*args, **kwargs):  # the video changes between the split and the images
        whole = (review_datasource / VIDEO).read_bytes()
        (review_datasource / VIDEO).write_bytes(whole[: len(whole) // 3])
        return write_images(*args, **kwargs)

    monkeypatch.setattr(handoff, "write_images", cut_first)
    model = write_labeler(tmp_path / "labeler.json")
    out = tmp_path / "work" / "review"
    code, output = run_cli(["autolabel", "apply", str(review_datasource), "--task", "det", "--model", str(model), "--output", str(out)], capsys)
    assert code in (0, None), output
    warnings = [line for line in output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith(
        "warning: street cams/bikes.mp4: 2 frames to examine could not be written into images/ (expected a video whose frames all decode"
    )
    assert warnings[0].endswith("review_label_studio.json leaves them out (split.csv lists them as examine)")
    tasks = json.loads((out / "review_label_studio.json").read_text())
    assert sorted(t["data"]["thresher_id"] for t in tasks) == sorted([CAR_PHONE, COFFEE])
    assert [t["predictions"][0]["score"] for t in tasks] == [1.0, 0.5]  # the priorities of the tasks given
    for task in tasks:
        with Image.open(tmp_path / "work" / path_of_url(task["data"]["image"])) as image:
            image.load()
    assert sorted(str(p.relative_to(out / "images")) for p in (out / "images").rglob("*") if not p.is_dir()) == sorted([CAR_PHONE, COFFEE])


def test_apply_image_root_urls_are_joined_and_encoded_as_the_run_does(review_datasource, tmp_path, capsys):
    from urllib.parse import unquote, urlsplit

    from thresher.io.labelstudio_urls import served_url

    model = write_labeler(tmp_path / "labeler.json")
    out = tmp_path / "review"
    args = ["autolabel", "apply", str(review_datasource), "--task", "det", "--model", str(model), "--output", str(out), "--stills", "copy"]
    code, output = run_cli([*args, "--image-root", "http://host:8081/review"], capsys)  # no trailing "/"
    assert code in (0, None), output
    assert "LOCAL_FILES_DOCUMENT_ROOT" not in output
    urls = {t["data"]["thresher_id"]: t["data"]["image"] for t in json.loads((out / "review_label_studio.json").read_text())}
    assert urls[CAR_PHONE] == "http://host:8081/review/car%26phone%2B5.png"
    assert urls["street cams/bikes-040-mp4.png"] == "http://host:8081/review/street%20cams/bikes-040-mp4.png"
    for name, url in urls.items():
        assert url == served_url("http://host:8081/review/", name)  # the run's own join
        served = unquote(urlsplit(url).path).removeprefix("/review/")  # what an http server serving images/ opens
        assert (out / "images" / served).read_bytes() == ((out / "images" / name).read_bytes())
        with Image.open(out / "images" / served) as image:
            image.load()
    assert not (out / "images" / CAR_PHONE).is_symlink() and (out / "images" / CAR_PHONE).read_bytes() == (review_datasource / CAR_PHONE).read_bytes()


def test_apply_refuses_a_local_files_root_that_does_not_hold_the_output(review_datasource, tmp_path, capsys):
    model = write_labeler(tmp_path / "labeler.json")
    out = tmp_path / "review"
    args = ["autolabel", "apply", str(review_datasource), "--task", "det", "--model", str(model), "--output", str(out)]
    code, output = run_cli([*args, "--local-files-root", str(tmp_path / "elsewhere")], capsys)
    assert code == 2 and f"error: --local-files-root: expected a folder that holds the output folder {out}" in output
    assert not (out / "split.csv").exists()
    code, output = run_cli([*args, "--stills", "hardlink"], capsys)
    assert code == 2 and "error: --stills: expected link or copy, got 'hardlink'" in output


def test_apply_refuses_to_write_the_labels_over_the_prediction_task(datasource, tmp_path, capsys):
    model = tmp_path / "labeler.json"
    assert run_cli(["autolabel", "fit", str(datasource), "--task", "det", "--truth", "gt", "--output", str(model), "--score-threshold", "0.1"], capsys)[0] in (0, None)
    before = read_predictions(Location(datasource), "det").detections
    out = tmp_path / "apply"
    args = ["autolabel", "apply", str(datasource), "--task", "det", "--model", str(model), "--output", str(out), "--labels-task", "det", "--overwrite"]
    code, output = run_cli(args, capsys)
    assert code == 2 and output.strip().startswith("error: --labels-task") and "'det'" in output, output
    assert not out.exists()
    after = read_predictions(Location(datasource), "det").detections
    assert len(after) == len(before) and np.array_equal(after.xyxy, before.xyxy)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--score-threshold", "0.999", "no detection scores above 0.999 (the highest is "),
        ("--score-threshold", "1.5", r"expected a score in [0, 1) (e.g. 0.5), got 1.5"),
        ("--score-threshold", "-0.1", r"expected a score in [0, 1) (e.g. 0.5), got -0.1"),
        ("--budget", "0", r"expected a share in (0, 1] (e.g. 0.95), got 0"),
        ("--budget", "1.5", r"expected a share in (0, 1] (e.g. 0.95), got 1.5"),
    ],
)
def test_fit_refuses_a_score_threshold_or_budget_that_cannot_give_a_threshold(datasource, tmp_path, capsys, option, value, message):
    model = tmp_path / "m.json"
    args = ["autolabel", "fit", str(datasource), "--task", "det", "--truth", "gt", "--output", str(model), "--score-threshold", "0.1", option, value]
    code, output = run_cli(args, capsys)
    lines = output.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and option in lines[0] and message in lines[0], output
    assert not model.exists()


def _coco_with_ids(tmp_path: Path, ids: dict[str, int], name: str) -> Path:
    """The fixture's COCO ground truth with each category renumbered (and renamed) by `ids`
    {old name: new id}; a name missing from `ids` keeps its id."""
    coco = json.loads((tmp_path / "gt_coco.json").read_text())
    old = {c["id"]: c["name"] for c in coco["categories"]}
    renamed = {"dog": "hound"} if name == "renamed" else {}
    coco["categories"] = [{"id": ids.get(n, k), "name": renamed.get(n, n)} for k, n in old.items()]
    for annotation in coco["annotations"]:
        annotation["category_id"] = ids.get(old[annotation["category_id"]], annotation["category_id"])
    path = tmp_path / f"gt_{name}.json"
    path.write_text(json.dumps(coco))
    return path


def test_coco_ground_truth_meets_the_predictions_by_category_name_not_id(datasource, tmp_path, capsys):
    """person, car, dog are 0, 1, 2 in the task; a COCO file numbering them 7, 3, 5 (1-based, swapped,
    with gaps) is the same ground truth and gives the same auto-labeler."""
    base = ["autolabel", "fit", str(datasource), "--task", "det", "--score-threshold", "0.1"]
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert run_cli([*base, "--truth", "gt", "--output", str(a)], capsys)[0] in (0, None)
    renumbered = _coco_with_ids(tmp_path, {"person": 7, "car": 3, "dog": 5}, "renumbered")
    code, output = run_cli([*base, "--truth-coco", str(renumbered), "--output", str(b)], capsys)
    assert code in (0, None), output
    assert json.loads(a.read_text()) == json.loads(b.read_text())


def test_coco_ground_truth_with_a_category_name_the_task_lacks_is_refused(datasource, tmp_path, capsys):
    renamed = _coco_with_ids(tmp_path, {}, "renamed")
    model = tmp_path / "m.json"
    code, output = run_cli(["autolabel", "fit", str(datasource), "--task", "det", "--truth-coco", str(renamed), "--output", str(model)], capsys)
    lines = output.strip().splitlines()
    assert code == 1 and len(lines) == 1 and not model.exists(), output
    assert lines[0] == (
        f"error: {renamed}: categories: expected the prediction task's category names ['car', 'dog', 'person'], got boxes of ['hound'] "
        "(ground-truth categories ['car', 'hound', 'person']): rename them to the task's names"
    )


def test_a_task_with_spreads_over_passes_fuses_mcbox_and_mcclass(tmp_path, capsys):
    """A task whose boxes carry box_spread and class_spread (as `thresher fuse` and `predict
    --tta` write them): fit fuses mcbox and mcclass, apply computes them the same way."""
    root, names = noise_images(tmp_path / "ds", seed=1)
    predictions, truth, signal, _ = labeled_set(n_frames=N_IMAGES)
    spread = np.clip(signal, 0, None)
    with_spreads = Detections(
        predictions.frame, predictions.xyxy, predictions.score, predictions.class_id, probs=predictions.probs,
        box_spread=np.repeat(spread[:, None], 4, axis=1), class_spread=spread,
    )  # fmt: skip
    frames = frames_from_names(np.array(names))
    lightly = Location(root)
    write_predictions(lightly, PredictionTask("tta", SCHEMA, frames, with_spreads))
    write_predictions(lightly, PredictionTask("gt", SCHEMA, frames, Detections(truth.frame, truth.xyxy, np.ones(len(truth)), truth.class_id)))
    model = tmp_path / "labeler.json"
    code, output = run_cli(["autolabel", "fit", str(root), "--task", "tta", "--truth", "gt", "--output", str(model), "--uncertainties", "mcbox,mcclass"], capsys)
    assert code in (0, None), output
    assert json.loads(model.read_text())["uncertainties"] == ["mcbox", "mcclass"]
    code, output = run_cli(["autolabel", "apply", str(root), "--task", "tta", "--model", str(model), "--output", str(tmp_path / "out")], capsys)
    assert code in (0, None), output
    assert len((tmp_path / "out" / "split.csv").read_text().splitlines()) == N_IMAGES + 1
