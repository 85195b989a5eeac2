"""Fixtures of the compat tests: a private THRESHER_HOME and a local S3 server."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def thresher_home(tmp_path, monkeypatch) -> Path:
    """Every test registers its local datasets in its own THRESHER_HOME."""
    home = tmp_path / "thresher-home"
    monkeypatch.setenv("THRESHER_HOME", str(home))
    return home


@pytest.fixture(scope="module")
def s3():
    """A local S3 server (moto), reached through the standard AWS settings of the environment:
    `AWS_ENDPOINT_URL` and test keys, as a user's machine would reach their bucket."""
    moto_server = pytest.importorskip("moto.server", reason="moto[server] is needed for the local S3 tests")
    s3fs = pytest.importorskip("s3fs", reason="s3fs is needed for the local S3 tests")
    import boto3

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.delenv("AWS_PROFILE", raising=False)
        s3fs.S3FileSystem.clear_instance_cache()  # cached file systems may point at another server
        client = boto3.client("s3", region_name="us-east-1")
        for bucket in ("bucket", "yourInputBucket"):
            client.create_bucket(Bucket=bucket)
        yield s3fs.S3FileSystem()
        s3fs.S3FileSystem.clear_instance_cache()
    server.stop()
