"""appear, multibox and class_switch: hand-made videos with known answers."""

import numpy as np
import pytest
from assertion_videos import moving, video

from thresher import UsageError
from thresher.assertions import appear, class_switch, multibox


def frames_of(n, *tracks):
    return [[track[t] for track in tracks if t < len(track) and track[t] is not None] for t in range(n)]


# ---- appear ----------------------------------------------------------------------------


def test_appear_flags_a_blip_inside_the_video():
    car = moving(8)
    blip = [None, None, None, (500, 300, 540, 330, 0.6, 3), (501, 300, 541, 330, 0.5, 3)] + [None] * 3
    result = appear(*video(*frames_of(8, car, blip)))
    assert result.values.tolist() == pytest.approx([0, 0, 0, 0.6, 0.5, 0, 0, 0])
    assert len(result.weak_labels) == 0


def test_appear_abstains_on_stable_tracks_and_at_the_edges():
    car = moving(8)
    first_frames = [(500, 300, 540, 330, 0.6, 3)] * 2 + [None] * 6  # cut by the video start
    last_frame = [None] * 7 + [(700, 300, 740, 330, 0.6, 3)]  # cut by the video end
    assert not appear(*video(*frames_of(8, car, first_frames, last_frame))).flagged.any()


def test_appear_bridges_flicker_gaps():
    car = moving(11)
    car[0] = car[10] = None  # inside the video: frames 1-9
    car[5] = None  # one missing frame splits the track into 4 + 4 boxes without bridging
    assert not appear(*video(*frames_of(11, car)), min_length=5).flagged.any()
    assert appear(*video(*frames_of(11, car)), min_length=5, max_gap=0).flagged.sum() == 8


def test_appear_min_length():
    car = moving(8)
    short = [None, None, (500, 300, 540, 330)] * 1 + [(500, 300, 540, 330)] * 2 + [None] * 3
    detections, frames = video(*frames_of(8, car, short))
    assert appear(detections, frames, min_length=3).flagged.sum() == 0
    assert appear(detections, frames, min_length=4).flagged.tolist() == [False, False, True, True, True, False, False, False]


# ---- multibox ---------------------------------------------------------------------------


def test_multibox_flags_three_boxes_on_one_object():
    pile = [(100, 100, 200, 200, 0.9, 1), (102, 100, 202, 200, 0.6, 2), (100, 104, 200, 204, 0.5, 2)]
    other = [(500, 500, 600, 600, 0.8, 1)]
    result = multibox(*video(pile + other, pile[:2] + other))
    # surplus boxes are all but the most confident: 0.6 + 0.5; two boxes are not a multibox
    assert result.values.tolist() == pytest.approx([1.1, 0.0])
    labels = result.weak_labels
    assert labels.frame.tolist() == [0] and labels.xyxy.tolist() == [[100, 100, 200, 200]]
    assert labels.class_id.tolist() == [2] and labels.score.tolist() == pytest.approx([2 / 3])


def test_multibox_class_aware_and_threshold():
    pile = [(100, 100, 200, 200, 0.9, 1), (102, 100, 202, 200, 0.6, 2), (100, 104, 200, 204, 0.5, 2)]
    detections, frames = video(pile)
    assert not multibox(detections, frames, class_aware=True).flagged.any()
    assert not multibox(detections, frames, iou=0.99).flagged.any()
    assert multibox(detections, frames, min_boxes=2, class_aware=True).values[0] == pytest.approx(0.5)


def test_multibox_chains_overlaps_within_a_frame_only():
    chain = [(0, 0, 100, 100), (20, 0, 120, 100), (40, 0, 140, 100)]  # IoU 0.67 neighbours, 0.43 ends
    assert multibox(*video(chain)).flagged.tolist() == [True]
    # the same three boxes spread over three frames never group
    assert not multibox(*video(*[[b] for b in chain])).flagged.any()


# ---- class switch -----------------------------------------------------------------------


def test_class_switch_flags_the_minority_box_with_the_majority_as_weak_label():
    car = moving(4)
    classes = [1, 1, 2, 1]
    track = [(*box[:4], 0.9, c) for box, c in zip(car, classes)]
    result = class_switch(*video(*frames_of(4, track)))
    assert result.values.tolist() == pytest.approx([0, 0, 0.75, 0])
    assert result.weak_labels.frame.tolist() == [2]
    assert result.weak_labels.class_id.tolist() == [1]
    assert result.weak_labels.xyxy.tolist() == [list(car[2][:4])]


def test_class_switch_needs_iou_above_the_link_threshold():
    # shifted by 20 px: IoU = 30*40 / (2*2000 - 1200) = 0.43 < 0.8, not the same object
    frames = [[(100, 100, 150, 140, 0.9, 1)], [(120, 100, 170, 140, 0.9, 2)], [(140, 100, 190, 140, 0.9, 1)]]
    assert not class_switch(*video(*frames)).flagged.any()
    assert class_switch(*video(*frames), link_iou=0.4).flagged.tolist() == [False, True, False]


def test_class_switch_tie_goes_to_the_more_confident_class():
    frames = [[(100, 100, 150, 140, 0.9, 1)], [(100, 100, 150, 140, 0.4, 2)]]
    result = class_switch(*video(*frames))
    assert result.flagged.tolist() == [False, True]
    assert result.weak_labels.class_id.tolist() == [1] and result.weak_labels.score.tolist() == [0.5]


def test_stable_video_has_no_violations():
    detections, frames = video(*frames_of(10, moving(10), moving(10, start=(400, 300), class_id=2)))
    for assertion in (appear, multibox, class_switch):
        result = assertion(detections, frames)
        assert result.values.tolist() == [0.0] * 10, assertion.__name__
        assert result.severity.ids.tolist() == frames.id.tolist()


@pytest.mark.parametrize(
    "assertion, kwargs, message",
    [
        (appear, {"min_length": 1}, "min_length"),
        (appear, {"max_gap": -1}, "max_gap"),
        (appear, {"link_iou": 0}, "link_iou"),
        (multibox, {"iou": 1.5}, "iou"),
        (multibox, {"min_boxes": 1}, "min_boxes"),
        (class_switch, {"link_iou": 1.0}, "link_iou"),
    ],
)
def test_bad_arguments(assertion, kwargs, message):
    with pytest.raises(UsageError, match=message):
        assertion(*video([]), **kwargs)


def test_all_handle_empty_detections():
    detections, frames = video([], [], [])
    for assertion in (appear, multibox, class_switch):
        assert assertion(detections, frames).values.tolist() == [0, 0, 0]
    assert np.isclose(multibox(*video([(0, 0, 1, 1)])).values, 0).all()
