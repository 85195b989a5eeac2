import dataclasses
import random
import shutil

import av
import numpy as np
import pytest

from tests.conftest import edit_list_copy, faststart_copy, rotated_copy
from thresher import DatasourceError
from thresher.io.storage import Location
from thresher.io.video import VideoReader, check_video, video_info


@pytest.fixture
def bikes_location(tmp_path, bikes_mp4):
    shutil.copyfile(bikes_mp4, tmp_path / "bikes.mp4")
    return Location(tmp_path)


def test_video_info_counts_every_frame(bikes_location):
    info = video_info(bikes_location, "bikes.mp4")
    assert (info.n_frames, info.width, info.height, info.fps) == (250, 640, 272, 25.0)
    assert info.pts_reliable and list(info.pts) == sorted(info.pts)


def test_random_access_is_frame_accurate(bikes_location, bikes_sequential):
    order = list(range(250))
    random.Random(0).shuffle(order)
    with VideoReader(bikes_location, "bikes.mp4") as reader:
        for index in order[:80] + [0, 249, 248, 1]:
            assert np.array_equal(reader[index], bikes_sequential[index]), index


def test_sequential_access_matches_decoding(bikes_location, bikes_sequential):
    with VideoReader(bikes_location, "bikes.mp4") as reader:
        assert all(np.array_equal(reader[i], bikes_sequential[i]) for i in range(0, 250, 3))
        with pytest.raises(IndexError, match="frame 250 out of range 0..249"):
            reader[250]


@pytest.mark.parametrize("container", ["mkv", "ts"])
def test_other_containers_are_frame_accurate(tmp_path, bikes_mp4, bikes_sequential, container):
    target = tmp_path / f"bikes.{container}"
    with av.open(str(bikes_mp4)) as src, av.open(str(target), "w") as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                dst.mux(packet)
    location = Location(tmp_path)
    assert video_info(location, target.name).n_frames == 250
    with VideoReader(location, target.name) as reader:
        for index in (200, 17, 120, 121, 5, 249):
            assert np.array_equal(reader[index], bikes_sequential[index]), index


def test_truncated_faststart_video_is_caught(tmp_path, bikes_mp4):
    faststart_copy(bikes_mp4, tmp_path / "fast.mp4")
    location = Location(tmp_path)
    assert check_video(location, "fast.mp4").n_frames == 250
    data = (tmp_path / "fast.mp4").read_bytes()
    (tmp_path / "fast.mp4").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasourceError, match="truncated video: the header says 250 frames"):
        check_video(location, "fast.mp4")


def decode_all(path) -> list[np.ndarray]:
    """Every frame PyAV shows, decoded in order."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def test_a_clip_cut_between_keyframes_is_numbered_as_a_player_shows_it(tmp_path, bikes_mp4, bikes_sequential):
    edit_list_copy(bikes_mp4, tmp_path / "clip.mp4", skip=25)  # ffmpeg -ss 1 -c copy: an edit list
    shown = decode_all(tmp_path / "clip.mp4")
    assert len(shown) == 225 and all(np.array_equal(a, b) for a, b in zip(shown, bikes_sequential[25:]))
    location = Location(tmp_path)
    info = check_video(location, "clip.mp4")  # valid, not "truncated"
    assert (info.n_frames, info.header_frames, info.discarded_packets) == (225, 250, 25)
    assert info.layout is not None and len(info.layout) == 250  # the discarded packets are decoded too
    for given in (None, dataclasses.replace(info, layout=None), info):  # probed, through the container, from the layout
        with VideoReader(location, "clip.mp4", given) as reader:
            assert all(np.array_equal(a, b) for a, b in zip(reader.frames(range(225)), shown, strict=True))
            for index in (0, 224, 4, 5, 100, 1):
                assert np.array_equal(reader[index], shown[index]), (given, index)


def test_a_truncated_clip_with_an_edit_list_is_caught(tmp_path, bikes_mp4):
    edit_list_copy(bikes_mp4, tmp_path / "clip.mp4", skip=25, faststart=True)
    location = Location(tmp_path)
    assert check_video(location, "clip.mp4").n_frames == 225
    data = (tmp_path / "clip.mp4").read_bytes()
    (tmp_path / "clip.mp4").write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(DatasourceError, match="truncated video: the header says 250 frames"):
        check_video(location, "clip.mp4")


@pytest.mark.parametrize(("degrees", "turns"), [(90, 1), (180, 2), (-90, 3)])
def test_a_rotated_phone_video_is_read_upright(tmp_path, bikes_mp4, bikes_sequential, degrees, turns):
    """A display matrix turning the stored 640x272 frames `degrees` counterclockwise: every read
    path gives np.rot90(stored, turns), the size as displayed, as OpenCV's VideoCapture shows it."""
    rotated_copy(bikes_mp4, tmp_path / "phone.mp4", degrees)
    location = Location(tmp_path)
    info = check_video(location, "phone.mp4")
    assert info.rotation == 90 * turns and info.layout is not None
    assert (info.width, info.height) == ((272, 640) if turns % 2 else (640, 272))
    picks = [0, 1, 30, 31, 120, 249]
    for given in (None, dataclasses.replace(info, layout=None), info):  # probed, through the container, from the layout
        with VideoReader(location, "phone.mp4", given) as reader:
            got = list(reader.frames(picks))
            assert np.array_equal(reader[7], np.rot90(bikes_sequential[7], turns))
        assert all(np.array_equal(a, np.rot90(bikes_sequential[i], turns)) for a, i in zip(got, picks, strict=True)), given
        assert all(a.flags.c_contiguous for a in got)
    cv2 = pytest.importorskip("cv2")
    capture = cv2.VideoCapture(str(tmp_path / "phone.mp4"))
    capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)  # the default but in OpenCV 4.11
    shown = [capture.read()[1][:, :, ::-1] for _ in range(2)]
    capture.release()
    assert np.array_equal(shown[0], got[0]) and np.array_equal(shown[1], got[1])


def test_a_rotated_clip_with_an_edit_list_is_upright(tmp_path, bikes_mp4, bikes_sequential):
    """The rotation is read from the first shown keyframe (the first keyframe decodes to a frame
    the decoder drops)."""
    edit_list_copy(bikes_mp4, tmp_path / "clip.mp4", skip=25)
    rotated_copy(tmp_path / "clip.mp4", tmp_path / "phone.mp4", -90)
    info = check_video(Location(tmp_path), "phone.mp4")
    assert (info.n_frames, info.rotation, info.width, info.height) == (225, 270, 272, 640)
    with VideoReader(Location(tmp_path), "phone.mp4", info) as reader:
        assert np.array_equal(reader[0], np.rot90(bikes_sequential[25], 3))


def test_not_a_video(tmp_path):
    (tmp_path / "x.mp4").write_bytes(b"garbage" * 100)
    with pytest.raises(DatasourceError, match="x.mp4: not a readable video"):
        video_info(Location(tmp_path), "x.mp4")


def remux(source, target):
    with av.open(str(source)) as src, av.open(str(target), "w") as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                dst.mux(packet)


@pytest.mark.parametrize("container", ["mkv", "mp4"])
def test_truncated_files_of_other_containers_are_caught(tmp_path, bikes_mp4, container):
    target = tmp_path / f"bikes.{container}"
    faststart_copy(bikes_mp4, target) if container == "mp4" else remux(bikes_mp4, target)
    location = Location(tmp_path)
    check_video(location, target.name)  # the intact file passes
    data = target.read_bytes()
    target.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(DatasourceError, match="truncated video|not a readable video"):
        check_video(location, target.name)


def test_a_reader_with_the_index_of_a_file_cut_since_gives_the_frames_left_and_learns_where_it_ends(tmp_path, bikes_mp4, bikes_sequential, monkeypatch):
    """A Matroska file cut after it was indexed simply ends: the frames before the cut come,
    the first frame past it fails once, and every later one fails at once, with no seek back
    through the keyframes (each of which would decode to the cut again)."""
    remux(bikes_mp4, tmp_path / "bikes.mkv")
    location = Location(tmp_path)
    info = video_info(location, "bikes.mkv")
    data = (tmp_path / "bikes.mkv").read_bytes()
    (tmp_path / "bikes.mkv").write_bytes(data[: len(data) // 2])  # 117 frames are left
    with VideoReader(location, "bikes.mkv", info) as reader:
        assert np.array_equal(next(reader.frames([116])), bikes_sequential[116])
        with pytest.raises(DatasourceError, match=r"^bikes.mkv: frame 118 could not be decoded \(the video ends before it\)$"):
            list(reader.frames([118]))
        seeks: list[int] = []
        original_seek = reader._seek
        monkeypatch.setattr(reader, "_seek", lambda t, skip: (seeks.append(t), original_seek(t, skip)))
        for index in (120, 200, 249):
            with pytest.raises(DatasourceError, match=rf"^bikes.mkv: frame {index} could not be decoded \(the video ends before it\)$"):
                list(reader.frames([index]))
        assert seeks == []
        assert np.array_equal(next(reader.frames([100])), bikes_sequential[100])  # before the cut: still read


def test_a_still_image_named_mp4_is_not_a_video(tmp_path):
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "x.png")
    (tmp_path / "x.png").rename(tmp_path / "x.mp4")
    with pytest.raises(DatasourceError, match="not a video|not a readable video"):
        video_info(Location(tmp_path), "x.mp4")


@pytest.mark.parametrize("container", ["mp4", "mkv", "ts"])
def test_frames_in_ascending_order_match_decoding_every_frame(tmp_path, bikes_mp4, bikes_sequential, container):
    """Random sets of wanted frames, sparse to dense, in every container: the exact pixels."""
    target = tmp_path / f"bikes.{container}"
    shutil.copyfile(bikes_mp4, target) if container == "mp4" else remux(bikes_mp4, target)
    location = Location(tmp_path)
    rng = random.Random(1)
    for size in (1, 2, 3, 7, 20, 60, 250):
        wanted = sorted(rng.sample(range(250), size))
        with VideoReader(location, target.name) as reader:
            got = list(reader.frames(wanted))
        assert len(got) == size and all(np.array_equal(g, bikes_sequential[i]) for g, i in zip(got, wanted)), (container, size)


def test_frames_skip_the_frames_no_other_refers_to_and_seek_once_per_group(bikes_location, bikes_sequential, monkeypatch):
    decoded, seeks = [], []
    with VideoReader(bikes_location, "bikes.mp4") as reader:
        original_decode, original_seek = reader._decode, reader._seek

        def counting_decode(skip):
            for frame in original_decode(skip):
                decoded.append(frame.pts)
                yield frame

        monkeypatch.setattr(reader, "_decode", counting_decode)
        monkeypatch.setattr(reader, "_seek", lambda t, skip: (seeks.append(t), original_seek(t, skip)))
        wanted = [40, 41, 120, 200]
        assert all(np.array_equal(g, bikes_sequential[i]) for g, i in zip(reader.frames(wanted), wanted))
    pts, keys = reader.info.pts, [k for k, _ in reader.info.keyframes]
    key_of = {i: max(k for k in keys if k <= pts[i]) for i in wanted}
    assert len(seeks) == len(set(key_of.values()))  # one seek per group of pictures holding wanted frames
    last_of = {key: max(i for i in wanted if key_of[i] == key) for key in key_of.values()}
    every = sum(last - pts.index(key) + 1 for key, last in last_of.items())  # frames from each keyframe to the last wanted
    assert len(decoded) < 0.8 * every  # bikes.mp4: 46 % of its frames are referred to by no other frame


def test_disposable_packets_of_h264(bikes_mp4):
    from thresher.io.video import disposable_packets

    with av.open(str(bikes_mp4)) as container:
        stream = container.streams.video[0]
        test = disposable_packets(stream)
        flags = [(test(p), p.is_keyframe) for p in container.demux(stream) if p.size]
    assert sum(d for d, _ in flags) == 115 and not any(d and key for d, key in flags)


def test_frames_checks_its_indices(bikes_location):
    with VideoReader(bikes_location, "bikes.mp4") as reader:
        with pytest.raises(IndexError, match="frame 250 out of range"):
            list(reader.frames([3, 250]))
        with pytest.raises(ValueError, match="must ascend"):
            list(reader.frames([5, 3]))


class _RecordingContainer:
    """A container that remembers the pts of every packet demuxed from it."""

    def __init__(self, container):
        self._container, self.demuxed = container, []

    def __getattr__(self, name):
        return getattr(self._container, name)

    def demux(self, *args, **kwargs):
        for packet in self._container.demux(*args, **kwargs):
            self.demuxed.append(packet.pts)
            yield packet


def test_no_packet_after_a_wanted_frame_is_decoded_when_the_next_one_needs_a_seek(bikes_location, bikes_sequential):
    """The decoder gives back the frames it holds for reordering (drained) instead of being fed
    the packets after the wanted one; frames read on within the same group are not drained."""
    for wanted in ([120], [3], [40, 41, 200], [100, 101, 103]):
        with VideoReader(bikes_location, "bikes.mp4") as reader:
            recording = reader._container = _RecordingContainer(reader._container)
            got = list(reader.frames(wanted))
            assert all(np.array_equal(g, bikes_sequential[i]) for g, i in zip(got, wanted)), wanted
            assert recording.demuxed[-1] == reader.info.pts[wanted[-1]], wanted  # nothing demuxed after the last wanted


def test_a_reader_probes_its_own_container_once(bikes_location, monkeypatch):
    import thresher.io.video as video

    opened = []
    original = video._open
    monkeypatch.setattr(video, "_open", lambda location, name: (opened.append(name), original(location, name))[1])
    with VideoReader(bikes_location, "bikes.mp4") as reader:
        assert reader.info.n_frames == 250 and reader[249].shape == (272, 640, 3)
    assert opened == ["bikes.mp4"]


@pytest.mark.parametrize(("codec", "extension"), [("libx265", "mp4"), ("libvpx-vp9", "webm"), ("mpeg4", "avi"), ("libsvtav1", "mkv"), ("mpeg2video", "ts")])
def test_other_codecs_are_frame_accurate(tmp_path, bikes_sequential, codec, extension):
    """HEVC, VP9, MPEG-4 Part 2 and MPEG-2 with B-frames, AV1: wanted frames read forward (the
    decoder drained and flushed between groups) are the frames of a plain decode."""
    path = tmp_path / f"bikes.{extension}"
    try:
        with av.open(str(path), "w") as out:
            stream = out.add_stream(codec, rate=25)
            stream.width, stream.height, stream.pix_fmt = 640, 272, "yuv420p"
            stream.codec_context.gop_size = 24
            if codec in ("mpeg4", "mpeg2video"):
                stream.codec_context.max_b_frames = 2
            for pixels in bikes_sequential[:72]:
                out.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
            out.mux(stream.encode())
    except (av.FFmpegError, ValueError) as exc:  # an FFmpeg build without this encoder
        pytest.skip(f"{codec}: no encoder in this FFmpeg build ({exc})")
    with av.open(str(path)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    rng = random.Random(2)
    for size in (1, 3, 9, 30):
        wanted = sorted(rng.sample(range(len(decoded)), size))
        with VideoReader(Location(tmp_path), path.name) as reader:
            got = list(reader.frames(wanted))
        assert all(np.array_equal(g, decoded[i]) for g, i in zip(got, wanted)), (codec, size)


def _encode_with_b_frames(path, codec, muxer, frames):
    with av.open(str(path), "w", format=muxer) as out:
        stream = out.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = 640, 272, "yuv420p"
        stream.codec_context.gop_size = 24
        stream.codec_context.max_b_frames = 2
        for pixels in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        out.mux(stream.encode())


@pytest.mark.parametrize("codec", ["mpeg2video", "mpeg1video"])
def test_program_streams_are_frame_accurate(tmp_path, bikes_sequential, codec):
    """MPEG-PS with B-frames: after a seek its parser stamps the keyframe with the pts of the
    frame after it (reader[57] came out as frame 54), so its frames are counted instead."""
    path = tmp_path / "bikes.mpg"
    try:
        _encode_with_b_frames(path, codec, "mpeg", bikes_sequential[:72])
    except (av.FFmpegError, ValueError) as exc:  # an FFmpeg build without this encoder
        pytest.skip(f"{codec}: no encoder in this FFmpeg build ({exc})")
    with av.open(str(path)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    location = Location(tmp_path)
    with VideoReader(location, path.name) as reader:
        assert len(reader) == len(decoded) == 72 and not reader.info.pts_reliable
        for index in (57, 33, 60, 71, 0, 30):
            assert np.array_equal(reader[index], decoded[index]), index
    with VideoReader(location, path.name) as reader:
        wanted = [21, 33, 57, 58]
        assert all(np.array_equal(g, decoded[i]) for g, i in zip(reader.frames(wanted), wanted))


def test_a_raw_h264_stream_is_a_readable_error_not_a_crash(tmp_path, bikes_sequential):
    """A raw H.264 stream has no timestamps and cannot seek: reading it raises DatasourceError
    (recorded as a problem by iter_pixels), not a TypeError or PyAV's own error."""
    try:
        _encode_with_b_frames(tmp_path / "bikes.h264", "libx264", "h264", bikes_sequential[:30])
    except (av.FFmpegError, ValueError) as exc:
        pytest.skip(f"libx264: no encoder in this FFmpeg build ({exc})")
    with VideoReader(Location(tmp_path), "bikes.h264") as reader:
        assert not reader.info.pts_reliable
        with pytest.raises(DatasourceError, match="bikes.h264: frame 3 could not be read"):
            reader[3]
