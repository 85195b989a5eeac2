"""Reading pieces of a video: a frame that does not decode takes down only the frames decoded from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import numpy as np

from thresher.io.datasource import Datasource
from thresher.io.pixels import pixel_groups
from thresher.io.problems import Problems
from thresher.io.video import disposable_packets


def packets_by_frame(video: Path) -> list[dict]:
    """Each frame's packet, in display order: offset, size, keyframe, disposable (no frame refers to it)."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        disposable = disposable_packets(stream)
        packets = [{"pts": p.pts, "pos": p.pos, "size": p.size, "key": p.is_keyframe, "disposable": disposable(p)} for p in container.demux(stream) if p.size]
    return sorted(packets, key=lambda packet: packet["pts"])


def break_frame(video: Path, packet: dict) -> None:
    """Garble the slice data of one frame's packet in place, keeping its length and NAL header
    (what a bad sector or a broken copy does): the decoder refuses that packet."""
    data = bytearray(video.read_bytes())
    start, end = packet["pos"] + 5, packet["pos"] + packet["size"]  # after the 4-byte length and the header byte
    data[start:end] = b"\xff" * (end - start)
    video.write_bytes(bytes(data))


def read_piece(source: Datasource, rows: np.ndarray) -> tuple[dict[int, np.ndarray], Problems]:
    frames = source.frames(Problems())
    (piece,) = pixel_groups(source, frames, rows, frames_per_piece=32)
    problems, pixels = Problems(), {}
    for item in piece():
        if isinstance(item, Problems):
            problems.extend(item)
        else:
            pixels[int(frames.frame_index[item[0]])] = item[1]
    return pixels, problems


def test_a_broken_frame_no_other_refers_to_takes_no_other_frame_of_its_piece_down(tmp_path, bikes_mp4, bikes_sequential):
    root = tmp_path / "ds"
    root.mkdir()
    shutil.copyfile(bikes_mp4, root / "bikes.mp4")
    source = Datasource(root)
    source.frames(Problems())  # enumerated while whole
    packets = packets_by_frame(root / "bikes.mp4")
    broken = next(i for i in range(120, 250) if packets[i]["disposable"])
    break_frame(root / "bikes.mp4", packets[broken])
    pixels, problems = read_piece(source, np.arange(broken - 3, broken + 8))
    assert sorted(pixels) == [i for i in range(broken - 3, broken + 8) if i != broken]
    assert all(np.array_equal(image, bikes_sequential[i]) for i, image in pixels.items())
    assert [str(p) for p in problems] == [
        f"bikes.mp4: expected a video whose frames all decode, got bikes.mp4: frame {broken} could not be read (InvalidDataError: Invalid data found when processing input)"
    ]


def test_a_broken_reference_frame_takes_down_its_group_of_pictures_not_the_next(tmp_path, bikes_mp4, bikes_sequential):
    root = tmp_path / "ds"
    root.mkdir()
    shutil.copyfile(bikes_mp4, root / "bikes.mp4")
    source = Datasource(root)
    source.frames(Problems())
    packets = packets_by_frame(root / "bikes.mp4")
    keyframes = [i for i, packet in enumerate(packets) if packet["key"]]
    start, following = keyframes[2], keyframes[3]  # bikes.mp4: frames 76 and 137
    broken = next(i for i in range(start + 1, following) if not packets[i]["disposable"])
    break_frame(root / "bikes.mp4", packets[broken])
    pixels, problems = read_piece(source, np.arange(following - 10, following + 10))
    assert set(range(following, following + 10)) <= set(pixels)  # the next group decodes from its own keyframe
    assert all(np.array_equal(image, bikes_sequential[i]) for i, image in pixels.items())
    assert len(problems) == 1 and "could not be decoded either" in str(problems[0])
