from thresher import Detections, Frames
from thresher.io.labelstudio import label_studio_tasks


def test_one_prediction_per_task_with_percent_boxes_and_imputed_ones():
    frames = Frames.build(["a.jpg", "b.jpg"], width=[200, 100], height=[100, 50])
    dets = Detections(frame=[1, 1, 0], xyxy=[[10, 5, 30, 25], [0, 0, 100, 50], [50, 25, 150, 75]], score=[0.9, 0.4, 0.7], class_id=[3, 1, 3])
    imputed = Detections(frame=[1], xyxy=[[20, 10, 40, 20]], score=[0.5], class_id=[3])
    tasks = label_studio_tasks(frames, [1, 0], ["/data/b.jpg", "/data/a.jpg"], dets, {1: "person", 3: "car"}, priority=[2.0, 1.0], imputed=imputed, task_name="det")
    assert [t["data"] for t in tasks] == [
        {"image": "/data/b.jpg", "thresher_id": "b.jpg", "thresher_task": "det"},
        {"image": "/data/a.jpg", "thresher_id": "a.jpg", "thresher_task": "det"},
    ]
    assert all("meta" not in t for t in tasks)  # frame level: no selected objects
    first = tasks[0]["predictions"]
    assert len(first) == 1 and first[0]["score"] == 2.0
    boxes = first[0]["result"]
    assert len(boxes) == 3
    assert boxes[0]["value"] == {"x": 10.0, "y": 10.0, "width": 20.0, "height": 40.0, "rotation": 0, "rectanglelabels": ["car"]}
    assert (boxes[0]["original_width"], boxes[0]["original_height"], boxes[0]["score"]) == (100, 50, 0.9)
    assert boxes[1]["value"]["rectanglelabels"] == ["person"] and boxes[1]["value"]["width"] == 100.0
    assert [b["meta"] for b in boxes] == [{"box": 0, "imputed": False}, {"box": 1, "imputed": False}, {"imputed": True, "text": ["imputed by a model assertion"]}]
    assert len({b["id"] for b in boxes}) == 3
    assert tasks[1]["predictions"][0]["result"][0]["value"]["x"] == 25.0


def test_object_level_tasks_mark_the_selected_boxes():
    frames = Frames.build(["a.jpg"], width=[200], height=[100])
    dets = Detections(frame=[0, 0, 0], xyxy=[[10, 5, 30, 25], [0, 0, 100, 50], [50, 25, 150, 75]], score=[0.9, 0.4, 0.7], class_id=[3, 1, 3])
    selected = {0: [("a-2-jpg.png", 2), ("a-0-jpg.png", 0)]}
    [task] = label_studio_tasks(frames, [0], ["u"], dets, {1: "person", 3: "car"}, selected=selected)
    assert task["meta"] == {"selected_objects": ["a-2-jpg.png", "a-0-jpg.png"], "selected_boxes": [2, 0]}
    metas = [r["meta"] for r in task["predictions"][0]["result"]]
    assert [m["selected"] for m in metas] == [True, False, True]
    assert metas[0]["text"] == ["selected object"] and "text" not in metas[1]


def test_per_box_uncertainty_travels_in_the_region_meta():
    frames = Frames.build(["a.jpg"], width=[200], height=[100])
    dets = Detections(
        frame=[0, 0],
        xyxy=[[10, 5, 30, 25], [50, 25, 150, 75]],
        score=[0.9, 0.7],
        class_id=[3, 3],
        box_spread=[[1.5, 0.5, 2.0, 0.25], [0, 0, 0, 0]],
        class_spread=[0.125, 0.0],
    )
    [task] = label_studio_tasks(frames, [0], ["u"], dets, {3: "car"})
    metas = [r["meta"] for r in task["predictions"][0]["result"]]
    assert metas == [
        {"box": 0, "imputed": False, "box_spread": [1.5, 0.5, 2.0, 0.25], "class_spread": 0.125},
        {"box": 1, "imputed": False, "box_spread": [0.0, 0.0, 0.0, 0.0], "class_spread": 0.0},
    ]
