"""A datasource in an S3 bucket (a local moto server), read through fsspec/s3fs."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import tree_digest, upload
from thresher.errors import UsageError
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


def test_a_missing_bucket_and_a_missing_folder_are_told_apart(s3):
    _, options = s3
    with pytest.raises(UsageError) as missing_bucket:
        Datasource("s3://thresher-no-such-bucket/data", storage_options=options)
    assert str(missing_bucket.value) == (
        "s3://thresher-no-such-bucket/data: no bucket named 'thresher-no-such-bucket' (or these credentials cannot see it); check the bucket's name in the URL"
    )
    with pytest.raises(UsageError, match=r"^s3://bucket/no-such-folder: no such folder$"):
        Datasource("s3://bucket/no-such-folder", storage_options=options)


def test_a_truncated_mp4_in_a_bucket_is_named_without_ffmpeg_noise(s3, bikes_mp4):
    """An MP4 cut before its index, read through a file object: FFmpeg's message without its
    errno and the `'<none>'` it gives as the file's name."""
    fs, options = s3
    data = bikes_mp4.read_bytes()
    fs.pipe_file("bucket/cut/clip.mp4", data[: len(data) // 2])
    report = validate(Datasource("s3://bucket/cut", storage_options=options), decode=False)
    assert [str(p) for p in report.problems] == ["clip.mp4: expected a readable video, got not a readable video (InvalidDataError: Invalid data found when processing input)"]
