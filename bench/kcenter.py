"""k-center greedy: thresher against a plain numpy loop and the memory floor, in one process.

    python bench/kcenter.py                         # 1,000,000 x 128 float32, 1,000 picks
    python bench/kcenter.py --n 200000 --picks 300 --repeats 3
    python bench/kcenter.py --data isotropic        # no cluster structure (no pruning)
    python bench/kcenter.py --approx                # float16 / int8 / PCA / partitions, cover radius
    python bench/kcenter.py --n 10000000 --approx   # 10M x 128, 1,000 picks (about 40 min here)
    python bench/kcenter.py --n 10000000 --selector # run_selection (DIVERSITY) at 10M: time, memory
    python bench/kcenter.py --radius --n 1000000 --d 1280 --data spectrum --store /tmp/s1m   # cover radius table
    python bench/kcenter.py --streamed --n 10000000 --d 1280 --data spectrum --store /tmp/s10m --pca 128
        # DIVERSITY over a float16 store on disk (written first, or reused), peak RSS

Per repeat, on the same matrix and back to back (the host is shared and noisy, so ratios
are taken within a repeat and the median over repeats is printed):
  (a) numpy broadcast, per pick: min_sq = minimum(min_sq, ((X - X[new])**2).sum(1)); argmax
  (b) memory floor, per pass: one BLAS mat-vec X @ c (reads the matrix once)
  thresher: k_center_greedy(X, picks) per pick, each backend available.
Peak memory is read from /proc/self/status (VmHWM) around each thresher run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from thresher.select import _kernels
from thresher.select import Approximation, approximate_k_center
from thresher.select.kcenter import cover_radius, k_center_greedy


def say(*parts: object) -> None:
    print(*parts, flush=True)


def unit_blocks(n: int, d: int, kind: str = "clustered", seed: int = 0, rows: int = 1 << 18):
    """Unit vectors, `rows` at a time: a mixture of 1,000 Gaussian blobs (like real embeddings),
    isotropic, or "spectrum": 1,000 blobs whose centers and spreads share a power-law spectrum
    (coordinate j has standard deviation j^-1/2, so variance falls as 1/j, flatter than the
    1/j^1.8 of the SSD's 1280-d embeddings of bikes.mp4: a harder case for a projection)."""
    rng = np.random.default_rng(seed)
    scale = np.arange(1, d + 1, dtype=np.float32) ** -0.5 if kind == "spectrum" else np.ones(d, np.float32)
    centers = rng.standard_normal((1000, d)).astype(np.float32) * scale
    for lo in range(0, n, rows):
        m = min(n, lo + rows) - lo
        block = rng.standard_normal((m, d), np.float32)
        if kind in ("clustered", "spectrum"):
            block *= 0.6 * scale
            block += centers[rng.integers(0, 1000, m)]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        yield lo, block


def unit_vectors(n: int, d: int, kind: str = "clustered", seed: int = 0) -> np.ndarray:
    """`unit_blocks` gathered in one float32 matrix."""
    X = np.empty((n, d), np.float32)
    for lo, block in unit_blocks(n, d, kind, seed):
        X[lo : lo + len(block)] = block
    return X


def sample_ids(n: int) -> np.ndarray:
    return np.char.add("s", np.char.zfill(np.arange(n).astype(str), 8))


def float16_store(folder: str, n: int, d: int, kind: str, X: np.ndarray | None = None):
    """An EmbeddingStore of float16 shards (262,144 rows each) holding `unit_blocks` (or X),
    written once: an existing store of n × d vectors is reused. Returns the opened view."""
    from thresher.embedding_store import EmbeddingStore
    from thresher.embeddings import Embeddings

    store = EmbeddingStore(folder, "float16")
    view = store.open()
    if len(view) == n and view.dim == d:
        say(f"reusing the float16 store in {folder}")
        return view
    if len(view):
        raise SystemExit(f"{folder}: holds {len(view)} x {view.dim} vectors, not {n} x {d}; remove it first")
    t = time.perf_counter()
    ids = sample_ids(n)
    blocks = ((lo, X[lo : lo + (1 << 18)]) for lo in range(0, n, 1 << 18)) if X is not None else unit_blocks(n, d, kind)
    for lo, block in blocks:
        store.append(Embeddings(ids[lo : lo + len(block)], block))
    say(f"wrote {n:,} x {d} float16 vectors to {folder} in {time.perf_counter() - t:.0f} s")
    return store.open()


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


def whole_selector(X: np.ndarray, picks: int) -> None:
    """The whole selector (DIVERSITY, n_samples = picks) over X: exact and int8 storage."""
    from thresher.embeddings import Embeddings
    from thresher.frames import Frames
    from thresher.select import SelectionInputs, run_selection

    t = time.perf_counter()
    ids = np.char.add("s", np.char.zfill(np.arange(len(X)).astype(str), 8))
    inputs = SelectionInputs(Frames.build(ids, kind="image", video=ids, frame_index=0, width=1, height=1), embeddings={"": Embeddings(ids, X)})
    say(f"  samples and inputs built in {time.perf_counter() - t:.1f} s")
    config = {"n_samples": picks, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}
    for name in ("exact float32", "int8 storage"):
        reset_peak()
        base = peak_rss()
        t = time.perf_counter()
        outcome = run_selection(config, inputs, approximation=APPROXIMATIONS[name])
        seconds = time.perf_counter() - t
        timings = ", ".join(f"{k} {v:.1f} s" for k, v in outcome.timings.items())
        say(
            f"run_selection, {name}: {seconds:.1f} s ({timings}), extra peak {max(0, peak_rss() - base) / 2**30:.2f} GiB, "
            f"peak RSS {peak_rss() / 2**30:.2f} GiB, {len(outcome.selection)} picks"
        )


def streamed(n: int, d: int, kind: str, folder: str, picks: int, pca: list[int], storage: str) -> None:
    """run_selection (DIVERSITY) over a float16 store left on disk: PCA fitted on 100,000 stored
    vectors and applied block by block, then k-center on the projected matrix. The old store
    loaded every shard as float32 and the selector aligned a copy: 2 x 4 x n x d bytes."""
    from thresher.frames import Frames
    from thresher.select import SelectionInputs, run_selection

    view = float16_store(folder, n, d, kind)
    say(f"the old path would hold {2 * 4 * n * d / 2**30:.1f} GiB of float32 (store load + aligned copy) before selecting")
    t = time.perf_counter()
    ids = sample_ids(n)
    inputs = SelectionInputs(Frames.build(ids, kind="image", video=ids, frame_index=0, width=1, height=1), embeddings={"": view})
    say(f"  samples and inputs built in {time.perf_counter() - t:.1f} s; RSS now {current_rss() / 2**30:.2f} GiB")
    config = {"n_samples": picks, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}
    for dims in pca:
        reset_peak()
        t = time.perf_counter()
        outcome = run_selection(config, inputs, approximation=Approximation(pca_dims=dims, storage=storage))
        seconds = time.perf_counter() - t
        timings = ", ".join(f"{k} {v:.1f} s" for k, v in outcome.timings.items())
        say(
            f"streamed PCA to {dims} ({storage}): {seconds:.1f} s ({timings}), {seconds and outcome.timings['greedy'] / picks * 1e3:.0f} ms a pick, "
            f"peak RSS {peak_rss() / 2**30:.2f} GiB, {len(outcome.selection)} picks; load {os.getloadavg()}"
        )


def prefix_cover_radii(X: np.ndarray, rows: np.ndarray, sizes: list[int], block: int = 8192) -> list[float]:
    """Cover radius of rows[:k] for each k in sizes, in one pass of blocked float32 GEMMs."""
    C = X[rows[: max(sizes)]]
    c_sq = np.einsum("ij,ij->i", C, C)
    worst = np.zeros(len(sizes))
    for lo in range(0, len(X), block):
        xb = X[lo : lo + block]
        d2 = np.einsum("ij,ij->i", xb, xb)[:, None] - 2 * (xb @ C.T) + c_sq
        nearest = np.minimum.accumulate(d2, axis=1)
        worst = np.maximum(worst, nearest[:, [k - 1 for k in sizes]].max(axis=0))
    return np.sqrt(np.maximum(worst, 0)).tolist()


def radius_table(n: int, d: int, kind: str, folder: str, sizes: list[int], pca: list[int]) -> None:
    """Cover radius (largest distance of any vector to its nearest pick, in the original float32
    space) of the streamed selections against exact k-center (greedy farthest point on the
    float32 matrix in memory). Greedy picks are nested (the first k of K picks are the k-pick
    selection), so one run of max(sizes) picks gives every size."""
    from thresher.frames import Frames
    from thresher.select import SelectionInputs, run_selection

    X = unit_vectors(n, d, kind)
    view = float16_store(folder, n, d, kind, X)
    ids = sample_ids(n)
    inputs = SelectionInputs(Frames.build(ids, kind="image", video=ids, frame_index=0, width=1, height=1), embeddings={"": view})
    config = {"n_samples": max(sizes), "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}
    backend = "numba" if _kernels.numba_available() else "numpy"
    k_center_greedy(X[:2000], 3, backend=backend)
    variants = {}
    reset_peak()
    t = time.perf_counter()
    variants["exact k-center, float32 in memory"] = (k_center_greedy(X, max(sizes), backend=backend), time.perf_counter() - t, peak_rss())
    say(f"  exact: {variants['exact k-center, float32 in memory'][1]:.0f} s; load {os.getloadavg()}")
    streamed_variants = [(f"streamed float16 store, PCA to {p}", Approximation(pca_dims=p)) for p in pca]
    streamed_variants.append(("streamed float16 store, no projection (float16 matrix)", Approximation(storage="float16")))
    for name, approximation in streamed_variants:
        reset_peak()
        t = time.perf_counter()
        outcome = run_selection(config, inputs, approximation=approximation)
        variants[name] = (np.searchsorted(ids, outcome.selection.ids), time.perf_counter() - t, peak_rss())
        say(f"  {name}: {variants[name][1]:.0f} s; load {os.getloadavg()}")
    say(f"| selection | seconds ({max(sizes)} picks) | peak RSS | " + " | ".join(f"radius at {k}" for k in sizes) + " |")
    exact = None
    for name, (rows, seconds, peak) in variants.items():
        radii = prefix_cover_radii(X, rows, sizes)
        exact = exact or radii
        cells = " | ".join(f"{r:.4f} ({r / e:.3f}x)" for r, e in zip(radii, exact))
        say(f"| {name} | {seconds:.0f} | {peak / 2**30:.1f} GiB | {cells} |")
    say(f"load average at the end: {os.getloadavg()}")


def current_rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=128)
    parser.add_argument("--picks", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-picks", type=int, default=30, help="picks timed for baseline (a)")
    parser.add_argument("--data", choices=["clustered", "isotropic", "spectrum"], default="clustered")
    parser.add_argument("--approx", action="store_true", help="only the approximations (float16, int8, PCA, partitions)")
    parser.add_argument("--variants", default=",".join(APPROXIMATIONS), help="comma-separated names of --approx variants")
    parser.add_argument("--selector", action="store_true", help="only the selector (DIVERSITY), exact and int8")
    parser.add_argument("--backends", default="numba,numpy", help="comma-separated: numba, numpy")
    parser.add_argument("--streamed", action="store_true", help="DIVERSITY over a float16 store on disk (--store), PCA to --pca dims")
    parser.add_argument("--radius", action="store_true", help="cover radius of streamed selections against exact k-center (--sizes)")
    parser.add_argument("--store", default="/tmp/thresher-kcenter-store", help="folder of the float16 store (written once, then reused)")
    parser.add_argument("--pca", default="128", help="comma-separated PCA dimensions of the streamed selections")
    parser.add_argument("--storage", default="float32", help="--streamed: storage of the projected matrix (float32, float16, int8)")
    parser.add_argument("--sizes", default="100,500,2000", help="--radius: comma-separated selection sizes")
    args = parser.parse_args()
    say(f"load average at the start: {os.getloadavg()}")
    pca = [int(p) for p in args.pca.split(",")]
    if args.streamed:
        return streamed(args.n, args.d, args.data, args.store, args.picks, pca, args.storage)
    if args.radius:
        return radius_table(args.n, args.d, args.data, args.store, [int(k) for k in args.sizes.split(",")], pca)

    X = unit_vectors(args.n, args.d, args.data)
    say(f"{args.n:,} x {args.d} float32 {args.data} unit vectors = {X.nbytes / 2**20:.0f} MiB; {args.picks} picks; {args.repeats} repeats")
    if args.approx:
        approximations(X, args.picks, args.variants.split(","))
    elif args.selector:
        whole_selector(X, args.picks)
    else:
        compare(X, args.picks, args.repeats, args.baseline_picks, args.backends.split(","))


if __name__ == "__main__":
    main()
