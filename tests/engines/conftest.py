"""One real local Ray cluster (2 CPUs, on 127.0.0.1) shared by every Ray test of the session."""

from __future__ import annotations

import shutil
import tempfile

import pytest

NOT_INSTALLED = "Ray is not installed (pip install 'thresher[ray]'): the Ray engine tests need a real local cluster"


@pytest.fixture(scope="session")
def ray_cluster():
    """`ray`, initialized with 2 CPUs in a temporary directory (about 10 s, once per session)."""
    ray = pytest.importorskip("ray", reason=NOT_INSTALLED)
    pytest.importorskip("ray.data", reason=NOT_INSTALLED)
    folder = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths are length-limited
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=folder, _node_ip_address="127.0.0.1")
    yield ray
    ray.shutdown()
    shutil.rmtree(folder, ignore_errors=True)
