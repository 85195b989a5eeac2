"""Seed 004's active-learning guide on real data: scikit-learn's 1,797 digits as PNG images.

`lightly_magic` uploads the folder with an embeddings.csv of the digits' 64 pixel values (as a
user would upload the embeddings of their own model); the guide's script then makes the
CORESET initial selection and a CORAL step with a ScorerClassification of a real model.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.compat.helpers import run_seed
from thresher.compat.lightly import ActiveLearningAgent, ApiWorkflowClient, ScorerClassification, lightly_magic


@pytest.fixture
def digits_folder(tmp_path):
    """digits/<class>/digit_<row>.png for every digit, and embeddings.csv (Lightly's format)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    folder = tmp_path / "digits"
    names = [f"{label}/digit_{row:04d}.png" for row, label in enumerate(digits.target)]
    for name, image in zip(names, digits.images):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((image * 255 / 16).astype(np.uint8)).save(folder / name)
    lines = ["filenames," + ",".join(f"embedding_{k}" for k in range(64)) + ",labels"]
    lines += [f"{name}," + ",".join(f"{v:g}" for v in x) + f",{y}" for name, x, y in zip(names, digits.data, digits.target)]
    (tmp_path / "embeddings.csv").write_text("\n".join(lines) + "\n")
    return folder, tmp_path / "embeddings.csv", digits


def k_center_greedy_by_definition(vectors: np.ndarray, n: int) -> list[int]:
    """k-center greedy (REFERENCE §5) on unit vectors: repeatedly the point farthest from its
    nearest chosen one; the first is the farthest from the mean (the DIVERSITY strategy's
    documented start); ties go to the lowest index."""
    x = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    nearest = np.linalg.norm(x - x.mean(axis=0), axis=1)
    chosen = []
    for _ in range(n):
        pick = int(np.argmax(np.where(np.isin(np.arange(len(x)), chosen), -np.inf, nearest)))
        chosen.append(pick)
        distance = np.linalg.norm(x - x[pick], axis=1)
        nearest = distance if len(chosen) == 1 else np.minimum(nearest, distance)
    return chosen


def test_seed004_guide_runs_and_coral_prefers_uncertain_digits(digits_folder):
    folder, embeddings_csv, digits = digits_folder
    assert lightly_magic(folder, dataset_id="xyz", embeddings=embeddings_csv) == "xyz"
    namespace = run_seed("seed004_guide.py")

    initial, agent = namespace["initial_selection"], namespace["al_agent"]
    assert len(initial) == 100 and len(agent.labeled_set) == 200 and len(agent.added_set) == 100
    assert set(initial) <= set(agent.labeled_set) and set(agent.added_set).isdisjoint(initial)
    client = ApiWorkflowClient(dataset_id="xyz")
    assert sorted(client.tag_filenames("al-iteration-1")) == agent.labeled_set

    # CORESET = k-center greedy on the unit-normalized embeddings, in dataset order
    order = client.get_filenames()
    rows = np.array([int(f.split("_")[-1].split(".")[0]) for f in order])
    expected = [order[i] for i in k_center_greedy_by_definition(digits.data[rows].astype(np.float64), 100)]
    assert client.tag_filenames("initial-selection") == expected

    # CORAL weighs the margin: what it added is more uncertain than a CORESET step would add
    margin = ScorerClassification(namespace["predictions"]).calculate_scores()["uncertainty_margin"]
    margin_of = dict(zip(namespace["unlabeled_set"], margin))
    coreset = ActiveLearningAgent(client, preselected_tag_name="initial-selection")
    coreset.query(namespace["SamplerConfig"](n_samples=200, name="coreset-step"))
    assert np.mean([margin_of[f] for f in agent.added_set]) > np.mean([margin_of[f] for f in coreset.added_set])


def test_seed004_agent_example_with_scores_in_query_set_order(digits_folder):
    folder, embeddings_csv, _ = digits_folder
    lightly_magic(folder, dataset_id="XYZ", embeddings=embeddings_csv)
    namespace = run_seed("seed004_agent_example.py")
    initial, added, agent = namespace["initial_set"], namespace["added_set"], namespace["agent"]
    assert len(initial) == 100 and len(added) == 100 and set(added).isdisjoint(initial)
    assert len(namespace["predictions"]) == len(agent.query_set) == 1797
    assert sorted(ApiWorkflowClient(dataset_id="XYZ").tag_filenames("second-set")) == agent.labeled_set
