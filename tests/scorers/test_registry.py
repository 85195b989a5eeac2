import csv
import inspect

import numpy as np
import pytest

import thresher.compat.lightly as compat
import thresher.scorers as scorers
from thresher import Detections, Frames
from thresher.errors import ConfigError
from thresher.scorers import SCORE_FAMILIES, score_frames, write_scores_csv

FRAMES = Frames.build(["a.jpg", "b.jpg", "c.jpg"])
TABLE = Detections(
    frame=[0, 0, 2, 1],
    xyxy=np.tile([0.0, 0.0, 10.0, 10.0], (4, 1)),
    score=[0.9, 0.2, 0.7, 0.3],
    class_id=[0, 1, 1, 0],
    probs=[[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.5, 0.5]],
    box_std=np.ones((4, 4)),
)


@pytest.mark.parametrize("family", sorted(SCORE_FAMILIES))
def test_every_family_scores_every_frame_with_float_columns(family):
    scores = score_frames(TABLE, FRAMES, [family], candidate_threshold=0.5)
    assert scores.ids.tolist() == FRAMES.id.tolist()
    assert scores.names and all(scores[name].dtype == np.float64 for name in scores.names)


def test_families_join_without_clashing_and_candidates_see_only_low_boxes():
    scores = score_frames(TABLE, FRAMES, ["lightly", "weak_candidates", "seed"], candidate_threshold=0.5)
    assert "object_frequency" in scores.names and "weak_candidates" in scores.names and "ental" in scores.names
    assert scores["weak_candidates"] == pytest.approx([0.2, 0.3, 0.0])
    # frame b only has a weak candidate: Lightly's scores see no box there
    assert scores["objectness_least_confidence"][1] == 0.0


def test_unknown_family_and_missing_threshold_are_named():
    with pytest.raises(ConfigError, match='did you mean "lightly"'):
        score_frames(TABLE, FRAMES, ["lightyl"])
    with pytest.raises(ConfigError, match="candidate_threshold"):
        score_frames(TABLE, FRAMES, ["weak_candidates"])


def test_scores_csv_has_one_row_per_sample(tmp_path):
    scores = score_frames(TABLE, FRAMES, ["lightly", "seed"])
    path = tmp_path / "scores.csv"
    write_scores_csv(scores, path)
    with path.open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["id", *scores.names]
    assert [r[0] for r in rows[1:]] == ["a.jpg", "b.jpg", "c.jpg"]
    entropy = rows[0].index("entropy")
    assert float(rows[1][entropy]) == scores["entropy"][0]
    assert not (tmp_path / "scores.csv.partial").exists()


@pytest.mark.parametrize("module", [scorers, compat])
def test_all_is_complete(module):
    public = {n for n, v in vars(module).items() if not n.startswith("_") and not inspect.ismodule(v)}
    public -= {"annotations"}
    assert public <= set(module.__all__)
    assert all(hasattr(module, name) for name in module.__all__)
