"""WEIGHTED_KMEANS at 100,000 candidates: the whole selection, and its k-means against scikit-learn's.

    python bench/weighted_kmeans.py                   # 100,000 x 128, batches of 20, 100, 1,000
    python bench/weighted_kmeans.py --n 20000 --repeats 1

Per case, `run_selection` with one WEIGHTED_KMEANS entry over N samples (unit vectors of a
1,000-blob mixture, like bench/kcenter.py; weights = uniform random "uncertainty_margin"
scores), run `--repeats` times (median and every run printed), the picks compared between
runs (same seed: must be identical). For the k-means of the same candidates, scikit-learn's
`KMeans(n_clusters=b, n_init=1).fit(X, sample_weight=w)` is timed beside thresher's kernel
(one run each: scikit-learn takes minutes at 10,000 x 1,000 here), with both objectives
(Σ w · squared distance; lower = better).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

from thresher.embeddings import Embeddings
from thresher.frames import Frames
from thresher.score_table import Scores
from thresher.select import SelectionInputs, run_selection
from thresher.select.kmeans import weighted_kmeans


def unit_vectors(n: int, d: int, seed: int = 0) -> np.ndarray:
    """A mixture of 1,000 Gaussian blobs, L2-normalized (bench/kcenter.py's clustered data)."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((1000, d)).astype(np.float32)
    X = centers[rng.integers(0, 1000, n)] + 0.6 * rng.standard_normal((n, d), np.float32)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def inputs(n: int, d: int) -> SelectionInputs:
    ids = np.array([f"{i:07d}" for i in range(n)])
    margin = np.random.default_rng(1).random(n)
    return SelectionInputs(Frames.build(ids), embeddings={"": Embeddings(ids, unit_vectors(n, d))},
                           scores={"model": Scores(ids, {"uncertainty_margin": margin})})  # fmt: skip


def config(batch: int, weights: str, per_pick: int | None) -> dict:
    w = {"type": "SCORES", "task": "model", "score": "uncertainty_margin"} if weights == "scores" else {"type": "TYPICALITY"}
    strategy = {"type": "WEIGHTED_KMEANS", "weights": w}
    if per_pick is not None:
        strategy["candidates_per_pick"] = per_pick
    return {"n_samples": batch, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": strategy}]}


def engine_case(data: SelectionInputs, batch: int, weights: str, per_pick: int | None, repeats: int) -> str:
    times, picks, parts = [], [], []
    every = per_pick if per_pick is not None or weights != "scores" else len(data.frames)  # m · b >= N: every candidate
    for _ in range(repeats):
        clock = time.perf_counter()
        outcome = run_selection(config(batch, weights, every), data, seed=0)
        times.append(time.perf_counter() - clock)
        picks.append(outcome.selection.ids)
        parts.append(outcome.timings)
    same = all(np.array_equal(p, picks[0]) for p in picks)
    last = parts[-1]
    m = "all" if per_pick is None else per_pick
    return (
        f"| {len(data.frames):,} | {batch:,} | {weights} | {m} | {statistics.median(times):.2f} | "
        f"{', '.join(f'{t:.2f}' for t in times)} | {last['inputs']:.2f} / {last['objectives']:.2f} / {last['greedy']:.2f} | "
        f"{'yes' if same else 'NO'} |"
    )


def kmeans_case(X: np.ndarray, w: np.ndarray, k: int, repeats: int) -> str:
    from sklearn.cluster import KMeans

    ours, theirs = [], []
    for _ in range(repeats):
        clock = time.perf_counter()
        result = weighted_kmeans(X, k, w, seed=0)
        ours.append(time.perf_counter() - clock)
        clock = time.perf_counter()
        fitted = KMeans(n_clusters=k, n_init=1, random_state=0).fit(X, sample_weight=w)
        theirs.append(time.perf_counter() - clock)
    return (
        f"| {len(X):,} | {k:,} | {statistics.median(ours):.2f} ({result.iterations} it.) | "
        f"{statistics.median(theirs):.2f} ({fitted.n_iter_} it.) | {result.inertia:.1f} | {fitted.inertia_:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    data = inputs(args.n, args.d)
    print("\n| samples (candidates) | batch b | weights | m | seconds (median) | runs | inputs / weights / clustering (last run) | same picks every run |")
    print("| ---: | ---: | --- | ---: | ---: | --- | --- | --- |", flush=True)
    for batch, weights, per_pick in ((20, "scores", 10), (100, "scores", 10), (1000, "scores", 10), (100, "scores", None),
                                     (1000, "scores", None), (100, "typicality", None)):  # fmt: skip
        print(engine_case(data, batch, weights, per_pick, args.repeats), flush=True)
    X = data.embeddings[""].vectors
    w = data.scores["model"]["uncertainty_margin"]
    top = np.argsort(-w, kind="stable")
    print("\n| candidates | clusters | thresher s | scikit-learn s | thresher Σ w·d² | scikit-learn Σ w·d² |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |", flush=True)
    for rows, k in ((10 * 100, 100), (10 * 1000, 1000), (args.n, 100)):
        print(kmeans_case(X[np.sort(top[:rows])], w[np.sort(top[:rows])], k, 1), flush=True)


if __name__ == "__main__":
    main()
