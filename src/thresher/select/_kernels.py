"""Nearest-center distance kernels: at most one pass over the matrix per new center.

Contract of `update(X, c, min_sq, assign, center_sq, new_id, aux, backend)`: for every row i
not yet chosen (`min_sq[i] >= 0`), lower `min_sq[i]` to ||X[i] - c||^2 where that is smaller
and set `assign[i] = new_id`; return the row of the largest `min_sq` (ties: lowest row; -1
when every row is chosen). Chosen rows hold the sentinel -1 in `min_sq`.

X is float32, float16 (half the memory; the numba kernel reads its bits as uint16 and widens
each coordinate exactly), or int8 holding quantized coordinates (e.g. round(127 x) of unit
vectors: a quarter of the memory and of the bytes read per pick; distances are then in
those units).

Pruning (exact, by the triangle inequality): a row whose nearest center `a` satisfies
||c - a|| >= 2 ||x - a|| cannot get closer to c, so it is skipped without reading its
vector. `center_sq[a]` holds ||c - a||^2 for every earlier center a. Once the centers cover
the data, most rows are skipped, so a pick reads less than the whole matrix. A small safety
margin keeps the skip exact under float32 rounding.

- numba (the `fast` extra): one fused pass; float32 sum((x - c)^2) computed directly. For
  float32 X an int8 sketch (`int8_sketch`, a quarter of the bytes) is read first: a row whose
  sketch is provably farther than its current minimum (sketch distance minus the row's error
  bound) is skipped without reading its float32 vector. Exact, like the pruning above.
- numpy: the rows that may change are gathered in blocks; distances by the expansion
  ||x||^2 - 2 x.c + ||c||^2 (squared norms precomputed, `aux`), one BLAS mat-vec per block.
  Near-equal distances may round differently from the numba path.
"""

from __future__ import annotations

import threading

import numpy as np

_BLOCK_ROWS = 1 << 15
# Few, large BLAS calls: each call synchronizes BLAS threads, which is slow on a busy host.
_UPDATE_ROWS = 1 << 18
CHOSEN = np.float32(-1.0)
_MARGIN_REL = np.float32(1e-4)
_MARGIN_ABS = np.float32(1e-7)


def numba_available() -> bool:
    """Whether the numba kernel can be used here (numba installed; found, not imported: the
    import is left to the thread that loads the kernel, see `prepare`)."""
    import importlib.util

    return importlib.util.find_spec("numba") is not None


def _numba_update():
    """The fused numba kernel (imported on first use: numba is optional and slow to import)."""
    from thresher.select._numba_kernel import update

    return update


def _load_numba_update(dtype: np.dtype, dim: int) -> None:
    """Import numba and load the kernel for this X dtype from numba's cache (compiling it when the
    cache is cold), by one call on a one-row matrix. Runs beside the int8 sketch (`prepare`)."""
    try:
        X = np.zeros((1, dim), np.uint16 if dtype == np.float16 else dtype)
        sketch = np.zeros((1 if dtype != np.int8 else 0, dim), np.int8)
        one, empty = np.ones(1, np.float32), np.zeros(0, np.float32)
        _numba_update()(X, sketch, one, one.copy(), np.zeros(dim, np.float32), np.full(1, np.inf, np.float32), np.full(1, -1, np.int32), empty, np.int32(0), 1)
    except Exception:  # noqa: BLE001 - a warm-up only: the real call reports any problem
        pass


NUMBA_MIN_ELEMENTS = 20_000_000  # below this, numpy's passes cost less than loading the kernel


def pick_backend(backend: str, n_elements: int | None = None) -> str:
    """Resolve "auto" to "numba" when installed and the matrix is big enough to repay loading
    the kernel (about a second in a new process; compiled once per machine), else "numpy";
    validate the name."""
    from thresher.errors import UsageError, did_you_mean, require

    if backend == "auto":
        big = n_elements is None or n_elements >= NUMBA_MIN_ELEMENTS
        return "numba" if big and numba_available() else "numpy"
    if backend == "numba":
        if not numba_available():
            require("numba", "fast")  # raises MissingDependencyError with the install hint
        return backend
    if backend == "numpy":
        return backend
    choices = ["auto", "numba", "numpy"]
    raise UsageError(f"backend: expected one of {choices}, got {backend!r}{did_you_mean(backend, choices)}")


def int8_sketch(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Q, inv_scale, eps): int8 rows with X[i] ~ Q[i] * inv_scale[i], and eps[i] >= ||X[i] - that||.

    A quarter of the bytes of float32 X. By the triangle inequality,
    ||x - c|| >= ||sketch - c|| - eps, which lets the kernel skip reading the float32 row of
    every row that provably cannot get closer to the new center.
    """
    Q = np.empty(X.shape, np.int8)
    inv_scale = np.empty(len(X), np.float32)
    eps = np.empty(len(X), np.float32)
    for lo in range(0, len(X), _BLOCK_ROWS):
        block = X[lo : lo + _BLOCK_ROWS].astype(np.float32, copy=False)
        amax = np.abs(block).max(axis=1) if block.shape[1] else np.zeros(len(block), np.float32)
        inv = np.where(amax > 0, amax / 127, 1).astype(np.float32)
        q = np.rint(block / inv[:, None])
        Q[lo : lo + _BLOCK_ROWS] = q
        residual = np.linalg.norm(block - q.astype(np.float32) * inv[:, None], axis=1)
        inv_scale[lo : lo + _BLOCK_ROWS] = inv
        eps[lo : lo + _BLOCK_ROWS] = residual * (1 + _MARGIN_REL) + 1e-6  # rounded up: the bound must hold
    return Q, inv_scale, eps


def prepare(X: np.ndarray, backend: str):
    """Per-matrix data a backend needs once: the numba path's int8 sketch (float32 and float16
    X), the numpy path's squared row norms."""
    if backend == "numba":
        # Loading the kernel (about 0.5 s in a new process: numba's import and its cache) overlaps
        # the sketch, whose numpy passes release the GIL; the first `update` waits for it on
        # numba's own import and compiler locks.
        threading.Thread(target=_load_numba_update, args=(X.dtype, X.shape[1]), daemon=True).start()
        if X.dtype in (np.float32, np.float16) and len(X):
            return int8_sketch(X)
        return np.zeros((0, X.shape[1]), np.int8), np.zeros(0, np.float32), np.zeros(0, np.float32)
    sq = np.empty(len(X), np.float32)
    for lo in range(0, len(X), _BLOCK_ROWS):
        block = X[lo : lo + _BLOCK_ROWS].astype(np.float32, copy=False)
        np.einsum("ij,ij->i", block, block, out=sq[lo : lo + _BLOCK_ROWS])
    return sq


def update(X, c, min_sq, assign, center_sq, new_id, aux, backend) -> int:
    """Lower `min_sq` by the squared distances to `c` (see the module contract)."""
    if len(X) == 0:
        return -1
    c = np.ascontiguousarray(c, dtype=np.float32)
    if backend == "numba":
        import numba as nb

        nchunks = max(1, min(len(X), 8 * nb.get_num_threads()))
        Q, inv_scale, eps = aux
        X = X.view(np.uint16) if X.dtype == np.float16 else X
        return int(_numba_update()(X, Q, inv_scale, eps, c, min_sq, assign, center_sq, np.int32(new_id), nchunks))
    _update_numpy(X, c, min_sq, assign, center_sq, new_id, aux)
    best = int(np.argmax(min_sq))
    return best if min_sq[best] >= 0 else -1


def _update_numpy(X, c, min_sq, assign, center_sq, new_id, aux) -> None:
    cc = np.float32(c @ c)
    for lo in range(0, len(X), _UPDATE_ROWS):
        hi = min(lo + _UPDATE_ROWS, len(X))
        m = min_sq[lo:hi]
        a = assign[lo:hi]
        if len(center_sq):
            bound = center_sq[np.maximum(a, 0)]
            maybe = (m >= 0) & ((a < 0) | (bound <= 4 * m * (1 + _MARGIN_REL) + _MARGIN_ABS))
            dense = bool(np.count_nonzero(maybe) > len(m) // 4)
        else:
            dense = True
        rows: slice | np.ndarray
        if dense:  # computing a row that cannot change is harmless; gathering costs more
            rows, block = slice(None), X[lo:hi].astype(np.float32, copy=False)
        else:
            rows = np.flatnonzero(maybe)
            if len(rows) == 0:
                continue
            block = X[lo + rows].astype(np.float32, copy=False)
        d2 = block @ c
        d2 *= -2.0
        d2 += aux[lo:hi][rows]
        d2 += cc
        np.maximum(d2, 0.0, out=d2)
        closer = d2 < m[rows]
        if isinstance(rows, slice):
            m[closer] = d2[closer]
            a[closer] = new_id
        else:
            m[rows[closer]] = d2[closer]
            a[rows[closer]] = new_id


def nearest_in_set(X: np.ndarray, others: np.ndarray, block_rows: int = 8192, block_cols: int = 1024):
    """Squared distance from each row of X to its nearest row of `others`, and that row.

    Blocked GEMM with the ||x||^2 - 2 x.y + ||y||^2 expansion (float32): N x M x D flops at
    BLAS speed, memory bounded by one (block_rows x block_cols) tile. (+inf, -1) when
    `others` is empty.
    """
    best = np.full(len(X), np.inf, np.float32)
    which = np.full(len(X), -1, np.int32)
    if len(others) == 0 or len(X) == 0:
        return best, which
    others = np.ascontiguousarray(others, dtype=np.float32)
    sq_o = np.einsum("ij,ij->i", others, others)
    for lo in range(0, len(X), block_rows):
        xb = X[lo : lo + block_rows].astype(np.float32, copy=False)
        sq_x = np.einsum("ij,ij->i", xb, xb)
        for co in range(0, len(others), block_cols):
            tile = xb @ others[co : co + block_cols].T
            tile *= -2.0
            tile += sq_x[:, None]
            tile += sq_o[None, co : co + block_cols]
            arg = tile.argmin(axis=1)
            val = tile[np.arange(len(tile)), arg]
            closer = val < best[lo : lo + block_rows]
            best[lo : lo + block_rows][closer] = val[closer]
            which[lo : lo + block_rows][closer] = arg[closer] + co
    np.maximum(best, 0.0, out=best)
    return best, which
