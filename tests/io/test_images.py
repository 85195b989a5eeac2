import io

import numpy as np
import pytest
from PIL import Image

from thresher import DatasourceError
from thresher.io.images import check_image, image_size, load_rgb


def jpeg(width: int, height: int, orientation: int | None = None) -> bytes:
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    pixels = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


@pytest.mark.parametrize("orientation, size", [(None, (60, 40)), (1, (60, 40)), (3, (60, 40)), (6, (40, 60)), (8, (40, 60))])
def test_size_is_after_exif_rotation(orientation, size):
    data = jpeg(60, 40, orientation)
    assert image_size(data) == size
    assert load_rgb(data).shape[:2] == size[::-1]


def test_truncated_jpeg_fails_the_full_decode_only():
    full = jpeg(200, 200)
    data = full[: len(full) * 6 // 10]
    assert image_size(data) == (200, 200)  # the header alone looks fine
    with pytest.raises(DatasourceError, match="corrupt image"):
        check_image(data, "a.jpg")


def test_decompression_bomb_is_refused():
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, "PNG")  # 400 megapixels, a few kB on disk
    with pytest.raises(DatasourceError, match="exceeds the limit"):
        image_size(buffer.getvalue(), "bomb.png")
