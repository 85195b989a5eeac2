"""An `Embedder` over any torch module, and the ONNX export of such a module (torch extra)."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from thresher.errors import require
from thresher.models.embedder import IMAGENET_MEAN, IMAGENET_STD, as_size, batches, l2_normalize, preprocess

# A torch.nn.Module. torch is an optional extra, imported on first use: not imported for types.
TorchModule = Any


def import_torch():
    """The torch module, or MissingDependencyError naming the `torch` extra.

    Before the first import, OpenMP threads are told to sleep rather than spin while waiting
    (unless the user set OMP_WAIT_POLICY): on a small machine with other busy processes,
    spinning threads made small convolutions about 100 times slower (measured on 2 cores).
    """
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return require("torch", "torch")


class TorchEmbedder:
    """Embeds images with a torch module mapping (N, 3, H, W) float32 to (N, dim) features.

    Images are resized to `input_size` (aspect ignored), scaled to [0, 1] and normalized with
    `mean`/`std`; the module runs in eval mode without gradients on the CPU; rows are
    L2-normalized. `module` may be a zero-argument callable building the module on first use.
    """

    def __init__(
        self,
        module: object | Callable[[], object],
        name: str,
        dim: int,
        input_size: int | tuple[int, int] = 224,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
        batch_size: int = 32,
    ) -> None:
        self._module = module
        self.name = name
        self.dim = dim
        self.input_size = as_size(input_size)
        self.mean = tuple(mean)
        self.std = tuple(std)
        self.batch_size = batch_size

    @property
    def module(self):
        """The torch module in eval mode (built on first access when given as a factory)."""
        torch = import_torch()
        if not isinstance(self._module, torch.nn.Module):
            self._module = self._module()
        return self._module.eval()

    def embed(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(N, dim) float32, unit rows; row i embeds images[i]."""
        torch = import_torch()
        module = self.module
        out = np.empty((len(images), self.dim), np.float32)
        with torch.inference_mode():
            for rows in batches(len(images), self.batch_size):
                batch = torch.from_numpy(preprocess(images[rows], self.input_size, self.mean, self.std))
                out[rows] = module(batch).reshape(rows.stop - rows.start, -1).numpy()
        return l2_normalize(out)

    def export_onnx(self, path: str | os.PathLike) -> Path:
        """Write the module as an ONNX file taking this embedder's preprocessed batch; return its path."""
        return export_onnx(self.module, path, self.input_size)


def export_onnx(module: TorchModule, path: str | os.PathLike, input_size: int | tuple[int, int]) -> Path:
    """Export a torch module to ONNX: input "images" (N, 3, H, W) float32, output "features".

    The batch dimension is dynamic. The file is written under a temporary name and renamed, so
    a reader never sees half a file. Needs torch and the `onnx` package.
    """
    torch = import_torch()
    require("onnx", "onnx")  # torch's exporter writes the file with it
    height, width = as_size(input_size)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    example = torch.zeros(1, 3, height, width)
    try:
        with warnings.catch_warnings():
            # The TorchScript exporter needs only torch (the newer one needs onnxscript) and
            # warns that it is deprecated; torch is pinned, so it is there.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module.eval(),
                (example,),
                str(tmp),
                input_names=["images"],
                output_names=["features"],
                dynamic_axes={"images": {0: "n"}, "features": {0: "n"}},
                opset_version=17,
                dynamo=False,
            )
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def features_dim(module: TorchModule, input_size: tuple[int, int]) -> int:
    """Length of the module's flattened output for one image of `input_size`."""
    torch = import_torch()
    with torch.inference_mode():
        return int(module.eval()(torch.zeros(1, 3, *input_size)).reshape(1, -1).shape[1])
