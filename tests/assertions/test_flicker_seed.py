"""Seed 000's flicker: hand-derived cases, then differential tests against the transcription."""

import numpy as np
import pytest
from seed000_numpy import compute_flickering_assertion as seed_oracle

from thresher import Detections, Frames, SchemaError, UsageError
from thresher.assertions import compute_flickering_assertion, seed_flicker
from thresher.assertions._predictions import from_predictions_list, to_predictions_list
from thresher.assertions._synthetic import synthetic_traffic


def frame(*bboxes):
    return {"file_name": "v-0-mp4.png", "predictions": [{"category_id": 2, "bbox": list(b), "score": 0.5} for b in bboxes]}


# Each case: frames as xywh boxes, thresholds, expected flags and imputed boxes. Values are
# worked out by hand from docs/formulas.md §3, not by running the code.
CASES = {
    # IoU(prev, next) = 49*50 / (2500 + 2500 - 2450) = 0.96 > 0.9; mean (10.5, 10, 60.5, 60) truncated.
    "missing box imputed": (
        [[(10, 10, 50, 50)], [], [(11, 10, 50, 50)]],
        (0.9, 0.6),
        [False, True, False],
        [[], [[[10, 10, 60, 60]]], []],
    ),
    # the middle box has IoU 1 with the mean: present, no flicker
    "present box": (
        [[(10, 10, 50, 50)], [(10, 10, 50, 50)], [(10, 10, 50, 50)]],
        (0.9, 0.6),
        [False, False, False],
        [[], [], []],
    ),
    # middle box shifted by 30 px: IoU with the mean = 20*50 / (5000 - 1000) = 0.25 < 0.6
    "shifted middle box": (
        [[(10, 10, 50, 50)], [(40, 10, 50, 50)], [(10, 10, 50, 50)]],
        (0.9, 0.6),
        [False, True, False],
        [[], [[[10, 10, 60, 60]]], []],
    ),
    # IoU(prev, next) = 90/100 = float32(0.9): strict > fails
    "tracking is strict": (
        [[(0, 0, 10, 10)], [], [(0, 0, 10, 9)]],
        (0.9, 0.6),
        [False] * 3,
        [[], [], []],
    ),
    # IoU 60/100 in float32 equals float32(0.6) > 0.6; a float64 comparison would track
    "tracking compares in float32": (
        [[(0, 0, 10, 10)], [], [(0, 0, 10, 6)]],
        (0.6, 0.6),
        [False] * 3,
        [[], [], []],
    ),
    # IoU(curr, mean) = 70/100 = float32(0.7) < 0.7 in float64 but not in float32: no assertion
    "assertion compares in float32": (
        [[(0, 0, 10, 10)], [(0, 0, 10, 7)], [(0, 0, 10, 10)]],
        (0.9, 0.7),
        [False] * 3,
        [[], [], []],
    ),
    # zero-area prev and next: 0/0 = NaN never tracks, even for identical boxes
    "zero-area boxes never track": (
        [[(5, 5, 0, 10)], [], [(5, 5, 0, 10)]],
        (0.9, 0.6),
        [False] * 3,
        [[], [], []],
    ),
    # negative threshold tracks IoU 0; mean x0 = trunc(-0.5) = 0, x1 = trunc(0.5) = 0: zero area;
    # against the zero-area middle box IoU = 0/0 = NaN, which is not < 0.6: suppressed
    "NaN in the middle frame suppresses": (
        [[(-1, 0, 1, 10)], [(3, 3, 0, 0)], [(0, 0, 1, 10)]],
        (-1.0, 0.6),
        [False] * 3,
        [[], [], []],
    ),
    # same, but a positive-area middle box far away: IoU 0 < 0.6, the zero-area mean is imputed
    "zero-area mean imputed": (
        [[(-1, 0, 1, 10)], [(300, 300, 5, 5)], [(0, 0, 1, 10)]],
        (-1.0, 0.6),
        [False, True, False],
        [[], [[[0, 0, 0, 10]]], []],
    ),
    # a duplicated prev box matches twice: two identical imputed boxes, no de-duplication
    "duplicates impute twice": (
        [[(10, 10, 50, 50), (10, 10, 50, 50)], [], [(10, 10, 50, 50)]],
        (0.9, 0.6),
        [False, True, False],
        [[], [[[10, 10, 60, 60]], [[10, 10, 60, 60]]], []],
    ),
    # order is row-major over (prev, next): prev A=0 pairs with next 1, prev B=1 with next 0
    "seed order": (
        [[(0, 0, 20, 20), (100, 0, 20, 20)], [], [(100, 0, 20, 20), (1, 0, 20, 20)]],
        (0.9, 0.6),
        [False, True, False],
        [[], [[[0, 0, 20, 20]], [[100, 0, 120, 20]]], []],
    ),
    # float bboxes: x1 = 10.7 + 49.6 = 60.3 -> 60, x0 10.7 -> 10; mean with (10, 10, 60, 60)
    "float boxes truncate": (
        [[(10.7, 10, 49.6, 50)], [], [(10, 10, 50, 50)]],
        (0.9, 0.6),
        [False, True, False],
        [[], [[[10, 10, 60, 60]]], []],
    ),
    # negative coordinates: (-3 + -2) / 2 = -2.5 truncates toward zero to -2
    "mean truncates toward zero": (
        [[(-3, -3, 40, 40)], [], [(-2, -2, 40, 40)]],
        (0.9, 0.6),
        [False, True, False],
        [[], [[[-2, -2, 37, 37]]], []],
    ),
    # frame 1 asserts; frame 2 has prev and next but no pair tracks: the seed's counter would
    # carry 1 into frame 2 and flag it without an imputed box (defect a); thresher does not
    "counter reset per frame": (
        [[(10, 10, 50, 50)], [], [(11, 10, 50, 50)], [(500, 500, 10, 10)]],
        (0.9, 0.6),
        [False, True, False, False],
        [[], [[[10, 10, 60, 60]]], [], []],
    ),
    # the first and last frames are never judged; a frame without prev boxes neither
    "edges and empty neighbours": (
        [[], [(10, 10, 50, 50)], [], []],
        (0.9, 0.6),
        [False] * 4,
        [[], [], [], []],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hand_derived_cases(name):
    boxes, thresholds, flags, imputed = CASES[name]
    predictions_list = [frame(*b) for b in boxes]
    assert compute_flickering_assertion(predictions_list, *thresholds) == (flags, imputed)
    assert seed_oracle(predictions_list, *thresholds) == (flags, imputed)


def test_empty_and_short_lists():
    assert compute_flickering_assertion([]) == ([], [])
    assert compute_flickering_assertion([frame((0, 0, 5, 5))]) == ([False], [[]])


def with_anomalies(predictions_list, rng):
    """Add duplicates, zero-area boxes, float boxes, negative coordinates and empty frames."""
    result = []
    for entry in predictions_list:
        predictions = []
        for p in entry["predictions"]:
            x, y, w, h = p["bbox"]
            roll = rng.random()
            if roll < 0.02:
                predictions.append(dict(p))  # duplicate
            elif roll < 0.04:
                w = 0  # zero area
            elif roll < 0.06:
                x, w = x + rng.random() * 3 - 2.5, w + rng.random()  # float, possibly negative
            predictions.append({**p, "bbox": [x, y, w, h]})
        if rng.random() < 0.01:
            predictions = []
        result.append({"file_name": entry["file_name"], "predictions": predictions})
    return result


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("thresholds", [(0.9, 0.6), (0.8, 0.6), (0.5, 0.3), (0.7, 0.7), (0.0, 1.0), (-0.1, 0.0)])
def test_same_as_seed_on_synthetic_traffic(seed, thresholds):
    n_frames = 300 if thresholds[0] > 0 else 30  # thresholds <= 0 track every pair: slow oracle
    detections, frames = synthetic_traffic(n_frames, seed=seed)
    predictions_list = with_anomalies(to_predictions_list(detections, frames), np.random.default_rng(seed))
    expected = seed_oracle(predictions_list, *thresholds)
    assert compute_flickering_assertion(predictions_list, *thresholds) == expected
    assert sum(expected[0]) > 0 or thresholds[1] <= 0  # the data must exercise the assertion


@pytest.mark.parametrize("scale", [200, 20000])
def test_same_as_seed_when_int32_wraps(scale):
    """Boxes beyond 46341 px make int32 areas wrap, as in torch (every pair is then checked);
    beyond 2**24 the float32 mean rounds."""
    rng = np.random.default_rng(7)
    detections, frames = synthetic_traffic(120, seed=7)
    predictions_list = to_predictions_list(detections, frames)
    for entry in predictions_list:
        for p in entry["predictions"]:
            p["bbox"] = [v * scale + int(rng.integers(0, 3)) for v in p["bbox"]]
    for thresholds in [(0.9, 0.6), (0.5, 0.5)]:
        assert compute_flickering_assertion(predictions_list, *thresholds) == seed_oracle(predictions_list, *thresholds)


def test_seed_flicker_on_detections_agrees_with_the_list_function():
    detections, frames = synthetic_traffic(200, seed=3)
    result = seed_flicker(detections, frames, 0.8, 0.6)
    flags, imputed = compute_flickering_assertion(to_predictions_list(detections, frames), 0.8, 0.6)
    assert result.flagged.tolist() == flags
    assert result.values.tolist() == [float(len(b)) for b in imputed]  # severity = imputed count
    expected = [box[0] for boxes in imputed for box in boxes]
    assert result.weak_labels.xyxy.astype(int).tolist() == expected
    assert result.severity.ids.tolist() == frames.id.tolist()


def test_frames_are_compared_only_when_consecutive_in_their_video():
    box = [[10, 10, 60, 60]]
    # rows: video a frames 0, 2 (1 missing); video b frames 0, 1, 2 with a missing middle box
    frames = Frames.build(["a0", "a2", "b1", "b0", "b2", "a3"], kind="frame", video=["a", "a", "b", "b", "b", "a"], frame_index=[0, 2, 1, 0, 2, 3])
    detections = Detections(frame=[0, 1, 3, 4, 5], xyxy=box * 5, score=[0.5] * 5, class_id=[0] * 5)
    result = seed_flicker(detections, frames)
    assert result.flagged.tolist() == [False, False, True, False, False, False]
    assert result.weak_labels.frame.tolist() == [2]


@pytest.mark.parametrize(
    "predictions_list, message",
    [
        ({"predictions": []}, "expected a list"),
        ([{"file_name": "x"}], r"predictions_list\[0\]: expected a dict with a 'predictions' list"),
        ([{"predictions": [{"bbox": [1, 2, 3]}]}], r"\['predictions'\]\[0\]: expected a 'bbox'"),
        ([{"predictions": [{"bbox": [1, 2, -3, 4]}]}], "w, h >= 0"),
        ([{"predictions": [{"bbox": [1, 2, float("nan"), 4]}]}], "finite"),
        ([{"predictions": [{"bbox": [2**31, 2, 3, 4]}]}], "int32"),
    ],
)
def test_bad_input_is_named(predictions_list, message):
    with pytest.raises(SchemaError, match=message):
        compute_flickering_assertion(predictions_list)


def test_bad_threshold():
    with pytest.raises(UsageError, match="iou_thresh_tracking: expected a number"):
        compute_flickering_assertion([], iou_thresh_tracking="high")


def test_from_predictions_list_builds_one_video():
    detections, frames = from_predictions_list([frame((1, 2, 3, 4)), frame(), frame((0, 0, 1, 1), (5, 5, 1, 1))])
    assert detections.frame.tolist() == [0, 2, 2]
    assert detections.xyxy[0].tolist() == [1, 2, 4, 6]
    assert frames.frame_index.tolist() == [0, 1, 2] and len(set(frames.video)) == 1
