import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thresher.errors import SchemaError
from thresher.scorers._reduce import FrameGroups, per_frame, segment_max, segment_mean, segment_sum

lengths = st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(lengths, st.integers(0, 2**32 - 1), st.sampled_from([1.0, 1e-3, 1e6]))
def test_segment_sum_has_the_bits_of_np_sum(counts, seed, scale):
    counts = np.array(counts)
    values = np.random.default_rng(seed).random(counts.sum()) * scale
    starts = np.cumsum(counts) - counts
    got = segment_sum(values, starts, counts)
    want = np.array([np.sum(values[s : s + n]) for s, n in zip(starts, counts)])
    assert got.tobytes() == want.tobytes()


def test_segment_mean_and_max_of_empty_segments_take_the_given_value():
    values = np.array([1.0, 3.0, 2.0])
    starts, counts = np.array([0, 2, 2]), np.array([2, 0, 1])
    assert segment_mean(values, starts, counts, empty=-1.0).tolist() == [2.0, -1.0, 2.0]
    assert segment_max(values, starts, counts, empty=-1.0).tolist() == [3.0, -1.0, 2.0]


def test_per_frame_groups_unsorted_boxes_by_frame():
    groups = FrameGroups.of(np.array([2, 0, 2, 0]), 4)
    values = np.array([5.0, 1.0, 7.0, 3.0])
    assert per_frame(values, groups, "max", empty=np.nan).tolist()[:3] == [3.0, pytest.approx(np.nan, nan_ok=True), 7.0]
    assert per_frame(values, groups, "mean", empty=0.0).tolist() == [2.0, 0.0, 6.0, 0.0]


@pytest.mark.parametrize("frame, n_frames", [([0, 3], 3), ([-1], 2)])
def test_frame_rows_outside_the_frames_table_are_an_error(frame, n_frames):
    with pytest.raises(SchemaError, match="detections.frame"):
        FrameGroups.of(np.array(frame), n_frames)


def test_unknown_reduction_is_named():
    with pytest.raises(SchemaError, match="how"):
        per_frame(np.zeros(1), FrameGroups.of(np.array([0]), 1), "median", empty=0.0)
