"""Packet layouts: recorded for local MP4/MOV H.264 only, every packet's bytes where the layout
says, and frames decoded from them with no container equal to the container's, pixel for pixel."""

import dataclasses
import os
import shutil
import uuid

import av
import numpy as np
import pytest

from thresher.errors import DatasourceError
from thresher.io.storage import Location
from thresher.io.video import VideoReader, video_info
from tests.io.test_video import remux


@pytest.fixture
def three_videos(tmp_path, bikes_mp4, carphone_mp4, bunny_mp4):
    for source in (bikes_mp4, carphone_mp4, bunny_mp4):
        shutil.copyfile(source, tmp_path / source.name)
    return Location(str(tmp_path)), [bikes_mp4.name, carphone_mp4.name, bunny_mp4.name]


def test_every_packet_lies_where_the_layout_says(three_videos):
    location, names = three_videos
    for name in names:
        info = video_info(location, name)
        layout = info.layout
        assert layout is not None and len(layout) == info.n_frames
        with av.open(location.path(name)) as container, open(location.path(name), "rb") as file:
            stream = container.streams.video[0]
            demuxed = [p for p in container.demux(stream) if p.size]
            assert [(p.pts, p.dts) for p in demuxed] == list(zip(layout.pts.tolist(), layout.dts.tolist()))
            assert all(bytes(p) == layout.packet(file, i) for i, p in enumerate(demuxed))
            assert layout.extradata == bytes(stream.codec_context.extradata)


def _frames(location, name, info, indices):
    with VideoReader(location, name, info) as reader:
        return list(reader.frames(indices))


def test_frames_read_without_the_container_are_the_containers(three_videos, monkeypatch):
    location, names = three_videos
    rng = np.random.default_rng(0)
    for name in names:
        info = video_info(location, name)
        n = info.n_frames
        picks = [list(range(n)), sorted(rng.choice(n, 12, replace=False).tolist()), [n - 1], [0, 1, n // 2, n - 1]]
        expected = [_frames(location, name, dataclasses.replace(info, layout=None), p) for p in picks]

        def no_container(*args, **kwargs):
            raise AssertionError("a container was opened")

        with monkeypatch.context() as patch:
            patch.setattr(av, "open", no_container)
            got = [_frames(location, name, info, p) for p in picks]
            with VideoReader(location, name, info) as reader:
                single = [reader[i] for i in picks[1]]
        for want, have in zip(expected, got):
            assert len(want) == len(have) and all(np.array_equal(a, b) for a, b in zip(want, have)), name
        assert all(np.array_equal(a, b) for a, b in zip(expected[1], single)), name


def test_no_layout_where_the_bytes_are_not_the_packets(tmp_path, bikes_mp4):
    for extension in ("mkv", "ts"):
        target = tmp_path / f"clip.{extension}"
        remux(bikes_mp4, target)
        assert video_info(Location(str(tmp_path)), target.name).layout is None, extension
    memory = Location(f"memory://layout-{uuid.uuid4().hex}")
    memory.write_bytes("clip.mp4", bikes_mp4.read_bytes())
    assert video_info(memory, "clip.mp4").layout is None  # not a local file: read through the container


def test_a_file_cut_short_after_indexing_is_a_readable_error(tmp_path, bikes_mp4):
    shutil.copyfile(bikes_mp4, tmp_path / "clip.mp4")
    location = Location(str(tmp_path))
    info = video_info(location, "clip.mp4")
    data = (tmp_path / "clip.mp4").read_bytes()
    (tmp_path / "clip.mp4").write_bytes(data[: int(info.layout.offset[200])])
    with pytest.raises(DatasourceError, match="clip.mp4: (not a readable video|frame 240 could not be read)"):
        _frames(location, "clip.mp4", info, [240])


def test_a_video_replaced_under_the_same_size_and_time_is_read_through_the_container(tmp_path, bikes_mp4, carphone_mp4):
    shutil.copyfile(bikes_mp4, tmp_path / "clip.mp4")
    location = Location(str(tmp_path))
    stale = video_info(location, "clip.mp4")  # the index of bikes.mp4
    other = carphone_mp4.read_bytes()
    size = (tmp_path / "clip.mp4").stat().st_size
    stamp = (tmp_path / "clip.mp4").stat().st_mtime_ns
    (tmp_path / "clip.mp4").write_bytes(other + b"\0" * (size - len(other)))  # padded to the same size, same time
    os.utime(tmp_path / "clip.mp4", ns=(stamp, stamp))
    with av.open(str(carphone_mp4)) as container:
        expected = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    with VideoReader(location, "clip.mp4", stale) as reader:
        assert reader.info.n_frames == 120  # probed again, through the container
        assert all(np.array_equal(a, b) for a, b in zip(reader.frames([0, 60, 119]), [expected[0], expected[60], expected[119]]))
