"""The Python example at the top of docs/selection.md runs as written, and the plain array it
once passed as metadata is refused with a message saying how to wrap it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from thresher import Embeddings, Frames, Scores
from thresher.errors import SchemaError
from thresher.select import SelectionInputs

DOC = Path(__file__).resolve().parents[2] / "docs" / "selection.md"


def test_the_example_at_the_top_of_docs_selection_runs(tmp_path, monkeypatch):
    example = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert example is not None
    monkeypatch.chdir(tmp_path)
    n, rng = 40, np.random.default_rng(0)
    ids = [f"img/{i:03d}.png" for i in range(n)]
    frames = Frames.build(ids)
    config = {
        "n_samples": 5,
        "strategies": [
            {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
            {"input": {"type": "SCORES", "task": "my_task", "score": "uncertainty_entropy"}, "strategy": {"type": "WEIGHTS"}},
            {"input": {"type": "METADATA", "key": "flickering"}, "strategy": {"type": "WEIGHTS"}},
        ],
    }
    Path("selection.yaml").write_text(yaml.safe_dump(config))
    given = {
        "frames": frames,
        "embeddings": Embeddings(ids, rng.normal(size=(n, 8)).astype(np.float32)),
        "scores": Scores(ids, {"uncertainty_entropy": rng.random(n)}),
        "flicker": rng.random(n),
        "labeled_ids": ids[:2],
    }
    exec(compile(example.group(1), str(DOC), "exec"), given)
    assert given["outcome"].selection.ids.tolist()[:2] == ids[:2]
    assert len(given["outcome"].selection) == 5 and Path("selection.csv").exists()


def test_a_plain_array_as_metadata_is_refused_with_how_to_wrap_it():
    frames = Frames.build(["a", "b"])
    message = (
        "SelectionInputs.metadata['flickering']: expected a thresher.select.Metadata, got numpy.ndarray; build it with Metadata(frames.id, values), values in the order of frames"
    )
    with pytest.raises(SchemaError, match=re.escape(message)):
        SelectionInputs(frames, metadata={"flickering": np.zeros(2)})
    with pytest.raises(SchemaError, match=r"^SelectionInputs\.scores\['t'\]: expected a thresher\.Scores, got dict"):
        SelectionInputs(frames, scores={"t": {"margin": [0.1, 0.2]}})
