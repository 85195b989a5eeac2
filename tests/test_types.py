import numpy as np
import pytest

from thresher import Detections, Embeddings, Frames, SchemaError, Scores, Selection


def test_frames_build_broadcasts_and_filters():
    frames = Frames.build(["a.jpg", "b.jpg", "c.jpg"], width=[10, 20, 30], height=5)
    assert len(frames) == 3
    assert frames.file_name.tolist() == ["a.jpg", "b.jpg", "c.jpg"]
    small = frames[frames.width < 25]
    assert small.id.tolist() == ["a.jpg", "b.jpg"]
    assert small.height.tolist() == [5, 5]


def test_frames_reject_duplicates_and_bad_kind():
    with pytest.raises(SchemaError, match="'a' repeats"):
        Frames.build(["a", "a"])
    with pytest.raises(SchemaError, match="Frames.kind"):
        Frames.build(["a"], kind="movie")


def test_frames_index_of():
    frames = Frames.build(["z", "a", "m"])
    assert frames.index_of(["m", "z"]).tolist() == [2, 0]
    with pytest.raises(SchemaError, match="unknown sample id 'q'"):
        frames.index_of(["q"])


def test_detections_from_xywh_and_mask():
    dets = Detections.from_xywh([0, 0, 1], [[1, 2, 3, 4], [0, 0, 1, 1], [5, 5, 2, 2]], [0.9, 0.2, 0.5], [1, 2, 1])
    assert dets.xyxy.tolist()[0] == [1, 2, 4, 6]
    confident = dets[dets.score > 0.4]
    assert confident.class_id.tolist() == [1, 1]
    assert np.array_equal(confident.xywh, [[1, 2, 3, 4], [5, 5, 2, 2]])
    assert dets.counts_per_frame(3).tolist() == [2, 1, 0]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"xyxy": [[0, 0, 1]]}, "shape"),
        ({"xyxy": [[2, 0, 1, 1]]}, "x0 <= x1"),
        ({"xyxy": [[0, 0, np.nan, 1]]}, "finite"),
        ({"score": [np.nan]}, "NaN"),
        ({"frame": [-1]}, "rows >= 0"),
        ({"score": [0.1, 0.2]}, "expected 1 rows"),
        ({"probs": np.ones((2, 3))}, "expected 1 rows"),
    ],
)
def test_detections_validation(change, message):
    columns = {"frame": [0], "xyxy": [[0, 0, 1, 1]], "score": [0.5], "class_id": [0], **change}
    with pytest.raises(SchemaError, match=message):
        Detections(**columns)


def test_detections_concat_and_empty():
    a = Detections.from_xywh([0], [[0, 0, 1, 1]], [0.5], [3])
    both = Detections.concat([a, Detections.empty(), a])
    assert len(both) == 2 and both.probs is None
    with pytest.raises(SchemaError, match="present in some tables only"):
        Detections.concat([a, Detections.empty(n_classes=2)])
    assert Detections.concat([]).xyxy.shape == (0, 4)


def test_scores_align_fills_nan_and_columns():
    scores = Scores(["a", "b"], {"entropy": [0.5, 0.1]})
    aligned = scores.align(["b", "x", "a"])
    assert aligned["entropy"][0] == 0.1 and np.isnan(aligned["entropy"][1])
    with pytest.raises(SchemaError, match='did you mean "entropy"'):
        scores["entropi"]
    assert scores[scores["entropy"] > 0.2].ids.tolist() == ["a"]
    joined = scores.join(Scores(["a"], {"margin": [1.0]}))
    assert np.isnan(joined["margin"][1])


def test_embeddings_align_and_normalize():
    emb = Embeddings(["a", "b"], [[3, 4], [0, 0]])
    assert emb.vectors.dtype == np.float32
    unit = emb.normalized()
    assert np.allclose(unit.vectors, [[0.6, 0.8], [0, 0]])
    assert emb.align(["b", "a"]).ids.tolist() == ["b", "a"]
    with pytest.raises(SchemaError, match="no vector for sample 'c'"):
        emb.align(["c"])


def test_selection_rejects_repeats():
    sel = Selection(["a", "b"], [2.0, 1.0])
    assert sel[:1].ids.tolist() == ["a"]
    with pytest.raises(SchemaError, match="selected twice"):
        Selection(["a", "a"], [1, 1])
