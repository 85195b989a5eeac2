"""The examples in docstrings run: every top-level public function has one, and every example passes.

Examples marked `# doctest: +SKIP` (those that need a bucket, a GPU-sized model or a user's data)
are shown, not run; a public function's example must run.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import tempfile
from pathlib import Path

import pytest

import thresher
import thresher.run

SRC = Path(thresher.__file__).parent
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _public_functions() -> list:
    names = [name for name in thresher.__all__ if inspect.isfunction(getattr(thresher, name))]
    return [getattr(thresher, name) for name in names] + [thresher.run.run]


def _modules_with_examples() -> list[str]:
    modules = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name != "__main__.py" and ">>>" in path.read_text(encoding="utf-8"):
            parts = path.relative_to(SRC.parent).with_suffix("").parts
            modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return modules


@pytest.mark.parametrize("function", _public_functions(), ids=lambda f: f.__name__)
def test_every_public_function_has_an_example_that_runs(function):
    examples = doctest.DocTestParser().get_examples(inspect.getdoc(function) or "")
    running = [e for e in examples if not e.options.get(doctest.SKIP)]
    assert running, f"{function.__module__}.{function.__name__}: its docstring needs a short example (>>>) that runs"


@pytest.mark.parametrize("module", _modules_with_examples())
def test_the_examples_of_a_module_pass(module, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # examples' temporary folders go away with the test
    monkeypatch.chdir(tmp_path)
    imported = importlib.import_module(module)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    for test in doctest.DocTestFinder().find(imported, module):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
