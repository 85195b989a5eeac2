from thresher import Detections, Frames
from thresher.io.labelstudio import label_studio_tasks


def test_one_prediction_per_task_with_percent_boxes_and_imputed_ones():
    frames = Frames.build(["a.jpg", "b.jpg"], width=[200, 100], height=[100, 50])
    dets = Detections(frame=[1, 1, 0], xyxy=[[10, 5, 30, 25], [0, 0, 100, 50], [50, 25, 150, 75]], score=[0.9, 0.4, 0.7], class_id=[3, 1, 3])
    imputed = Detections(frame=[1], xyxy=[[20, 10, 40, 20]], score=[0.5], class_id=[3])
    tasks = label_studio_tasks(frames, [1, 0], ["/data/b.jpg", "/data/a.jpg"], dets, {1: "person", 3: "car"}, priority=[2.0, 1.0], imputed=imputed)
    assert [t["data"] for t in tasks] == [{"image": "/data/b.jpg", "thresher_id": "b.jpg"}, {"image": "/data/a.jpg", "thresher_id": "a.jpg"}]
    first = tasks[0]["predictions"]
    assert len(first) == 1 and first[0]["score"] == 2.0
    boxes = first[0]["result"]
    assert len(boxes) == 3
    assert boxes[0]["value"] == {"x": 10.0, "y": 10.0, "width": 20.0, "height": 40.0, "rotation": 0, "rectanglelabels": ["car"]}
    assert (boxes[0]["original_width"], boxes[0]["original_height"], boxes[0]["score"]) == (100, 50, 0.9)
    assert boxes[1]["value"]["rectanglelabels"] == ["person"] and boxes[1]["value"]["width"] == 100.0
    assert boxes[2]["meta"] == {"text": ["imputed by a model assertion"]}
    assert len({b["id"] for b in boxes}) == 3
    assert tasks[1]["predictions"][0]["result"][0]["value"]["x"] == 25.0
