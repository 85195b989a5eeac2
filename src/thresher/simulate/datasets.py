"""Real labeled data sets that ship inside packages, for simulations that run offline.

- `digits`: scikit-learn's 1,797 handwritten digits (8x8 gray, 10 classes); features are the
  64 pixels scaled to [0, 1].
- `lfw_subset`: scikit-image's 200 LFW crops (25x25 gray): 100 faces, then 100 non-faces;
  features are the embeddings of a pretrained image embedder (`make_embedder(embedder)`,
  MobileNetV2-ImageNet by default, extra `torch`), the crops resized by the embedder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thresher.errors import ConfigError, did_you_mean, require


@dataclass(frozen=True, eq=False)
class LabeledData:
    name: str
    features: np.ndarray
    labels: np.ndarray
    images: np.ndarray | None = None


def digits() -> LabeledData:
    datasets = require("sklearn.datasets", "simulate")
    data = datasets.load_digits()
    return LabeledData("digits", data.data / 16.0, data.target.astype(np.int64), data.images)


def lfw_subset(embedder: str = "mobilenetv2-imagenet", **options: object) -> LabeledData:
    data = require("skimage.data", "simulate")
    from thresher.models.embedder import make_embedder

    gray = np.round(np.asarray(data.lfw_subset(), dtype=np.float64) * 255).astype(np.uint8)
    rgb = np.repeat(gray[..., None], 3, axis=3)
    vectors = make_embedder(embedder, **options).embed(list(rgb))
    labels = np.array(["face"] * 100 + ["non-face"] * 100)
    return LabeledData("lfw_subset", np.asarray(vectors, dtype=np.float64), labels, gray)


DATASETS = {"digits": digits, "lfw_subset": lfw_subset}


def load_dataset(name: str, **options: object) -> LabeledData:
    if name not in DATASETS:
        raise ConfigError(f"dataset: unknown {name!r}{did_you_mean(name, DATASETS)}; expected one of {sorted(DATASETS)}")
    return DATASETS[name](**options)
