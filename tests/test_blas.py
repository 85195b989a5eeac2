"""limit_blas_threads: one BLAS thread inside, the previous count after; None leaves BLAS alone."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info

from thresher._blas import limit_blas_threads


def blas_threads() -> set[int]:
    np.ones((2, 2)) @ np.ones((2, 2))  # numpy's BLAS is loaded
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_one_thread_inside_and_the_previous_count_after():
    before = blas_threads()
    with limit_blas_threads(1):
        assert blas_threads() == {1}
    assert blas_threads() == before
    with limit_blas_threads(None):
        assert blas_threads() == before
