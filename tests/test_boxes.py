"""thresher.boxes, the one module of box math: conversions, sizes, IoU, containment, clipping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from thresher import boxes
from thresher.assertions._exact import seed_iou

coordinate = st.floats(min_value=-1000, max_value=1000, allow_nan=False, width=64)


@st.composite
def xyxy(draw, n: int = 6) -> np.ndarray:
    """(n, 4) ordered boxes, some of zero width or height."""
    corners = draw(arrays(np.float64, (n, 4), elements=coordinate))
    return np.concatenate([np.minimum(corners[:, :2], corners[:, 2:]), np.maximum(corners[:, :2], corners[:, 2:])], axis=1)


def iou_by_hand(a, b) -> float:
    """The textbook formula for one pair, in plain Python."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@settings(max_examples=200, deadline=None)
@given(xyxy(), xyxy())
def test_iou_is_the_textbook_formula_pair_by_pair_and_as_a_matrix(a, b):
    matrix = boxes.iou_matrix(a, b)
    expected = np.array([[iou_by_hand(p, q) for q in b.tolist()] for p in a.tolist()])
    np.testing.assert_allclose(matrix, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(boxes.iou(a, b), np.diag(expected), rtol=1e-12, atol=1e-12)
    assert ((matrix >= 0) & (matrix <= 1 + 1e-12)).all()
    np.testing.assert_array_equal(boxes.iou_matrix(b, a), matrix.T)


@settings(max_examples=200, deadline=None)
@given(xyxy())
def test_a_box_with_an_area_overlaps_itself_fully(a):
    has_area = boxes.area(a) > 0
    np.testing.assert_allclose(boxes.iou(a, a)[has_area], 1.0)
    assert (boxes.iou(a, a)[~has_area] == 0).all()  # an empty union gives 0, never NaN
    assert (boxes.contained(a, a) == has_area).all()


@settings(max_examples=200, deadline=None)
@given(xyxy(), xyxy(), st.floats(0, 1))
def test_containment_is_the_share_of_the_first_boxs_area_inside_the_second(a, b, share):
    inside = boxes.contained(a, b, share)
    own = boxes.area(a)
    expected = (boxes.intersection(a, b) >= share * own) & (own > 0)
    np.testing.assert_array_equal(inside, expected)
    assert (boxes.intersection(a, b) <= np.minimum(own, boxes.area(b)) + 1e-9).all()


@settings(max_examples=200, deadline=None)
@given(xyxy())
def test_conversions_round_trip(a):
    np.testing.assert_allclose(boxes.cxcywh_to_xyxy(boxes.xyxy_to_cxcywh(a)), a, atol=1e-9)
    np.testing.assert_allclose(boxes.xywh_to_xyxy(boxes.xyxy_to_xywh(a)), a, atol=1e-9)
    np.testing.assert_array_equal(boxes.wh(a), boxes.xyxy_to_xywh(a)[:, 2:])
    np.testing.assert_array_equal(boxes.widths(a), boxes.wh(a)[:, 0])
    np.testing.assert_array_equal(boxes.xyxy_to_cxcywh(a)[:, 2:], boxes.wh(a))
    assert boxes.ordered(a).all()
    np.testing.assert_allclose(boxes.area(a), np.prod(boxes.wh(a), axis=1))


def test_float32_model_outputs_stay_float32_and_integers_become_float64():
    out = np.array([[[0.5, 0.5, 0.2, 0.4]]], np.float32)  # (images, anchors, 4)
    assert boxes.cxcywh_to_xyxy(out).dtype == np.float32 and boxes.cxcywh_to_xyxy(out).shape == (1, 1, 4)
    assert boxes.xyxy_to_cxcywh(out).dtype == np.float32
    assert boxes.wh(np.array([[1, 2, 4, 8]])).dtype == np.float64


@settings(max_examples=200, deadline=None)
@given(xyxy(), st.integers(1, 4000), st.integers(1, 4000))
def test_clipped_and_fitted_boxes_lie_in_their_image(a, width, height):
    w, h = np.full(len(a), float(width)), np.full(len(a), float(height))
    clipped = boxes.clip(a, w, h)
    assert (clipped >= 0).all() and (clipped[:, [0, 2]] <= width).all() and (clipped[:, [1, 3]] <= height).all()
    np.testing.assert_array_equal(boxes.clip(a, width, height), clipped)  # one size or one per box
    fitted = boxes.fit(a, w, h, 1.0)
    assert (boxes.wh(fitted) >= 1.0 - 1e-9).all() and boxes.ordered(fitted).all()
    assert (fitted >= 0).all() and (fitted[:, [0, 2]] <= width + 1e-9).all() and (fitted[:, [1, 3]] <= height + 1e-9).all()
    np.testing.assert_array_equal(boxes.fit(fitted, w, h, 1.0, 1e-9), fitted)  # fitting twice changes nothing
    big = boxes.wh(clipped).min(axis=1) >= 1.0
    np.testing.assert_array_equal(fitted[big], clipped[big])  # a box large enough is only clipped


@settings(max_examples=100, deadline=None)
@given(xyxy(), st.integers(1, 4000))
def test_flipping_twice_gives_the_boxes_back_and_keeps_their_size(a, width):
    flipped = boxes.flip_x(a, width)
    assert boxes.ordered(flipped).all()
    np.testing.assert_allclose(boxes.wh(flipped), boxes.wh(a), atol=1e-9)
    np.testing.assert_allclose(boxes.flip_x(flipped, width), a, atol=1e-9)


def test_scale_takes_one_factor_per_box():
    normalized = np.array([[0.5, 0.5, 1.0, 1.0], [0.0, 0.25, 0.5, 0.5]])
    pixels = boxes.scale(normalized, np.array([640, 100]), np.array([480, 200]))
    np.testing.assert_array_equal(pixels, [[320, 240, 640, 480], [0, 50, 50, 100]])


def test_outside_is_a_box_that_neither_overlaps_nor_touches_its_image():
    candidates = np.array([[10, 0, 12, 2], [10.5, 0, 12, 2], [-3, -3, 0, 0], [-3, -3, -0.5, 1], [2, 2, 3, 3]])
    assert boxes.outside(candidates, 10, 10).tolist() == [False, True, False, True, False]


def test_pad_grows_each_box_around_its_centre():
    padded = boxes.pad([[10, 10, 30, 20]], 0.5)
    np.testing.assert_array_equal(padded, [[5, 7.5, 35, 22.5]])
    np.testing.assert_array_equal(boxes.xyxy_to_cxcywh(padded)[:, :2], [[20, 15]])


@pytest.mark.parametrize(("a", "b"), [([0, 0, 10, 10], [5, 0, 15, 10]), ([3, 7, 40, 33], [10, 9, 52, 41]), ([0, 0, 4, 4], [4, 4, 8, 8])])
def test_the_seed_exact_iou_is_the_documented_exception_and_agrees_up_to_float32(a, b):
    """seed 000's int32/float32 IoU (assertions/_exact.py) stays apart; on integer boxes it is
    boxes.iou rounded to float32."""
    exact = seed_iou(np.array([a], np.int32), np.array([b], np.int32))
    assert exact.dtype == np.float32
    assert exact[0] == np.float32(boxes.iou(np.array(a, float), np.array(b, float)))
