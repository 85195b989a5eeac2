"""The PNG encoder: any reader gives back the exact pixels."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.conftest import package_file, read_rgb
from thresher.io.png import encode_png


@pytest.mark.parametrize("shape", [(1, 1, 3), (3, 5, 3), (272, 640, 3)])
def test_pixels_come_back_exactly(shape):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(image))))
    assert decoded.dtype == np.uint8 and np.array_equal(decoded, image)


def test_a_real_photo_round_trips_and_compresses():
    image = read_rgb(package_file("skimage", "data", "chelsea.png"))
    data = encode_png(image)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), image)
    assert len(data) < image.nbytes * 0.7


def test_only_rgb_uint8_is_accepted():
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        encode_png(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        encode_png(np.zeros((4, 4, 3), np.float32))


def test_opencv_reads_a_video_frame_exactly():
    cv2 = pytest.importorskip("cv2", reason="OpenCV is in the detect extra")
    image = read_rgb(package_file("skimage", "data", "astronaut.png"))
    decoded = cv2.imdecode(np.frombuffer(encode_png(image), np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(decoded[:, :, ::-1], image)
