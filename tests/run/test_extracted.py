"""Frames an earlier run extracted are copied while the video and the PNG are unchanged (real bikes.mp4)."""

import json
import os
import shutil

import numpy as np
import pytest

from thresher.io.datasource import Datasource
from thresher.run.extracted import ExtractedFrames
from thresher.run.images import write_images


@pytest.fixture
def source(tmp_path, bikes_mp4):
    root = tmp_path / "ds"
    root.mkdir()
    shutil.copyfile(bikes_mp4, root / "bikes.mp4")
    return Datasource(root)


def marked(path, data: bytes) -> None:
    """Other bytes of the same size, with the file's old modification time (a copy carries them)."""
    stat = path.stat()
    path.write_bytes(data[: stat.st_size].ljust(stat.st_size, b"x"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_an_earlier_runs_frames_are_copied_while_unchanged(source, tmp_path):
    frames = source.frames()
    rows = np.array([3, 40, 41, 200])
    record = ExtractedFrames(tmp_path / "extracted.json")
    first = tmp_path / "run1" / "images"
    assert sorted(write_images(source, frames, rows, first, reuse=record).written) == sorted(frames.file_name[rows].tolist())
    decoded = {n: (first / n).read_bytes() for n in frames.file_name[rows].tolist()}
    assert set(json.loads(record.path.read_text())["bikes.mp4"]["frames"]) == {"3", "40", "41", "200"}

    marked(first / "bikes-040-mp4.png", b"copied")
    second = tmp_path / "run2" / "images"
    write_images(source, frames, rows, second, reuse=record)
    assert (second / "bikes-040-mp4.png").read_bytes().startswith(b"copied")  # copied, not decoded
    assert (second / "bikes-041-mp4.png").read_bytes() == decoded["bikes-041-mp4.png"]

    (second / "bikes-003-mp4.png").write_bytes(b"changed since")  # the latest PNG changed: decoded again
    third = tmp_path / "run3" / "images"
    write_images(source, frames, rows, third, reuse=record)
    assert (third / "bikes-003-mp4.png").read_bytes() == decoded["bikes-003-mp4.png"]
    assert (third / "bikes-040-mp4.png").read_bytes().startswith(b"copied")

    shutil.rmtree(third)  # the latest run folder is gone: its frames are forgotten, decoded again
    fourth = tmp_path / "run4" / "images"
    write_images(source, frames, rows, fourth, reuse=record)
    assert all((fourth / n).read_bytes() == data for n, data in decoded.items())

    marked(fourth / "bikes-200-mp4.png", b"copied")
    stamp = os.stat(source.input.local_path("bikes.mp4")).st_mtime_ns + 10**9  # the video changed: decoded again
    os.utime(source.input.local_path("bikes.mp4"), ns=(stamp, stamp))
    fifth = tmp_path / "run5" / "images"
    write_images(source, frames, rows, fifth, reuse=record)
    assert (fifth / "bikes-200-mp4.png").read_bytes() == decoded["bikes-200-mp4.png"]


def test_the_record_names_the_final_folder(source, tmp_path):
    frames = source.frames()
    record = ExtractedFrames(tmp_path / "extracted.json")
    partial, final = tmp_path / "run.partial", tmp_path / "run"
    write_images(source, frames, np.array([7]), partial / "images", reuse=record, final=final / "images")
    assert record.reusable(source, frames, np.array([7])) == {}  # not there yet
    partial.rename(final)
    assert record.reusable(source, frames, np.array([7])) == {7: final / "images" / "bikes-007-mp4.png"}
