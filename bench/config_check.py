"""A config typo on a 100,000-frame datasource: how long until the run says so, and what it loaded.

    python bench/config_check.py                 # 400 links to bikes.mp4 = 100,000 frames
    python bench/config_check.py --videos 40     # 10,000 frames

The run is the demo config with one score misspelled (`objectness_least_confidense`).
thresher: `run()` in this process, timed until its ConfigError; then the modules a model or a
video needs (cv2, torch, onnxruntime, av) are checked to be still unimported. Baseline: the
old place of that error, the selection stage, came after enumerating (timed here on the same
datasource), pretagging and embedding every frame (at the measured 11.5 frames/s of
`thresher predict` on this machine, hours at 100,000 frames).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

PREDICT_FRAMES_PER_SECOND = 11.5  # BENCHMARKS.md, issue 19's measurement of `thresher predict`


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=400)
    args = parser.parse_args()
    from thresher.demo import demo_config
    from thresher.errors import ConfigError
    from thresher.run import run
    from thresher.samples import sample_video

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ds"
        root.mkdir()
        for index in range(args.videos):
            os.link(sample_video("bikes.mp4"), root / f"clip{index:04d}.mp4")
        config = demo_config()
        config["selection_config"]["strategies"][1]["input"]["score"] = "objectness_least_confidense"
        start = time.perf_counter()
        try:
            run(root, config)
        except ConfigError as error:
            elapsed = time.perf_counter() - start
            message = str(error)
        loaded = sorted(m for m in ("cv2", "torch", "onnxruntime", "av") if m in sys.modules)
        print(f"{args.videos} videos, {args.videos * 250:,} frames")
        print(f"thresher: ConfigError after {elapsed:.3f} s; model/video modules loaded: {loaded or 'none'}")
        print(f"  error: {message[:120]}…")
        import subprocess

        import yaml

        (Path(tmp) / "run.yaml").write_text(yaml.safe_dump(config))
        start = time.perf_counter()
        cli = subprocess.run([sys.executable, "-m", "thresher", "run", str(root), "--config", str(Path(tmp) / "run.yaml")], capture_output=True, text=True)
        print(f"thresher run (a new process, imports included): exit {cli.returncode} after {time.perf_counter() - start:.2f} s")
        from thresher.io.datasource import Datasource
        from thresher.io.problems import Problems

        start = time.perf_counter()
        frames = Datasource(root).frames(Problems())
        enumerate_seconds = time.perf_counter() - start
        print(
            f"baseline lower bound: enumerating {len(frames):,} frames alone {enumerate_seconds:.2f} s "
            f"({enumerate_seconds / elapsed:.0f}x); with pretagging at {PREDICT_FRAMES_PER_SECOND} frames/s about "
            f"{len(frames) / PREDICT_FRAMES_PER_SECOND / 3600:.1f} h before the old error"
        )


if __name__ == "__main__":
    main()
