"""The code passes the linter, the formatter and the type checker with the project's rules
([tool.ruff] and [tool.mypy] in pyproject.toml)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
needs_ruff = pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed (the test extra pins it)")
needs_mypy = pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed (the test extra pins it)")


def _mypy(*args: str, cache: Path) -> subprocess.CompletedProcess:
    """mypy with the project's config, on this checkout's sources (not an installed copy)."""
    env = {**os.environ, "MYPYPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(cache), *args], cwd=ROOT, env=env, capture_output=True, text=True)


@needs_ruff
def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "src", "tests", "bench"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:]


@needs_ruff
def test_ruff_format_changes_nothing():
    """`ruff format` would leave every file as it is (run it after editing; the seeds' scripts are excluded)."""
    result = subprocess.run([sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "src", "tests", "bench"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:]


@needs_mypy
def test_mypy_finds_nothing(tmp_path):
    """The whole package ([tool.mypy] files) type-checks."""
    result = _mypy(cache=tmp_path / "cache")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@needs_mypy
def test_tables_type_check_as_documented(tmp_path):
    """A table's constructor takes any array-like, its columns read as arrays (`thresher.table.Column`),
    and a constructor given something that is no array is an error for the type checker."""
    user_code = tmp_path / "user_code.py"
    user_code.write_text(
        textwrap.dedent(
            """
            from typing import assert_type

            import numpy as np

            from thresher import Detections, Embeddings, Frames, Scores, Selection

            scores = Scores(["a.jpg", "b.jpg"], {"entropy": [0.9, 0.1]})
            assert_type(scores.ids, np.ndarray)
            assert_type(scores.columns["entropy"], np.ndarray)
            assert_type(scores[scores["entropy"] > 0.5], Scores)
            boxes = Detections(frame=[0], xyxy=[[0, 0, 2, 2]], score=[0.9], class_id=[1])
            assert_type(boxes.xyxy, np.ndarray)
            assert_type(boxes.probs, np.ndarray | None)
            assert_type(boxes.replace(score=[0.5]), Detections)
            assert_type(Frames.build(["a.jpg"]).id, np.ndarray)
            assert_type(Embeddings(["a.jpg"], [[1.0, 0.0]]).vectors, np.ndarray)
            assert_type(Selection.concat([Selection(["a.jpg"], [1.0])]), Selection)
            Scores(object())  # type: ignore[arg-type]
            from thresher.select.inputs import Metadata, Predictions, SelectionInputs

            weather = Metadata(["a.jpg", "b.jpg"], ["sunny", "rain"])
            assert_type(weather.values, np.ndarray)
            summaries = Predictions(["a.jpg"], ["car"], [[0.9]], [[1.0]])
            assert_type(summaries.class_distribution, np.ndarray)
            inputs = SelectionInputs(Frames.build(["a.jpg", "b.jpg"]), metadata={"weather": weather}, preselected=["a.jpg"])
            assert_type(inputs.preselected, np.ndarray)
            """
        )
    )
    result = _mypy("--strict-equality", "--warn-unused-ignores", str(user_code), cache=tmp_path / "cache")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
