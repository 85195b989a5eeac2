"""Where each compressed frame of an MP4/MOV H.264 video lies in its file, so that frames are
decoded with no demuxer: read the packet's bytes at its offset, hand them to a decoder.

Opening a container costs more than it seems: FFmpeg probes the streams and decodes the
first keyframe to learn the pixel format (1.6 ms for bikes.mp4, a sixth of the work of
extracting one random frame), and every packet then goes through the demuxer. The enumeration
already demuxes each video once; it records here each packet's byte offset, size and
timestamps (decode order) and what the decoder needs to start (the avcC extradata, the colour
description and the reordering depth the container gives). A reader then opens the file like
any other and decodes the same packets with the same parameters: the same pixels, about 10 %
less CPU per extracted frame.

Recorded only where the bytes at `offset` are the packet exactly: MP4/MOV (a sample is stored
whole, in one piece), H.264 in avcC form (length-prefixed NAL units), every packet with a known
offset and timestamps, no two with the same pts; and the first packet's bytes were read back
from the file and compared. Everything else is read through the container. The packets an edit
list trims are recorded too (the shown frames refer to them): decoded here, they come out of
the decoder under their own pts, which no shown frame has, and the reader passes over them.

Example: `layout.packet(file, 0)` → the keyframe's bytes; `layout.decoder()` → a fresh decoder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any, BinaryIO

import numpy as np

CODECS = ("h264",)


@dataclass(frozen=True, eq=False)
class PacketLayout:
    """The packets of one video stream in decode order, and its decoder's starting parameters.

    `offset`, `size` (bytes), `pts` and `dts` (stream time base) hold one int64 per packet.
    `colour` is (color_range, colorspace, color_primaries, color_trc) as FFmpeg numbers them.
    """

    codec: str
    extradata: bytes
    time_base: tuple[int, int]  # (numerator, denominator) of seconds per tick
    colour: tuple[int, int, int, int]
    reorder_depth: int  # frames the decoder holds back to put B-frames in order
    offset: np.ndarray = field(repr=False)
    size: np.ndarray = field(repr=False)
    pts: np.ndarray = field(repr=False)
    dts: np.ndarray = field(repr=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PacketLayout):
            return NotImplemented
        same = (self.codec, self.extradata, self.time_base, self.colour, self.reorder_depth) == (other.codec, other.extradata, other.time_base, other.colour, other.reorder_depth)
        return same and all(np.array_equal(getattr(self, k), getattr(other, k)) for k in ("offset", "size", "pts", "dts"))

    __hash__ = None  # type: ignore[assignment]  # mutable arrays inside

    def __len__(self) -> int:
        return len(self.offset)

    def packet(self, file: BinaryIO, index: int) -> bytes:
        """The bytes of packet `index` (decode order) read from the open video `file`."""
        data = os.pread(file.fileno(), int(self.size[index]), int(self.offset[index]))
        if len(data) != self.size[index]:
            raise OSError(f"packet {index}: {len(data)} of {int(self.size[index])} bytes read (the file is shorter than its index)")
        return data

    def fits(self, file: BinaryIO) -> bool:
        """Whether the open video `file` still holds this layout's packets where it says: its
        first and last packets read as whole length-prefixed NAL units. A video replaced by
        another of the same size and modification time (which the index's checks cannot see)
        fails this, almost surely, and is then read through the container."""
        size = (self.extradata[4] & 3) + 1
        try:
            return all(_whole_units(self.packet(file, i), size) for i in {0, len(self) - 1})
        except OSError:
            return False

    def decoder(self) -> Any:
        """A new decoder for this stream, set up as the container would set it up."""
        import av

        context: Any = av.CodecContext.create(self.codec, "r")
        context.extradata = self.extradata
        context.color_range, context.colorspace, context.color_primaries, context.color_trc = self.colour
        context.reorder_depth = self.reorder_depth
        return context

    def av_packet(self, data: bytes, index: int) -> Any:
        """An `av.Packet` of `data` stamped with packet `index`'s timestamps."""
        import av

        packet = av.Packet(data)
        packet.pts, packet.dts = int(self.pts[index]), int(self.dts[index])
        packet.time_base = self._time_base
        return packet

    @cached_property
    def _time_base(self) -> Fraction:
        return Fraction(*self.time_base)


def layout_possible(container: Any, stream: Any, source: Any) -> bool:
    """Whether a layout may be recorded for `stream`: a local MP4/MOV file (`source` is its
    path, a `str`) holding H.264 in avcC form (length-prefixed NAL units)."""
    codec = stream.codec_context
    extradata = bytes(codec.extradata or b"")
    avcc = len(extradata) >= 5 and extradata[0] == 1
    return container.format.name.startswith("mov") and codec.name in CODECS and avcc and isinstance(source, str)


def record_layout(stream: Any, packets: list[tuple[int, int, int, int]], first: bytes, path: str) -> PacketLayout | None:
    """The layout of `stream` from its demuxed `packets` ((offset, size, pts, dts) in decode
    order, every packet of the stream, the edit list's discarded ones included) whose first
    one's bytes are `first`, or None when the file at `path` does not hold them where their
    offsets say, or two packets share a pts (a frame would not be told from another by it).
    """
    codec = stream.codec_context
    if not packets:
        return None
    table = np.array(packets, dtype=np.int64).reshape(-1, 4)
    if (table[:, 0] < 0).any() or (table[:, 1] <= 0).any() or len(np.unique(table[:, 2])) != len(table):
        return None
    layout = PacketLayout(
        codec=codec.name,
        extradata=bytes(codec.extradata),
        time_base=(stream.time_base.numerator, stream.time_base.denominator),
        colour=(codec.color_range, codec.colorspace, codec.color_primaries, codec.color_trc),
        reorder_depth=int(codec.reorder_depth),
        offset=table[:, 0],
        size=table[:, 1],
        pts=table[:, 2],
        dts=table[:, 3],
    )
    try:
        with open(path, "rb") as file:
            return layout if layout.packet(file, 0) == first else None
    except OSError:
        return None


def _whole_units(data: bytes, size: int) -> bool:
    """Whether `data` is a sequence of NAL units, each prefixed by its `size`-byte length."""
    at = 0
    while at + size <= len(data):
        length = int.from_bytes(data[at : at + size], "big")
        if length == 0:
            return False
        at += size + length
    return at == len(data) and len(data) > 0
