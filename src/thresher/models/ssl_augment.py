"""SimCLR views of a batch of images, in torch (no torchvision): lightly's ImageCollateFunction.

`random_views(images, collate, generator)` returns one augmented, ImageNet-normalized
(B, 3, s, s) float32 view per image, s = collate.input_size. Steps, each drawn per image from
`generator`: random resized crop (area in [min_scale, 1] of the image, aspect in [3/4, 4/3]),
rotation, horizontal / vertical flip, color jitter (brightness, contrast, saturation, hue, in
one random order per batch), gray scale, Gaussian blur. Everything after the crop runs on the
whole batch at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from thresher.models.embedder import IMAGENET_MEAN, IMAGENET_STD
from thresher.models.ssl_config import CollateConfig
from thresher.models.torch_embedder import import_torch

_GRAY = (0.299, 0.587, 0.114)


def random_views(images: Sequence[np.ndarray], collate: CollateConfig, generator) -> object:
    """One random view per (H, W, 3) uint8 image: a normalized (B, 3, s, s) float32 tensor."""
    torch = import_torch()
    x = torch.stack([random_resized_crop(image, collate.input_size, collate.min_scale, generator) for image in images])
    x = random_rotation(x, collate.rr_prob, collate.rr_degrees, generator)
    x = _where(_coin(len(x), collate.hf_prob, generator), x.flip(3), x)
    x = _where(_coin(len(x), collate.vf_prob, generator), x.flip(2), x)
    x = _where(_coin(len(x), collate.cj_prob, generator), color_jitter(x, collate, generator), x)
    x = _where(_coin(len(x), collate.random_gray_scale, generator), gray(x).expand_as(x), x)
    x = gaussian_blur(x, collate, generator)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def random_resized_crop(image: np.ndarray, size: int, min_scale: float, generator) -> object:
    """A (3, size, size) float tensor in [0, 1]: a random crop of `image` resized (bilinear, antialiased).

    Up to 10 draws of (area fraction, log aspect); the first that fits the image is used, else
    the whole image, as torchvision's RandomResizedCrop.
    """
    torch = import_torch()
    height, width = image.shape[:2]
    area = height * width * (min_scale + (1 - min_scale) * torch.rand(10, generator=generator))
    ratio = torch.exp(math.log(3 / 4) + math.log(16 / 9) * torch.rand(10, generator=generator))
    crop_w = torch.round(torch.sqrt(area * ratio)).long()
    crop_h = torch.round(torch.sqrt(area / ratio)).long()
    fits = ((crop_w > 0) & (crop_w <= width) & (crop_h > 0) & (crop_h <= height)).nonzero()
    if len(fits):
        h, w = int(crop_h[fits[0, 0]]), int(crop_w[fits[0, 0]])
        top = int(torch.randint(0, height - h + 1, (1,), generator=generator))
        left = int(torch.randint(0, width - w + 1, (1,), generator=generator))
    else:
        h, w, top, left = height, width, 0, 0
    crop = torch.from_numpy(np.array(image[top : top + h, left : left + w])).permute(2, 0, 1)[None].float() / 255
    return torch.nn.functional.interpolate(crop, size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0].clamp(0, 1)


def random_rotation(x, prob: float, degrees, generator):
    """With probability `prob` per image: 90 degrees counter-clockwise (degrees None), else an angle drawn in degrees."""
    torch = import_torch()
    chosen = _coin(len(x), prob, generator)
    if degrees is None:
        return _where(chosen, torch.rot90(x, 1, dims=(2, 3)), x)
    low, high = (-abs(degrees), abs(degrees)) if isinstance(degrees, (int, float)) else degrees
    angle = torch.deg2rad(low + (high - low) * torch.rand(len(x), generator=generator))
    cos, sin = torch.cos(angle), torch.sin(angle)
    zero = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = torch.nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    rotated = torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return _where(chosen, rotated, x)


def color_jitter(x, collate: CollateConfig, generator):
    """Brightness, contrast, saturation and hue jitter of every image, in one random order per batch."""
    torch = import_torch()
    n = len(x)

    def factor(strength: float):
        low = max(0.0, 1 - strength)
        return (low + (1 + strength - low) * torch.rand(n, generator=generator)).view(n, 1, 1, 1)

    ops = {
        "brightness": lambda x, f: (x * f).clamp(0, 1),
        "contrast": lambda x, f: ((x - gray(x).mean(dim=(1, 2, 3), keepdim=True)) * f + gray(x).mean(dim=(1, 2, 3), keepdim=True)).clamp(0, 1),
        "saturation": lambda x, f: ((x - gray(x)) * f + gray(x)).clamp(0, 1),
        "hue": lambda x, f: shift_hue(x, f.view(n)),
    }
    factors = {
        "brightness": factor(collate.cj_bright),
        "contrast": factor(collate.cj_contrast),
        "saturation": factor(collate.cj_sat),
        "hue": (2 * torch.rand(n, generator=generator) - 1) * collate.cj_hue,
    }
    for index in torch.randperm(4, generator=generator).tolist():
        name = list(ops)[index]
        x = ops[name](x, factors[name])
    return x


def gray(x):
    """(B, 1, H, W) luma of RGB in [0, 1] (ITU-R 601 weights, as PIL's "L")."""
    torch = import_torch()
    return (x * torch.tensor(_GRAY).view(1, 3, 1, 1)).sum(dim=1, keepdim=True)


def shift_hue(x, shift):
    """Rotate the hue of each image by shift[i] turns (in [-0.5, 0.5]); RGB in [0, 1]."""
    torch = import_torch()
    r, g, b = x.unbind(1)
    high, _ = x.max(dim=1)
    low, _ = x.min(dim=1)
    chroma = high - low
    safe = torch.where(chroma > 0, chroma, torch.ones_like(chroma))
    hue = torch.where(high == r, ((g - b) / safe) % 6, torch.where(high == g, (b - r) / safe + 2, (r - g) / safe + 4)) / 6
    hue = torch.where(chroma > 0, hue, torch.zeros_like(hue))
    hue = (hue + shift.view(-1, 1, 1)) % 1.0
    # HSV -> RGB with value = high, saturation = chroma / high: channel k = v - c * clamp(min(k', 4 - k'), 0, 1)
    k = (torch.tensor([5.0, 3.0, 1.0]).view(1, 3, 1, 1) + hue[:, None] * 6) % 6
    weight = torch.clamp(torch.minimum(k, 4 - k), 0, 1)
    return (high[:, None] - chroma[:, None] * weight).clamp(0, 1)


def gaussian_blur(x, collate: CollateConfig, generator):
    """With probability collate.gaussian_blur per image, a separable Gaussian blur (reflect padding).

    Kernel length: kernel_size * input_size, made odd and at least 3; sigma drawn in collate.sigmas.
    Images not chosen get a unit impulse kernel, so the whole batch is one grouped convolution.
    """
    torch = import_torch()
    n, channels, height, width = x.shape
    length = max(3, int(collate.kernel_size * collate.input_size) // 2 * 2 + 1)
    low, high = collate.sigmas
    sigma = low + (high - low) * torch.rand(n, generator=generator)
    offsets = torch.arange(length, dtype=torch.float32) - length // 2
    kernel = torch.exp(-0.5 * (offsets[None] / sigma[:, None]) ** 2)
    kernel = kernel / kernel.sum(dim=1, keepdim=True)
    impulse = (offsets == 0).float().expand(n, length)
    kernel = torch.where(_coin(n, collate.gaussian_blur, generator)[:, None], kernel, impulse)
    kernel = kernel.repeat_interleave(channels, dim=0)  # (n * 3, length), one per channel
    pad = length // 2
    flat = x.reshape(1, n * channels, height, width)
    flat = torch.nn.functional.pad(flat, (pad, pad, 0, 0), mode="reflect" if width > pad else "replicate")
    flat = torch.nn.functional.conv2d(flat, kernel.view(-1, 1, 1, length), groups=n * channels)
    flat = torch.nn.functional.pad(flat, (0, 0, pad, pad), mode="reflect" if height > pad else "replicate")
    flat = torch.nn.functional.conv2d(flat, kernel.view(-1, 1, length, 1), groups=n * channels)
    return flat.reshape(n, channels, height, width)


def _coin(n: int, prob: float, generator):
    """Boolean (n,) tensor, each True with probability prob."""
    torch = import_torch()
    return torch.rand(n, generator=generator) < prob


def _where(chosen, a, b):
    """Per image: a where chosen, else b."""
    torch = import_torch()
    return torch.where(chosen.view(-1, *([1] * (a.dim() - 1))), a, b)
