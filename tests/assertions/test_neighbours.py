"""What the assertions share: frame order, candidate pairs, one-to-one matching, tracks."""

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from thresher import Frames, SchemaError
from thresher.assertions._neighbours import BoxIndex, later_rows, pair_iou
from thresher.assertions._exact import seed_iou
from thresher.assertions._matching import one_to_one
from thresher.assertions._tracks import majority, track_ids


def test_later_rows_follow_each_video_and_skip_holes():
    frames = Frames.build(
        ["b1", "a0", "a1", "b0", "a3", "c", "b2", "a1-crop"],
        kind=["frame", "frame", "frame", "frame", "frame", "image", "frame", "crop"],
        video=["b", "a", "a", "b", "a", "c", "b", "a"],
        frame_index=[1, 0, 1, 0, 3, 0, 2, 1],
    )
    assert later_rows(frames, 1).tolist() == [6, 2, -1, 0, -1, -1, -1, -1]
    assert later_rows(frames, 2).tolist() == [-1, -1, -1, 6, -1, -1, -1, -1]  # a0 -> a2 is missing


def test_repeated_frames_are_an_error():
    frames = Frames.build(["x", "y"], kind="frame", video="v", frame_index=[3, 3])
    with pytest.raises(SchemaError, match="frame 3 of video 'v' appears twice"):
        later_rows(frames, 1)


def random_boxes(rng, n, n_frames, integer):
    x0 = rng.uniform(-50, 500, n)
    y0 = rng.uniform(-50, 300, n)
    w = rng.choice([0, 1, 5, 30, 120], n) * rng.uniform(0.5, 1.5, n)
    h = rng.uniform(0, 100, n)
    xyxy = np.stack([x0, y0, x0 + w, y0 + h], 1)
    return rng.integers(0, n_frames, n), (np.trunc(xyxy) if integer else xyxy)


@pytest.mark.parametrize("min_iou", [0.05, 0.3, 0.5, 0.6, 0.9, 0.99, 1.0])
@pytest.mark.parametrize("seed", range(3))
def test_candidates_contain_every_qualifying_pair_once(min_iou, seed):
    rng = np.random.default_rng(seed)
    frame, xyxy = random_boxes(rng, 400, 4, integer=False)
    q_frame, q_xyxy = random_boxes(rng, 300, 5, integer=False)
    q_frame[q_frame == 4] = -1  # no target
    index = BoxIndex.build(frame, xyxy, 4)
    found = np.concatenate([q * 1000 + r for q, r in index.candidates(q_frame, q_xyxy, min_iou, chunk_pairs=500)])
    assert len(np.unique(found)) == len(found)
    q, r = np.nonzero((q_frame[:, None] == frame[None, :]))
    expected = q * 1000 + r
    qualifying = expected[pair_iou(q_xyxy[q], xyxy[r]) >= min_iou]
    assert np.isin(qualifying, found).all()
    assert np.isin(found, expected).all()  # only boxes of the target frame


@pytest.mark.parametrize("threshold", [0.3, 0.6, 0.7, 0.9])
def test_candidates_cover_seed_float32_ious(threshold):
    rng = np.random.default_rng(11)
    frame, xyxy = random_boxes(rng, 500, 3, integer=True)
    index = BoxIndex.build(frame, xyxy, 3)
    found = set()
    for q, r in index.candidates(frame, xyxy, threshold):
        found |= set((q * 1000 + r).tolist())
    q, r = np.nonzero(frame[:, None] == frame[None, :])
    a, b = xyxy.astype(np.int32)[q], xyxy.astype(np.int32)[r]
    iou = seed_iou(a, b)
    zero = ((a[:, 2] == a[:, 0]) | (a[:, 3] == a[:, 1])) & ((b[:, 2] == b[:, 0]) | (b[:, 3] == b[:, 1]))
    qualifying = (~(iou < np.float32(threshold))) & ~zero  # NaN pairs are handled apart
    assert set((q * 1000 + r)[qualifying].tolist()) <= found


def test_whole_frame_windows():
    rng = np.random.default_rng(1)
    frame, xyxy = random_boxes(rng, 50, 2, integer=False)
    index = BoxIndex.build(frame, xyxy, 2)
    ((q, r),) = list(index.candidates(np.array([0, 1]), xyxy[:2], 0.9, whole_frame=True))
    assert len(q) == len(frame) and set(r[q == 0]) == set(np.flatnonzero(frame == 0))


@pytest.mark.parametrize("seed", range(200))
def test_one_to_one_is_an_optimal_matching(seed):
    rng = np.random.default_rng(seed)
    n_left, n_right = rng.integers(1, 7, 2)
    weights = rng.random((n_left, n_right)) * (rng.random((n_left, n_right)) < 0.5)
    left, right = np.nonzero(weights)
    keep = one_to_one(left + 10, right + 3, weights[left, right])  # ids need not start at 0
    assert np.bincount(left[keep], minlength=n_left).max() <= 1
    assert np.bincount(right[keep], minlength=n_right).max() <= 1
    gain = np.where(weights > 0, 1 + weights, 0)  # most matches first, then most IoU
    rows, cols = linear_sum_assignment(gain, maximize=True)
    assert (1 + weights[left[keep], right[keep]]).sum() == pytest.approx(gain[rows, cols].sum())


def test_track_ids_and_majority():
    successor = np.array([2, -1, 4, -1, -1, 0])  # 5 -> 0 -> 2 -> 4, and 1, 3 alone
    assert track_ids(successor).tolist() == [5, 1, 5, 3, 5, 5]
    winner, share = majority(np.array([0, 0, 0, 2, 2]), np.array([5, 5, 1, 3, 4]), np.array([0.1, 0.1, 0.9, 0.5, 0.6]), 3)
    assert winner.tolist() == [5, -1, 4] and share.tolist() == pytest.approx([2 / 3, 0, 0.5])
