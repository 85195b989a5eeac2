"""Extracting frames and crops: the exact pixels, in reading order, a long video shared by threads."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import edit_list_copy, faststart_copy, read_rgb, rotated_copy
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.pixels import pixel_groups
from thresher.io.problems import Problems
from thresher.run.outputs import FRAMES_PER_PIECE, extract_frames, write_crops


@pytest.fixture
def source(tmp_path, bikes_mp4):
    root = tmp_path / "ds"
    root.mkdir()
    shutil.copyfile(bikes_mp4, root / "bikes.mp4")
    (root / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not a video")
    return Datasource(root)


def test_a_long_video_is_cut_into_pieces_that_read_the_same_pixels(source):
    frames = source.frames(Problems())
    rows = np.arange(0, 250, 3)  # 84 frames of one video
    pieces = pixel_groups(source, frames, rows, frames_per_piece=FRAMES_PER_PIECE)
    whole = pixel_groups(source, frames, rows)
    assert len(pieces) == 3 and len(whole) == 1
    cut = [item for piece in pieces for item in piece() if not isinstance(item, Problems)]
    kept = [item for item in whole[0]() if not isinstance(item, Problems)]
    assert [r for r, _ in cut] == [r for r, _ in kept] == rows.tolist()
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(cut, kept))


def test_extracted_frames_are_the_decoded_frames_in_reading_order(source, tmp_path, bikes_sequential):
    frames = source.frames(Problems())
    rows = np.arange(249, 0, -3)  # given in any order
    reports = []
    extraction = extract_frames(source, frames, rows, tmp_path / "out", progress=lambda done, total: reports.append((done, total)), threads=2)
    assert extraction.failed == [] and extraction.written == [str(frames.file_name[r]) for r in sorted(rows.tolist())]
    for row in rows.tolist():
        image = read_rgb(tmp_path / "out" / str(frames.file_name[row]))
        assert np.array_equal(image, bikes_sequential[int(frames.frame_index[row])]), row
    assert len(reports) == 3 and reports[-1] == (len(rows), len(rows))  # one report a piece of 32 frames


def test_frames_of_a_clip_with_an_edit_list_are_extracted_as_shown(tmp_path, bikes_mp4):
    import av

    root = tmp_path / "ds"
    root.mkdir()
    edit_list_copy(bikes_mp4, root / "clip.mp4", skip=25)  # ffmpeg -ss 1 -c copy
    with av.open(str(root / "clip.mp4")) as container:
        shown = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    source = Datasource(root)
    problems = Problems()
    frames = source.frames(problems)
    assert not list(problems) and len(frames) == len(shown) == 225
    assert source.video_infos.get("clip.mp4").layout is not None  # extracted without the container
    rows = np.array([0, 3, 4, 5, 120, 224])
    extract_frames(source, frames, rows, tmp_path / "out", threads=1)
    for row in rows.tolist():
        assert np.array_equal(read_rgb(tmp_path / "out" / f"clip-{row:03d}-mp4.png"), shown[row]), row


def test_frames_and_crops_of_a_rotated_phone_video_are_upright(tmp_path, bikes_mp4, bikes_sequential):
    """A display matrix turning the frames a quarter clockwise (a phone's portrait video): the
    samples are 272x640 as displayed, and the PNGs and crops are cut from the upright frames."""
    root = tmp_path / "ds"
    root.mkdir()
    rotated_copy(bikes_mp4, root / "phone.mp4", -90)
    source = Datasource(root)
    frames = source.frames(Problems())
    assert (int(frames.width[0]), int(frames.height[0])) == (272, 640)
    upright = {i: np.rot90(bikes_sequential[i], -1) for i in (3, 120)}
    extract_frames(source, frames, np.array([3, 120]), tmp_path / "out", threads=1)
    for index, pixels in upright.items():
        assert np.array_equal(read_rgb(tmp_path / "out" / f"phone-{index:03d}-mp4.png"), pixels), index
    crops = Frames.build(["c0", "c1"], kind="crop", file_name=["c0.png", "c1.png"], video=frames.video[[3, 120]], frame_index=[3, 120], parent_id=frames.id[[3, 120]])
    boxes = np.array([[0, 500, 100, 640], [200, 10, 272, 90]])  # below y = 272: only inside the upright frame
    write_crops(source, frames, crops, boxes, np.array([0, 1]), tmp_path / "crops")
    for name, index, (x1, y1, x2, y2) in zip(["c0.png", "c1.png"], [3, 120], boxes):
        assert np.array_equal(read_rgb(tmp_path / "crops" / name), upright[index][y1:y2, x1:x2]), name


def test_an_unreadable_video_is_skipped_and_the_others_written(tmp_path, bikes_mp4):
    root = tmp_path / "ds"
    root.mkdir()
    shutil.copyfile(bikes_mp4, root / "a.mp4")
    shutil.copyfile(bikes_mp4, root / "b.mp4")
    source = Datasource(root)
    frames = source.frames(Problems())
    rows = np.flatnonzero(np.isin(frames.frame_index, [5, 100]))
    (root / "a.mp4").write_bytes(b"gone")  # broken after enumerating
    extraction = extract_frames(source, frames, rows, tmp_path / "out")
    assert extraction.written == ["b-005-mp4.png", "b-100-mp4.png"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == extraction.written
    assert [(u.name, u.file) for u in extraction.failed] == [("a-005-mp4.png", "a.mp4"), ("a-100-mp4.png", "a.mp4")]  # returned, not dropped
    assert all(u.problem.startswith("expected a video whose frames all decode, got a.mp4: not a readable video") for u in extraction.failed)


def test_frames_past_the_end_of_a_video_cut_after_enumerating_come_back_with_the_reason(tmp_path, bikes_mp4, bikes_sequential):
    """A streaming-style MP4 (index first) cut in half: every frame before the cut is written,
    also those sharing a piece with frames past it; those past it come back unwritten, each
    naming the video and its frames now."""
    root = tmp_path / "ds"
    root.mkdir()
    faststart_copy(bikes_mp4, root / "bikes.mp4")
    source = Datasource(root)
    frames = source.frames(Problems())
    rows = np.arange(0, 250, 2)  # pieces of 32 frames: 0..62, 64..126 (cut after 116), 128..190, 192..248
    whole = (root / "bikes.mp4").read_bytes()
    (root / "bikes.mp4").write_bytes(whole[: len(whole) // 2])  # 117 frames are left
    extraction = extract_frames(source, frames, rows, tmp_path / "out")
    assert extraction.written == [f"bikes-{i:03d}-mp4.png" for i in range(0, 117, 2)]
    assert [u.name for u in extraction.failed] == [f"bikes-{i:03d}-mp4.png" for i in range(118, 250, 2)]
    assert {u.problem for u in extraction.failed} == {
        "expected a video whose frames all decode, got bikes.mp4: 5 frames, 118 to 126 out of range 0..116 (the video is shorter than when it was listed)"
    }
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == extraction.written  # nothing broken left behind
    for index in (64, 116):  # the piece's frames before the cut, as decoded
        assert np.array_equal(read_rgb(tmp_path / "out" / f"bikes-{index:03d}-mp4.png"), bikes_sequential[index]), index


def test_crops_of_a_frame_that_no_longer_decodes_come_back_unwritten(source, tmp_path):
    frames = source.frames(Problems())
    parents = [10, 10]
    crops = Frames.build(
        ["c0", "c1"], kind="crop", file_name=["c0.png", "c1.png"], video=frames.video[parents], frame_index=frames.frame_index[parents], parent_id=frames.id[parents]
    )
    Path(source.input.path("bikes.mp4")).unlink()  # gone from the datasource since it was listed
    extraction = write_crops(source, frames, crops, np.array([[0, 0, 20, 10], [5, 5, 30, 30]]), np.array([0, 1]), tmp_path / "crops")
    assert extraction.written == [] and not (tmp_path / "crops").exists()
    assert [(u.name, u.file) for u in extraction.failed] == [("c0.png", "bikes.mp4"), ("c1.png", "bikes.mp4")]
    assert "FileNotFoundError" in extraction.failed[0].problem


def test_crops_are_cut_from_their_frames(source, tmp_path, bikes_sequential):
    frames = source.frames(Problems())
    parent_rows = [10, 10, 200]
    crops = Frames.build(
        ["c0", "c1", "c2"],
        kind="crop",
        file_name=["c0.png", "c1.png", "c2.png"],
        video=frames.video[parent_rows],
        frame_index=frames.frame_index[parent_rows],
        parent_id=frames.id[parent_rows],
    )
    boxes = np.array([[0, 0, 20, 10], [100, 50, 130, 70], [600, 242, 640, 272]])
    extraction = write_crops(source, frames, crops, boxes, np.array([0, 1, 2]), tmp_path / "crops")
    assert sorted(extraction.written) == ["c0.png", "c1.png", "c2.png"] and extraction.failed == []
    for name, frame, (x1, y1, x2, y2) in zip(["c0.png", "c1.png", "c2.png"], [10, 10, 200], boxes):
        assert np.array_equal(read_rgb(tmp_path / "crops" / name), bikes_sequential[frame][y1:y2, x1:x2]), name


def test_videos_read_by_counting_frames_are_not_cut(source):
    names = ["a.mp4", "b.mpg", "c.AVI", "d.mkv"]
    frames = Frames.build(
        [f"{n}-{i}" for n in names for i in range(40)], kind="frame", video=[n for n in names for _ in range(40)], frame_index=[i for _ in names for i in range(40)]
    )
    pieces = pixel_groups(source, frames, np.arange(len(frames)), frames_per_piece=FRAMES_PER_PIECE)
    assert len(pieces) == 2 + 1 + 1 + 2  # .mpg and .avi whole: their frames may be counted from the start


def test_a_video_whose_index_says_frames_are_counted_is_not_cut(source):
    frames = source.frames(Problems())
    rows = np.arange(0, 250, 3)
    info = source.video_infos.get("bikes.mp4")
    assert len(pixel_groups(source, frames, rows, frames_per_piece=FRAMES_PER_PIECE)) == 3
    source.video_infos.remember("bikes.mp4", dataclasses.replace(info, pts_reliable=False))  # as an AVI with B-frames
    assert len(pixel_groups(source, frames, rows, frames_per_piece=FRAMES_PER_PIECE)) == 1
