"""A datasource in an S3 bucket (a local moto server), read through fsspec/s3fs."""

from __future__ import annotations

import shutil

from tests.conftest import tree_digest, upload
from thresher.io.datasource import Datasource
from thresher.io.lightly_predictions import read_predictions
from thresher.validate import validate


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
