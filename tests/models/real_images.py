"""Real still images shipped inside installed packages (docs/data.md), located without importing them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# name -> (package, path inside the package)
REAL_IMAGES = {
    "astronaut": ("skimage", "data/astronaut.png"),
    "chelsea": ("skimage", "data/chelsea.png"),
    "coffee": ("skimage", "data/coffee.png"),
    "rocket": ("skimage", "data/rocket.jpg"),
    "motorcycle_left": ("skimage", "data/motorcycle_left.png"),
    "china": ("sklearn", "datasets/images/china.jpg"),
    "flower": ("sklearn", "datasets/images/flower.jpg"),
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
}


def real_image_path(name: str) -> Path:
    """Path of a real image; skips the test when its package is not installed."""
    package, inner = REAL_IMAGES[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{package} not installed (test extra): real image {name} unavailable")
    return Path(spec.submodule_search_locations[0]) / inner


def real_image(name: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB pixels of a real image."""
    with Image.open(real_image_path(name)) as image:
        return np.asarray(image.convert("RGB"))


def two_crops(image: np.ndarray, fraction: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """The top-left and bottom-right crops covering `fraction` of each side (they overlap)."""
    height, width = image.shape[:2]
    h, w = int(height * fraction), int(width * fraction)
    return image[:h, :w], image[height - h :, width - w :]
