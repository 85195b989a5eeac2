"""The fused numba kernel behind `_kernels.update` (the `fast` extra); see `_kernels` for the contract.

Compiled once per machine, not once per process: `cache=True` stores the machine code beside
this file (`__pycache__`), or in numba's user-wide cache folder when the package folder is
read-only, or in `NUMBA_CACHE_DIR` when set. A new process then loads the kernel (about
0.4 s) instead of compiling it (1 to 3 s); a changed source file or numba release recompiles.
Importing this module imports numba.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba import types
from numba.extending import overload

from thresher.select._kernels import _MARGIN_ABS, _MARGIN_REL

_FASTMATH = {"reassoc", "contract"}
# 2^(e - 25) for a float16 exponent field e (e = 0: subnormals, 2^-24): value = (mantissa + 1024·[e > 0]) · this
_HALF_SCALE = np.array([2.0**-24] + [2.0 ** (e - 25) for e in range(1, 32)], np.float32)


def coordinate(X, i, j):  # pragma: no cover - replaced by the overload when compiled
    """X[i, j] as float32; a uint16 X holds float16 bits (numba has no float16)."""
    raise NotImplementedError


@overload(coordinate, inline="always")
def _coordinate(X, i, j):  # pragma: no cover - compiled
    """float16 bits widened exactly: sign, exponent and mantissa (finite values only)."""
    if X.dtype == types.uint16:
        table = _HALF_SCALE

        def half(X, i, j):
            h = np.int32(X[i, j])
            e = (h >> 10) & 31
            v = np.float32((h & 1023) + (1024 if e > 0 else 0)) * table[e]
            return -v if h & 0x8000 else v

        return half
    return lambda X, i, j: np.float32(X[i, j])


@nb.njit(inline="always", fastmath=_FASTMATH, cache=True)
def exact_sq(X, i, c):  # pragma: no cover - compiled
    """||X[i] - c||^2 in float32."""
    s = np.float32(0.0)
    for j in range(X.shape[1]):
        diff = coordinate(X, i, j) - c[j]
        s += diff * diff
    return s


@nb.njit(inline="always", fastmath=_FASTMATH, cache=True)
def cannot_be_closer(Q, inv_scale, eps, i, c, m):  # pragma: no cover - compiled
    """Whether row i's int8 sketch proves ||X[i] - c||^2 >= its current minimum m."""
    s = np.float32(0.0)  # distance to the int8 sketch, which is within eps[i] of the row
    inv = inv_scale[i]
    for j in range(Q.shape[1]):
        diff = np.float32(Q[i, j]) * inv - c[j]
        s += diff * diff
    lower = np.sqrt(s) - eps[i]
    return lower > 0 and lower * lower > m * (1 + _MARGIN_REL) + _MARGIN_ABS


@nb.njit(parallel=True, fastmath=_FASTMATH, nogil=True, cache=True)
def update(X, Q, inv_scale, eps, c, min_sq, assign, center_sq, new_id, nchunks):  # pragma: no cover
    """One pass in `nchunks` parallel row ranges; returns the farthest row (ties: lowest)."""
    n = X.shape[0]
    sketch = Q.shape[0] == n
    step = (n + nchunks - 1) // nchunks
    best_row = np.full(nchunks, -1, np.int64)
    best_val = np.full(nchunks, -2.0, np.float32)
    for t in nb.prange(nchunks):
        row = -1
        val = np.float32(-2.0)
        for i in range(t * step, min(n, (t + 1) * step)):
            m = min_sq[i]
            if m >= 0:
                a = assign[i]
                maybe = a < 0 or center_sq[a] <= 4 * m * (1 + _MARGIN_REL) + _MARGIN_ABS
                if maybe and sketch and m < np.inf:
                    maybe = not cannot_be_closer(Q, inv_scale, eps, i, c, m)
                if maybe:
                    s = exact_sq(X, i, c)
                    if s < m:
                        m = s
                        min_sq[i] = s
                        assign[i] = new_id
            if m > val:
                val = m
                row = i
        best_row[t] = row
        best_val[t] = val
    row = -1
    val = np.float32(-2.0)
    for t in range(nchunks):  # chunks in row order: strict > keeps the lowest row on ties
        if best_val[t] > val:
            val = best_val[t]
            row = best_row[t]
    return row if val >= 0 else -1
