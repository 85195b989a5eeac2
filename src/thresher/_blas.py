"""BLAS thread limits: small matrix products run faster on one thread.

On a busy 2-core host a BLAS thread pool costs far more than it computes on small products
(50x slower measured for a simulation's fits, 5x for k-means++ seeding's n x 9 products), so
the code doing many small products runs them on one thread. threadpoolctl (a dependency of
thresher) finds every loaded BLAS library, numpy's and scipy's.

    with limit_blas_threads(1):
        many_small_products()
"""

from __future__ import annotations

import contextlib
import sys


def limit_blas_threads(threads: int | None):
    """A context limiting every loaded BLAS library to `threads` (None, or no threadpoolctl: no-op)."""
    controller = None if threads is None else _controller()
    return contextlib.nullcontext() if controller is None else controller.limit(limits=threads, user_api="blas")


_SCANNED: dict[str, object] = {}


def _controller():
    """threadpoolctl's view of the loaded BLAS libraries (None without threadpoolctl). Scanning
    costs ~6 ms, so it is done again only when modules were imported since the last scan (a new
    module may have loaded another BLAS, e.g. torch's); scipy.optimize is imported first so that
    its own OpenBLAS is among them."""
    import scipy.optimize  # noqa: F401

    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    if _SCANNED.get("modules") != len(sys.modules):
        _SCANNED["controller"] = ThreadpoolController()
        _SCANNED["modules"] = len(sys.modules)
    return _SCANNED["controller"]
