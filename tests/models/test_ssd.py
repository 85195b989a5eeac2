"""The built-in SSD-MobileNet-v2 COCO detector and embedder on real images (docs/data.md)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from thresher.errors import UsageError
from thresher.models.coco import COCO_TF_OD_NAMES, COCO_UNUSED_IDS
from thresher.models.detector import Detector
from thresher.models.ssd import (
    BOX_ENCODINGS,
    KEEP_TOP_K,
    MODEL_CONFIDENCE,
    NMS_IOU,
    PRIORS,
    SCORES,
    TOP_K,
    SSDMobileNetV2,
    decode_boxes,
    detection_output_params,
    model_files,
    pooled_embeddings,
)

pytestmark = pytest.mark.slow


def names_of(detector, detections, min_score=0.0):
    keep = detections.score > min_score
    return {detector.categories[int(c)] for c in detections.class_id[keep]}


def argmax_class(detector, detections):
    return np.array(list(detector.categories))[detections.probs.argmax(axis=1)]


def test_postprocessing_constants_are_the_graphs():
    params = detection_output_params(model_files()[1])
    assert params["nms_threshold"] == pytest.approx(NMS_IOU)
    assert params["top_k"] == TOP_K and params["keep_top_k"] == KEEP_TOP_K
    assert params["confidence_threshold"] == pytest.approx(MODEL_CONFIDENCE)
    assert params["num_classes"] == 91 and params["background_label_id"] == 0


def test_decode_boxes_by_hand():
    # prior centre (0.5, 0.4), size (0.2, 0.4); offsets x 1, y -1, w ln(2)/0.2, h 0
    priors = np.array([[0.4, 0.2, 0.6, 0.6]])
    variances = np.array([[0.1, 0.1, 0.2, 0.2]])
    encodings = np.array([[1.0, -1.0, np.log(2) / 0.2, 0.0]])
    # centre x 0.5 + 0.1*1*0.2 = 0.52, y 0.4 - 0.1*0.4 = 0.36; width 0.4, height 0.4
    assert decode_boxes(encodings, priors, variances) == pytest.approx(np.array([[0.32, 0.16, 0.72, 0.56]]))


def test_decoding_reproduces_the_nets_detection_out(chelsea, grace_hopper, coffee, bikes_frames):
    images = [chelsea, grace_hopper, coffee, bikes_frames[3], bikes_frames[14]]
    exact = SSDMobileNetV2(confidence=MODEL_CONFIDENCE, multi_label=True)
    outputs = exact.raw_outputs(images, ["detection_out", SCORES, BOX_ENCODINGS, PRIORS])
    ours = exact.decode(dict(zip([SCORES, BOX_ENCODINGS, PRIORS], outputs[1:])), [image.shape[:2] for image in images])
    rows = outputs[0].reshape(-1, 7)
    rows = rows[rows[:, 2] > 0]  # the net pads its output with zero rows
    frame = rows[:, 0].astype(int)
    sizes = np.array([image.shape[:2] for image in images], float)[frame]
    scale = np.stack([sizes[:, 1], sizes[:, 0], sizes[:, 1], sizes[:, 0]], axis=1)
    theirs = np.clip(rows[:, 3:] * scale, 0, scale)  # thresher clips boxes to the image
    a = np.lexsort((-rows[:, 2], rows[:, 1], frame))
    b = np.lexsort((-ours.score, ours.class_id, ours.frame))
    assert len(rows) == len(ours) > 200
    assert ours.frame[b].tolist() == frame[a].tolist()
    assert ours.class_id[b].tolist() == rows[a, 1].astype(int).tolist()
    np.testing.assert_allclose(ours.score[b], rows[a, 2], atol=1e-6)
    np.testing.assert_allclose(ours.xyxy[b], theirs[a], atol=1e-3)  # pixels; float32 decode in OpenCV
    assert not np.isin(ours.class_id, COCO_UNUSED_IDS).any()


def test_cat_on_chelsea(ssd, chelsea):
    dets = ssd.predict([chelsea])
    cats = dets[dets.class_id == 17]
    assert len(cats) and cats.score.max() > 0.8


def test_person_and_tie_on_grace_hopper(ssd, grace_hopper):
    dets = ssd.predict([grace_hopper])
    assert {"person", "tie"} <= names_of(ssd, dets, min_score=0.5)


def test_cars_in_most_frames_of_bikes(ssd, bikes_frames, bikes_predictions):
    dets, _ = bikes_predictions
    frames_with_car = np.unique(dets.frame[dets.class_id == 3])
    assert len(frames_with_car) > len(bikes_frames) / 2


def test_every_kept_box_has_its_argmax_at_its_class(ssd, chelsea, grace_hopper, coffee, bikes_predictions):
    for dets in (bikes_predictions[0], ssd.predict([chelsea, grace_hopper, coffee])):
        assert len(dets) > 10
        assert (argmax_class(ssd, dets) == dets.class_id).all()
        assert dets.probs.shape[1] == 80 and list(ssd.categories) == sorted(COCO_TF_OD_NAMES)
        np.testing.assert_allclose(dets.probs.sum(axis=1), 1.0, atol=1e-12)


def test_multi_label_keeps_a_second_class_on_the_same_anchor(coffee):
    """Coffee: the cup's anchor also scores bowl above 0.5, kept by TF-OD's per-class NMS only."""
    dets = SSDMobileNetV2(multi_label=True).predict([coffee])
    assert (argmax_class(SSDMobileNetV2(), dets) != dets.class_id).any()


def test_boxes_are_pixels_inside_each_image(ssd, chelsea, grace_hopper):
    dets = ssd.predict([chelsea, grace_hopper])
    for frame, image in enumerate([chelsea, grace_hopper]):
        xyxy = dets.xyxy[dets.frame == frame]
        assert (xyxy >= 0).all() and (xyxy[:, [0, 2]] <= image.shape[1]).all() and (xyxy[:, [1, 3]] <= image.shape[0]).all()
    cat = dets[(dets.frame == 0) & (dets.class_id == 17)].xyxy[0]
    assert cat[2] - cat[0] > 0.8 * chelsea.shape[1]  # the cat fills the picture


def test_class_filter_keeps_the_same_boxes_renormalized(ssd, bikes_frames, bikes_predictions):
    everything, _ = bikes_predictions
    filtered = SSDMobileNetV2(classes=["truck", "car"]).predict(bikes_frames[3:11])
    assert SSDMobileNetV2(classes=["truck", "car"]).categories == {3: "car", 8: "truck"}
    expected = everything[np.isin(everything.class_id, [3, 8]) & (everything.frame >= 3) & (everything.frame < 11)]
    assert len(filtered) == len(expected) > 20
    assert (filtered.frame + 3).tolist() == expected.frame.tolist()
    np.testing.assert_allclose(filtered.xyxy, expected.xyxy)
    np.testing.assert_allclose(filtered.score, expected.score)
    columns = [list(ssd.categories).index(3), list(ssd.categories).index(8)]
    sub = expected.probs[:, columns]
    np.testing.assert_allclose(filtered.probs, sub / sub.sum(axis=1, keepdims=True), rtol=1e-6)


def test_higher_confidence_keeps_a_subset(chelsea, coffee):
    low = SSDMobileNetV2(confidence=0.1).predict([chelsea, coffee])
    high = SSDMobileNetV2(confidence=0.5).predict([chelsea, coffee])
    assert 0 < len(high) < len(low)
    assert (high.score > 0.5).all()
    low_keys = {(f, c, round(s, 6)) for f, c, s in zip(low.frame, low.class_id, low.score)}
    assert {(f, c, round(s, 6)) for f, c, s in zip(high.frame, high.class_id, high.score)} <= low_keys


def test_batch_size_does_not_change_results(chelsea, grace_hopper, coffee):
    images = [chelsea, grace_hopper, coffee]
    one = SSDMobileNetV2(batch_size=1).predict(images)
    three = SSDMobileNetV2(batch_size=3).predict(images)
    assert one.frame.tolist() == three.frame.tolist() and one.class_id.tolist() == three.class_id.tolist()
    np.testing.assert_allclose(one.xyxy, three.xyxy, atol=1e-2)
    np.testing.assert_allclose(one.score, three.score, atol=1e-4)


def test_embeddings_come_from_the_same_forward_pass(ssd, bikes_frames, bikes_predictions):
    dets, vectors = bikes_predictions
    assert vectors.shape == (len(bikes_frames), 1280) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(ssd.embed(bikes_frames[:4]), vectors[:4], atol=1e-5)
    assert len(ssd.predict(bikes_frames[:4])) == int((dets.frame < 4).sum())


def test_two_crops_of_one_image_are_closer_than_two_images(ssd, chelsea, grace_hopper, coffee):
    crops = [chelsea[:, :300], chelsea[:, 150:], grace_hopper[:450], grace_hopper[150:], coffee[:, :450], coffee[:, 150:]]
    v = ssd.embed(crops)
    same = [v[0] @ v[1], v[2] @ v[3], v[4] @ v[5]]
    different = [v[i] @ v[j] for i in range(0, 6, 2) for j in range(0, 6, 2) if i < j]
    assert min(same) > max(different) + 0.1


def test_pooled_embeddings_by_hand():
    features = np.zeros((2, 2, 2, 2), np.float32)
    features[0, 0] = 3.0  # mean 3 on channel 0
    features[0, 1, 0, 0] = 16.0  # mean 4 on channel 1
    np.testing.assert_allclose(pooled_embeddings(features), [[0.6, 0.8], [0.0, 0.0]], rtol=1e-7)


def test_protocol_pickling_and_empty_input(ssd, chelsea):
    assert isinstance(ssd, Detector)
    ssd.predict([chelsea])  # the net is loaded now
    copy = pickle.loads(pickle.dumps(ssd))
    assert copy._net is None and copy.categories == ssd.categories
    dets, vectors = ssd.predict_and_embed([])
    assert len(dets) == 0 and dets.probs.shape == (0, 80) and vectors.shape == (0, 1280)
    nothing = SSDMobileNetV2(confidence=0.9).predict([np.zeros((50, 60, 3), np.uint8)])
    assert len(nothing) == 0 and nothing.probs.shape == (0, 80)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"classes": ["cars"]}, 'did you mean "car"'),
        ({"classes": ["motorbike"]}, "unknown class"),
        ({"confidence": 1.5}, "confidence"),
        ({"batch_size": 0}, "batch_size"),
        ({"nms_iou": 1.2}, "nms_iou"),
        ({"top_k": 0}, "top_k: expected an integer >= 1"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(UsageError, match=match):
        SSDMobileNetV2(**kwargs)
