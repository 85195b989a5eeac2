"""Still images: size after EXIF rotation, pixels, and a decode check that catches truncation.

Sizes are reported after EXIF orientation (a portrait phone photo stored landscape is portrait),
because boxes from detectors that read through OpenCV or Ultralytics are in that frame.
Decoding refuses images above `MAX_PIXELS` (a tiny PNG can claim 200 megapixels).
16-bit images become 8-bit by keeping each value's high byte (`value >> 8`, the rule Pillow
applies to 16-bit RGB PNGs); 32-bit floating-point images (Pillow mode `F`) are refused, their
values having no agreed range.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from thresher.errors import DatasourceError

MAX_PIXELS = 120_000_000
ORIENTATION_TAG = 0x0112
_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height
SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})  # "I": 32-bit integers, read as 16-bit
FLOAT_MODE = "F"


class _PillowLimit:
    """Pillow's decompression-bomb limit (`Image.MAX_IMAGE_PIXELS`, 89.5 megapixels by default)
    raised to `MAX_PIXELS` only while thresher opens images.

    Threads count themselves in and out under a lock: the first one in raises the limit, the last
    one out puts back the value it found, so that Pillow's limit is unchanged for the rest of the
    program. A limit already above `MAX_PIXELS`, or none, is left as it is.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved: int | None = None

    @contextmanager
    def raised(self) -> Iterator[None]:
        """Within this block Pillow accepts images of up to `MAX_PIXELS` pixels."""
        with self._lock:
            if self._users == 0:
                self._saved = Image.MAX_IMAGE_PIXELS
                if self._saved is not None and self._saved < MAX_PIXELS:
                    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    Image.MAX_IMAGE_PIXELS = self._saved


_PILLOW_LIMIT = _PillowLimit()


def _bomb_message(name: str, exc: Exception) -> str:
    """The refusal of an image above `MAX_PIXELS`, with its pixel count when Pillow gave it."""
    found = re.search(r"\((\d+) pixels\)", str(exc))
    size = f" of {int(found.group(1))} pixels" if found else ""
    return f"{name}: image{size} exceeds the limit of {MAX_PIXELS} pixels (a guard against decompression bombs)"


def _open(source: bytes | BinaryIO, name: str) -> Image.Image:
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with warnings.catch_warnings(), _PILLOW_LIMIT.raised():
            warnings.simplefilter("ignore", UserWarning)  # e.g. "Corrupt EXIF data": the decode check reports what matters
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(stream)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise DatasourceError(_bomb_message(name, exc)) from exc
    except UnidentifiedImageError as exc:  # its text holds the repr of the file object, not the name
        raise DatasourceError(f"{name}: {_unidentified(stream)}") from exc
    except OSError as exc:
        raise DatasourceError(f"{name}: an unreadable image header ({exc})") from exc
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise DatasourceError(f"{name}: image of {width}x{height} pixels exceeds the limit of {MAX_PIXELS} pixels")
    if image.mode == FLOAT_MODE:
        image.close()
        raise DatasourceError(f"{name}: 32-bit floating-point pixels (Pillow mode F) have no agreed range to scale to 8 bits; save the image as 8- or 16-bit integers")
    return image


def _unidentified(stream: BinaryIO) -> str:
    """Why Pillow identified no image in `stream`: an empty file, the reason of the format whose
    signature it carries (Pillow's own error says only "cannot identify"), or its first bytes.

    >>> _unidentified(io.BytesIO(b""))
    'an empty file (0 bytes)'
    >>> _unidentified(io.BytesIO(b"hello, world"))
    "no image format Pillow reads (12 bytes, beginning b'hello, w')"
    """
    try:
        size = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        prefix = stream.read(16)
    except (OSError, ValueError):
        return "no image format Pillow reads"
    if size == 0:
        return "an empty file (0 bytes)"
    Image.init()
    for kind, (factory, accept) in Image.OPEN.items():
        if accept is not None and accept(prefix) is True:
            try:
                stream.seek(0)
                with warnings.catch_warnings():  # "Corrupt EXIF data" and the like: the exception is the reason
                    warnings.simplefilter("ignore", UserWarning)
                    factory(stream, "").close()
            except Exception as exc:  # noqa: BLE001 - any reason the format's reader gives is the answer
                return f"a {kind} signature, but Pillow's {kind} reader fails ({exc})"
    return f"no image format Pillow reads ({size} bytes, beginning {prefix[:8]!r})"


def _orientation(image: Image.Image) -> int:
    try:
        with warnings.catch_warnings():  # "Corrupt EXIF data": the orientation is then 1
            warnings.simplefilter("ignore", UserWarning)
            return int(image.getexif().get(ORIENTATION_TAG, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block means no rotation
        return 1


def image_size(source: bytes | BinaryIO, name: str = "image") -> tuple[int, int]:
    """(width, height) in pixels after EXIF rotation, read from the header only."""
    with _open(source, name) as image:
        width, height = image.size
        return (height, width) if _orientation(image) in _ROTATED else (width, height)


def check_image(source: bytes | BinaryIO, name: str = "image") -> None:
    """Decode every pixel; raise DatasourceError for corrupt or truncated files."""
    with _open(source, name) as image:
        try:
            with warnings.catch_warnings():  # Pillow's UserWarnings (corrupt EXIF): the error below is what counts
                warnings.simplefilter("ignore", UserWarning)
                image.load()
        except (OSError, SyntaxError, ValueError) as exc:
            raise DatasourceError(f"{name}: corrupt image, decoding failed ({exc})") from exc


def to_rgb8(image: Image.Image) -> np.ndarray:
    """A decoded image's pixels as a (height, width, 3) uint8 RGB array.

    16-bit grayscale (Pillow modes `I;16*`, and `I`, clipped to 0-65535) keeps each value's high
    byte, as Pillow does for 16-bit RGB: 65535 → 255, 257·k → k. Pillow's own conversion would
    clip those values to 255, a white frame.

    >>> to_rgb8(Image.fromarray(np.array([[0, 257, 32896, 65535]], np.uint16)))[0, :, 0].tolist()
    [0, 1, 128, 255]
    """
    if image.mode in SIXTEEN_BIT_MODES:
        values = np.clip(np.asarray(image), 0, 65535).astype(np.uint16)
        gray = (values >> 8).astype(np.uint8)
        return np.repeat(gray[:, :, np.newaxis], 3, axis=2)
    return np.asarray(image.convert("RGB"))


def load_rgb(source: bytes | BinaryIO, name: str = "image") -> np.ndarray:
    """Pixels as a (height, width, 3) uint8 RGB array, EXIF rotation applied (16-bit: see `to_rgb8`)."""
    with _open(source, name) as image:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                image.load()
                rotated = ImageOps.exif_transpose(image)
            return to_rgb8(rotated)
        except (OSError, SyntaxError, ValueError) as exc:
            raise DatasourceError(f"{name}: corrupt image, decoding failed ({exc})") from exc
