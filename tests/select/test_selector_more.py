"""BALANCE, determinism, sequences, object level, the seeds' configs, inputs and outputs."""

import csv

import numpy as np
import pytest

from thresher import Detections, Embeddings, Frames, Scores
from thresher.errors import ConfigError, SchemaError
from thresher.select import (
    Metadata,
    Predictions,
    SelectionInputs,
    parent_frames,
    resolve_inputs,
    run_selection,
    select,
    write_selection_csv,
    write_selection_json,
)
from thresher.select.config import load_selection_config
from thresher.select.strategies import Balance

from selection_seeds import SEED_000, SEED_001
from test_selector import EMB, META, SCORE, blobs, config, ids_of, make_inputs, rows

WEATHER = {"type": "METADATA", "key": "weather.description"}


# ---- BALANCE --------------------------------------------------------------------------------
def counts(labels, names):
    return np.array([(labels == name).sum() for name in names])


@pytest.mark.parametrize("target", [{"sunny": 0.5, "rainy": 0.3, "cloudy": 0.2}, {"sunny": 0.2, "rainy": 0.2, "cloudy": 0.6}, {"cloudy": 1.0}, {"rainy": 0.5, "cloudy": 0.5}])
def test_balance_reaches_a_feasible_target_within_one_sample_per_class(target):
    inputs = make_inputs(n=400)
    labels = inputs.metadata["weather.description"].values
    picked = labels[rows(inputs, select(config((WEATHER, {"type": "BALANCE", "target": target}), n=30), inputs))]
    names = list(target)
    for j in range(1, 31):  # every prefix of the pick order, not only the end
        assert np.abs(counts(picked[:j], names) - j * np.array(list(target.values()))).max() <= 1


def test_balance_pools_unnamed_classes_into_the_remainder():
    inputs = make_inputs(n=400)
    labels = inputs.metadata["weather.description"].values
    picked = labels[rows(inputs, select(config((WEATHER, {"type": "BALANCE", "target": {"cloudy": 0.5}}), n=20), inputs))]
    assert abs((picked == "cloudy").sum() - 10) <= 1
    assert abs((picked != "cloudy").sum() - 10) <= 1


@pytest.mark.parametrize("distribution, expected", [("UNIFORM", [1 / 3, 1 / 3, 1 / 3]), ("INPUT", None)])
def test_balance_uniform_and_input_distributions(distribution, expected):
    inputs = make_inputs(n=600)
    labels = inputs.metadata["weather.description"].values
    names = ["cloudy", "rainy", "sunny"]
    expected = counts(labels, names) / len(labels) if expected is None else np.array(expected)
    picked = labels[rows(inputs, select(config((WEATHER, {"type": "BALANCE", "distribution": distribution}), n=30), inputs))]
    assert np.abs(counts(picked, names) - 30 * expected).max() <= 1


def test_balance_on_predictions_class_distribution():
    ids = ids_of(90)
    frames = Frames.build(ids)
    klass = np.repeat([0, 1, 2], 30)  # one object per image, 30 of each class
    dets = Detections.from_xywh(np.arange(90), np.tile([0, 0, 10, 10], (90, 1)), np.full(90, 0.9), klass)
    preds = Predictions.from_detections(frames, dets, ["car", "bus", "truck"])
    inputs = SelectionInputs(frames, predictions={"det": preds})
    entry = ({"type": "PREDICTIONS", "task": "det", "name": "CLASS_DISTRIBUTION"}, {"type": "BALANCE", "target": {"car": 0.2, "bus": 0.2, "truck": 0.6}})
    picked = klass[rows(inputs, select(config(entry, n=20), inputs))]
    assert np.abs(np.bincount(picked, minlength=3) - [4, 4, 12]).max() <= 1


def test_balance_objective_by_hand():
    # Classes (a, b), target (0.5, 0.5), one "a" already chosen. Candidates: a, b, no mass.
    X = np.array([[1.0, 0], [1, 0], [0, 1], [0, 0]])
    objective = Balance(X, np.array([0.5, 0.5]), np.array([True, False, False, False]), 1.0).raw()
    now = np.sqrt(0.5)  # shares (1, 0) vs (0.5, 0.5)
    eps = 1e-6
    np.testing.assert_allclose(objective[1:], [(now + eps) / (now + eps), (now + eps) / eps, 1.0])


def test_balance_unknown_class_is_a_config_error():
    inputs = make_inputs()
    with pytest.raises(ConfigError, match=r'strategies\[0\]\.strategy\.target\.suny: .*did you mean "sunny"'):
        select(config((WEATHER, {"type": "BALANCE", "target": {"suny": 0.5}}), n=5), inputs)


# ---- determinism ----------------------------------------------------------------------------
def shuffled(inputs, seed):
    order = np.random.default_rng(seed).permutation(len(inputs.frames))
    f = inputs.frames[order]
    emb = {k: v[order] for k, v in inputs.embeddings.items()}
    scores = {k: v[order] for k, v in inputs.scores.items()}
    meta = {k: Metadata(v.ids[order], v.values[order]) for k, v in inputs.metadata.items()}
    return SelectionInputs(f, emb, scores=scores, metadata=meta)


def test_same_input_same_selection_whatever_the_row_order():
    inputs = make_inputs()
    cfg = config((EMB, {"type": "DIVERSITY"}), (SCORE, {"type": "WEIGHTS"}), ({"type": "RANDOM"}, {"type": "WEIGHTS", "strength": 0.5}), n=25)
    first = select(cfg, inputs, seed=7)
    for seed in range(3):
        again = select(cfg, shuffled(inputs, seed), seed=7)
        assert again.ids.tolist() == first.ids.tolist()
        np.testing.assert_allclose(again.objective, first.objective)
    assert select(cfg, inputs, seed=8).ids.tolist() != first.ids.tolist()


def test_ties_go_to_the_lowest_sample_id():
    ids = ["c.jpg", "a.jpg", "b.jpg", "d.jpg"]
    inputs = SelectionInputs(Frames.build(ids), metadata={"v": Metadata(ids, [1.0, 1.0, 1.0, 2.0])})
    assert select(config(({"type": "METADATA", "key": "v"}, {"type": "WEIGHTS"}), n=4), inputs).ids.tolist() == ["d.jpg", "a.jpg", "b.jpg", "c.jpg"]


def test_random_input_is_seeded():
    inputs = make_inputs()
    pick = lambda s: select(config(({"type": "RANDOM", "random_seed": s}, {"type": "WEIGHTS"}), n=10), inputs).ids.tolist()  # noqa: E731
    assert pick(1) == pick(1) and pick(1) != pick(2)


@pytest.mark.parametrize("n, proportion, expected", [(None, 0.1, 30), (None, 0.0, 0), (-1, None, 300), (0, None, 0)])
def test_sizes(n, proportion, expected):
    inputs = make_inputs()
    assert len(select(config((SCORE, {"type": "WEIGHTS"}), n=n, proportion=proportion), inputs)) == expected


# ---- sequences and object level -------------------------------------------------------------
def video_inputs():
    frames = Frames.concat([Frames.build([f"v{v}-{i:03d}-mp4.png" for i in range(40)], kind="frame", video=f"v{v}.mp4", frame_index=np.arange(40)) for v in range(3)])
    n = len(frames)
    return SelectionInputs(frames, embeddings={"": Embeddings(frames.id, blobs(n, seed=5))}, scores={"det": Scores(frames.id, {"entropy": np.random.default_rng(1).random(n)})})


def test_sequences_are_chosen_whole():
    inputs = video_inputs()
    cfg = config((EMB, {"type": "DIVERSITY"}), (SCORE, {"type": "WEIGHTS"}), n=35)
    outcome = run_selection(cfg, inputs, sequence_length=10)
    f = inputs.frames[rows(inputs, outcome.selection)]
    assert len(f) == 30  # 35 // 10 whole sequences
    for k in range(0, 30, 10):
        assert len(set(f.video[k : k + 10])) == 1
        assert f.frame_index[k : k + 10].tolist() == list(range(f.frame_index[k], f.frame_index[k] + 10))
        assert f.frame_index[k] % 10 == 0


def test_sequence_scores_are_frame_means():
    inputs = video_inputs()
    entropy = inputs.scores["det"]["entropy"]
    picked = rows(inputs, select(config((SCORE, {"type": "WEIGHTS"}), n=10), inputs, sequence_length=10))
    means = entropy.reshape(-1, 10).mean(axis=1)  # frames are in id order: v0-000.. v2-039
    assert picked.tolist() == list(range(10 * int(np.argmax(means)), 10 * int(np.argmax(means)) + 10))


def test_object_level_selects_crops_and_reports_parent_frames():
    parents = ["f/1.jpg", "f/2.jpg", "f/3.jpg"]
    crops = Frames.build([f"{p}#crop{k}" for p in parents for k in range(4)], kind="crop", parent_id=np.repeat(parents, 4), video=np.repeat(parents, 4))
    inputs = SelectionInputs(
        crops, embeddings={"": Embeddings(crops.id, blobs(12, seed=2))}, scores={"vehicles_object_detections": Scores(crops.id, {"uncertainty_entropy": np.linspace(0, 1, 12)})}
    )
    selection = select(SEED_001 | {"n_samples": 5}, inputs)
    assert (crops.kind[rows(inputs, selection)] == "crop").all()
    expected = []
    for p in crops.parent_id[rows(inputs, selection)]:
        if p not in expected:
            expected.append(p)
    assert parent_frames(crops, selection).tolist() == expected


def test_seed_000_config_runs_on_video_frames():
    inputs = video_inputs()
    n = len(inputs.frames)
    inputs = SelectionInputs(
        inputs.frames,
        {"yolov8_detection": inputs.embeddings[""]},
        scores={"yolov8_detection": Scores(inputs.frames.id, {"objectness_least_confidence": np.random.default_rng(2).random(n)})},
        metadata={"flickering": Metadata(inputs.frames.id, np.where(np.arange(n) % 9 == 0, 1.0, 0.5))},
    )
    outcome = run_selection(SEED_000, inputs)
    assert len(outcome.selection) == 100 and outcome.stop_reason == "n_samples"
    flick = inputs.metadata["flickering"].values
    assert flick[rows(inputs, outcome.selection)].mean() > flick.mean()
    assert set(outcome.values) == {"diversity:embeddings:yolov8_detection", "weights:scores:yolov8_detection/objectness_least_confidence", "weights:metadata:flickering"}


def test_factors_explain_each_pick_and_multiply_to_its_objective():
    inputs = make_inputs(preselected=ids_of(300)[:3])
    outcome = run_selection(config((EMB, {"type": "DIVERSITY"}), (SCORE, {"type": "WEIGHTS", "strength": 2.0}), (META, {"type": "WEIGHTS", "strength": -0.5}), n=20), inputs)
    names = list(outcome.values)
    assert list(outcome.factors) == names == list(outcome.objectives)
    picked = ~np.isnan(outcome.selection.objective)
    assert picked.sum() == 17 and np.isnan(outcome.factors[names[1]][~picked]).all()  # preselected rows: NaN
    product = np.prod([outcome.factors[n][picked] for n in names], axis=0)
    assert np.allclose(product, outcome.selection.objective[picked], rtol=1e-9)
    entropy = inputs.scores["det"]["entropy"][rows(inputs, outcome.selection)][picked]
    assert np.allclose(outcome.objectives[names[1]][picked], entropy)  # WEIGHTS: o = the input value
    assert np.allclose(outcome.factors[names[1]][picked], entropy**2)  # strength 2
    assert np.allclose(outcome.objectives[names[0]][picked], outcome.values[names[0]][picked])  # DIVERSITY: distance at pick time


# ---- inputs: errors, predictions, resolver --------------------------------------------------
@pytest.mark.parametrize(
    "entry, message",
    [
        (({"type": "SCORES", "task": "dte", "score": "entropy"}, {"type": "WEIGHTS"}), r'strategies\[0\]\.input\.task: .*did you mean "det"'),
        (({"type": "SCORES", "task": "det", "score": "entropi"}, {"type": "WEIGHTS"}), r'input\.score: .*did you mean "entropy"'),
        (({"type": "METADATA", "key": "weather.temp"}, {"type": "WEIGHTS"}), r"input\.key: no metadata key 'weather.temp'"),
        ((WEATHER, {"type": "WEIGHTS"}), r"input\.key: metadata 'weather.description' is categorical"),
        (({"type": "EMBEDDINGS", "task": "objects"}, {"type": "DIVERSITY"}), r"input\.task: no embeddings for task 'objects'"),
        (({"type": "EMBEDDINGS", "tag_name": "initial"}, {"type": "SIMILARITY"}), r"input\.tag_name: no query embeddings"),
    ],
)
def test_missing_inputs_name_the_config_path(entry, message):
    with pytest.raises(ConfigError, match=message):
        select(config(entry, n=3), make_inputs())


def test_predictions_from_detections_by_hand():
    frames = Frames.build(["a", "b", "c"])
    dets = Detections.from_xywh([0, 0, 2], np.tile([0, 0, 5, 5], (3, 1)), [0.9, 0.8, 0.7], [1, 1, 0], probs=[[0.1, 0.9], [0.3, 0.7], [0.6, 0.4]])
    preds = Predictions.from_detections(frames, dets, ["car", "bus"])
    np.testing.assert_allclose(preds.class_distribution, [[0.4, 1.6], [0, 0], [0.6, 0.4]])
    np.testing.assert_allclose(preds.category_count, [[0, 2], [0, 0], [1, 0]])
    inputs = SelectionInputs(frames, predictions={"t": preds})
    outcome = run_selection(
        config(
            ({"type": "PREDICTIONS", "task": "t", "name": "CATEGORY_COUNT", "categories": ["bus"]}, {"type": "THRESHOLD", "threshold": 1, "operation": "BIGGER_EQUAL"}),
            ({"type": "RANDOM"}, {"type": "WEIGHTS"}),
            n=3,
        ),
        inputs,
    )
    assert outcome.selection.ids.tolist() == ["a"]
    with pytest.raises(SchemaError, match="class_id"):
        Predictions.from_detections(frames, dets, ["car"])


def test_metadata_align_and_preselected_must_exist():
    meta = Metadata(["a", "b"], ["x", None])
    assert meta.align(["b", "c", "a"]).tolist() == ["", "", "x"]
    assert np.isnan(Metadata(["a"], [1]).align(["z"])[0])
    with pytest.raises(SchemaError, match="'zz' is not a row of frames"):
        SelectionInputs(Frames.build(["a"]), preselected=["zz"])


class FakeResolver:
    def __init__(self, inputs):
        self.inputs, self.calls = inputs, []

    def embeddings(self, task):
        self.calls.append(("embeddings", task))
        return self.inputs.embeddings[""]

    def query_embeddings(self, dataset_id, tag_name):
        self.calls.append(("query", dataset_id, tag_name))
        return self.inputs.embeddings[""][:3]

    def scores(self, task):
        self.calls.append(("scores", task))
        return self.inputs.scores["det"]

    def metadata(self, key):
        self.calls.append(("metadata", key))
        return self.inputs.metadata[key]

    def predictions(self, task):  # pragma: no cover - not named by the config below
        raise AssertionError("not asked for")


def test_resolve_inputs_asks_only_for_what_the_config_names():
    base = make_inputs()
    cfg = load_selection_config(config((EMB, {"type": "DIVERSITY"}), (SCORE, {"type": "WEIGHTS"}), ({"type": "EMBEDDINGS", "tag_name": "q"}, {"type": "SIMILARITY"}), n=5))
    resolver = FakeResolver(base)
    inputs = resolve_inputs(cfg, resolver, base.frames, preselected=base.frames.id[:1])
    assert sorted(resolver.calls, key=str) == sorted([("embeddings", None), ("scores", "det"), ("query", None, "q")], key=str)
    assert len(select(cfg, inputs)) == 5


# ---- selection.csv --------------------------------------------------------------------------
def test_selection_csv(tmp_path):
    base = make_inputs()
    inputs = SelectionInputs(base.frames, base.embeddings, scores=base.scores, metadata=base.metadata, preselected=base.frames.id[[3]])
    outcome = run_selection(config((EMB, {"type": "DIVERSITY"}), (SCORE, {"type": "WEIGHTS"}), (WEATHER, {"type": "BALANCE", "distribution": "UNIFORM"}), n=4), inputs)
    path = write_selection_csv(tmp_path / "selection.csv", inputs.frames, outcome.selection, outcome.values)
    with open(path, newline="") as f:
        table = list(csv.DictReader(f))
    assert [r["file_name"] for r in table] == outcome.selection.ids.tolist()
    assert table[0]["objective"] == "" and table[1]["objective"] != ""
    entropy = inputs.scores["det"]["entropy"][rows(inputs, outcome.selection)]
    assert [float(r["weights:scores:det/entropy"]) for r in table] == entropy.tolist()
    labels = inputs.metadata["weather.description"].values[rows(inputs, outcome.selection)]
    assert [r["balance:metadata:weather.description"] for r in table] == [f"{x}=1" for x in labels]
    assert list(table[0])[:6] == ["file_name", "kind", "video", "frame_index", "parent_id", "objective"]


def test_selection_json(tmp_path):
    import json

    outcome = run_selection(config((SCORE, {"type": "WEIGHTS"}), n=4), make_inputs())
    path = write_selection_json(tmp_path / "selection.json", outcome, seed=3, extra={"datasource": "x"})
    summary = json.loads(path.read_text())
    assert summary["config"]["n_samples"] == 4 and summary["seed"] == 3 and summary["datasource"] == "x"
    assert summary["counts"] == {"input": 300, "candidates": 300, "preselected": 0, "selected": 4}
    assert summary["stop_reason"] == "n_samples"
    assert set(summary["timings_seconds"]) == {"inputs", "objectives", "greedy"}


@pytest.mark.parametrize("strategy", [{"type": "DIVERSITY"}, {"type": "TYPICALITY"}])
def test_a_single_sample(strategy):
    inputs = SelectionInputs(Frames.build(["a"]), embeddings={"": Embeddings(["a"], [[1.0, 0.0]])})
    outcome = run_selection(config((EMB, strategy), n=3), inputs)
    assert outcome.selection.ids.tolist() == ["a"] and outcome.stop_reason == "exhausted"


def test_nothing_passes_the_threshold():
    inputs = make_inputs(n=20)
    entry = ({"type": "METADATA", "key": "weather.temperature"}, {"type": "THRESHOLD", "threshold": 1e9, "operation": "BIGGER"})
    outcome = run_selection(config(entry, (EMB, {"type": "DIVERSITY"}), n=5), inputs)
    assert len(outcome.selection) == 0 and outcome.counts["candidates"] == 0


def test_a_weights_input_constant_over_the_candidates_gets_a_note():
    """WEIGHTS on a score that is 0 everywhere (uncertainty_margin of a one-class detector) cannot
    influence the choice: the outcome says so; a varying score gets no note."""
    inputs = make_inputs(n=30)
    flat = Scores(inputs.frames.id, {"uncertainty_margin": np.zeros(30), "entropy": inputs.scores["det"]["entropy"]})
    inputs = SelectionInputs(inputs.frames, embeddings=inputs.embeddings, scores={"det": flat})
    margin = {"type": "SCORES", "task": "det", "score": "uncertainty_margin"}
    outcome = run_selection(config((EMB, {"type": "DIVERSITY"}), (margin, {"type": "WEIGHTS"}), n=5), inputs)
    assert outcome.notes == [
        "strategies[1] (WEIGHTS on scores:det/uncertainty_margin): the input is 0 for every candidate (30), so this strategy cannot influence the choice; "
        "pick another input or drop it"
    ]
    assert run_selection(config((EMB, {"type": "DIVERSITY"}), (SCORE, {"type": "WEIGHTS"}), n=5), inputs).notes == []
