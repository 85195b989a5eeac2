"""The default flicker: tracks, gaps, presence, duplicates, box size, majority class, severity."""

import numpy as np
import pytest
from assertion_videos import moving, video

from thresher import Detections, Frames, UsageError
from thresher.assertions import flicker
from thresher.assertions._synthetic import synthetic_traffic


def objects(n_frames, *tracks):
    """Frames holding the boxes of several tracks (lists of boxes or None for missing)."""
    return [[track[t] for track in tracks if track[t] is not None] for t in range(n_frames)]


def test_a_stable_video_has_no_flicker():
    a, b = moving(10), moving(10, start=(400, 200), speed=(-3, 0), class_id=2)
    result = flicker(*video(*objects(10, a, b)), max_gap=3)
    assert result.values.tolist() == [0.0] * 10
    assert len(result.weak_labels) == 0


def test_removing_a_middle_box_raises_that_frames_severity():
    track = moving(7, score=0.8)
    before = flicker(*video(*objects(7, track)))
    track[3] = None
    after = flicker(*video(*objects(7, track)))
    assert before.values[3] == 0 and after.values[3] == pytest.approx(0.8)
    assert after.flagged.tolist() == [False, False, False, True, False, False, False]
    # the imputed box is the mean of its neighbours: (104 + 108) / 2 = 106, etc.
    assert after.weak_labels.frame.tolist() == [3]
    assert after.weak_labels.xyxy.tolist() == [[106, 103, 156, 143]]


def test_severity_counts_and_weighs_the_missing_boxes():
    a, b = moving(5, score=0.9), moving(5, start=(600, 100), score=0.4)
    a[2] = None
    one = flicker(*video(*objects(5, a, b)))
    b[2] = None
    two = flicker(*video(*objects(5, a, b)))
    assert one.values[2] == pytest.approx(0.9) and two.values[2] == pytest.approx(1.3)


def test_imputed_score_is_the_weaker_end_and_class_the_surer_one():
    track = moving(3)
    first = (*track[0][:4], 0.3, 1)
    last = (*track[2][:4], 0.7, 1)
    result = flicker(*video([first], [], [last]))
    assert result.weak_labels.score.tolist() == [0.3]
    assert result.values[1] == pytest.approx(0.3)


@pytest.mark.parametrize("max_gap, flagged", [(1, []), (2, [2, 3]), (3, [2, 3])])
def test_longer_gaps_need_max_gap(max_gap, flagged):
    track = moving(7, speed=(3, 0))
    track[2] = track[3] = None
    result = flicker(*video(*objects(7, track)), max_gap=max_gap)
    assert np.flatnonzero(result.flagged).tolist() == flagged
    if flagged:  # linear interpolation between frames 1 and 4: x0 = 103 + (112 - 103) * k / 3
        assert result.weak_labels.xyxy[:, 0].tolist() == [106, 109]


def test_interpolation_is_linear_not_nearest():
    frames = [[(0, 0, 100, 100)], [], [], [(30, 0, 130, 100)]]
    result = flicker(*video(*frames), max_gap=2, match_iou=0.5)
    assert result.weak_labels.xyxy.tolist() == [[10, 0, 110, 100], [20, 0, 120, 100]]


def test_class_is_ignored_by_default():
    """A truck at t-1 and a train at t+1 on the same spot: the same object, missing at t."""
    frames = [[(0, 0, 100, 100, 0.9, 1)], [], [(2, 0, 102, 100, 0.9, 2)]]
    assert flicker(*video(*frames)).flagged.tolist() == [False, True, False]
    assert not flicker(*video(*frames), class_aware=True).flagged.any()


def test_a_box_of_another_class_shows_the_object():
    """The object is detected at t under another label: not a miss (class_switch reports it)."""
    frames = [[(0, 0, 100, 100, 0.9, 1)], [(0, 0, 100, 100, 0.9, 2)], [(0, 0, 100, 100, 0.9, 1)]]
    assert not flicker(*video(*frames)).flagged.any()
    assert flicker(*video(*frames), class_aware=True).flagged.tolist() == [False, True, False]


def test_one_to_one_matching_imputes_once_per_object():
    """Two overlapping objects both vanish: the seed's all-pairs rule would impute 4 boxes."""
    a = [(0, 0, 100, 100)]
    b = [(40, 0, 140, 100)]
    result = flicker(*video(a + b, [], a + b), match_iou=0.4)
    assert len(result.weak_labels) == 2
    assert sorted(result.weak_labels.xyxy[:, 0].tolist()) == [0, 40]


def test_frames_are_compared_only_when_consecutive():
    box = (10, 10, 60, 60)
    frames = Frames.build(["a0", "a2", "b0", "b1"], kind="frame", video=["a", "a", "b", "b"], frame_index=[0, 2, 0, 1])
    detections = Detections(frame=[0, 1, 2], xyxy=[box] * 3, score=[0.9] * 3, class_id=[1] * 3)
    assert not flicker(detections, frames, max_gap=3).flagged.any()
    # with frame a1 present and empty, the same boxes flicker
    frames = Frames.build(["a0", "a2", "a1"], kind="frame", video="a", frame_index=[0, 2, 1])
    detections = Detections(frame=[0, 1], xyxy=[box] * 2, score=[0.9] * 2, class_id=[1] * 2)
    assert flicker(detections, frames).flagged.tolist() == [False, False, True]


def test_result_covers_every_frame_in_table_order():
    detections, frames = synthetic_traffic(300, n_videos=3, seed=4)
    result = flicker(detections, frames, max_gap=2)
    assert result.severity.ids.tolist() == frames.id.tolist()
    assert (result.values >= 0).all() and result.flagged.sum() > 10
    labels = result.weak_labels
    assert np.allclose(np.bincount(labels.frame, labels.score, minlength=len(frames)), result.values)
    assert (np.diff(labels.frame) >= 0).all()


@pytest.mark.parametrize("options, recall", [({"presence": "iou", "present_overlap": 0.5, "duplicate_coverage": 0}, 0.95), ({}, 0.75)])
def test_synthetic_dropouts_are_found(options, recall):
    """Dropped boxes of steadily tracked objects inside a video are imputed. The synthetic
    objects drive through each other; the default presence test (coverage) takes another
    object's box mostly covering the dropped one as the object, so it finds fewer there."""
    detections, frames = synthetic_traffic(400, seed=5, dropout=(0.0, 0.0))
    rng = np.random.default_rng(0)
    counts = detections.counts_per_frame(len(frames))
    inner = np.flatnonzero((detections.frame > 0) & (detections.frame < len(frames) - 1))
    drop = rng.choice(inner, 40, replace=False)
    drop = drop[np.argsort(detections.frame[drop])]
    drop = drop[np.r_[True, np.diff(detections.frame[drop]) > 1]]  # one drop per frame, not adjacent
    kept = np.ones(len(detections), bool)
    kept[drop] = False
    result = flicker(detections[kept], frames, **options)
    found = result.flagged[detections.frame[drop]]
    assert found.mean() >= recall and counts.min() > 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_gap": 0}, "max_gap"),
        ({"max_gap": 1.5}, "max_gap"),
        ({"match_iou": 0}, "match_iou"),
        ({"present_overlap": 1.2}, "present_overlap"),
        ({"present_overlap": 0}, "present_overlap"),
        ({"presence": "cover"}, 'did you mean "coverage"'),
        ({"present_min_ratio": -0.1}, "present_min_ratio"),
        ({"duplicate_coverage": 2}, "duplicate_coverage"),
        ({"max_box_share": 0}, "max_box_share"),
        ({"match_iou": "0.5"}, "match_iou"),
        ({"max_box_share": True}, "max_box_share"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(UsageError, match=message):
        flicker(*video([]), **kwargs)


def test_empty_inputs():
    result = flicker(Detections.empty(), Frames.empty())
    assert len(result.severity) == 0 and len(result.weak_labels) == 0
    result = flicker(*video([], [], []))
    assert result.values.tolist() == [0, 0, 0]


# ---- what makes the default point at real misses ------------------------------------------


def sized(detections, frames, width=640, height=360):
    """The same video with a known frame size (the box-size rule needs it)."""
    return detections, Frames.build(frames.id, kind="frame", video=frames.video, frame_index=frames.frame_index, width=width, height=height)


def test_a_loose_duplicate_box_that_comes_and_goes_is_no_flicker():
    """A tight box (0.8) and a loose second box around it (0.4) at t-1 and t+1, only the
    tight one at t: nothing is missing."""
    tight, loose = (100, 100, 160, 150, 0.8, 1), (90, 95, 200, 190, 0.4, 1)
    frames = [[tight, loose], [tight], [tight, loose]]
    assert not flicker(*video(*frames)).flagged.any()
    # presence by IoU alone, duplicates kept: the loose box's track flickers
    assert flicker(*video(*frames), presence="iou", present_overlap=0.5, duplicate_coverage=0).flagged.tolist() == [False, True, False]


def test_a_lower_score_box_inside_a_better_one_carries_no_track():
    """A small box mostly inside a better box at t-1 and t+1 (a bicycle part inside the
    bicycle): it does not make a track of its own, so its absence at t is no flicker."""
    bicycle, part = (100, 100, 300, 250, 0.7, 2), (150, 160, 230, 240, 0.35, 2)
    frames = [[bicycle, part], [bicycle], [bicycle, part]]
    assert not flicker(*video(*frames), present_min_ratio=0.5).flagged.any()
    assert flicker(*video(*frames), present_min_ratio=0.5, duplicate_coverage=0).flagged.tolist() == [False, True, False]


def test_a_box_over_most_of_the_frame_carries_no_track():
    """A box over 75 % of the frame at t-1 and t+1 (merged over several cars): not tracked."""
    merged = (0, 0, 554, 312, 0.4, 3)  # 554 * 312 / (640 * 360) = 0.75
    car = (500, 300, 560, 340, 0.9, 3)
    detections, frames = sized(*video([merged, car], [car], [merged, car]))
    assert not flicker(detections, frames).flagged.any()
    assert flicker(detections, frames, max_box_share=1.0).flagged.tolist() == [False, True, False]
    # without a known frame size every box may carry a track
    assert flicker(*video([merged, car], [car], [merged, car])).flagged.tolist() == [False, True, False]


def test_a_small_box_inside_the_gap_does_not_stand_for_the_object():
    """A bus vanishes at t while a person (5 % of its area) stands in front of it."""
    bus, person = (100, 50, 500, 250, 0.8, 6), (280, 120, 320, 220, 0.9, 1)
    frames = [[bus, person], [person], [bus, person]]
    result = flicker(*video(*frames))
    assert result.flagged.tolist() == [False, True, False]
    assert result.weak_labels.class_id.tolist() == [6]
    # once the person is a tenth of the bus or more, it counts as the bus (coverage)
    assert not flicker(*video(*frames), present_min_ratio=0.04).flagged.any()


def test_coverage_and_iou_presence():
    """A box of t shifted so that IoU with the imputed box is 0.6 and it lies 0.75 inside."""
    frames = [[(0, 0, 100, 100)], [(25, 0, 125, 100)], [(0, 0, 100, 100)]]
    # intersection 75 * 100, union 125 * 100: IoU 0.6; the smaller (equal) box is 0.75 inside.
    # match_iou 0.7 keeps the shifted box out of the track, so the track has a gap at t
    flagged = [False, True, False]
    assert not flicker(*video(*frames), match_iou=0.7).flagged.any()
    assert flicker(*video(*frames), match_iou=0.7, present_overlap=0.8).flagged.tolist() == flagged
    assert not flicker(*video(*frames), match_iou=0.7, presence="iou", present_overlap=0.6).flagged.any()
    assert flicker(*video(*frames), match_iou=0.7, presence="iou", present_overlap=0.61).flagged.tolist() == flagged


def test_the_imputed_box_takes_the_tracks_majority_class():
    """car, car, car, [missing], truck (more confident): the imputed box is a car."""
    track = moving(6, score=0.5, class_id=3)
    track[4] = None
    track[5] = (*track[5][:4], 0.9, 8)
    result = flicker(*video(*objects(6, track)))
    assert result.flagged.tolist() == [False, False, False, False, True, False]
    assert result.weak_labels.class_id.tolist() == [3] and result.weak_labels.score.tolist() == [0.5]


def test_the_module_examples():
    import doctest
    import importlib

    assert doctest.testmod(importlib.import_module("thresher.assertions.flicker")).failed == 0
