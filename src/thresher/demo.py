"""`make demo`: the main job on real sample data, with the embedded defaults.

Today it prepares a datasource with the real video `bikes.mp4`, enumerates its frames with
their Lightly names and validates the datasource; later stages join as they are built.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from thresher.io.datasource import Datasource
from thresher.samples import copy_samples
from thresher.validate import validate


def run_demo(folder: Path, echo: Callable[[str], None] = print) -> None:
    datasource = folder / "datasource"
    copy_samples(datasource)
    source = Datasource(datasource)
    frames = source.frames()
    echo(f"enumerated {len(frames)} frames: {frames.file_name[0]} … {frames.file_name[-1]}")
    report = validate(source)
    for line in report.summary():
        echo(line)
