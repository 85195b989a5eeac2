"""Exports of a tag (`thresher.compat.lightly_export`): the PNG of each video frame, in
`<workspace>/frames/`, copied from a run that extracted it."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap

import numpy as np

from thresher.compat.lightly_export import FRAMES_DIR, frame_files
from thresher.io.datasource import Datasource
from thresher.io.problems import Problems
from thresher.io.temporary import remove_stale
from thresher.run.images import IMAGES_DIR
from thresher.run.outputs import extract_frames

# `frame_files` in a process killed by the kernel once its file reaches a size (SIGXFSZ, which
# Python ignores and is restored here): a kill that lands in the middle of the copy, every time
KILLED_MIDWAY = textwrap.dedent(
    """
    import resource, signal, sys
    from pathlib import Path
    import numpy as np
    from thresher.compat.lightly_export import frame_files
    from thresher.io.datasource import Datasource
    from thresher.io.problems import Problems
    datasource, workspace, run_folder, name, size = sys.argv[1:]
    source = Datasource(datasource)
    frames = source.frames(Problems())
    rows = np.flatnonzero(frames.file_name == name)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(size), resource.RLIM_INFINITY))
    frame_files(source, frames, rows, Path(workspace), [Path(run_folder)])
    """
)


def test_a_copy_killed_midway_leaves_no_truncated_png_for_later_exports(tmp_path, bikes_mp4):
    datasource = tmp_path / "ds"
    datasource.mkdir()
    shutil.copyfile(bikes_mp4, datasource / "bikes.mp4")
    source = Datasource(datasource)
    frames = source.frames(Problems())
    row = int(np.flatnonzero(frames.kind == "frame")[5])
    name = str(frames.file_name[row])
    run_folder = tmp_path / "runs" / "r1"
    assert extract_frames(source, frames, np.array([row]), run_folder / IMAGES_DIR).written == [name]
    earlier = run_folder / IMAGES_DIR / name
    workspace = tmp_path / "workspace"
    arguments = [str(datasource), str(workspace), str(run_folder), name, str(earlier.stat().st_size // 2)]
    killed = subprocess.run([sys.executable, "-c", KILLED_MIDWAY, *arguments], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGXFSZ, killed.stderr  # killed with half the PNG copied
    assert not (workspace / FRAMES_DIR / name).exists()  # half a PNG at its name would be reused by every later export
    assert len(remove_stale(workspace)) == 1  # the half copy, under its temporary name: the next run removes it
    found, failed = frame_files(source, frames, np.array([row]), workspace, [run_folder])
    assert failed == [] and found[row].read_bytes() == earlier.read_bytes()
