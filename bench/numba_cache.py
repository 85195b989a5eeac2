"""The numba kernel in a new process: first k_center_greedy against the second, on a cached kernel.

    python bench/numba_cache.py                       # 1,000,000 x 128 float32, 100 picks, 5 processes
    python bench/numba_cache.py --n 300000 --processes 3

A first process fills an empty numba cache folder (NUMBA_CACHE_DIR, a temporary folder): its
first call includes compiling the kernel. Each later process then times, back to back on the
same matrix, its first k_center_greedy (numba's import and the kernel's load from the cache
included) and its second one; the ratio first / second is printed per process, with the
median (the host is shared and noisy). Target: median ratio <= 1.3.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

CHILD = """
import json, sys, time
import numpy as np
from thresher.select.kcenter import k_center_greedy
n, d, picks = map(int, sys.argv[1:4])
rng = np.random.default_rng(0)
X = rng.standard_normal((n, d), dtype=np.float32)
X /= np.linalg.norm(X, axis=1, keepdims=True)
times = []
for _ in range(2):
    start = time.perf_counter()
    k_center_greedy(X, picks, backend="numba")
    times.append(time.perf_counter() - start)
from thresher.select._numba_kernel import update
print(json.dumps({"first": times[0], "second": times[1], "cache_hits": sum(update.stats.cache_hits.values())}))
"""


def run_child(n: int, d: int, picks: int, cache: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(d), str(picks)], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=128)
    parser.add_argument("--picks", type=int, default=100)
    parser.add_argument("--processes", type=int, default=5)
    args = parser.parse_args()
    print(f"k_center_greedy(backend='numba') on {args.n:,} x {args.d} float32, {args.picks} picks; {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory() as cache:
        cold = run_child(args.n, args.d, args.picks, cache)
        print(f"empty cache : first {cold['first']:.2f} s (compiles), second {cold['second']:.2f} s, ratio {cold['first'] / cold['second']:.2f}", flush=True)
        ratios = []
        for index in range(args.processes):
            warm = run_child(args.n, args.d, args.picks, cache)
            ratios.append(warm["first"] / warm["second"])
            print(f"process {index + 1}   : first {warm['first']:.2f} s, second {warm['second']:.2f} s, ratio {ratios[-1]:.2f} (cache hits {warm['cache_hits']})", flush=True)
    print(f"median ratio first / second on a cached kernel: {statistics.median(ratios):.2f} (target <= 1.3)")


if __name__ == "__main__":
    main()
