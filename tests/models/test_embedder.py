"""The Embedder protocol, the registry and the shared preprocessing (no torch needed)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from thresher.errors import ConfigError, DatasourceError, MissingDependencyError, SchemaError
from thresher.models.embedder import (
    Embedder,
    as_size,
    batches,
    cache_dir,
    check_images,
    embedder_names,
    l2_normalize,
    make_embedder,
    preprocess,
    register_embedder,
)
from thresher.models.onnx_embedder import OnnxEmbedder, pool_features


class ConstantEmbedder:
    name = "constant"
    dim = 2

    def embed(self, images):
        return np.tile(np.float32([0.6, 0.8]), (len(images), 1))


def test_preprocess_values_by_hand():
    # One pixel (255, 0, 51): x / 255 = (1, 0, 0.2); (x - mean) / std with the ImageNet constants.
    image = np.array([[[255, 0, 51]]], np.uint8)
    batch = preprocess([image], (1, 1))
    expected = [(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (0.2 - 0.406) / 0.225]
    assert batch.shape == (1, 3, 1, 1) and batch.dtype == np.float32
    assert np.allclose(batch[0, :, 0, 0], expected, atol=1e-6)


def test_preprocess_resizes_ignoring_aspect_and_keeps_a_constant_image_constant():
    image = np.full((30, 70, 3), (10, 20, 30), np.uint8)
    batch = preprocess([image, image[:5]], (8, 16), mean=(0, 0, 0), std=(1, 1, 1))
    assert batch.shape == (2, 3, 8, 16)
    assert np.allclose(batch[:, :, 3, 5], np.array([10, 20, 30]) / 255, atol=1e-6)


def test_gray_images_become_rgb_and_a_4d_array_is_a_batch():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    (rgb,) = check_images([gray])
    assert rgb.shape == (3, 4, 3) and np.array_equal(rgb[..., 2], gray)
    assert len(check_images(np.zeros((5, 2, 2, 3), np.uint8))) == 5


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((4, 4, 3), np.float32), r"images\[1\]: expected uint8 pixels, got dtype float32"),
        (np.zeros((4, 4, 4), np.uint8), r"images\[1\]: expected an \(H, W, 3\) RGB image, got shape \(4, 4, 4\)"),
        (np.zeros((0, 4, 3), np.uint8), r"got shape \(0, 4, 3\)"),
        (np.zeros(5, np.uint8), r"got shape \(5,\)"),
    ],
)
def test_bad_images_name_the_index_and_what_came(image, message):
    with pytest.raises(SchemaError, match=message):
        check_images([np.zeros((2, 2, 3), np.uint8), image])


def test_l2_normalize_rows_and_zero_rows():
    out = l2_normalize(np.array([[3, 4], [0, 0]], np.float64))
    assert out.dtype == np.float32
    assert np.allclose(out, [[0.6, 0.8], [0, 0]])


@pytest.mark.parametrize("value, expected", [(224, (224, 224)), ((96, 128), (96, 128)), ([32, 64], (32, 64))])
def test_as_size(value, expected):
    assert as_size(value) == expected


@pytest.mark.parametrize("value", [0, -3, (1, 2, 3), (32.5, 32), "224"])
def test_as_size_rejects(value):
    with pytest.raises(ConfigError, match="input_size: expected a positive int"):
        as_size(value)


def test_batches_cover_the_range():
    assert batches(5, 2) == [slice(0, 2), slice(2, 4), slice(4, 5)]
    assert batches(0, 3) == []
    with pytest.raises(ConfigError, match="batch_size"):
        batches(3, 0)


def test_registry_names_builtins_and_suggests_on_a_miss():
    assert {"mobilenetv2-imagenet", "onnx", "simclr"} <= set(embedder_names())
    with pytest.raises(ConfigError, match="unknown name 'mobilenetv2' \\(did you mean \"mobilenetv2-imagenet\"\\?\\)"):
        make_embedder("mobilenetv2")


def test_registered_factory_is_called_with_options():
    register_embedder("test-constant", lambda **options: ConstantEmbedder())
    embedder = make_embedder("test-constant")
    assert isinstance(embedder, Embedder)
    assert embedder.embed([np.zeros((2, 2, 3), np.uint8)]).shape == (1, 2)


def test_builtin_onnx_is_made_lazily(tmp_path):
    # Nothing is opened until used: a missing file is only reported then.
    embedder = make_embedder("onnx", path=tmp_path / "missing.onnx", input_size=64)
    assert isinstance(embedder, OnnxEmbedder)
    with pytest.raises(DatasourceError, match="missing.onnx' not found"):
        embedder.embed([np.zeros((2, 2, 3), np.uint8)])


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("THRESHER_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("THRESHER_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x" / "thresher"


@pytest.mark.parametrize(
    "shape, channels_last, expected_shape",
    [((2, 5), False, (2, 5)), ((2, 5, 3, 4), False, (2, 5)), ((2, 3, 4, 5), True, (2, 5)), ((2, 7, 5), False, (2, 5))],
)
def test_pool_features_shapes(shape, channels_last, expected_shape):
    features = np.random.default_rng(0).random(shape)
    assert pool_features(features, channels_last).shape == expected_shape


def test_pool_features_averages_space():
    features = np.arange(2 * 2 * 2 * 2, dtype=np.float32).reshape(2, 2, 2, 2)  # (N, C, h, w)
    assert np.allclose(pool_features(features), [[1.5, 5.5], [9.5, 13.5]])
    with pytest.raises(ConfigError, match="cannot pool an output of shape"):
        pool_features(np.zeros((1, 1, 1, 1, 1)))


def test_missing_torch_names_the_extra(monkeypatch):
    from thresher.models.mobilenet import MobileNetV2Embedder

    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(MissingDependencyError, match=r'pip install "thresher\[torch\]"'):
        MobileNetV2Embedder(backend="torch").embed([np.zeros((32, 32, 3), np.uint8)])


def test_missing_onnxruntime_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    (tmp_path / "m.onnx").write_bytes(b"not read")
    with pytest.raises(MissingDependencyError, match=r'pip install "thresher\[onnx\]"'):
        OnnxEmbedder(tmp_path / "m.onnx", input_size=32).embed([np.zeros((32, 32, 3), np.uint8)])
