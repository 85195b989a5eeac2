"""`SourceSpec`: how a worker process reopens the driver's datasource (no Ray needed)."""

from __future__ import annotations

import os
import pickle

from thresher.engines._ray_worker import SourceSpec
from thresher.io.datasource import Datasource
from thresher.io.storage import Location


def test_a_relative_folder_is_sent_as_an_absolute_path(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    spec = SourceSpec.of(Datasource("data"))
    assert spec.input == str(tmp_path / "data") and spec.lightly is None
    monkeypatch.chdir(os.sep)  # a worker started in another folder
    reopened = pickle.loads(pickle.dumps(spec)).open()
    assert reopened.input.root == str(tmp_path / "data") and reopened.lightly is reopened.input


def test_each_location_keeps_its_own_options_and_an_empty_lightly_bucket_is_not_refused(tmp_path, s3):
    _, options = s3
    (tmp_path / "media").mkdir()
    other = {**options, "default_block_size": 2**20}
    source = Datasource.of_locations(Location(tmp_path / "media"), Location("s3://bucket/not-yet-written", other))
    spec = SourceSpec.of(source)
    assert spec.input_options == {} and spec.lightly_options["default_block_size"] == 2**20
    reopened = spec.open()
    assert reopened.lightly.url == "s3://bucket/not-yet-written" and not reopened.lightly.isdir()
    assert reopened.lightly.fs.storage_options["default_block_size"] == 2**20
