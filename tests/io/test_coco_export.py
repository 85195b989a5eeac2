from thresher import Detections, Frames
from thresher.io.coco_export import coco_dataset


def test_coco_export_of_chosen_rows_in_pick_order():
    frames = Frames.build(["a.jpg", "v-1-mp4.png", "c.jpg"], width=[100, 50, 10], height=[80, 40, 10])
    dets = Detections(frame=[0, 1, 2, 1], xyxy=[[1, 2, 11, 22], [0, 0, 5, 5], [0, 0, 1, 1], [2, 2, 4, 8]], score=[0.9, 0.5, 0.1, 0.3], class_id=[3, 1, 3, 3])
    coco = coco_dataset(frames, [1, 0], dets, {3: "car", 1: "person"})
    assert coco["images"] == [{"id": 1, "file_name": "v-1-mp4.png", "width": 50, "height": 40}, {"id": 2, "file_name": "a.jpg", "width": 100, "height": 80}]
    assert [(a["image_id"], a["category_id"], a["bbox"]) for a in coco["annotations"]] == [(1, 1, [0, 0, 5, 5]), (1, 3, [2, 2, 2, 6]), (2, 3, [1, 2, 10, 20])]
    assert coco["annotations"][2]["area"] == 200.0 and [a["id"] for a in coco["annotations"]] == [1, 2, 3]
    assert coco["categories"] == [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}]


def test_imputed_boxes_follow_each_image_own_boxes_and_object_marks():
    frames = Frames.build(["a.jpg", "b.jpg"], width=[100, 50], height=[80, 40])
    dets = Detections(frame=[0, 1], xyxy=[[1, 2, 11, 22], [0, 0, 5, 5]], score=[0.9, 0.5], class_id=[3, 3])
    imputed = Detections(frame=[0, 1], xyxy=[[5, 5, 15, 15], [1, 1, 2, 2]], score=[0.4, 0.3], class_id=[3, 3])
    coco = coco_dataset(frames, [1, 0], dets, {3: "car"}, imputed=imputed, selected=[True, False])
    got = [(a["id"], a["image_id"], a["bbox"], a["imputed"], a["selected"]) for a in coco["annotations"]]
    assert got == [
        (1, 1, [0, 0, 5, 5], False, False),
        (2, 1, [1, 1, 1, 1], True, False),
        (3, 2, [1, 2, 10, 20], False, True),
        (4, 2, [5, 5, 10, 10], True, False),
    ]
