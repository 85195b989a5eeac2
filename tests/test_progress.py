"""Progress of a real run: bars in a pseudo-terminal, a line per ~10 % through a pipe, nothing with --quiet."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from thresher.progress import LineProgress, for_stage

CONFIG = {
    "worker_config": {"pretagging": True, "enable_corruptness_check": True},
    "selection_config": {"n_samples": 5, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]},
}


@pytest.fixture
def workdir(tmp_path, carphone_mp4) -> Path:
    (tmp_path / "ds").mkdir()
    shutil.copyfile(carphone_mp4, tmp_path / "ds" / "car.mp4")
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(CONFIG))
    return tmp_path


def run_in_terminal(args: list[str], cwd: Path) -> str:
    """Everything the command writes to a pseudo-terminal (its stdout and stderr)."""
    controller, terminal = pty.openpty()
    env = dict(os.environ, COLUMNS="100", TERM="xterm")
    process = subprocess.Popen([sys.executable, "-m", "thresher", *args], cwd=cwd, stdin=terminal, stdout=terminal, stderr=terminal, env=env)
    os.close(terminal)
    chunks = []
    while True:
        ready, _, _ = select.select([controller], [], [], 600)
        if not ready:
            break
        try:
            data = os.read(controller, 65536)
        except OSError:  # the command ended and closed its side
            break
        if not data:
            break
        chunks.append(data)
    os.close(controller)
    assert process.wait(60) == 0
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_a_terminal_gets_a_bar_per_stage_with_counts_and_time_left(workdir):
    shown = run_in_terminal(["run", "ds", "--config", "run.yaml"], workdir)
    assert "\x1b[" in shown  # rich draws with terminal control sequences
    assert re.search(r"pretagging \(frames\)\s.*120/120", shown)
    assert re.search(r"embeddings|frames \(written\)\s.*5/5", shown)
    assert "left" in shown and "selected 5 of 120 samples" in shown


@pytest.mark.slow
def test_a_pipe_gets_a_line_per_tenth_and_quiet_gets_nothing(workdir):
    piped = subprocess.run([sys.executable, "-m", "thresher", "run", "ds", "--config", "run.yaml"], cwd=workdir, capture_output=True, text=True)
    assert piped.returncode == 0, piped.stderr
    assert "\x1b[" not in piped.stderr
    lines = [line for line in piped.stderr.splitlines() if line.startswith("pretagging (frames): ")]
    assert lines and lines[-1].startswith("pretagging (frames): 100 % (120 of 120), ")
    assert all(re.fullmatch(r"pretagging \(frames\): \d+ % \(\d+ of 120\), \d+ s(, about \d+ s left)?", line) for line in lines)
    assert len(lines) <= 11
    quiet = subprocess.run([sys.executable, "-m", "thresher", "run", "ds", "--config", "run.yaml", "--quiet"], cwd=workdir, capture_output=True, text=True)
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert quiet.stdout.startswith("run ") and "selected 5 of 120 samples" in quiet.stdout


def test_the_python_api_calls_the_progress_callback_for_each_stage(workdir):
    from thresher.run import run

    calls = []
    run(workdir / "ds", CONFIG, progress=lambda stage, done, total: calls.append((stage, done, total)))
    stages = {stage for stage, _, _ in calls}
    assert {"enumerate (files)", "corruptness (files)", "pretagging (frames)", "images (written)"} <= stages
    for stage in stages:
        mine = [(done, total) for s, done, total in calls if s == stage]
        assert mine[-1][0] == mine[-1][1]  # ends complete
        assert [d for d, _ in mine] == sorted(d for d, _ in mine)  # never goes back


def test_line_progress_prints_each_tenth_once_and_the_end():
    stream = io.StringIO()
    shown = LineProgress(stream, min_interval=0.0)
    report = for_stage(shown, "embeddings (crops)")
    for done in range(101):
        report(done, 100)
    lines = stream.getvalue().splitlines()
    assert [line.split(":")[1].split("%")[0].strip() for line in lines] == [str(p) for p in range(10, 101, 10)]
    assert lines[-1].startswith("embeddings (crops): 100 % (100 of 100), 0 s")
