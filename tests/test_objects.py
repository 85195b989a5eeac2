import numpy as np
import pytest

from thresher import Detections, Frames, UsageError
from thresher.objects import box_index_in_frame, crop_boxes, crop_frames, crop_name, cut


def frames():
    return Frames.build(["img/a.jpg", "v-0-mp4.png"], kind=["image", "frame"], video=["img/a.jpg", "v.mp4"], width=[100, 50], height=[80, 40])


def test_padding_adds_a_fraction_of_width_and_height():
    dets = Detections(frame=[0], xyxy=[[40, 30, 60, 50]], score=[0.9], class_id=[1])
    # 20x20 box, padding 0.1 adds 2 px to each side's total: 1 px on each side
    assert crop_boxes(frames(), dets, 0.1).tolist() == [[39, 29, 61, 51]]
    assert crop_boxes(frames(), dets, 0.0).tolist() == [[40, 30, 60, 50]]


def test_crops_are_clipped_to_the_image_and_at_least_one_pixel():
    dets = Detections(frame=[1, 1], xyxy=[[45, 35, 60, 45], [10.2, 10.2, 10.4, 10.4]], score=[0.5, 0.5], class_id=[0, 0])
    assert crop_boxes(frames(), dets, 0.5).tolist() == [[41, 32, 50, 40], [10, 10, 11, 11]]


def test_crop_frames_names_and_parents():
    dets = Detections(frame=[1, 0, 1], xyxy=[[0, 0, 10, 10], [1, 1, 5, 5], [2, 2, 8, 9]], score=[0.5] * 3, class_id=[0] * 3)
    assert box_index_in_frame(dets).tolist() == [0, 0, 1]
    crops, boxes = crop_frames(frames(), dets)
    assert crops.id.tolist() == ["v-0-mp4-0-png.png", "img/a-0-jpg.png", "v-0-mp4-1-png.png"]
    assert crops.parent_id.tolist() == ["v-0-mp4.png", "img/a.jpg", "v-0-mp4.png"]
    assert (crops.kind == "crop").all() and crops.width.tolist() == [10, 4, 6]
    image = np.arange(40 * 50 * 3, dtype=np.uint8).reshape(40, 50, 3)
    assert cut(image, boxes[[2]])[0].shape == (7, 6, 3)


def test_negative_padding_is_refused():
    with pytest.raises(UsageError, match="padding"):
        crop_boxes(frames(), Detections.empty(), -0.1)


def test_crop_name():
    assert crop_name("img/a.jpg", 3) == "img/a-3-jpg.png"
