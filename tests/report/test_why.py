"""The report's "why this pick" bars and legend, down to a strategy that is 0 for every pick."""

from __future__ import annotations

import numpy as np

from thresher import Embeddings, Frames, Scores
from thresher.report.svg import number
from thresher.report.why import explain, why_bars, why_legend
from thresher.select import SelectionInputs, run_selection
from thresher.select.config import load_selection_config

MARGIN = {"type": "SCORES", "task": "det", "score": "uncertainty_margin"}


def _explained(margin: np.ndarray) -> list[dict]:
    """DIVERSITY and WEIGHTS on `margin` over 20 frames, 4 picks, explained."""
    rng = np.random.default_rng(0)
    ids = [f"f{i:02d}.png" for i in range(20)]
    vectors = rng.standard_normal((20, 4)).astype(np.float32)
    inputs = SelectionInputs(
        Frames.build(ids),
        embeddings={"": Embeddings(ids, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))},
        scores={"det": Scores(ids, {"uncertainty_margin": margin})},
    )
    config = load_selection_config(
        {"n_samples": 4, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}, {"input": MARGIN, "strategy": {"type": "WEIGHTS"}}]}
    )
    return explain(config, run_selection(config, inputs))


def test_a_strategy_that_is_0_for_every_pick_keeps_its_legend_entry_and_bars():
    explained = _explained(np.zeros(20))
    assert [e["zero"] for e in explained] == [False, True]
    legend = why_legend(explained)
    assert "weights:scores:det/uncertainty_margin (0 for every pick)</span>" in legend
    assert "objective 0 for every pick, so it could not tell the picks apart" in legend and "the floor 1×10⁻⁹" in legend
    bars = why_bars(explained, 1)
    assert bars.count("class='why-row'") == 2 and "(0 for every pick), factor 1×10⁻⁹" in bars


def test_a_strategy_that_tells_the_picks_apart_gets_no_note():
    explained = _explained(np.linspace(0.0, 1.0, 20))
    assert [e["zero"] for e in explained] == [False, False]
    assert "0 for every pick" not in why_legend(explained) + why_bars(explained, 0)


def test_tiny_numbers_read_as_powers_of_ten():
    assert number(6.6096e-10) == "6.61×10⁻¹⁰" and number(0.5) == "0.5" and number(12.0) == "12"
