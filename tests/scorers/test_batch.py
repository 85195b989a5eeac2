import numpy as np
import pytest

from thresher import Scores
from thresher.errors import ConfigError
from thresher.scorers.batch import bottom_k, nee, prune_groups, rescale_budget, top_k

IDS = [f"f{i:02d}" for i in range(10)]
SCORES = Scores(IDS, {"u": np.arange(10) / 10})


def test_top_and_bottom_k():
    assert top_k(SCORES, "u", 3).ids.tolist() == ["f09", "f08", "f07"]
    assert top_k(SCORES, "u", 3).objective == pytest.approx([0.9, 0.8, 0.7])
    assert bottom_k(SCORES, "u", 2).ids.tolist() == ["f00", "f01"]
    assert top_k(SCORES, "u", 3).config == {"rule": "top_k", "score": "u", "budget": 3}


def test_nan_is_never_picked_and_ties_break_by_id():
    scores = Scores(["b", "a", "c", "d"], {"u": [0.5, 0.5, np.nan, 0.1]})
    assert top_k(scores, "u", 4).ids.tolist() == ["b", "a", "d"]
    assert bottom_k(scores, "u", 1).ids.tolist() == ["d"]


def test_nee_by_hand():
    # 10 sorted frames in 5 bins of 2; budget 5 -> 1 per bin: highest of bins 0-3, lowest of bin 4
    assert nee(SCORES, "u", 5).ids.tolist() == ["f01", "f03", "f05", "f07", "f08"]
    # budget 7 -> 1 per bin, remainder 2 from the top bin
    assert nee(SCORES, "u", 7).ids.tolist() == ["f01", "f03", "f05", "f07", "f08", "f09"]
    assert nee(SCORES, "u", 3).ids.tolist() == ["f08", "f09"]


def test_negative_budget_is_an_error():
    with pytest.raises(ConfigError, match="budget"):
        top_k(SCORES, "u", -1)


def test_prune_keeps_one_of_each_near_duplicate_group():
    hashes_distance = np.array([[0, 1, 9, 9], [1, 0, 9, 9], [9, 9, 0, 10], [9, 9, 10, 0]])
    keep = prune_groups(hashes_distance, threshold=0.1, seed=0)
    assert keep[2] and keep[3] and keep[:2].sum() == 1
    assert prune_groups(hashes_distance, threshold=0.0, seed=0).all()
    assert prune_groups(hashes_distance, 0.1, seed=1).tolist() == prune_groups(hashes_distance, 0.1, seed=1).tolist()


def test_rescale_budget_by_hand():
    assert rescale_budget([5, 5, 10, 80], 100, 50).tolist() == [10.0, 10.0, 20.0]
    with pytest.raises(ConfigError, match="n_after"):
        rescale_budget([5], 10, 0)
