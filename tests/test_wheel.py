"""The wheel works on its own: built from the sdist, installed with the locked demo set into a new
virtual environment outside the checkout, it runs `thresher demo` (its YAML, report and app assets
all come from the wheel)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WHEELS = Path(sys.prefix) / "downloads" / "demo"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not any(WHEELS.glob("*.whl")), reason=f"no locked demo wheels in {WHEELS}: `make test` downloads them (requirements/demo.txt)"),
    pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs git and a checkout to list the tracked files"),
]


def run(args: list[str], **options) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(args, capture_output=True, text=True, check=True, env=env, timeout=900, **options)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """sdist and wheel, built with `python -m build` from a copy of the tracked files."""
    work = tmp_path_factory.mktemp("build")
    tracked = run(["git", "-C", str(ROOT), "ls-files", "-z"]).stdout.split("\0")
    for name in filter(None, tracked):
        target = work / "source" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(work / "dist"), str(work / "source")])
    return work / "dist"


@pytest.fixture(scope="module")
def venv(built, tmp_path_factory) -> Path:
    """A new virtual environment outside the checkout: the locked demo set, then the wheel."""
    folder = tmp_path_factory.mktemp("venv") / "env"
    run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(folder)])
    pip = [str(folder / "bin" / "python"), "-m", "pip", "--quiet", "--disable-pip-version-check", "install", "--no-index", "--no-deps"]
    run([*pip, "--find-links", str(WHEELS), "--require-hashes", "-r", str(ROOT / "requirements" / "demo.txt")])
    run([*pip, str(next(built.glob("thresher-*.whl")))])
    return folder


def test_build_makes_an_sdist_and_a_wheel_with_the_package_data(built):
    import zipfile

    assert len(list(built.glob("thresher-*.tar.gz"))) == 1
    with zipfile.ZipFile(next(built.glob("thresher-*-py3-none-any.whl"))) as wheel:
        names = set(wheel.namelist())
    assert "thresher/demo_run.yaml" in names
    assert any(n.startswith("thresher/report/assets/") for n in names) and any(n.startswith("thresher/app/assets/") for n in names)
    assert not any(n.startswith("tests/") for n in names)


def test_the_installed_wheel_prints_its_version_and_pip_check_is_clean(venv, tmp_path):
    python = str(venv / "bin" / "python")
    from thresher import __version__

    assert run([str(venv / "bin" / "thresher"), "--version"], cwd=tmp_path).stdout.strip() == f"thresher {__version__}"
    location = run([python, "-c", "import thresher; print(thresher.__file__)"], cwd=tmp_path).stdout.strip()
    assert Path(location).is_relative_to(venv) and not Path(location).is_relative_to(ROOT)
    run([python, "-m", "pip", "check"], cwd=tmp_path)


def test_thresher_demo_runs_from_the_wheel(venv, tmp_path):
    result = run([str(venv / "bin" / "thresher"), "demo", "demo"], cwd=tmp_path)
    assert "selected 20 of 250 samples" in result.stdout
    runs = [p for p in (tmp_path / "demo" / "datasource" / ".thresher" / "runs").iterdir() if p.is_dir()]
    assert len(runs) == 1
    with open(runs[0] / "selection.csv", newline="") as file:
        assert len(list(csv.DictReader(file))) == 20
    report = (runs[0] / "report.html").read_text()
    assert "<script" in report and len(report) > 100_000  # plots and thumbnails inlined from the wheel's assets
