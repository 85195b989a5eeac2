"""The whole run config is checked before any model runs, with the selection stage's own messages."""

from __future__ import annotations

import copy
import re
import subprocess
import sys

import pytest
import yaml

from thresher.catalog import Catalog
from thresher.embedding_store import EmbeddingStore
from thresher.errors import ConfigError, ThresherError, UsageError
from thresher.io.datasource import Datasource
from thresher.io.problems import Problems
from thresher.run.config import load_run_config
from thresher.run.config_check import check_run_config
from thresher.run.resolver import RunResolver
from thresher.select import resolve_inputs, run_selection

GOOD = {
    "worker_config": {"pretagging": False},
    "selection_config": {
        "n_samples": 2,
        "strategies": [
            {"input": {"type": "RANDOM"}, "strategy": {"type": "WEIGHTS"}},
            {"input": {"type": "SCORES", "task": "det", "score": "objectness_least_confidence"}, "strategy": {"type": "WEIGHTS"}},
            {"input": {"type": "METADATA", "key": "weather.rain"}, "strategy": {"type": "WEIGHTS"}},
            {"input": {"type": "PREDICTIONS", "task": "det", "name": "CLASS_DISTRIBUTION", "categories": ["car"]}, "strategy": {"type": "BALANCE", "target": {"car": 1.0}}},
        ],
    },
}


def with_input(index: int, **changes) -> dict:
    config = copy.deepcopy(GOOD)
    config["selection_config"]["strategies"][index]["input"].update(changes)
    return config


def check(datasource, config: dict) -> None:
    from thresher.run.assertions import plan_assertions

    source, run_config = Datasource(datasource), load_run_config(config)
    with Catalog(datasource / ".thresher") as catalog:
        check_run_config(source, run_config, catalog, plan_assertions(run_config, source.lightly))


def selection_stage_error(datasource, config: dict) -> str:
    """The message the selection stage gives for `config` on the datasource's real inputs."""
    source = Datasource(datasource)
    frames = source.frames(Problems())
    run_config = load_run_config(config)
    with Catalog(datasource / ".thresher") as catalog:
        resolver = RunResolver(source, frames, frames, EmbeddingStore(datasource / ".thresher" / "embeddings" / "none"), catalog)
        with pytest.raises(ThresherError) as caught:
            run_selection(run_config.selection_config, resolve_inputs(run_config.selection_config, resolver, frames, []))
    return str(caught.value)


def test_a_good_config_passes(clean_datasource):
    check(clean_datasource, GOOD)


@pytest.mark.parametrize(
    "index, changes, message",
    [
        (
            1,
            {"score": "objectness_least_confidense"},
            """selection_config.strategies[1].input.score: no score of task 'det' named 'objectness_least_confidense' (did you mean "objectness_least_confidence"?)""",
        ),
        (1, {"task": "dett"}, """selection_config.strategies[1].input: task 'dett': no such prediction task (did you mean "det"?)"""),
        (2, {"key": "weather.rian"}, """selection_config.strategies[2].input: METADATA key 'weather.rian': no metadata key 'weather.rian' (did you mean "weather.rain"?)"""),
        (3, {"categories": ["carr"]}, """selection_config.strategies[3].input.categories: no class of task 'det' named 'carr' (did you mean "car"?)"""),
    ],
)
def test_a_typo_gets_the_selection_stages_message_before_anything_runs(clean_datasource, index, changes, message):
    config = with_input(index, **changes)
    with pytest.raises(ConfigError) as caught:
        check(clean_datasource, config)
    assert str(caught.value).startswith(message)
    # the selection stage's text; a hint may follow the list of what is there
    assert head(str(caught.value)) == "selection_config." + head(selection_stage_error(clean_datasource, config))


def test_an_embeddings_task_must_exist_at_frame_level_too(clean_datasource):
    config = copy.deepcopy(GOOD)
    config["selection_config"]["strategies"].append({"input": {"type": "EMBEDDINGS", "task": "det"}, "strategy": {"type": "DIVERSITY"}})
    check(clean_datasource, config)  # an existing task names the frames' own embeddings
    config["selection_config"]["strategies"][-1]["input"]["task"] = "dett"
    message = """selection_config.strategies[4].input: task 'dett': no such prediction task (did you mean "det"?); tasks: ['det']"""
    with pytest.raises(ConfigError) as caught:
        check(clean_datasource, config)
    assert str(caught.value).startswith(message)
    assert selection_stage_error(clean_datasource, config) == message.removeprefix("selection_config.")  # the stage itself, before the run names the section


def head(message: str) -> str:
    return re.split(r"; (?:available|have|tasks)\b", message)[0]


@pytest.mark.parametrize("score", ["mcbox", "sota", "perc_norm_box_mcbox"])
def test_a_score_the_tasks_files_cannot_give_fails_the_check_as_it_would_fail_the_selection(clean_datasource, score):
    """'det' has class probabilities but no per-box uncertainty: mcbox is not offered, nor accepted."""
    config = with_input(1, score=score)
    with pytest.raises(ConfigError) as caught:
        check(clean_datasource, config)
    assert str(caught.value).startswith(f"selection_config.strategies[1].input.score: no score of task 'det' named {score!r}")
    available = str(caught.value).split("; available: ")[1]
    assert "'entropy'" in available and "mcbox" not in available and "albox" not in available
    if score == "mcbox":  # the very list the selection stage gives
        assert str(caught.value) == "selection_config." + selection_stage_error(clean_datasource, config)


@pytest.mark.parametrize("score", ["entropy", "perc_mean_entropy", "uncertainty_margin"])
def test_a_score_the_tasks_files_give_passes(clean_datasource, score):
    check(clean_datasource, with_input(1, score=score))


def test_the_pretagging_tasks_scores_are_those_of_its_model(clean_datasource, tmp_path):
    """The built-in detector gives class probabilities (entropy), no per-box uncertainty (mcbox);
    another model's output is not known before it runs: every score passes the check."""
    config = copy.deepcopy(GOOD)
    config["worker_config"]["pretagging"] = True
    del config["selection_config"]["strategies"][3]
    config["selection_config"]["strategies"][1]["input"].update(task="lightly_pretagging", score="entropy")
    check(clean_datasource, config)
    config["selection_config"]["strategies"][1]["input"]["score"] = "mcbox"
    with pytest.raises(ConfigError, match=r"no score of task 'lightly_pretagging' named 'mcbox'"):
        check(clean_datasource, config)
    config["thresher"] = {"pretagging": {"model": str(tmp_path / "my-detector.onnx")}}
    with pytest.raises(ConfigError, match=r"^thresher.pretagging.model: expected 'ssd-mobilenet-v2-coco' or an existing .onnx file, got '.*my-detector.onnx' \(no such file\)"):
        check(clean_datasource, config)
    (tmp_path / "my-detector.onnx").write_bytes(b"not loaded by the check")
    check(clean_datasource, config)


@pytest.mark.parametrize(
    "embedder, message",
    [
        ("nothere.onnx", r"^thresher.embedder: expected an existing model file, got 'nothere.onnx' \(no such file\)"),
        ("simclr:/no/such/ckpt.pt", r"^thresher.embedder: expected an existing model file, got '/no/such/ckpt.pt'"),
        ("mobilenetv2-imagnet", r"^thresher.embedder: expected a model file .* got 'mobilenetv2-imagnet' \(did you mean \"mobilenetv2-imagenet\"\?\)"),
    ],
)
def test_a_missing_model_file_fails_the_check(clean_datasource, embedder, message):
    config = copy.deepcopy(GOOD)
    config["thresher"] = {"embedder": embedder}
    with pytest.raises(ConfigError, match=message):
        check(clean_datasource, config)


def test_what_the_run_will_create_counts_as_existing(clean_datasource):
    config = copy.deepcopy(GOOD)
    config["worker_config"]["pretagging"] = True
    config["thresher"] = {"pretagging": {"classes": ["car", "truck"]}, "assertions": {"task": "lightly_pretagging", "names": ["flicker", "multibox"]}}
    config["selection_config"]["strategies"] += [
        {"input": {"type": "SCORES", "task": "lightly_pretagging", "score": "uncertainty_margin"}, "strategy": {"type": "WEIGHTS"}},
        {"input": {"type": "METADATA", "key": "flickering"}, "strategy": {"type": "WEIGHTS"}},
        {"input": {"type": "METADATA", "key": "multibox_severity"}, "strategy": {"type": "WEIGHTS"}},
        {"input": {"type": "PREDICTIONS", "task": "lightly_pretagging-imputed", "name": "CATEGORY_COUNT", "categories": ["truck"]}, "strategy": {"type": "WEIGHTS"}},
    ]
    check(clean_datasource, config)
    config["selection_config"]["strategies"][-1]["input"]["categories"] = ["bus"]  # filtered out by thresher.pretagging.classes
    expected = "selection_config.strategies[7].input.categories: no class of task 'lightly_pretagging-imputed' named 'bus'; available: ['car', 'truck']"
    with pytest.raises(ConfigError, match="^" + re.escape(expected)):
        check(clean_datasource, config)


@pytest.mark.parametrize(
    "config_change, error, message",
    [
        (
            lambda c: c["selection_config"]["strategies"][1]["input"].update(task="lightly_pretagging"),
            ConfigError,
            r"task 'lightly_pretagging': no such prediction task; tasks: \['det'\] \(worker_config.pretagging: true creates 'lightly_pretagging'\)",
        ),
        (
            lambda c: c["selection_config"]["strategies"].append({"input": {"type": "METADATA", "key": "wether.rain"}, "strategy": {"type": "WEIGHTS"}}),
            ConfigError,
            r"no metadata key 'wether.rain' \(did you mean \"weather.rain\"\?\); have \['weather.rain'\]; model assertions .* are computed when thresher.assertions is configured",
        ),
        (
            lambda c: c["worker_config"].update(object_level={"task_name": "dte"}),
            ConfigError,
            r"^worker_config.object_level.task_name: no prediction task 'dte' \(did you mean \"det\"\?\)",
        ),
        (
            lambda c: (
                c["worker_config"].update(object_level={"task_name": "det"}),
                c.update(thresher={"assertions": {"task": "det", "names": ["flicker"]}}),
                c["selection_config"]["strategies"].append({"input": {"type": "EMBEDDINGS", "task": "det-imputed"}, "strategy": {"type": "DIVERSITY"}}),
            ),
            ConfigError,
            r"EMBEDDINGS task 'det-imputed': at object level the samples are the crops of the object_level task 'det'",
        ),
        (lambda c: c.update(thresher={"assertions": {"task": "det", "names": ["flickr"]}}), ThresherError, r"flickr.*did you mean \"flicker\""),
        (lambda c: c.update(thresher={"assertions": {"task": "deet"}}), ConfigError, r"^thresher.assertions.task: no prediction task 'deet'"),
        (
            lambda c: c["selection_config"]["strategies"].append({"input": {"type": "EMBEDDINGS", "tag_name": "labeld"}, "strategy": {"type": "SIMILARITY"}}),
            UsageError,
            r"no tag 'labeld'",
        ),
    ],
)
def test_run_level_mistakes_name_the_setting_to_change(clean_datasource, config_change, error, message):
    config = copy.deepcopy(GOOD)
    config_change(config)
    with pytest.raises(error, match=message):
        check(clean_datasource, config)


def test_the_cli_fails_with_exit_2_before_any_model_or_video_library_loads(clean_datasource, tmp_path):
    config = copy.deepcopy(GOOD)
    config["worker_config"]["pretagging"] = True
    config["selection_config"]["strategies"][1]["input"].update(task="lightly_pretagging", score="objectness_least_confidense")
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(config))
    probe = (
        "import sys\nfrom thresher.cli import main\ntry:\n    main(sys.argv[1:])\nfinally:\n"
        "    print('loaded:', sorted(m for m in sys.modules if m in ('cv2', 'torch', 'onnxruntime', 'av')), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe, "run", str(clean_datasource), "--config", str(tmp_path / "run.yaml")], capture_output=True, text=True)
    assert result.returncode == 2
    assert f"error: {tmp_path / 'run.yaml'}: selection_config.strategies[1].input.score: no score of task 'lightly_pretagging' named 'objectness_least_confidense'" in result.stderr
    assert "loaded: []" in result.stderr
    assert not (clean_datasource / ".lightly" / "predictions" / "lightly_pretagging").exists()


def test_a_renamed_key_says_its_new_name(tmp_path):
    """exports.frames (earlier run files) is now exports.images; the error says so, not "did you mean filenames"."""
    run_file = tmp_path / "run.yaml"
    run_file.write_text(yaml.safe_dump({**GOOD, "thresher": {"exports": {"frames": False}}}))
    with pytest.raises(ConfigError, match=re.escape("thresher.exports.frames: unknown key 'frames' (it was renamed: write 'images')")) as caught:
        load_run_config(run_file)
    assert str(run_file) in str(caught.value) and "did you mean" not in str(caught.value)
    assert load_run_config({**GOOD, "thresher": {"exports": {"images": False}}}).thresher.exports.images is False


def test_run_file_errors_name_the_file_and_the_full_key_path(tmp_path):
    run_file = tmp_path / "run.yaml"
    config = with_input(1, scor="objectness_least_confidence")
    del config["selection_config"]["strategies"][1]["input"]["score"]
    run_file.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError) as caught:
        load_run_config(run_file)
    assert str(caught.value).startswith(f"{run_file}: selection_config.strategies[1].input.scor: unknown key 'scor' (did you mean \"score\"?)")
    run_file.write_text(yaml.safe_dump({**GOOD, "selection_config": {**GOOD["selection_config"], "n_samples": "many"}}))
    with pytest.raises(ConfigError, match=re.escape(f"{run_file}: selection_config.n_samples: ")):
        load_run_config(run_file)


def test_a_run_file_that_is_not_yaml_is_one_line_with_its_place(tmp_path):
    run_file = tmp_path / "run.yaml"
    run_file.write_text("selection_config:\n  n_samples: 5\n  strategies:\n    - {input: {type: RANDOM}, strategy: {type: WEIGHTS}\n")
    with pytest.raises(ConfigError) as caught:
        load_run_config(run_file)
    assert str(caught.value) == (f"{run_file}:5:1: not valid YAML: expected ',' or '}}', but got '<stream end>' (while parsing a flow mapping that starts at line 4, column 7)")


def test_the_runs_own_checks_name_the_run_file(clean_datasource, tmp_path):
    """Errors found after the file was read (the config check, the export task) name it too."""
    from thresher.run.api import run

    run_file = tmp_path / "run.yaml"
    run_file.write_text(yaml.safe_dump(with_input(1, score="objectness_least_confidense")))
    with pytest.raises(ConfigError, match=re.escape(f"{run_file}: selection_config.strategies[1].input.score: no score of task 'det'")):
        run(clean_datasource, run_file, log=lambda line: None)
    two_tasks = copy.deepcopy(GOOD)
    two_tasks["worker_config"]["pretagging"] = True
    two_tasks["selection_config"]["strategies"].append({"input": {"type": "SCORES", "task": "lightly_pretagging", "score": "entropy"}, "strategy": {"type": "WEIGHTS"}})
    run_file.write_text(yaml.safe_dump(two_tasks))
    with pytest.raises(ConfigError, match=re.escape(f"{run_file}: thresher.exports.task: the run reads several prediction tasks")):
        run(clean_datasource, run_file, log=lambda line: None)
    assert not (clean_datasource / ".lightly" / "predictions" / "lightly_pretagging").exists()
