"""images/: a still or a video gone since the datasource was listed is left out and returned with why, never linked broken."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.conftest import package_file
from thresher.io.datasource import Datasource
from thresher.io.problems import Problems
from thresher.run.images import write_images


@pytest.fixture
def source(tmp_path, carphone_mp4):
    """Two real photos and a real video."""
    root = tmp_path / "ds"
    root.mkdir()
    for name in ("chelsea.png", "coffee.png"):
        shutil.copyfile(package_file("skimage", "data", name), root / name)
    shutil.copyfile(carphone_mp4, root / "car.mp4")
    return Datasource(root)


@pytest.mark.parametrize("stills", ["link", "copy"])
def test_a_still_removed_after_listing_is_neither_linked_nor_copied(source, tmp_path, stills):
    frames = source.frames(Problems())
    rows = frames.index_of(["chelsea.png", "coffee.png", "car-010-mp4.png"])
    (tmp_path / "ds" / "chelsea.png").unlink()
    images = write_images(source, frames, rows, tmp_path / "images", stills)
    assert sorted(images.written) == ["car-010-mp4.png", "coffee.png"]
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == sorted(images.written)  # no dangling link
    ((name, file, problem),) = [(u.name, u.file, u.problem) for u in images.failed]
    assert (name, file) == ("chelsea.png", "chelsea.png")
    expected = "expected a file to link to, got nothing at" if stills == "link" else "expected a file to copy, got cannot read (FileNotFoundError)"
    assert problem.startswith(expected), problem


def test_a_video_removed_after_listing_leaves_its_frames_out(source, tmp_path):
    frames = source.frames(Problems())
    rows = np.flatnonzero(frames.video == "car.mp4")[:3]
    (tmp_path / "ds" / "car.mp4").unlink()
    images = write_images(source, frames, np.r_[rows, frames.index_of(["coffee.png"])], tmp_path / "images")
    assert images.written == ["coffee.png"] and [u.name for u in images.failed] == frames.file_name[rows].tolist()
    assert all(u.file == "car.mp4" and "FileNotFoundError" in u.problem for u in images.failed)
