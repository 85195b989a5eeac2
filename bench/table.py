"""What the one table base costs: rows by mask and by index array, and concat, on the five types.

    python bench/table.py                  # 1,000,000 rows
    python bench/table.py --rows 100000 --repeats 9

Baseline: the types as they were before `thresher.table` (`_table.Table` under Frames and
Detections, hand-written `__getitem__`/`concat` in Scores, Embeddings and Selection), loaded
from git at `--baseline` (default: fb8e411, main before issue 18) into this process.
thresher: the same operations on today's types. Both run interleaved, on the same arrays;
the median of `--repeats` runs is printed with the ratio thresher / baseline and the load
average. Sample ids are frame names as thresher writes them (`clipNNNN/bikes-FFF-mp4.png`,
250 frames a clip); boxes, scores and vectors come from a fixed random generator (the cost of
indexing does not depend on the values).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OLD_MODULES = ("_table", "frames", "detections", "scores", "embeddings", "selection")


def load_baseline(commit: str) -> dict[str, type]:
    """The five types as they were at `commit`, from git, as modules `thresher._table` and
    `baseline_<name>` (the old `_table` is what the old types import)."""
    loaded = {}
    for name in OLD_MODULES:
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:src/thresher/{name}.py"], capture_output=True, text=True, check=True).stdout
        module_name = "thresher._table" if name == "_table" else f"baseline_{name}"
        module = types.ModuleType(module_name)
        module.__file__ = f"<{commit}:{name}.py>"
        sys.modules[module_name] = module
        exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102 - the project's own code at an older commit
        loaded[name] = module
    return {
        "Frames": loaded["frames"].Frames,
        "Detections": loaded["detections"].Detections,
        "Scores": loaded["scores"].Scores,
        "Embeddings": loaded["embeddings"].Embeddings,
        "Selection": loaded["selection"].Selection,
    }


def tables(classes: dict[str, type], n: int) -> dict[str, object]:
    rng = np.random.default_rng(0)
    ids = np.array([f"clip{i // 250:04d}/bikes-{i % 250:03d}-mp4.png" for i in range(n)])
    corner = rng.uniform(0, 600, (n, 2))
    xyxy = np.concatenate([corner, corner + rng.uniform(1, 40, (n, 2))], axis=1)
    return {
        "Frames": classes["Frames"].build(
            ids, kind="frame", video=np.char.add(np.char.add("clip", (np.arange(n) // 250).astype(str)), ".mp4"), frame_index=np.arange(n) % 250, width=640, height=272
        ),  # fmt: skip
        "Detections": classes["Detections"](frame=np.arange(n) // 3, xyxy=xyxy, score=rng.uniform(0, 1, n), class_id=rng.integers(1, 90, n), probs=rng.uniform(0, 1, (n, 2))),
        "Scores": classes["Scores"](ids, {"entropy": rng.uniform(0, 1, n), "margin": rng.uniform(0, 1, n)}),
        "Embeddings": classes["Embeddings"](ids, rng.standard_normal((n, 32)).astype(np.float32)),
        "Selection": classes["Selection"](ids, rng.uniform(0, 1, n), {"n_samples": n}),
    }


OPERATIONS = {
    "mask (half the rows)": lambda t, mask, rows: t[mask],
    "index array (n/10 rows)": lambda t, mask, rows: t[rows],
    "concat of two halves": lambda t, mask, rows: type(t).concat([t[: len(t) // 2], t[len(t) // 2 :]]),
}


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", default="fb8e411")
    args = parser.parse_args()
    import thresher

    new = tables({name: getattr(thresher, name) for name in ("Frames", "Detections", "Scores", "Embeddings", "Selection")}, args.rows)
    old = tables(load_baseline(args.baseline), args.rows)
    rng = np.random.default_rng(1)
    mask = rng.uniform(size=args.rows) < 0.5
    rows = rng.choice(args.rows, args.rows // 10, replace=False)
    print(f"{args.rows:,} rows, median of {args.repeats}; load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'type':<11} {'operation':<24} {'baseline s':>10} {'thresher s':>10} {'ratio':>6}")
    for name in new:
        for label, operation in OPERATIONS.items():
            before, after = [], []
            for _ in range(args.repeats):  # interleaved
                before.append(timed(operation, old[name], mask, rows))
                after.append(timed(operation, new[name], mask, rows))
            b, a = statistics.median(before), statistics.median(after)
            print(f"{name:<11} {label:<24} {b:>10.4f} {a:>10.4f} {a / b:>6.2f}")
    new_selection, old_selection = new["Selection"], old["Selection"]
    print(f"Selection[0]: thresher gives {len(new_selection[0])} row; baseline: ", end="")
    try:
        old_selection[0]
        print("a row")
    except Exception as error:  # the defect this base removes
        print(f"{type(error).__name__}: {error}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
