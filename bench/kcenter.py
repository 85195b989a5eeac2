"""k-center greedy: thresher against a plain numpy loop and the memory floor, in one process.

    python bench/kcenter.py                    # 1,000,000 x 128 float32, 1,000 picks
    python bench/kcenter.py --n 200000 --picks 200 --repeats 3
    python bench/kcenter.py --large            # also the 10,000,000-vector approximations

Baselines, per pick (median over the picks of a run, then median over runs):
  (a) numpy broadcast: min_d = minimum(min_d, ||X - X[new]||^2 row sums), argmax
  (b) memory floor: one BLAS mat-vec X @ c over the whole matrix (streams X once)
thresher: `k_center_greedy` with each backend available (numba fused kernel, numpy blocks).
Peak memory is read from /proc (VmHWM) around each thresher run.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import numpy as np

from thresher.select import _kernels
from thresher.select.kcenter import k_center_greedy


def unit_vectors(n: int, d: int, seed: int = 0, dtype=np.float32) -> np.ndarray:
    """Clustered unit vectors (a mixture of 1,000 Gaussian blobs), built in blocks."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((1000, d)).astype(np.float32)
    X = np.empty((n, d), dtype)
    for lo in range(0, n, 1 << 18):
        hi = min(n, lo + (1 << 18))
        block = centers[rng.integers(0, 1000, hi - lo)] + 0.6 * rng.standard_normal((hi - lo, d), np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        X[lo:hi] = block
    return X


def numpy_broadcast_baseline(X: np.ndarray, picks: int) -> tuple[np.ndarray, list[float]]:
    """The plain implementation: a broadcast subtraction over the whole matrix per pick."""
    mean = X.mean(axis=0)
    first = int(np.argmax(((X - mean) ** 2).sum(axis=1)))
    chosen = [first]
    min_sq = np.full(len(X), np.inf, np.float32)
    times = []
    for _ in range(picks - 1):
        t = time.perf_counter()
        np.minimum(min_sq, ((X - X[chosen[-1]]) ** 2).sum(axis=1), out=min_sq)
        min_sq[chosen[-1]] = -1
        chosen.append(int(np.argmax(min_sq)))
        times.append(time.perf_counter() - t)
    return np.array(chosen), times


def matvec_floor(X: np.ndarray, passes: int) -> list[float]:
    """One BLAS mat-vec over the whole matrix: the cost of reading X once."""
    c = X[0].copy()
    out = np.empty(len(X), np.float32)
    times = []
    for _ in range(passes):
        t = time.perf_counter()
        np.matmul(X, c, out=out)
        times.append(time.perf_counter() - t)
    return times


def peak_rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def time_thresher(X: np.ndarray, picks: int, backend: str) -> tuple[np.ndarray, float, int]:
    k_center_greedy(X[:1000], 3, backend=backend)  # compile outside the timing
    gc.collect()
    reset_peak()
    base = peak_rss_bytes()
    t = time.perf_counter()
    rows = k_center_greedy(X, picks, backend=backend)
    elapsed = time.perf_counter() - t
    return rows, elapsed / picks, max(0, peak_rss_bytes() - base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=128)
    parser.add_argument("--picks", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-picks", type=int, default=100, help="picks timed for baseline (a)")
    args = parser.parse_args()

    X = unit_vectors(args.n, args.d)
    mb = X.nbytes / 2**20
    print(f"matrix {args.n:,} x {args.d} float32 = {mb:.0f} MiB; {args.picks} picks; repeats {args.repeats}")
    broadcast = statistics.median(
        statistics.median(numpy_broadcast_baseline(X, args.baseline_picks)[1]) for _ in range(args.repeats)
    )
    floor = statistics.median(statistics.median(matvec_floor(X, 20)) for _ in range(args.repeats))
    print(f"(a) numpy broadcast per pick: {broadcast * 1e3:7.2f} ms")
    print(f"(b) BLAS mat-vec per pass:    {floor * 1e3:7.2f} ms")
    backends = ["numba", "numpy"] if _kernels.numba_available() else ["numpy"]
    reference = None
    for backend in backends:
        runs = [time_thresher(X, args.picks, backend) for _ in range(args.repeats)]
        per_pick = statistics.median(r[1] for r in runs)
        peak = max(r[2] for r in runs)
        rows = runs[0][0]
        same = "" if reference is None else f", same picks as numba: {np.array_equal(rows, reference)}"
        reference = rows if reference is None else reference
        print(
            f"thresher[{backend}] per pick:     {per_pick * 1e3:7.2f} ms  "
            f"(a)/thresher = {broadcast / per_pick:5.2f}x  (b)/thresher = {floor / per_pick:5.2f}x  "
            f"extra peak memory {peak / X.nbytes:4.2f}x matrix{same}"
        )


if __name__ == "__main__":
    main()
