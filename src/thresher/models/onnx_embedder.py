"""Any ONNX image model as an embedder, through onnxruntime (onnx extra).

The model takes one float image batch, channels first (N, 3, H, W) or channels last
(N, H, W, 3) — read from the model's input shape — and its first output (or the one named) is
the embedding: (N, D) as is, (N, C, h, w) a feature map averaged over space, (N, T, D) tokens
averaged over T. Rows are L2-normalized.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from thresher.errors import ConfigError, DatasourceError, require
from thresher.models.embedder import IMAGENET_MEAN, IMAGENET_STD, as_size, batches, l2_normalize, preprocess

_FLOAT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64}


def pool_features(features: np.ndarray, channels_last: bool = False) -> np.ndarray:
    """(N, D) unchanged; (N, C, h, w) -> mean over h, w ((N, h, w, C) when channels_last); (N, T, D) -> mean over T."""
    if features.ndim == 2:
        return features
    if features.ndim == 4:
        return features.mean(axis=(1, 2) if channels_last else (2, 3))
    if features.ndim == 3:
        return features.mean(axis=1)
    raise ConfigError(f"OnnxEmbedder: cannot pool an output of shape {features.shape}; expected 2, 3 or 4 dimensions")


class OnnxEmbedder:
    """Embeddings from an ONNX image model file.

    path: the .onnx file. input_size: int or (height, width); default: the model's own fixed
    input size (required when the model's size is dynamic). mean / std: per-channel
    normalization of pixels scaled to [0, 1] (default ImageNet); scale=False: pixels stay 0..255
    and mean / std are in those units (mean=(0, 0, 0), std=(1, 1, 1) feeds raw pixels).
    bgr: feed channels in BGR order. output: name of the output to use (default: the first).
    name: identifies the embeddings (default: "onnx-<file stem>-<content digest>-<H>x<W>").
    The file is opened on first use.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        input_size: int | tuple[int, int] | None = None,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
        scale: bool = True,
        bgr: bool = False,
        output: str | None = None,
        batch_size: int = 32,
        name: str | None = None,
    ) -> None:
        self.path = Path(path)
        self._input_size = as_size(input_size) if input_size is not None else None
        if len(mean) != 3 or len(std) != 3 or not all(s > 0 for s in std):
            raise ConfigError(f"OnnxEmbedder: mean and std need 3 values each (std > 0), got mean={mean!r}, std={std!r}")
        self.mean, self.std, self.scale, self.bgr = tuple(mean), tuple(std), scale, bgr
        # preprocess() divides pixels by 255 first; unscaled inputs keep mean/std in 0..255 units.
        divisor = 1.0 if scale else 255.0
        self._norm = (tuple(m / divisor for m in mean), tuple(s / divisor for s in std))
        self.output = output
        self.batch_size = batch_size
        self._name = name
        self._session = None
        self._dim: int | None = None

    @property
    def session(self):
        """The onnxruntime session (opened on first access)."""
        if self._session is None:
            if not self.path.is_file():
                raise DatasourceError(f"OnnxEmbedder: model file {str(self.path)!r} not found")
            ort = require("onnxruntime", "onnx")
            options = ort.SessionOptions()
            # Waiting threads sleep instead of spinning, leaving the cores to video decoding and
            # other processes; on a shared 2-core machine this measured from 0.5x to 1.3x the
            # speed of spinning depending on the load of the moment (bench/results/embedder.md).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            try:
                session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
                raise DatasourceError(f"OnnxEmbedder: cannot load {str(self.path)!r}: {exc}") from exc
            self._check_io(session)
            self._session = session
        return self._session

    def _check_io(self, session) -> None:
        model_input = session.get_inputs()[0]
        shape = model_input.shape
        if len(shape) != 4 or not (shape[1] == 3 or shape[3] == 3):
            raise ConfigError(f"OnnxEmbedder: {self.path.name} input {model_input.name!r} has shape {shape}; expected (N, 3, H, W) or (N, H, W, 3)")
        if model_input.type not in _FLOAT_TYPES:
            raise ConfigError(f"OnnxEmbedder: {self.path.name} input type {model_input.type}; expected a float tensor")
        names = [o.name for o in session.get_outputs()]
        if self.output is not None and self.output not in names:
            raise ConfigError(f"OnnxEmbedder: output {self.output!r} not in {self.path.name}; it has {names}")
        self._channels_last = shape[1] != 3 and shape[3] == 3
        if self._input_size is None:
            height, width = (shape[1], shape[2]) if self._channels_last else (shape[2], shape[3])
            if not (isinstance(height, int) and isinstance(width, int)):
                raise ConfigError(f"OnnxEmbedder: {self.path.name} has a dynamic input size {shape}; pass input_size=")
            self._input_size = (height, width)

    @property
    def channels_last(self) -> bool:
        """Whether the model takes (N, H, W, 3) images (read from its input shape)."""
        _ = self.session  # loads the model, which sets the attribute
        return self._channels_last

    @property
    def input_size(self) -> tuple[int, int]:
        _ = self.session  # loads the model, which sets the attribute
        assert self._input_size is not None  # given, or read from the model (else ConfigError)
        return self._input_size

    @property
    def dim(self) -> int:
        """Embedding length (runs one blank image when the model's output shape is dynamic)."""
        if self._dim is None:
            shape = self.session.get_outputs()[0].shape if self.output is None else None
            if shape is not None and len(shape) == 2 and isinstance(shape[1], int):
                self._dim = shape[1]
                return self._dim
            self._dim = self._run([np.zeros((*self.input_size, 3), np.uint8)]).shape[1]
        return self._dim

    @property
    def name(self) -> str:
        if self._name is None:
            digest = hashlib.sha256(self.path.read_bytes()).hexdigest()[:12]
            height, width = self.input_size
            self._name = f"onnx-{self.path.stem}-{digest}-{height}x{width}"
        return self._name

    def embed(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """(N, dim) float32, unit rows; row i embeds images[i] ((H, W, 3) uint8 RGB)."""
        chunks = [self._run(images[rows]) for rows in batches(len(images), self.batch_size)]
        if not chunks:
            return np.zeros((0, self.dim), np.float32)
        return l2_normalize(np.concatenate(chunks))

    def _run(self, images: Sequence[np.ndarray]) -> np.ndarray:
        session = self.session
        model_input = session.get_inputs()[0]
        batch = preprocess(images, self.input_size, *self._norm)
        if self.bgr:
            batch = batch[:, ::-1]
        if self.channels_last:
            batch = batch.transpose(0, 2, 3, 1)
        batch = np.ascontiguousarray(batch, dtype=_FLOAT_TYPES[model_input.type])
        if model_input.shape[0] == 1 and len(batch) > 1:  # fixed batch of one
            outputs = [session.run([self.output] if self.output else None, {model_input.name: row[None]})[0] for row in batch]
            features = np.concatenate(outputs)
        else:
            features = session.run([self.output] if self.output else None, {model_input.name: batch})[0]
        return pool_features(np.asarray(features, np.float32), self.channels_last and features.ndim == 4).reshape(len(batch), -1)
