"""OnnxEmbedder on small ONNX models written for the test (torch builds them, onnxruntime runs them)."""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pytest

from thresher.errors import ConfigError, DatasourceError
from thresher.models.embedder import Embedder
from thresher.models.onnx_embedder import OnnxEmbedder

pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("torch", "onnx", "onnxruntime")),
    reason='building test models needs torch and onnx, running them onnxruntime: pip install "thresher[torch,onnx]"',
)

RED_ISH = (255, 0, 51)  # one color, so every preprocessed pixel is the same: values by hand


def write_model(path, forward, shape, dynamic_axes=None):
    """Export a function of one tensor as an ONNX file with input "images" of `shape`."""
    from thresher.models.torch_embedder import import_torch

    torch = import_torch()

    class Model(torch.nn.Module):
        def forward(self, x):
            return forward(x)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Model(), (torch.zeros(shape),), str(path), input_names=["images"], output_names=["features"], dynamic_axes=dynamic_axes, opset_version=17, dynamo=False)
    return path


@pytest.fixture(scope="module")
def mean_color(tmp_path_factory):
    """(N, 3, 8, 8) -> (N, 3): the mean of each channel."""
    path = tmp_path_factory.mktemp("onnx") / "mean_color.onnx"
    return write_model(path, lambda x: x.mean(dim=(2, 3)), (1, 3, 8, 8), {"images": {0: "n"}})


def unit(vector):
    vector = np.asarray(vector, np.float64)
    return vector / np.linalg.norm(vector)


def solid(color, height=5, width=9):
    return np.full((height, width, 3), color, np.uint8)


def test_normalization_by_hand(mean_color):
    embedder = OnnxEmbedder(mean_color)
    vectors = embedder.embed([solid(RED_ISH)])
    # ImageNet normalization of (1, 0, 0.2), then unit length.
    expected = unit([(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (0.2 - 0.406) / 0.225])
    assert isinstance(embedder, Embedder)
    assert embedder.input_size == (8, 8) and embedder.dim == 3
    assert vectors.dtype == np.float32 and np.allclose(vectors[0], expected, atol=1e-5)


def test_raw_pixels_and_bgr_order(mean_color):
    raw = OnnxEmbedder(mean_color, mean=(0, 0, 0), std=(1, 1, 1), scale=False)
    assert np.allclose(raw.embed([solid(RED_ISH)])[0], unit(RED_ISH), atol=1e-6)
    bgr = OnnxEmbedder(mean_color, mean=(0, 0, 0), std=(1, 1, 1), scale=False, bgr=True)
    assert np.allclose(bgr.embed([solid(RED_ISH)])[0], unit(RED_ISH[::-1]), atol=1e-6)


def test_name_carries_file_digest_and_size(mean_color, tmp_path):
    name = OnnxEmbedder(mean_color).name
    assert name.startswith("onnx-mean_color-") and name.endswith("-8x8")
    copy = tmp_path / "mean_color.onnx"
    copy.write_bytes(mean_color.read_bytes())
    assert OnnxEmbedder(copy).name == name  # same content, same name
    assert OnnxEmbedder(mean_color, name="mine").name == "mine"


def test_feature_map_output_is_averaged_over_space(tmp_path):
    from thresher.models.torch_embedder import import_torch

    torch = import_torch()
    weights = torch.arange(1.0, 19.0).reshape(2, 3, 3, 1) / 10  # a fixed 2-channel 3x1 convolution
    path = write_model(tmp_path / "fmap.onnx", lambda x: torch.nn.functional.conv2d(x, weights), (1, 3, 16, 16), {"images": {0: "n"}})
    images = [np.random.default_rng(seed).integers(0, 256, (20, 30, 3), dtype=np.uint8) for seed in range(3)]
    vectors = OnnxEmbedder(path).embed(images)
    from thresher.models.embedder import preprocess

    expected = torch.nn.functional.conv2d(torch.from_numpy(preprocess(images, (16, 16))), weights).mean(dim=(2, 3)).numpy()
    assert vectors.shape == (3, 2)
    assert np.allclose(vectors, expected / np.linalg.norm(expected, axis=1, keepdims=True), atol=1e-5)


def test_channels_last_input(tmp_path):
    path = write_model(tmp_path / "nhwc.onnx", lambda x: x.mean(dim=(1, 2)), (1, 6, 6, 3), {"images": {0: "n"}})
    embedder = OnnxEmbedder(path, mean=(0, 0, 0), std=(1, 1, 1))
    assert embedder.channels_last and embedder.input_size == (6, 6)
    assert np.allclose(embedder.embed([solid(RED_ISH)])[0], unit(RED_ISH), atol=1e-6)


def test_a_model_with_a_fixed_batch_of_one_runs_image_by_image(tmp_path):
    path = write_model(tmp_path / "batch1.onnx", lambda x: x.mean(dim=(2, 3)), (1, 3, 4, 4))
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    vectors = OnnxEmbedder(path, mean=(0, 0, 0), std=(1, 1, 1)).embed([solid(c) for c in colors])
    assert np.allclose(vectors, np.eye(3), atol=1e-6)


def test_dynamic_input_size_needs_input_size(tmp_path):
    path = write_model(tmp_path / "dynamic.onnx", lambda x: x.mean(dim=(2, 3)), (1, 3, 8, 8), {"images": {0: "n", 2: "h", 3: "w"}})
    with pytest.raises(ConfigError, match=r"dynamic input size .*; pass input_size="):
        OnnxEmbedder(path).embed([solid(RED_ISH)])
    assert OnnxEmbedder(path, input_size=(12, 20)).embed([solid(RED_ISH)]).shape == (1, 3)


def test_bad_files_and_options(mean_color, tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not a protobuf")
    with pytest.raises(DatasourceError, match="cannot load .*broken.onnx"):
        OnnxEmbedder(broken).embed([solid(RED_ISH)])
    with pytest.raises(ConfigError, match=r"output 'logits' not in mean_color.onnx; it has \['features'\]"):
        OnnxEmbedder(mean_color, output="logits").embed([solid(RED_ISH)])
    with pytest.raises(ConfigError, match="mean and std need 3 values"):
        OnnxEmbedder(mean_color, std=(1, 0, 1))
    path = write_model(tmp_path / "gray.onnx", lambda x: x.mean(dim=(2, 3)), (1, 1, 8, 8))
    with pytest.raises(ConfigError, match=r"expected \(N, 3, H, W\) or \(N, H, W, 3\)"):
        OnnxEmbedder(path).embed([solid(RED_ISH)])


def test_empty_input(mean_color):
    assert OnnxEmbedder(mean_color).embed([]).shape == (0, 3)
