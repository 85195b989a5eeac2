"""SimCLR augmentations in torch: each step checked on inputs whose result is known by hand."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from thresher.models.ssl_config import CollateConfig

pytestmark = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason='torch not installed: pip install "thresher[torch]"')

# Every random step off: views are the whole image resized, then normalized.
NOTHING = {"cj_prob": 0, "random_gray_scale": 0, "gaussian_blur": 0, "hf_prob": 0, "vf_prob": 0, "rr_prob": 0, "min_scale": 1}


@pytest.fixture(scope="module")
def torch():
    from thresher.models.torch_embedder import import_torch

    return import_torch()


def generator(torch, seed=0):
    return torch.Generator().manual_seed(seed)


def rgb(torch, *colors):
    """(B, 3, 2, 2) batch, image i filled with colors[i] (values in [0, 1])."""
    return torch.tensor(colors, dtype=torch.float32).view(len(colors), 3, 1, 1).expand(len(colors), 3, 2, 2).clone()


@pytest.mark.parametrize(
    "shift, expected",
    [(1 / 3, (0, 1, 0)), (-1 / 3, (0, 0, 1)), (2 / 3, (0, 0, 1)), (1 / 6, (1, 1, 0)), (0.5, (0, 1, 1))],
)
def test_hue_shift_of_pure_red(torch, shift, expected):
    from thresher.models.ssl_augment import shift_hue

    out = shift_hue(rgb(torch, (1, 0, 0)), torch.tensor([shift]))
    assert torch.allclose(out[0, :, 0, 0], torch.tensor(expected, dtype=torch.float32), atol=1e-6)


def test_zero_hue_shift_keeps_colors_and_gray_has_no_hue(torch):
    from thresher.models.ssl_augment import shift_hue

    colors = torch.rand(6, 3, 4, 4, generator=generator(torch))
    assert torch.allclose(shift_hue(colors, torch.zeros(6)), colors, atol=1e-6)
    gray = rgb(torch, (0.4, 0.4, 0.4))
    assert torch.allclose(shift_hue(gray, torch.tensor([0.3])), gray)


def test_gray_is_luma(torch):
    from thresher.models.ssl_augment import gray

    assert gray(rgb(torch, (1, 0, 0), (0, 1, 0), (0, 0, 1)))[:, 0, 0, 0].tolist() == pytest.approx([0.299, 0.587, 0.114])


def test_color_jitter_with_zero_strength_is_identity(torch):
    from thresher.models.ssl_augment import color_jitter

    collate = CollateConfig(cj_bright=0, cj_contrast=0, cj_sat=0, cj_hue=0)
    images = torch.rand(4, 3, 8, 8, generator=generator(torch))
    assert torch.allclose(color_jitter(images, collate, generator(torch)), images, atol=1e-6)


def test_blur_keeps_a_constant_image_and_spreads_an_impulse_symmetrically(torch):
    from thresher.models.ssl_augment import gaussian_blur

    collate = CollateConfig(input_size=32, kernel_size=0.2, gaussian_blur=1)
    constant = torch.full((2, 3, 32, 32), 0.25)
    assert torch.allclose(gaussian_blur(constant, collate, generator(torch)), constant, atol=1e-6)
    impulse = torch.zeros(1, 3, 32, 32)
    impulse[:, :, 16, 16] = 1
    blurred = gaussian_blur(impulse, collate, generator(torch))[0, 0]
    assert float(blurred.sum()) == pytest.approx(1, abs=1e-5)  # kernel fits inside: nothing lost at the border
    assert torch.allclose(blurred, blurred.flip(0).roll(1, 0)) and blurred[16, 16] == blurred.max()
    off = CollateConfig(input_size=32, gaussian_blur=0)
    assert torch.equal(gaussian_blur(impulse, off, generator(torch)), impulse)


def test_rotation_by_90_degrees_counter_clockwise(torch):
    from thresher.models.ssl_augment import random_rotation

    image = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).expand(1, 3, 2, 2)
    rotated = random_rotation(image, 1.0, None, generator(torch))
    assert rotated[0, 0].tolist() == [[2.0, 4.0], [1.0, 3.0]]
    assert torch.equal(random_rotation(image, 0.0, None, generator(torch)), image)


def test_whole_image_crop_and_flips(torch):
    from thresher.models.ssl_augment import random_resized_crop, random_views

    image = np.zeros((16, 16, 3), np.uint8)
    image[:, :8] = 255  # left half white
    whole = random_resized_crop(image, 8, 1.0, generator(torch))
    # Antialiased halving: the two columns at the edge mix both halves, symmetrically.
    assert whole.shape == (3, 8, 8) and whole[:, :, :3].min() == 1 and whole[:, :, 5:].max() == 0
    assert torch.allclose(whole[:, :, 3] + whole[:, :, 4], torch.ones(3, 8))
    view = random_views([image], CollateConfig(input_size=8, **{**NOTHING, "hf_prob": 1}), generator(torch))
    assert view[0, 0, :, :3].max() < 0 < view[0, 0, :, 5:].min()  # white moved to the right half


def test_views_shape_range_and_determinism(torch):
    from thresher.models.ssl_augment import random_views

    images = [np.random.default_rng(seed).integers(0, 256, (40 + seed, 30, 3), dtype=np.uint8) for seed in range(5)]
    collate = CollateConfig(input_size=24, rr_prob=0.5, rr_degrees=(-20, 20), vf_prob=0.5)
    views = random_views(images, collate, generator(torch, 7))
    assert views.shape == (5, 3, 24, 24) and views.dtype == torch.float32 and torch.isfinite(views).all()
    # Normalized pixels of [0, 1] images lie within (0 - mean) / std and (1 - mean) / std.
    assert float(views.min()) >= -0.485 / 0.229 - 1e-5 and float(views.max()) <= (1 - 0.406) / 0.225 + 1e-5
    assert torch.equal(views, random_views(images, collate, generator(torch, 7)))
    assert not torch.equal(views, random_views(images, collate, generator(torch, 8)))
