"""Shared by tests/report and tests/app: two real runs on bikes.mp4, and headless Chromium.

The runs (datapool on): A selects 6 frames, B then 12 with A's 6 preselected, every 5th frame
(50 frames), the built-in SSD's predictions as task `ssd`, flicker checked, the SSD embedder.
Computed once per session. Chromium is Debian's `chromium` (or $THRESHER_CHROMIUM) driven by
Playwright; Playwright never downloads a browser here, and tests skip when none is installed.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
_RUNS: dict[str, "BikesRuns"] = {}


@dataclass(frozen=True)
class BikesRuns:
    root: Path  # the datasource
    workspace: Path  # its .thresher/ (the catalog)
    first: object  # RunResult of run A
    second: object  # RunResult of run B (preselected = A's selection)


def _config(n_samples: int) -> dict:
    return {
        "worker_config": {"use_datapool": True, "datasource": {"process_all": True}},
        "thresher": {"every": 5, "assertions": {"task": "ssd", "names": ["flicker"]}},
        "selection_config": {
            "n_samples": n_samples,
            "strategies": [
                {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
                {"input": {"type": "SCORES", "task": "ssd", "score": "objectness_least_confidence"}, "strategy": {"type": "WEIGHTS"}},
                {"input": {"type": "METADATA", "key": "flickering"}, "strategy": {"type": "WEIGHTS"}},
                {"input": {"type": "PREDICTIONS", "task": "ssd", "name": "CLASS_DISTRIBUTION"}, "strategy": {"type": "BALANCE", "distribution": "UNIFORM"}},
            ],
        },
    }


def bikes_runs(tmp_path_factory, bikes_predicted: Path) -> BikesRuns:
    """The two runs (made on first use, then shared by every test of the session)."""
    if "runs" not in _RUNS:
        from thresher.run import run

        root = tmp_path_factory.mktemp("report-runs") / "ds"
        shutil.copytree(bikes_predicted, root)
        first = run(root, _config(6))
        second = run(root, _config(12))
        _RUNS["runs"] = BikesRuns(root, root / ".thresher", first, second)
    return _RUNS["runs"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("THRESHER_CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


def launch_chromium():
    """(playwright, browser) on the system Chromium; skips the test with the reason when impossible."""
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium installed: the browser tests need Debian's `chromium` package (`make test` installs it with apt-get when run as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the Python package playwright is missing (it is in the test extra: pip install -e '.[test]')")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    playwright = sync_playwright().start()
    try:
        return playwright, playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
    except Exception as exc:  # noqa: BLE001 - any launch failure is a reason to skip, shown in full
        playwright.stop()
        pytest.skip(f"Chromium at {path} does not start under Playwright: {exc}")


class Requests:
    """Every request a page makes; anything but `allowed` URL prefixes is aborted and kept."""

    def __init__(self, allowed: tuple[str, ...]):
        self.allowed, self.seen, self.refused = allowed, [], []

    def route(self, route) -> None:
        url = route.request.url
        self.seen.append(url)
        if url.startswith(self.allowed):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()
