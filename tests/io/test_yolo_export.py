import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from thresher import Detections, Frames
from thresher.io.lightly_predictions import PredictionTask
from thresher.io.lightly_schema import PredictionSchema
from thresher.io.yolo import yolo_to_task
from thresher.io.yolo_export import yolo_dataset, yolo_files

FRAMES = Frames.build(["img/a.jpg", "b.png"], width=[640, 100], height=[480, 50])
TASK = PredictionTask(
    "gt",
    PredictionSchema.detection({3: "car", 7: "bus"}),
    FRAMES,
    Detections(frame=[0, 0], xyxy=[[240, 120, 400, 360], [10, 20, 30, 40]], score=[1.0, 1.0], class_id=[7, 3]),
)


def ultralytics_training_set(data_yaml: Path) -> list[tuple[Path, Path]]:
    """(image, label file) of each training image, resolved as Ultralytics 8.3 does: `path` (a
    relative one below its datasets folder, which must not be used here), `train` joined to it,
    a list file's `./` lines relative to the list's folder, and the label file at the image path
    with its last `/images/` replaced by `/labels/` and its extension by `.txt`
    (ultralytics/data/utils.py check_det_dataset, img2label_paths; data/base.py get_img_files)."""
    data = yaml.safe_load(data_yaml.read_text())
    assert {"train", "val"} <= set(data) and len(data["names"]) == data["nc"], "check_det_dataset refuses it"
    root = Path(data.get("path") or data_yaml.parent)
    assert root.is_absolute() or root.exists(), "a relative path is read below Ultralytics' datasets folder"
    listing = (root / data["train"]).resolve()
    assert (root / data["val"]).resolve().exists() and listing.is_file()
    lines = listing.read_text(encoding="utf-8").strip().splitlines()
    parent = str(listing.parent) + os.sep
    images = [x.replace("./", parent) if x.startswith("./") else x for x in lines]
    labels = [f"{os.sep}labels{os.sep}".join(x.rsplit(f"{os.sep}images{os.sep}", 1)).rsplit(".", 1)[0] + ".txt" for x in images]
    return [(Path(i), Path(lb)) for i, lb in zip(images, labels)]


def test_yolo_files_round_trip_through_the_yolo_reader():
    files = yolo_files(TASK)
    assert files["labels/img/a.txt"] == "1 0.500000 0.500000 0.250000 0.500000\n0 0.031250 0.062500 0.031250 0.041667\n"
    assert files["labels/b.txt"] == ""  # labeled, nothing on it
    labels = {k.removeprefix("labels/"): v for k, v in files.items() if k.startswith("labels/")}
    back = yolo_to_task(labels, FRAMES, ["car", "bus"], task="back")
    np.testing.assert_allclose(back.detections.xyxy, [[240, 120, 400, 360], [10, 20, 30, 40]], atol=0.01)
    assert back.detections.class_id.tolist() == [1, 0]


def test_the_dataset_lists_only_labeled_images_where_ultralytics_finds_their_labels(tmp_path):
    folder = tmp_path / "run"
    for name in ["img/a.jpg", "b.png", "never labeled.png"]:
        (folder / "images" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "images" / name).write_bytes(b"")
    dataset = yolo_dataset(TASK, folder)
    for name, text in dataset.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    assert yaml.safe_load(dataset.files["data.yaml"]) == {"path": str(folder), "train": "train.txt", "val": "train.txt", "nc": 2, "names": ["car", "bus"]}
    pairs = ultralytics_training_set(folder / "data.yaml")
    assert sorted(str(image.relative_to(folder / "images")) for image, _ in pairs) == ["b.png", "img/a.jpg"]
    assert all(image.is_file() and label.read_text() == dataset.files[str(label.relative_to(folder))] for image, label in pairs)
    assert dataset.no_image == [] and dataset.unpaired == []


@pytest.mark.parametrize("name", ["images/a.jpg", "shots/images/a.jpg", "v1./a.jpg", "a.jpg "])
def test_a_name_ultralytics_would_pair_with_other_labels_is_left_out(tmp_path, name):
    task = PredictionTask("gt", TASK.schema, Frames.build([name, "b.png"], width=10, height=10), Detections.empty())
    for each in (name, "b.png"):
        (tmp_path / "images" / each).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "images" / each).write_bytes(b"")
    dataset = yolo_dataset(task, tmp_path)
    assert dataset.listed == ["b.png"] and dataset.unpaired == [name] and dataset.files["train.txt"] == "./images/b.png\n"


def test_a_sample_without_an_image_is_left_out(tmp_path):
    dataset = yolo_dataset(TASK, tmp_path)
    assert dataset.listed == [] and dataset.no_image == ["img/a.jpg", "b.png"] and dataset.files["train.txt"] == ""
