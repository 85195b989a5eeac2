"""Perceptual hashes of images (like the `imagehash` package) and their Hamming distances.

- `phash`: grayscale, resized to (8 x 4)^2 = 32 x 32 with Lanczos, 2-D DCT-II (as
  `scipy.fftpack.dct` twice, unnormalized), the top-left 8 x 8 coefficients compared with
  their median.
- `whash` (Haar wavelet hash, imagehash's defaults): grayscale, resized to the largest power of
  two not above the shorter side, the image mean removed, the Haar low-pass band at the level
  that leaves 8 x 8 coefficients (block means) compared with its median.

A hash is a boolean (hash_size, hash_size) array; `hash_distances` gives the (N, N) numbers of
differing bits, as imagehash's `h1 - h2`. Only numpy and Pillow are used.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image

from thresher.errors import ConfigError

#: A PIL image, or an (H, W) or (H, W, C) array of pixel values (uint8, or clipped to 0..255).
ImageLike = Image.Image | ArrayLike


def _grayscale(image: ImageLike) -> Image.Image:
    if isinstance(image, Image.Image):
        return image.convert("L")
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    return Image.fromarray(array).convert("L")


def _dct_matrix(n: int) -> np.ndarray:
    """D with D @ x = scipy.fftpack.dct(x, type=2) along axis 0: 2 cos(pi k (2i + 1) / 2n)."""
    k, i = np.arange(n)[:, None], np.arange(n)[None, :]
    return 2 * np.cos(np.pi * k * (2 * i + 1) / (2 * n))


def _check_size(hash_size: int) -> None:
    if hash_size < 2:
        raise ConfigError(f"hash_size: expected at least 2, got {hash_size}")


def phash(image: ImageLike, hash_size: int = 8, highfreq_factor: int = 4) -> np.ndarray:
    """Perceptual (DCT) hash of a PIL image or an (H, W[, C]) uint8 array."""
    _check_size(hash_size)
    size = hash_size * highfreq_factor
    pixels = np.asarray(_grayscale(image).resize((size, size), Image.Resampling.LANCZOS), dtype=np.float64)
    dct = _dct_matrix(size)
    low = (dct @ pixels @ dct.T)[:hash_size, :hash_size]
    return low > np.median(low)


def whash(image: ImageLike, hash_size: int = 8) -> np.ndarray:
    """Haar wavelet hash of a PIL image or an (H, W[, C]) uint8 array (imagehash's defaults)."""
    _check_size(hash_size)
    if hash_size & (hash_size - 1):
        raise ConfigError(f"hash_size: expected a power of 2, got {hash_size}")
    gray = _grayscale(image)
    scale = max(2 ** int(np.log2(min(gray.size))), hash_size)
    pixels = np.asarray(gray.resize((scale, scale), Image.Resampling.LANCZOS), dtype=np.float64) / 255
    pixels -= pixels.mean()  # the coarsest Haar low-pass band, removed
    block = scale // hash_size
    low = pixels.reshape(hash_size, block, hash_size, block).mean(axis=(1, 3))
    return low > np.median(low)


HASHES = {"phash": phash, "whash": whash}


def image_hashes(images: Sequence[ImageLike], method: str = "phash", hash_size: int = 8) -> np.ndarray:
    """(N, hash_size ** 2) boolean hashes of N images with `method` ("phash" or "whash")."""
    if method not in HASHES:
        raise ConfigError(f"method: expected one of {sorted(HASHES)}, got {method!r}")
    return np.array([HASHES[method](image, hash_size=hash_size).reshape(-1) for image in images], dtype=bool).reshape(len(images), hash_size * hash_size)


def hash_distances(hashes: ArrayLike) -> np.ndarray:
    """(N, N) int64 Hamming distances between the rows of an (N, bits) boolean hash matrix."""
    bits = np.asarray(hashes, dtype=bool)
    bits = bits.reshape(len(bits), -1).astype(np.float32)
    differing = bits @ (1 - bits).T + (1 - bits) @ bits.T  # exact: integers below 2**24
    return np.rint(differing).astype(np.int64)
