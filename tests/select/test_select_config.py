import json

import pytest

from thresher.errors import ConfigError
from thresher.select import SelectionConfig, load_selection_config

from selection_seeds import SEED_000, SEED_001

EVERY_FIELD = {
    "proportion_samples": 0.25,
    "strategies": [
        {"input": {"type": "EMBEDDINGS", "dataset_id": "a" * 24, "tag_name": "initial-tag"}, "strategy": {"type": "SIMILARITY", "strength": 2}},
        {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY", "stopping_condition_minimum_distance": 0.2, "strength": 0.6}},
        {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "TYPICALITY", "num_nearest_neighbors": 5, "stopping_condition_minimum_typicality": 0.3}},
        {"input": {"type": "SCORES", "task": "t", "score": "uncertainty_margin"}, "strategy": {"type": "WEIGHTS", "stopping_condition_max_sum": 10.5}},
        {"input": {"type": "METADATA", "key": "lightly.sharpness"}, "strategy": {"type": "THRESHOLD", "threshold": 20, "operation": "BIGGER"}},
        {"input": {"type": "METADATA", "key": "weather.description"}, "strategy": {"type": "BALANCE", "target": {"sunny": 0.5, "rainy": 0.2}}},
        {"input": {"type": "PREDICTIONS", "task": "t", "name": "CLASS_DISTRIBUTION"}, "strategy": {"type": "BALANCE", "distribution": "UNIFORM"}},
        {
            "input": {"type": "PREDICTIONS", "task": "t", "name": "CATEGORY_COUNT", "categories": ["car"]},
            "strategy": {"type": "THRESHOLD", "threshold": 2, "operation": "BIGGER_EQUAL"},
        },
        {"input": {"type": "RANDOM", "random_seed": 42}, "strategy": {"type": "WEIGHTS", "strength": -1}},
    ],
}


@pytest.mark.parametrize("raw", [SEED_000, SEED_001, EVERY_FIELD])
def test_lightlyone_configs_load_and_round_trip(raw):
    config = load_selection_config(raw)
    assert isinstance(config, SelectionConfig)
    again = load_selection_config(config.to_dict())
    assert again == config
    assert load_selection_config(config) is config


def test_defaults():
    config = load_selection_config(SEED_000)
    assert [e.strategy.strength for e in config.strategies] == [1.0, 1.0, 1.0]
    assert config.strategies[0].input.task == "yolov8_detection"


def test_camel_case_aliases_of_the_api_models():
    config = load_selection_config(
        {
            "nSamples": 5,
            "strategies": [
                {"input": {"type": "RANDOM", "randomSeed": 3}, "strategy": {"type": "WEIGHTS", "stoppingConditionMaxSum": 2}},
                {"input": {"type": "EMBEDDINGS", "datasetId": "b" * 24, "tagName": "q"}, "strategy": {"type": "SIMILARITY"}},
                {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY", "stoppingConditionMinimumDistance": 0.3}},
                {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "TYPICALITY", "numNearestNeighbors": 4, "stoppingConditionMinimumTypicality": 0.5}},
            ],
        }
    )
    assert config.n_samples == 5
    assert config.strategies[0].input.random_seed == 3
    assert config.strategies[0].strategy.stopping_condition_max_sum == 2
    assert config.strategies[1].input.tag_name == "q"
    assert config.strategies[2].strategy.stopping_condition_minimum_distance == 0.3
    assert config.strategies[3].strategy.num_nearest_neighbors == 4
    assert config.strategies[3].strategy.stopping_condition_minimum_typicality == 0.5


@pytest.mark.parametrize("suffix, dump", [(".json", json.dumps), (".yaml", None), (".yml", None)])
def test_files(tmp_path, suffix, dump):
    import yaml

    path = tmp_path / f"selection{suffix}"
    path.write_text(dump(SEED_000) if dump else yaml.safe_dump(SEED_000))
    assert load_selection_config(path) == load_selection_config(SEED_000)
    assert load_selection_config(str(path)) == load_selection_config(SEED_000)


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="missing.yaml"):
        load_selection_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match=r"bad.json:1:2: not valid JSON: Expecting property name"):
        load_selection_config(bad)
    unclosed = tmp_path / "unclosed.yaml"
    unclosed.write_text("n_samples: 3\nstrategies:\n  - {input: {type: EMBEDDINGS}, strategy: {type: DIVERSITY}\n")
    with pytest.raises(ConfigError) as caught:
        load_selection_config(unclosed)
    assert str(caught.value) == (f"{unclosed}:4:1: not valid YAML: expected ',' or '}}', but got '<stream end>' (while parsing a flow mapping that starts at line 3, column 5)")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("n_samples: 3\nstrategies:\n  - input: {type: EMBEDDINGS}\n    strategy: {type: DIVERSTY}\n")
    with pytest.raises(ConfigError, match=r'wrong.yaml: strategies\[0\].strategy.type: .*did you mean "DIVERSITY"'):
        load_selection_config(wrong)


def _with(strategy=None, input=None, **top):
    entry = {"input": input or {"type": "EMBEDDINGS"}, "strategy": strategy or {"type": "DIVERSITY"}}
    raw = {"n_samples": 10, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}, entry]}
    raw.update(top)
    return raw


SCORES = {"type": "SCORES", "task": "t", "score": "s"}
META = {"type": "METADATA", "key": "k"}
PRED_DIST = {"type": "PREDICTIONS", "task": "t", "name": "CLASS_DISTRIBUTION"}


@pytest.mark.parametrize(
    "raw, message",
    [
        # unknown keys, with the nearest valid name
        ({"n_sample": 3, "strategies": []}, r'^n_sample: unknown key .*did you mean "n_samples"'),
        (
            _with({"type": "DIVERSITY", "stopping_condition_min_distance": 0.1}),
            r'^strategies\[1\]\.strategy\.stopping_condition_min_distance: .*did you mean "stopping_condition_minimum_distance"',
        ),
        (_with(input={"type": "SCORES", "task": "t", "scor": "s"}), r'strategies\[1\]\.input\.scor: .*did you mean "score"'),
        (_with({"type": "WEIGHTS", "threshold": 3}, SCORES), r"strategies\[1\]\.strategy\.threshold: unknown key"),
        ({"n_samples": 1, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}, "weight": 1}]}, r"strategies\[0\]\.weight: unknown key"),
        # unknown types
        (_with({"type": "WEIGHT"}, SCORES), r'strategies\[1\]\.strategy\.type: unknown strategy type .*did you mean "WEIGHTS"'),
        (_with(input={"type": "score", "task": "t", "score": "s"}), r'strategies\[1\]\.input\.type: .*did you mean "SCORES"'),
        (_with({"strength": 2}), r"strategies\[1\]\.strategy\.type: missing"),
        # impossible combinations
        (_with({"type": "WEIGHTS"}), r"strategies\[1\]\.strategy\.type: WEIGHTS cannot take EMBEDDINGS input; .*DIVERSITY"),
        (_with({"type": "DIVERSITY"}, SCORES), r"strategies\[1\]\.strategy\.type: DIVERSITY cannot take SCORES"),
        (_with({"type": "BALANCE", "target": {"a": 0.5}}, SCORES), r"BALANCE cannot take SCORES"),
        (_with({"type": "WEIGHTS"}, PRED_DIST), r"WEIGHTS cannot take PREDICTIONS.CLASS_DISTRIBUTION input; .*BALANCE"),
        (_with({"type": "SIMILARITY"}), r"strategies\[1\]\.input\.tag_name: SIMILARITY needs the query set"),
        (_with({"type": "TYPICALITY"}, {"type": "EMBEDDINGS", "tag_name": "q"}), r"input\.tag_name: TYPICALITY"),
        (_with(input={"type": "EMBEDDINGS", "dataset_id": "x"}), r"input\.tag_name: dataset_id names a query set"),
        # values
        (
            _with({"type": "THRESHOLD", "threshold": 1, "operation": "BIGGER_EQUALS"}, META),
            r'strategies\[1\]\.strategy\.operation: expected one of SMALLER, .*did you mean "BIGGER_EQUAL"',
        ),
        (_with({"type": "THRESHOLD", "operation": "BIGGER"}, META), r"strategies\[1\]\.strategy\.threshold: missing"),
        (_with({"type": "BALANCE"}, META), r"strategies\[1\]\.strategy\.target: distribution TARGET needs"),
        (_with({"type": "BALANCE", "target": {"a": 0.7, "b": 0.6}}, META), r"target: fractions must sum to at most 1, got 1.3"),
        (_with({"type": "BALANCE", "target": {"a": 0.7}, "distribution": "UNIFORM"}, META), r"target: only used with distribution TARGET"),
        (_with({"type": "BALANCE", "distribution": "UNIFROM"}, META), r'distribution: .*did you mean "UNIFORM"'),
        (_with({"type": "TYPICALITY", "num_nearest_neighbors": 1}), r"num_nearest_neighbors: .*greater than or equal to 2"),
        (_with({"type": "DIVERSITY", "stopping_condition_minimum_distance": 3}), r"stopping_condition_minimum_distance: .*less than or equal to 2"),
        (_with({"type": "DIVERSITY", "strength": "high"}), r"strategies\[1\]\.strategy\.strength: .*valid number.*got 'high'"),
        (
            _with(input={"type": "PREDICTIONS", "task": "t", "name": "CLASS_DIST"}),
            r'input\.name: expected one of CLASS_DISTRIBUTION, CATEGORY_COUNT, got .*did you mean "CLASS_DISTRIBUTION"',
        ),
        # sizes
        (_with(proportion_samples=0.5), r"^n_samples: set exactly one of n_samples and proportion_samples, got both"),
        ({"strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}, r"got neither"),
        ({"proportion_samples": 1.5, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}, r"proportion_samples: .*less than or equal to 1"),
        ({"n_samples": 3, "strategies": []}, r"strategies: .*at least 1"),
        ({"n_samples": 3}, r"strategies: missing"),
        # LightlyOne options with no local meaning
        (_with(lightly_path_regex=".*"), r"lightly_path_regex: LightlyOne's filename-regex metadata are not supported"),
    ],
)
def test_mistakes_are_config_errors_with_the_dotted_path(raw, message):
    with pytest.raises(ConfigError, match=message):
        load_selection_config(raw)


def test_not_a_mapping():
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_selection_config([1, 2])


# ---- WEIGHTED_KMEANS: a thresher extension (docs/selection.md) --------------------------------
MARGIN_WEIGHTS = {"type": "SCORES", "task": "model", "score": "uncertainty_margin"}


def _kmeans(strategy=None, *more, **top):
    entry = {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "WEIGHTED_KMEANS", "weights": MARGIN_WEIGHTS, **(strategy or {})}}
    raw = {"n_samples": 10, "strategies": [entry, *more]}
    raw.update(top)
    return raw


def test_weighted_kmeans_loads_round_trips_and_resolves_its_defaults():
    config = load_selection_config(_kmeans({}, {"input": META, "strategy": {"type": "THRESHOLD", "threshold": 1, "operation": "BIGGER"}}))
    assert config.batch_index == 0 and config.strategies[0].strategy.per_pick == 10
    assert load_selection_config(config.to_dict()) == config
    typical = load_selection_config(_kmeans({"weights": {"type": "TYPICALITY", "numNearestNeighbors": 5}}))
    assert typical.strategies[0].strategy.per_pick is None  # every candidate
    assert typical.strategies[0].strategy.weights.num_nearest_neighbors == 5
    assert load_selection_config(_kmeans({"candidatesPerPick": 3})).strategies[0].strategy.per_pick == 3
    assert load_selection_config(SEED_000).batch_index is None


@pytest.mark.parametrize(
    "raw, message",
    [
        (_kmeans({"type": "WEIGHTED_KMEAN"}), r'strategies\[0\]\.strategy\.type: unknown strategy type .*did you mean "WEIGHTED_KMEANS"'),
        (_kmeans({"weights": {"type": "SCORE", "task": "m", "score": "s"}}), r'^strategies\[0\]\.strategy\.weights\.type: unknown weights type .*did you mean "SCORES"'),
        (_kmeans({"weights": {"type": "SCORES", "tsk": "m", "score": "s"}}), r'^strategies\[0\]\.strategy\.weights\.tsk: .*did you mean "task"'),
        (_kmeans({"weights": {"type": "SCORES", "task": "m"}}), r"^strategies\[0\]\.strategy\.weights\.score: missing"),
        (_kmeans({"weights": "margin"}), r"^strategies\[0\]\.strategy\.weights: expected a mapping with a `type`, got str"),
        (_kmeans({"weights": {"type": "TYPICALITY", "num_nearest_neighbors": 1}}), r"weights\.num_nearest_neighbors: .*greater than or equal to 2"),
        ({"n_samples": 3, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "WEIGHTED_KMEANS"}}]}, r"^strategies\[0\]\.strategy\.weights: missing"),
        (_kmeans({"candidates_per_pik": 3}), r'^strategies\[0\]\.strategy\.candidates_per_pik: .*did you mean "candidates_per_pick"'),
        (_kmeans({"candidates_per_pick": 0}), r"^strategies\[0\]\.strategy\.candidates_per_pick: .*greater than or equal to 1"),
        (_kmeans({"strength": 2}), r"^strategies\[0\]\.strategy\.strength: unknown key"),
        (_kmeans(n_samples=-1), r"^n_samples: WEIGHTED_KMEANS picks a batch of a given size; .*got -1"),
        (
            _kmeans({}, {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}),
            r"^strategies\[1\]\.strategy\.type: WEIGHTED_KMEANS \(strategies\[0\]\) picks the whole batch at once and combines only with THRESHOLD, got DIVERSITY",
        ),
        (_kmeans({}, _kmeans()["strategies"][0]), r"^strategies\[1\]\.strategy\.type: .*combines only with THRESHOLD, got WEIGHTED_KMEANS"),
        (
            {"n_samples": 3, "strategies": [{"input": SCORES, "strategy": {"type": "WEIGHTED_KMEANS", "weights": MARGIN_WEIGHTS}}]},
            r"WEIGHTED_KMEANS cannot take SCORES input; SCORES works with WEIGHTS, THRESHOLD",
        ),
        (
            {"n_samples": 3, "strategies": [{"input": {"type": "EMBEDDINGS", "tag_name": "q"}, "strategy": {"type": "WEIGHTED_KMEANS", "weights": MARGIN_WEIGHTS}}]},
            r"input\.tag_name: WEIGHTED_KMEANS is measured on the samples themselves",
        ),
    ],
)
def test_weighted_kmeans_mistakes(raw, message):
    with pytest.raises(ConfigError, match=message):
        load_selection_config(raw)
