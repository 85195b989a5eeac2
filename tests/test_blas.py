"""limit_blas_threads: one BLAS thread inside, the previous count after; None leaves BLAS alone."""

from __future__ import annotations

import subprocess
import sys

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


def test_a_blas_loaded_after_the_first_limit_is_limited_too():
    """OpenCV brings its own OpenBLAS; imported after a first limit (in a new process, so that
    nothing imported it before), it is limited too."""
    code = (
        "import numpy as np\n"
        "from threadpoolctl import threadpool_info\n"
        "from thresher._blas import limit_blas_threads\n"
        "with limit_blas_threads(1):\n"
        "    pass\n"
        "import cv2\n"
        "with limit_blas_threads(1):\n"
        "    pools = [p for p in threadpool_info() if p['user_api'] == 'blas']\n"
        "    assert len(pools) >= 3 and {p['num_threads'] for p in pools} == {1}, pools\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
