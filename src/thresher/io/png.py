"""Lossless PNG of an RGB frame, fast: every row "Up"-filtered, deflated by ISA-L.

Extracting selected frames is bound by decoding and PNG encoding. Pillow picks a filter per
row (adaptive filtering) and deflates with zlib; one fixed filter computed with numpy and
deflated by Intel's ISA-L (the `isal` package, a zlib-compatible stream) encodes video frames
about 5 times faster than zlib at level 1 and smaller (bikes.mp4, 640×272: 0.7 ms and 122 KB
a frame, against 2.9 ms and 125 KB with zlib level 1 and 166 KB with Pillow). The Up filter
(each byte minus the byte above it) suits video frames, whose consecutive rows are alike.
A compression object is used rather than `isal_zlib.compress`: its `compress` releases the
GIL while ISA-L works (the one-shot function holds it), so frames encode in parallel on threads
without stalling the threads that decode. Any PNG reader gives back
the exact pixels.

Example: `Image.open(io.BytesIO(encode_png(rgb)))` → the same (H, W, 3) uint8 pixels.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
from isal import isal_zlib

ISAL_LEVEL = 2  # of ISA-L's 0-3: level 2 is as fast as 1 here, and a little smaller
SIGNATURE = b"\x89PNG\r\n\x1a\n"
_UP = 2  # PNG filter type "Up"


def encode_png(image: np.ndarray, level: int = ISAL_LEVEL) -> bytes:
    """PNG bytes of an (H, W, 3) uint8 RGB image (8 bits per channel, no interlace)."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or 0 in image.shape:
        raise ValueError(f"encode_png: expected a non-empty (H, W, 3) uint8 array, got shape {image.shape} dtype {image.dtype}")
    height, width, _ = image.shape
    rows = image.reshape(height, width * 3)
    filtered = np.empty((height, width * 3 + 1), np.uint8)
    filtered[:, 0] = _UP
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])  # modulo 256, as PNG defines it
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, truecolor RGB
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", _deflate(filtered, level)) + _chunk(b"IEND", b"")


def _deflate(data: np.ndarray, level: int) -> bytes:
    """A zlib stream of `data` (the GIL released while ISA-L compresses)."""
    compressor = isal_zlib.compressobj(level)
    return compressor.compress(data) + compressor.flush()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
