import numpy as np
import yaml

from thresher import Detections, Frames
from thresher.io.lightly_predictions import PredictionTask
from thresher.io.lightly_schema import PredictionSchema
from thresher.io.yolo import yolo_to_task
from thresher.io.yolo_export import yolo_files


def test_yolo_files_round_trip_through_the_yolo_reader():
    frames = Frames.build(["img/a.jpg", "b.png"], width=[640, 100], height=[480, 50])
    dets = Detections(frame=[0, 0], xyxy=[[240, 120, 400, 360], [10, 20, 30, 40]], score=[1.0, 1.0], class_id=[7, 3])
    task = PredictionTask("gt", PredictionSchema.detection({3: "car", 7: "bus"}), frames, dets)
    files = yolo_files(task)
    assert files["labels/img/a.txt"] == "1 0.500000 0.500000 0.250000 0.500000\n0 0.031250 0.062500 0.031250 0.041667\n"
    assert files["labels/b.txt"] == ""  # labeled, nothing on it
    assert yaml.safe_load(files["data.yaml"]) == {"nc": 2, "names": ["car", "bus"]}
    labels = {k.removeprefix("labels/"): v for k, v in files.items() if k.startswith("labels/")}
    back = yolo_to_task(labels, frames, yaml.safe_load(files["data.yaml"])["names"], task="back")
    np.testing.assert_allclose(back.detections.xyxy, [[240, 120, 400, 360], [10, 20, 30, 40]], atol=0.01)
    assert back.detections.class_id.tolist() == [1, 0]
