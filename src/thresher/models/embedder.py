"""The `Embedder` protocol, the registry of embedders, and the preprocessing they share.

An embedder turns images into vectors: `embed(images)` takes a sequence of (H, W, 3) uint8 RGB
arrays and returns an (N, dim) float32 matrix whose rows have unit L2 norm, so the cosine
similarity of two images is the dot product of their rows. `name` identifies the model, weights
and input size: two embedders with the same name give the same vectors, so stored embeddings
can be reused across runs.

Built-in embedders are registered by name and built with `make_embedder(name, **options)`;
modules are imported only when their embedder is made, so heavy dependencies stay optional.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

from thresher.errors import ConfigError, SchemaError, did_you_mean

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@runtime_checkable
class Embedder(Protocol):
    """Anything with a `name`, a `dim` and `embed(images) -> (N, dim) float32, unit rows`."""

    @property
    def name(self) -> str: ...  # an attribute or a read-only property

    @property
    def dim(self) -> int: ...

    def embed(self, images: Sequence[np.ndarray]) -> np.ndarray: ...


# name -> "module:attribute" of a callable returning an Embedder (imported on first use).
_BUILTIN: dict[str, str] = {
    "mobilenetv2-imagenet": "thresher.models.mobilenet:MobileNetV2Embedder",
    "onnx": "thresher.models.onnx_embedder:OnnxEmbedder",
    "simclr": "thresher.models.ssl:load_simclr",
    "ssd-mobilenet-v2-coco": "thresher.models.ssd:SSDMobileNetV2",
}
_REGISTERED: dict[str, Callable[..., Embedder]] = {}


def register_embedder(name: str, factory: Callable[..., Embedder]) -> None:
    """Make `make_embedder(name, **options)` call `factory(**options)`; replaces an existing name."""
    _REGISTERED[name] = factory


def embedder_names() -> list[str]:
    """Every name `make_embedder` accepts, sorted."""
    return sorted({*_BUILTIN, *_REGISTERED})


def make_embedder(name: str, **options: object) -> Embedder:
    """Build the embedder registered as `name` with its options (see each class for them)."""
    if name in _REGISTERED:
        return _REGISTERED[name](**options)
    if name not in _BUILTIN:
        raise ConfigError(f"embedder: unknown name {name!r}{did_you_mean(name, embedder_names())}; expected one of {embedder_names()}")
    module, attribute = _BUILTIN[name].split(":")
    return getattr(importlib.import_module(module), attribute)(**options)


def embedder_file(spec: str) -> str | None:
    """The model file a spec names (`simclr:PATH` → PATH, `model.onnx` → itself), None for a name.

    >>> embedder_file("simclr:ckpt.pt"), embedder_file("model.onnx"), embedder_file("mobilenetv2-imagenet")
    ('ckpt.pt', 'model.onnx', None)
    """
    if spec.startswith("simclr:"):
        return spec.split(":", 1)[1]
    return spec if spec.endswith(".onnx") else None


def embedder_from_spec(spec: str) -> Embedder:
    """An embedder from a command-line spec: a registered name, a `.onnx` file, or `simclr:PATH`."""
    path = embedder_file(spec)
    if path is None:
        return make_embedder(spec)
    return make_embedder("simclr" if spec.startswith("simclr:") else "onnx", path=path)


def check_images(images: Sequence[np.ndarray], parameter: str = "images") -> list[np.ndarray]:
    """Validate a batch of images: (H, W, 3) uint8 RGB, or (H, W) uint8 gray (made RGB)."""
    if isinstance(images, np.ndarray) and images.ndim == 4:
        images = list(images)
    return [check_image(image, f"{parameter}[{index}]") for index, image in enumerate(images)]


def check_image(image: np.ndarray, label: str = "image") -> np.ndarray:
    """One image as (H, W, 3) uint8 RGB; a 2-d uint8 gray image is repeated into 3 channels."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise SchemaError(f"{label}: expected uint8 pixels, got dtype {image.dtype}")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise SchemaError(f"{label}: expected an (H, W, 3) RGB image, got shape {image.shape}")
    return image


def resize_rgb(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an (H, W, 3) uint8 image to `size` = (height, width), ignoring aspect (bilinear, antialiased)."""
    height, width = size
    if image.shape[:2] == (height, width):
        return image
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR))


def preprocess(
    images: Sequence[np.ndarray],
    size: tuple[int, int],
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> np.ndarray:
    """Images to a float32 (N, 3, height, width) batch: resized, scaled to [0, 1], then (x - mean) / std."""
    images = check_images(images)
    # (p / 255 - mean) / std = p * scale + shift, written channel by channel into the NCHW batch.
    scale = (1 / (255 * np.asarray(std, np.float64))).astype(np.float32)
    shift = (-np.asarray(mean, np.float64) / np.asarray(std, np.float64)).astype(np.float32)
    batch = np.empty((len(images), 3, size[0], size[1]), np.float32)
    for row, image in enumerate(images):
        resized = resize_rgb(image, size)
        for channel in range(3):
            np.multiply(resized[:, :, channel], scale[channel], out=batch[row, channel])
            batch[row, channel] += shift[channel]
    return batch


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm, as float32 (an all-zero row stays zero)."""
    vectors = np.asarray(vectors, np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1).astype(np.float32)


def as_size(value: int | Sequence[int], parameter: str = "input_size") -> tuple[int, int]:
    """An int or (height, width) as a (height, width) tuple of positive ints."""
    size = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(size) != 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in size):
        raise ConfigError(f"{parameter}: expected a positive int or (height, width), got {value!r}")
    return int(size[0]), int(size[1])


def batches(count: int, batch_size: int) -> list[slice]:
    """Consecutive slices covering range(count), each at most batch_size long."""
    if batch_size < 1:
        raise ConfigError(f"batch_size: expected a positive int, got {batch_size!r}")
    return [slice(start, min(start + batch_size, count)) for start in range(0, count, batch_size)]


def cache_dir() -> Path:
    """Folder for files thresher derives on this machine (e.g. ONNX exports); never committed.

    `THRESHER_CACHE_DIR`, else `$XDG_CACHE_HOME/thresher`, else `~/.cache/thresher`.
    """
    if os.environ.get("THRESHER_CACHE_DIR"):
        return Path(os.environ["THRESHER_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "thresher"
