"""Config files parsed strictly: a repeated key is refused with its place, at any depth, in YAML and JSON."""

import pytest

from thresher.errors import ConfigError
from thresher.run.config import load_run_config
from thresher.select.config import load_selection_config

RUN = """\
selection_config:
  n_samples: 10
  strategies: [{input: {type: EMBEDDINGS}, strategy: {type: DIVERSITY}}]
selection_config:
  n_samples: 3
  strategies: [{input: {type: RANDOM}, strategy: {type: WEIGHTS}}]
"""


def test_a_run_file_with_a_repeated_section_is_refused(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text(RUN)
    with pytest.raises(ConfigError) as caught:
        load_run_config(path)
    assert str(caught.value) == f"{path}:4:1: not valid YAML: found the key 'selection_config' a second time (while constructing a mapping that starts at line 1, column 1)"


def test_a_repeated_key_deep_in_a_selection_file_is_refused(tmp_path):
    path = tmp_path / "selection.yaml"
    path.write_text("n_samples: 3\nstrategies:\n  - input: {type: RANDOM, type: SCORES}\n    strategy: {type: WEIGHTS}\n")
    with pytest.raises(ConfigError, match=r"selection.yaml:3:27: not valid YAML: found the key 'type' a second time"):
        load_selection_config(path)
    path = tmp_path / "selection.json"
    path.write_text('{"n_samples": 3, "n_samples": 4, "strategies": []}')
    with pytest.raises(ConfigError, match=r"selection.json: not valid JSON: found the key 'n_samples' a second time"):
        load_selection_config(path)


def test_the_same_key_in_two_mappings_is_fine(tmp_path):
    path = tmp_path / "run.yaml"
    entry = "    - {input: {type: RANDOM}, strategy: {type: WEIGHTS}}\n"
    path.write_text("selection_config:\n  n_samples: 2\n  strategies:\n" + entry + entry)
    assert load_run_config(path).selection_config.n_samples == 2
