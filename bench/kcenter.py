"""k-center greedy: thresher against a plain numpy loop and the memory floor, in one process.

    python bench/kcenter.py                         # 1,000,000 x 128 float32, 1,000 picks
    python bench/kcenter.py --n 200000 --picks 300 --repeats 3
    python bench/kcenter.py --data isotropic        # no cluster structure (no pruning)
    python bench/kcenter.py --approx                # float16 / int8 / PCA / partitions, cover radius
    python bench/kcenter.py --n 10000000 --approx   # 10M x 128, 1,000 picks (about 40 min here)
    python bench/kcenter.py --n 10000000 --engine   # run_selection (DIVERSITY) at 10M: time, memory

Per repeat, on the same matrix and back to back (the host is shared and noisy, so ratios
are taken within a repeat and the median over repeats is printed):
  (a) numpy broadcast, per pick: min_sq = minimum(min_sq, ((X - X[new])**2).sum(1)); argmax
  (b) memory floor, per pass: one BLAS mat-vec X @ c (reads the matrix once)
  thresher: k_center_greedy(X, picks) per pick, each backend available.
Peak memory is read from /proc/self/status (VmHWM) around each thresher run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from thresher.select import _kernels
from thresher.select import Approximation, approximate_k_center
from thresher.select.kcenter import cover_radius, k_center_greedy


def say(*parts: object) -> None:
    print(*parts, flush=True)


def unit_vectors(n: int, d: int, kind: str = "clustered", seed: int = 0) -> np.ndarray:
    """Unit vectors: a mixture of 1,000 Gaussian blobs (like real embeddings) or isotropic."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((1000, d)).astype(np.float32)
    X = np.empty((n, d), np.float32)
    for lo in range(0, n, 1 << 18):
        m = min(n, lo + (1 << 18)) - lo
        block = rng.standard_normal((m, d), np.float32)
        if kind == "clustered":
            block = centers[rng.integers(0, 1000, m)] + 0.6 * block
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        X[lo : lo + m] = block
    return X


def broadcast_per_pick(X: np.ndarray, picks: int) -> float:
    """Baseline (a): the plain numpy update, timed per pick (median)."""
    chosen = int(np.argmax(((X - X.mean(axis=0)) ** 2).sum(axis=1)))
    min_sq = np.full(len(X), np.inf, np.float32)
    times = []
    for _ in range(picks):
        t = time.perf_counter()
        np.minimum(min_sq, ((X - X[chosen]) ** 2).sum(axis=1), out=min_sq)
        min_sq[chosen] = -1
        chosen = int(np.argmax(min_sq))
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def matvec_per_pass(X: np.ndarray, passes: int = 15) -> float:
    """Floor (b): one BLAS mat-vec over the whole matrix (median)."""
    c = X[0].astype(np.float32)
    out = np.empty(len(X), np.float32)
    times = []
    for _ in range(passes):
        t = time.perf_counter()
        np.matmul(X, c, out=out)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def peak_rss() -> int:
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


def thresher_per_pick(X: np.ndarray, picks: int, backend: str) -> tuple[np.ndarray, float, int]:
    """(rows, seconds per pick, extra peak bytes) of one k_center_greedy run."""
    reset_peak()
    base = peak_rss()
    t = time.perf_counter()
    rows = k_center_greedy(X, picks, backend=backend)
    return rows, (time.perf_counter() - t) / picks, max(0, peak_rss() - base)


def compare(X: np.ndarray, picks: int, repeats: int, baseline_picks: int, backends: list[str]) -> None:
    backends = [b for b in backends if b == "numpy" or _kernels.numba_available()]
    for backend in backends:
        k_center_greedy(X[:2000], 3, backend=backend)  # compile / warm up outside the timing
    rows: dict[str, np.ndarray] = {}
    table: dict[str, list[tuple[float, float, float, int]]] = {b: [] for b in backends}
    for r in range(repeats):
        a = broadcast_per_pick(X, baseline_picks)
        b = matvec_per_pass(X)
        for backend in backends:
            rows[backend], per_pick, extra = thresher_per_pick(X, picks, backend)
            table[backend].append((per_pick, a / per_pick, b / per_pick, extra))
            say(f"  repeat {r}: (a) {a * 1e3:7.2f} ms  (b) {b * 1e3:7.2f} ms  thresher[{backend}] {per_pick * 1e3:7.2f} ms")
    say(f"{'':22} per pick   (a)/thr   (b)/thr   extra memory / matrix")
    for backend, runs in table.items():
        med = [statistics.median(x[i] for x in runs) for i in range(3)]
        extra = max(x[3] for x in runs) / X.nbytes
        say(f"thresher[{backend:5}]        {med[0] * 1e3:7.2f} ms  {med[1]:6.2f}x  {med[2]:6.2f}x   {extra:.3f}")
    if len(rows) == 2:
        same = np.array_equal(rows["numba"], rows["numpy"])
        say(f"numba and numpy backends pick the same rows: {same}")
    say(f"cover radius after {picks} picks: {cover_radius(X, rows[backends[0]]):.4f}")


APPROXIMATIONS = {
    "exact float32": Approximation(),
    "float16 storage": Approximation(storage="float16"),
    "int8 storage": Approximation(storage="int8"),
    "PCA to 64 dims": Approximation(pca_dims=64),
    "PCA to 32 dims": Approximation(pca_dims=32),
    "8 partitions + union": Approximation(partitions=8),
}


def approximations(X: np.ndarray, picks: int, names: list[str]) -> None:
    """thresher.select.approximate_k_center per variant: time, extra peak memory, and the cover
    radius of its picks in the exact space (lower is better) against exact k-center."""
    backend = "numba" if _kernels.numba_available() else "numpy"
    for dtype in (np.float32, np.float16, np.int8):  # compile each kernel outside the timing
        k_center_greedy((X[:2000] * 100).astype(dtype), 3, backend=backend)
    results = {}
    for name in names:
        reset_peak()
        base = peak_rss()
        t = time.perf_counter()
        rows = approximate_k_center(X, picks, APPROXIMATIONS[name], backend=backend)
        seconds = time.perf_counter() - t
        results[name] = (rows, seconds, max(0, peak_rss() - base))
        say(f"  {name}: {seconds:.1f} s")
    ref = cover_radius(X, results[names[0]][0])
    say(f"{'variant':22} {'total':>8} {'per pick':>9} {'extra peak':>11} {'cover radius':>13} {'vs ' + names[0]:>9}")
    for name, (rows, seconds, extra) in results.items():
        radius = cover_radius(X, rows)
        say(f"{name:22} {seconds:7.1f}s {seconds / picks * 1e3:7.1f}ms {extra / 2**20:9.0f}MB {radius:13.4f} {radius / ref:8.3f}x")


def engine(X: np.ndarray, picks: int) -> None:
    """The whole selection engine (DIVERSITY, n_samples = picks) over X: exact and int8 storage."""
    from thresher.embeddings import Embeddings
    from thresher.frames import Frames
    from thresher.select import SelectionInputs, run_selection

    t = time.perf_counter()
    ids = np.char.add("s", np.char.zfill(np.arange(len(X)).astype(str), 8))
    inputs = SelectionInputs(Frames.build(ids, kind="image", video=ids, frame_index=0, width=1, height=1),
                             embeddings={"": Embeddings(ids, X)})
    say(f"  samples and inputs built in {time.perf_counter() - t:.1f} s")
    config = {"n_samples": picks, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}
    for name in ("exact float32", "int8 storage"):
        reset_peak()
        base = peak_rss()
        t = time.perf_counter()
        outcome = run_selection(config, inputs, approximation=APPROXIMATIONS[name])
        seconds = time.perf_counter() - t
        timings = ", ".join(f"{k} {v:.1f} s" for k, v in outcome.timings.items())
        say(f"run_selection, {name}: {seconds:.1f} s ({timings}), extra peak {max(0, peak_rss() - base) / 2**30:.2f} GiB, "
            f"peak RSS {peak_rss() / 2**30:.2f} GiB, {len(outcome.selection)} picks")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=128)
    parser.add_argument("--picks", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-picks", type=int, default=30, help="picks timed for baseline (a)")
    parser.add_argument("--data", choices=["clustered", "isotropic"], default="clustered")
    parser.add_argument("--approx", action="store_true", help="only the approximations (float16, int8, PCA, partitions)")
    parser.add_argument("--variants", default=",".join(APPROXIMATIONS), help="comma-separated names of --approx variants")
    parser.add_argument("--engine", action="store_true", help="only the selection engine (DIVERSITY), exact and int8")
    parser.add_argument("--backends", default="numba,numpy", help="comma-separated: numba, numpy")
    args = parser.parse_args()

    X = unit_vectors(args.n, args.d, args.data)
    say(f"{args.n:,} x {args.d} float32 {args.data} unit vectors = {X.nbytes / 2**20:.0f} MiB; "
        f"{args.picks} picks; {args.repeats} repeats")
    if args.approx:
        approximations(X, args.picks, args.variants.split(","))
    elif args.engine:
        engine(X, args.picks)
    else:
        compare(X, args.picks, args.repeats, args.baseline_picks, args.backends.split(","))


if __name__ == "__main__":
    main()
