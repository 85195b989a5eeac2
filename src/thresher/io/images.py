"""Still images: size after EXIF rotation, pixels, and a decode check that catches truncation.

Sizes are reported after EXIF orientation (a portrait phone photo stored landscape is portrait),
because boxes from detectors that read through OpenCV or Ultralytics are in that frame.
Decoding refuses images above `MAX_PIXELS` (a tiny PNG can claim 200 megapixels).
"""

from __future__ import annotations

import io
import warnings
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from thresher.errors import DatasourceError

MAX_PIXELS = 120_000_000
ORIENTATION_TAG = 0x0112
_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height


def _open(source: bytes | BinaryIO, name: str) -> Image.Image:
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # e.g. "Corrupt EXIF data": the decode check reports what matters
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(stream)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise DatasourceError(f"{name}: image exceeds the limit of {MAX_PIXELS} pixels ({exc})") from exc
    except UnidentifiedImageError as exc:  # its text holds the repr of the file object, not the name
        raise DatasourceError(f"{name}: not a readable image (Pillow cannot identify its format)") from exc
    except OSError as exc:
        raise DatasourceError(f"{name}: not a readable image ({exc})") from exc
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise DatasourceError(f"{name}: image of {width}x{height} pixels exceeds the limit of {MAX_PIXELS} pixels")
    return image


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


def load_rgb(source: bytes | BinaryIO, name: str = "image") -> np.ndarray:
    """Pixels as a (height, width, 3) uint8 RGB array, EXIF rotation applied."""
    with _open(source, name) as image:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                image.load()
                rotated = ImageOps.exif_transpose(image)
            return np.asarray(rotated.convert("RGB"))
        except (OSError, SyntaxError, ValueError) as exc:
            raise DatasourceError(f"{name}: corrupt image, decoding failed ({exc})") from exc
