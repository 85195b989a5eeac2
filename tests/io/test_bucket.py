"""A datasource in an S3 bucket (a local moto server), read through fsspec/s3fs."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import tree_digest
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import read_predictions
from thresher.validate import validate

moto_server = pytest.importorskip("moto.server", reason="moto[server] is needed for the local S3 tests")
s3fs = pytest.importorskip("s3fs", reason="s3fs is needed for the local S3 tests")


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    options = {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": f"http://{host}:{port}", "region_name": "us-east-1"}}
    import boto3

    endpoint = options["client_kwargs"]["endpoint_url"]
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing").create_bucket(Bucket="bucket")
    fs = s3fs.S3FileSystem(**options)
    yield fs, options
    server.stop()


def upload(fs, local, remote):
    for path in sorted(local.rglob("*")):
        if path.is_file():
            fs.pipe_file(f"{remote}/{path.relative_to(local).as_posix()}", path.read_bytes())


def test_bucket_datasource_with_separate_lightly_location(s3, clean_datasource, tmp_path):
    fs, options = s3
    lightly = tmp_path / "lightly"
    shutil.move(clean_datasource / ".lightly", lightly / ".lightly")
    upload(fs, clean_datasource, "bucket/input")
    upload(fs, lightly, "bucket/lightly")
    source = Datasource("s3://bucket/input", lightly="s3://bucket/lightly", storage_options=options)
    frames = source.frames()
    assert len(frames) == 122 and frames.file_name[0] == "clips/car-000-mp4.png"
    assert set(zip(frames.width[-2:].tolist(), frames.height[-2:].tolist())) == {(64, 48), (32, 40)}
    task = read_predictions(source.lightly, "det", frames)
    assert len(task.detections) == 3
    report = validate(source)
    assert report.ok, report.problems
    assert fs.find("bucket/input") == [f"bucket/input/{n}" for n in sorted(tree_digest(clean_datasource))]
