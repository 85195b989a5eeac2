"""Videos through PyAV: exact frame counts, frame-accurate access by index, truncation checks.

One demux pass (no decoding, ~10 µs a packet) gives the presentation timestamp of every frame:
their sorted list maps a frame index to its pts, whatever the container, B-frames or variable
frame rate. Frame i is read by seeking to the last keyframe at or before its pts and decoding
forward to it; when a seek overshoots (MPEG-TS), the reader steps back one keyframe.
Wanted frames are read in ascending order with one forward decode (`VideoReader.frames`), and
the frames no other frame refers to are not decoded on the way (half of bikes.mp4's frames);
when the next wanted frame needs a seek, the decoder is drained right after the wanted frame's
packet instead of being fed more packets to push it out (1–2 frames fewer a pick). A reader
probes the video on the container it then reads (one open a video); given an index with a
packet layout (local MP4/MOV H.264, `packet_layout`), it opens no container at all and decodes
the bytes it reads at the packets' offsets.
A truncated file can still claim its full length in its header and decode part of its frames
without error, so `check_video` compares packets with the header and decodes the last frame.

Frames are numbered as a player shows them. An MP4/MOV edit list (`ffmpeg -ss 1 -c copy`, or any
"cut a clip" tool, starting between keyframes) makes the demuxer flag the packets before the
clip's start as discarded: they are decoded, as the shown frames refer to them, but are no
frames of the video. The index counts the shown frames only (PyAV and FFmpeg decode 225 frames of
bikes.mp4 cut at 1 s, its header counts 250 packets) and keeps the discarded keyframes to seek to.

Frames are given upright, as a player shows them. A phone stores a portrait video as landscape
frames with a display matrix (MP4/MOV `tkhd`) saying to turn them a quarter; FFmpeg's players and
OpenCV's `VideoCapture` (`CAP_PROP_ORIENTATION_AUTO`, on by default but in 4.11) apply it, so a
detector's boxes on such a video are in upright coordinates. The index records the turn
(`VideoInfo.rotation`, read from the first keyframe the demux pass decodes) and the displayed
size; the reader turns every frame it decodes, whichever way it reads (`thresher.io.rotation`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from thresher.errors import DatasourceError, require
from thresher.io.packet_layout import PacketLayout, layout_possible, record_layout
from thresher.io.rotation import display_rotation, upright
from thresher.io.storage import Location


def _av() -> Any:
    return require("av", "video")


@dataclass(frozen=True)
class VideoInfo:
    """What one demux pass tells about a video's first video stream."""

    n_frames: int
    width: int  # as displayed: the stored frames' height when `rotation` is 90 or 270
    height: int
    fps: float
    header_frames: int  # what the container claims (0 = unknown)
    container: str
    pts: tuple[int, ...]  # presentation timestamp of each frame, in stream time base
    keyframes: tuple[tuple[int, int], ...]  # (pts, seek timestamp) of keyframes, sorted
    # the seek timestamp is the pts in MP4/MOV and the dts elsewhere (MPEG-TS seeks by dts,
    # so seeking to a keyframe's pts there lands on the next keyframe)
    pts_reliable: bool  # False: frames are found by counting in decode order
    corrupt_packets: int = 0  # packets the demuxer flagged as cut short
    discarded_packets: int = 0  # packets decoded but not shown (trimmed by an MP4/MOV edit list)
    header_seconds: float | None = None  # the video's duration as the container's header states it
    time_base: float = 0.0  # seconds per pts tick
    layout: PacketLayout | None = None  # where each packet lies in the file (MP4/MOV H.264), to read with no demuxer
    rotation: int = 0  # degrees counterclockwise a player turns the stored frames: 0, 90, 180 or 270


def _source(location: Location, name: str) -> Any:
    local = location.local_path(name)
    return local if local is not None else location.open(name)


def describe_av_error(exc: Exception) -> str:
    """`InvalidDataError: Invalid data found when processing input`: an FFmpeg error's kind and
    message, without its errno and the file name FFmpeg appends (`'<none>'` for a bucket's file
    object; the caller names the file).

    >>> describe_av_error(OSError(2, "No such file", "<none>"))
    'FileNotFoundError: No such file'
    """
    message = getattr(exc, "strerror", None) or str(exc)
    return f"{type(exc).__name__}: {message}"


def _open(location: Location, name: str) -> Any:
    av = _av()
    try:
        container = av.open(_source(location, name))
    except (av.FFmpegError, OSError) as exc:
        raise DatasourceError(f"{name}: not a readable video ({describe_av_error(exc)})") from exc
    if not container.streams.video:
        container.close()
        raise DatasourceError(f"{name}: no video stream in the file")
    return container


def video_info(location: Location, name: str) -> VideoInfo:
    """Frame count, size and the index → pts map of a video, from one demux pass."""
    container = _open(location, name)
    try:
        return _probe(container, name, location.local_path(name))
    finally:
        container.close()


def _probe(container: Any, name: str, path: str | None = None) -> VideoInfo:
    """`video_info` of an open container (left at its end); `path`: the video's local path,
    if any (then the packets' layout is recorded where the container allows)."""
    av = _av()
    try:
        stream = container.streams.video[0]
        if container.format.name.endswith("_pipe") or container.format.name == "image2":
            raise DatasourceError(f"{name}: a still image ({container.format.name}), not a video")
        by_pts = container.format.name.startswith("mov")  # MP4/MOV seek by pts, others by dts
        rows: list | None = [] if layout_possible(container, stream, path) else None
        pts, keys, increasing, corrupt, discarded, first, rotation = _demux(container, stream, by_pts, rows)
        invented = container.format.name == "avi" and stream.codec_context.has_b_frames and increasing
        # MPEG-PS: after a seek, its parser stamps the keyframe with the next frame's pts (with
        # B-frames, reader[57] came out as frame 54 under frame 57's pts), so frames are counted
        program_stream = container.format.name == "mpeg"
        reliable = None not in pts and len(set(pts)) == len(pts) and not invented and not program_stream
        rate = stream.average_rate or stream.guessed_rate or 0
        width, height = stream.codec_context.width, stream.codec_context.height
        info = VideoInfo(
            n_frames=len(pts),
            width=height if rotation in (90, 270) else width,
            height=width if rotation in (90, 270) else height,
            fps=float(rate),
            header_frames=stream.frames,
            container=container.format.name,
            pts=tuple(sorted(t for t in pts if t is not None)) if reliable else tuple(range(len(pts))),  # reliable: no None
            # keyframes with pts None (a raw H.264 stream) sort when all are None (equal tuples);
            # a stream mixing None and numbers would raise TypeError here: not seen, not handled
            keyframes=tuple(sorted(keys)),  # type: ignore[arg-type]
            pts_reliable=reliable,
            corrupt_packets=corrupt,
            discarded_packets=discarded,
            header_seconds=_header_seconds(container, stream),
            time_base=float(stream.time_base or 0),
            layout=record_layout(stream, rows, first, path) if rows is not None and path is not None and reliable else None,
            rotation=rotation,
        )
    except av.FFmpegError as exc:
        raise DatasourceError(f"{name}: the video cannot be read to its end ({describe_av_error(exc)})") from exc
    if info.n_frames == 0:
        raise DatasourceError(f"{name}: the video has no frames")
    return info


def _header_seconds(container: Any, stream: Any) -> float | None:
    """The duration the header states: Matroska's per-stream tag, else the stream's, else None.

    MP4/MOV are checked by their frame count instead; MPEG-TS has no such header.
    """
    tag = stream.metadata.get("DURATION")  # "00:00:10.000000000" in Matroska/WebM
    if tag:
        hours, minutes, seconds = tag.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    if container.format.name.startswith("matroska") and container.duration:
        return container.duration / 1e6
    return None


def _demux(container: Any, stream: Any, by_pts: bool, rows: list | None) -> tuple[list[int | None], list[tuple[int | None, int | None]], bool, int, int, bytes, int]:
    """Each shown packet's pts, the keyframes (discarded ones included: a seek may need them),
    whether pts increase in decode order, the corrupt and the discarded packets, with `rows`
    (a list) each packet's (offset, size, pts, dts) appended to it, discarded ones included, and
    the first packet's bytes (`rows` is emptied when a packet is unstamped or has no offset),
    and the `display_rotation` of the first shown keyframe that decodes (0 if none does)."""
    pts: list[int | None] = []
    keys: list[tuple[int | None, int | None]] = []
    increasing, corrupt, discarded, first = True, 0, 0, b""
    rotation: int | None = None
    for packet in container.demux(stream):
        if packet.size == 0:
            continue  # the flush packet at the end
        if rows is not None:
            if packet.pos is None or packet.pts is None or packet.dts is None:
                rows.clear()  # not where an offset says, or no timestamps to find it by: no layout
                rows = None
            else:
                first = first or bytes(packet)
                rows.append((packet.pos, packet.size, packet.pts, packet.dts))
        t = packet.pts if packet.pts is not None else packet.dts
        if packet.is_keyframe:
            by_dts = not by_pts and packet.dts is not None and t is not None
            keys.append((t, min(t, packet.dts) if by_dts else t))
        if packet.is_discard:
            discarded += 1  # decoded for the frames that refer to it, never shown
            continue
        if rotation is None and packet.is_keyframe:
            rotation = display_rotation(stream, packet)
        corrupt += packet.is_corrupt
        if pts and (t is None or pts[-1] is None or t <= pts[-1]):
            increasing = False
        pts.append(t)
    return pts, keys, increasing, corrupt, discarded, first if rows else b"", rotation or 0


def check_video(location: Location, name: str, info: VideoInfo | None = None) -> VideoInfo:
    """Raise DatasourceError unless the video decodes to its last frame.

    Checks that the container's frame count matches its packets (MP4/MOV) and decodes the
    last group of pictures up to the last frame. `info`: the video's index when already read.
    """
    info = info or video_info(location, name)
    check_video_index(name, info)
    last = _last_decoded_pts(location, name, info)
    if info.pts_reliable and last != info.pts[-1]:
        raise DatasourceError(f"{name}: truncated video: decoding stops before the last frame")
    return info


def check_video_index(name: str, info: VideoInfo) -> None:
    """Raise DatasourceError when the video's index shows it cut short, with no read: an MP4/MOV
    header counting other frames than the packets (shown and discarded: the header counts the
    samples stored, an edit list says which are shown), packets the demuxer flagged as cut short,
    or a header duration the frames do not cover (`validate --quick` checks this much)."""
    packets = info.n_frames + info.discarded_packets
    if info.container.startswith("mov") and info.header_frames > 0 and packets != info.header_frames:
        raise DatasourceError(f"{name}: truncated video: the header says {info.header_frames} frames, the file holds {packets}")
    if info.corrupt_packets:
        raise DatasourceError(f"{name}: truncated video: {info.corrupt_packets} packet(s) cut short")
    covered = _seconds_covered(info)
    if info.header_seconds and covered is not None and abs(info.header_seconds - covered) > 1.5 * covered / info.n_frames:
        raise DatasourceError(f"{name}: truncated video: the header says {info.header_seconds:.3f} s, the frames cover {covered:.3f} s")


def _seconds_covered(info: VideoInfo) -> float | None:
    if not info.pts_reliable or info.n_frames < 2 or not info.time_base:
        return None
    step = float(np.median(np.diff(info.pts)))
    return (info.pts[-1] - info.pts[0] + step) * info.time_base


def _last_decoded_pts(location: Location, name: str, info: VideoInfo) -> int | None:
    av = _av()
    container = _open(location, name)
    try:
        stream = container.streams.video[0]
        if info.keyframes:
            container.seek(_last_keyframe(info)[1], stream=stream, backward=True)
        last = None
        for frame in container.decode(stream):
            if frame.is_corrupt:
                raise DatasourceError(f"{name}: truncated video: frame at pts {frame.pts} decodes corrupt")
            last = frame.pts
        return last
    except av.FFmpegError as exc:
        raise DatasourceError(f"{name}: corrupt video, decoding the last frames failed ({type(exc).__name__})") from exc
    finally:
        container.close()


def _last_keyframe(info: VideoInfo) -> tuple[int | None, int | None]:
    """The keyframe the last shown frame is decoded from: the last at or before its pts (an edit
    list may leave discarded keyframes after it), else the last one."""
    if not info.pts_reliable:
        return info.keyframes[-1]
    at = bisect.bisect_right([k[0] for k in info.keyframes], info.pts[-1]) - 1
    return info.keyframes[max(at, 0)]


class VideoReader:
    """Frames of one video by index: `reader[i]` is an (H, W, 3) uint8 RGB array, upright (as a
    player shows it: `VideoInfo.rotation`), and `reader.frames(indices)` yields the frames of
    ascending `indices`, decoding forward once.

    Reading forward never seeks within reach: the reader seeks to the keyframe before a wanted
    frame only when that keyframe lies more than `SEEK_GAP` frames past the last frame read
    (or behind it). While it decodes towards a wanted frame, it does not decode the frames
    that no other frame refers to (`disposable_packets`). Use as a context manager.
    """

    def __init__(self, location: Location, name: str, info: VideoInfo | None = None):
        self.name = name
        path = location.local_path(name)
        # a known packet layout: the file is read directly, no container is opened (`packet_layout`)
        self._layout = info.layout if info is not None and path is not None else None
        self._file: Any = None
        self._container: Any = None
        if self._layout is not None:
            try:
                self._file = open(path, "rb")  # type: ignore[arg-type]  # noqa: SIM115  # path is set with a layout; closed by close()
            except OSError as exc:
                raise DatasourceError(f"{name}: not a readable video ({describe_av_error(exc)})") from exc
            if not self._layout.fits(self._file):  # replaced under the same size and time: the index is stale
                self._file.close()
                self._file, self._layout, info = None, None, None
        if self._layout is None:
            self._container = _open(location, name)
        try:
            self.info = info or _probe(self._container, name)  # the first read seeks back
        except DatasourceError:
            self._container.close()
            raise
        self._key_pts = [k[0] for k in self.info.keyframes]
        # frame index of each keyframe (a keyframe whose pts is not a frame's maps to the frame after it)
        # (only with reliable pts: without, a keyframe's pts may be None and frames are counted)
        self._key_index = [bisect.bisect_left(self.info.pts, t) for t in self._key_pts] if self.info.pts_reliable else []
        if self._layout is not None:
            self._context = self._layout.decoder()
            seeks = {k[1] for k in self.info.keyframes}
            self._packet_at = {t: i for i, t in enumerate(self._layout.pts.tolist()) if t in seeks}  # seek timestamp → packet
            self._disposable: Callable[[Any], bool] | None = h264_disposable_test(self._layout.extradata)
        else:
            self._stream = self._container.streams.video[0]
            self._context = self._stream.codec_context
            self._disposable = disposable_packets(self._stream)
        self._decoder: Any = None
        self._wanted: set = set()  # pts of the frames the current `frames()` call reads
        self._drain_at: int | None = None  # pts of the packet after which the decoder is drained
        # one RGB converter for every frame (a frame's own `to_ndarray` builds a new one each time,
        # holding the GIL while it does: two reading threads then reach only 1.6 cores, not 1.8)
        self._rgb = _av().video.reformatter.VideoReformatter()
        self._position = -1  # index of the frame the running decoder gave last
        self._ended_before = False  # the last `_scan` ran out of frames before its target
        self._end: int | None = None  # a pts the stream was found to end before (a file cut since indexed)

    def __len__(self) -> int:
        return self.info.n_frames

    def __enter__(self) -> "VideoReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._container is not None:
            self._container.close()

    def __getitem__(self, index: int) -> np.ndarray:
        return next(iter(self.frames([index])))

    def frames(self, indices: Sequence[int]) -> Iterator[np.ndarray]:
        """RGB arrays of `indices` (ascending, each in range), in that order.

        Example: `[f.shape for f in reader.frames([0, 100, 101])]` → three (272, 640, 3).
        """
        indices = [int(i) for i in indices]
        for i in indices:
            if not 0 <= i < self.info.n_frames:
                raise IndexError(f"{self.name}: frame {i} out of range 0..{self.info.n_frames - 1}")
        if any(b < a for a, b in zip(indices, indices[1:])):
            raise ValueError(f"{self.name}: frames(): indices must ascend")
        self._wanted = {self.info.pts[i] for i in indices} if self.info.pts_reliable else set()
        av = _av()
        for index, following in zip(indices, [*indices[1:], None]):
            try:
                if self.info.pts_reliable:
                    self._drain_at = self.info.pts[index] if self._seeks_after(index, following) else None
                    frame = self._frame(index)
                else:
                    frame = self._frame_by_count(index)
            except DatasourceError:
                raise  # the reader's own words (an OSError too)
            except (av.FFmpegError, OSError) as exc:  # e.g. a raw H.264 stream, which cannot seek
                raise DatasourceError(f"{self.name}: frame {index} could not be read ({describe_av_error(exc)})") from exc
            yield upright(self._rgb.reformat(frame, format="rgb24").to_ndarray(), self.info.rotation)

    def _frame(self, index: int) -> Any:
        target = self.info.pts[index]
        if self._end is not None and target >= self._end:
            raise self._undecodable(index)
        if self._decoder is not None and index > self._position and self._within_reach(index):
            frame = self._scan(target)
            if frame is not None:
                self._position = index
                return frame
        key = max(bisect.bisect_right(self._key_pts, target) - 1, 0)
        skip = True
        while key >= 0:
            self._seek(self.info.keyframes[key][1] if self._key_pts else 0, skip)
            frame = self._scan(target)
            if frame is not None:
                self._position = index
                return frame
            if skip:
                skip = False  # decode every frame this time (a decoder that needs them)
            elif self._ended_before:  # the stream ends before the frame (cut since it was indexed)
                self._end = target  # an earlier keyframe reaches no further, nor will a later frame
                break
            else:
                key -= 1  # the seek overshot the target: step back one keyframe
        raise self._undecodable(index)

    def _undecodable(self, index: int) -> DatasourceError:
        past = self._end is not None and self.info.pts[index] >= self._end
        return DatasourceError(f"{self.name}: frame {index} could not be decoded{' (the video ends before it)' if past else ''}")

    def _within_reach(self, index: int, position: int | None = None) -> bool:
        """Decoding on from `position` (default: the last frame read) to `index` costs less than
        seeking: the keyframe before `index` is at most SEEK_GAP frames ahead."""
        key = bisect.bisect_right(self._key_pts, self.info.pts[index]) - 1
        return key < 0 or self._key_index[key] - (self._position if position is None else position) <= SEEK_GAP

    def _seeks_after(self, index: int, following: int | None) -> bool:
        """Whether reading `following` after `index` will seek (or nothing follows): then the
        packets after `index`'s need not be decoded to get `index` out of the decoder."""
        return following is None or not self._within_reach(following, position=index)

    def _seek(self, timestamp: int, skip: bool) -> None:
        if self._layout is not None:
            self._context.flush_buffers()  # also ends a draining of `_read`
            self._decoder = self._read(self._packet_at.get(timestamp, 0), skip)
            return
        self._container.seek(timestamp, stream=self._stream, backward=True, any_frame=False)
        self._stream.codec_context.flush_buffers()  # ends a draining of `_decode` (PyAV's seek flushes too, today)
        self._decoder = self._decode(skip)

    def _read(self, start: int, skip: bool) -> Iterator[Any]:
        """`_decode` without the container: packets `start`, `start + 1`, … read from the file
        at the offsets of the video's `PacketLayout`, the decoder drained at the end."""
        layout = self._layout
        assert layout is not None
        disposable = self._disposable if skip else None
        for index in range(start, len(layout)):
            data = layout.packet(self._file, index)
            pts = int(layout.pts[index])
            if disposable is not None and pts not in self._wanted and disposable(data):
                continue
            yield from self._context.decode(layout.av_packet(data, index))
            if pts == self._drain_at:
                break
        yield from self._context.decode(None)

    def _decode(self, skip: bool) -> Iterator[Any]:
        """Decoded frames from the current demux position; with `skip`, the packets of disposable
        frames that the current `frames()` call does not want (by pts) are left out. After the
        packet whose pts is `_drain_at`, the decoder is drained (it gives back the frames it holds
        for reordering, that packet's included) instead of being fed the packets that follow."""
        disposable = self._disposable if skip else None
        for packet in self._container.demux(self._stream):
            if disposable is not None and packet.size and packet.pts not in self._wanted and disposable(packet):
                continue
            yield from packet.decode()
            if packet.size and packet.pts is not None and packet.pts == self._drain_at:
                yield from self._stream.decode(None)
                return

    def _scan(self, target: int) -> Any:
        """The decoded frame at pts `target`, or None; then `_ended_before` tells whether the
        decoder gave frames and ran out before reaching `target` (rather than passing it)."""
        self._ended_before, seen = False, False
        for frame in self._decoder:
            if frame.pts == target:
                return frame
            if frame.pts is not None and frame.pts > target:
                break
            seen = True
        else:
            self._ended_before = seen
        self._decoder = None
        return None

    def _frame_by_count(self, index: int) -> Any:
        """Containers without trustworthy pts: decode from the start, counting frames."""
        if self._decoder is None or index <= self._position:
            self._container.seek(0)
            self._decoder = self._container.decode(self._stream)
            self._position = -1
        for frame in self._decoder:
            self._position += 1
            if self._position == index:
                return frame
        raise DatasourceError(f"{self.name}: frame {index} could not be decoded")


SEEK_GAP = 4  # frames decoded on rather than seeking (a seek flushes the decoder's few frames of delay)


def disposable_packets(stream: Any) -> Callable[[Any], bool] | None:
    """A test telling whether a packet holds a frame no other frame refers to, or None.

    H.264: every coded slice of the packet has nal_ref_idc 0 (read from the NAL headers, length
    prefixed as in MP4/MKV, or with start codes as in MPEG-TS). Other codecs: the demuxer's
    disposable flag. Leaving such packets out changes no other decoded frame.
    """
    codec = stream.codec_context
    if codec.name != "h264":
        return lambda packet: bool(packet.is_disposable)
    test = h264_disposable_test(codec.extradata or b"")
    return lambda packet: test(bytes(packet))


def h264_disposable_test(extradata: bytes) -> Callable[[bytes], bool]:
    """A test telling whether an H.264 packet's bytes hold a frame no other frame refers to,
    for a stream whose decoder extradata is `extradata` (avcC: length-prefixed NAL units;
    otherwise Annex B start codes)."""
    if len(extradata) >= 5 and extradata[0] == 1:  # avcC: NAL units prefixed by their length
        size = (extradata[4] & 3) + 1
        return lambda data: _h264_disposable(_length_prefixed(data, size))
    return lambda data: _h264_disposable(_start_coded(data))


def _h264_disposable(headers: Iterator[int]) -> bool:
    slices = [h for h in headers if 1 <= h & 0x1F <= 5]
    return bool(slices) and all(h & 0x60 == 0 for h in slices)


def _length_prefixed(data: bytes, size: int) -> Iterator[int]:
    """The header byte of each NAL unit of length-prefixed data."""
    at = 0
    while at + size < len(data):
        length = int.from_bytes(data[at : at + size], "big")
        yield data[at + size]
        at += size + length


def _start_coded(data: bytes) -> Iterator[int]:
    """The header byte of each NAL unit after a 00 00 01 start code."""
    at = data.find(b"\x00\x00\x01")
    while at >= 0 and at + 3 < len(data):
        yield data[at + 3]
        at = data.find(b"\x00\x00\x01", at + 3)
