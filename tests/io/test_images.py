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


def ramp16() -> np.ndarray:
    """A 64x64 uint16 image covering 0..65520 in steps of 16 (every 8-bit level, several times)."""
    return np.arange(0, 65536, 16, dtype=np.uint16).reshape(64, 64)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_gray_written_by_opencv_keeps_its_levels(tmp_path, suffix):
    cv2 = pytest.importorskip("cv2")
    path = tmp_path / f"gray16{suffix}"
    assert cv2.imwrite(str(path), ramp16())
    stored = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert stored.dtype == np.uint16  # the file really holds 16-bit values
    pixels = load_rgb(path.read_bytes(), path.name)
    assert pixels.dtype == np.uint8 and pixels.shape == (64, 64, 3)
    expected = (stored >> 8).astype(np.uint8)
    for channel in range(3):
        np.testing.assert_array_equal(pixels[:, :, channel], expected)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_rgb_written_by_opencv_keeps_its_levels(tmp_path, suffix):
    cv2 = pytest.importorskip("cv2")
    ramp = ramp16()
    bgr = np.dstack([ramp, ramp // 2, 65535 - ramp])
    path = tmp_path / f"rgb16{suffix}"
    assert cv2.imwrite(str(path), bgr)
    stored = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert stored.dtype == np.uint16 and stored.shape == (64, 64, 3)
    pixels = load_rgb(path.read_bytes(), path.name)
    np.testing.assert_array_equal(pixels, (stored[:, :, ::-1] >> 8).astype(np.uint8))


@pytest.mark.parametrize("mode", ["I;16", "I;16B", "I"])
def test_16_bit_gray_written_by_pillow_keeps_its_levels(mode):
    buffer = io.BytesIO()
    values = ramp16()
    if mode == "I":
        image = Image.fromarray(values.astype(np.int32))
    else:  # Pillow's convert() to I;16B would clip to 255: build it from big-endian bytes
        image = Image.frombytes(mode, (64, 64), values.astype(">u2" if mode == "I;16B" else "<u2").tobytes())
    image.save(buffer, "TIFF")
    assert Image.open(io.BytesIO(buffer.getvalue())).mode == mode
    pixels = load_rgb(buffer.getvalue(), f"{mode}.tif")
    np.testing.assert_array_equal(pixels[:, :, 1], (values >> 8).astype(np.uint8))
    assert pixels[0, 0, 0] == 0 and pixels[-1, -1, 0] == 255


def test_16_bit_gray_is_rotated_like_8_bit():
    values = ramp16()[:, :40]
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.fromarray(values).save(buffer, "PNG", exif=exif)
    assert image_size(buffer.getvalue()) == (64, 40)
    pixels = load_rgb(buffer.getvalue())
    np.testing.assert_array_equal(pixels[:, :, 0], np.rot90((values >> 8).astype(np.uint8), -1))


def test_float_tiff_is_refused_with_what_to_do(tmp_path):
    cv2 = pytest.importorskip("cv2")
    path = tmp_path / "depth.tif"
    assert cv2.imwrite(str(path), (ramp16() / 65535).astype(np.float32))
    for read in (image_size, check_image, load_rgb):
        with pytest.raises(DatasourceError, match=r"^depth.tif: 32-bit floating-point pixels .* save the image as 8- or 16-bit"):
            read(path.read_bytes(), path.name)


@pytest.fixture(scope="module")
def png_of_100_megapixels(tmp_path_factory):
    """A 12500x8000 PNG of zeros: 100 megapixels, above Pillow's own limit of 89.5, below thresher's 120."""
    path = tmp_path_factory.mktemp("big") / "big.png"
    Image.new("L", (12500, 8000)).save(path)
    return path


def test_100_megapixels_are_read_and_pillow_limit_is_left_alone(png_of_100_megapixels):
    before = Image.MAX_IMAGE_PIXELS
    assert before is not None and before < 100_000_000  # Pillow alone would refuse this image
    data = png_of_100_megapixels.read_bytes()
    assert image_size(data, "big.png") == (12500, 8000)
    check_image(data, "big.png")
    assert before == Image.MAX_IMAGE_PIXELS


def test_pillow_limit_is_restored_after_threads_open_images_together(png_of_100_megapixels):
    from concurrent.futures import ThreadPoolExecutor

    before = Image.MAX_IMAGE_PIXELS
    data = png_of_100_megapixels.read_bytes()
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(lambda _: image_size(data, "big.png"), range(16))) == [(12500, 8000)] * 16
    assert before == Image.MAX_IMAGE_PIXELS


def test_bomb_message_gives_one_limit():
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, "PNG")
    with pytest.raises(DatasourceError) as caught:
        image_size(buffer.getvalue(), "bomb.png")
    assert str(caught.value) == "bomb.png: image of 400000000 pixels exceeds the limit of 120000000 pixels (a guard against decompression bombs)"


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "an empty file (0 bytes)"),
        (b"II*\x00" + b"garbage" * 10, "a TIFF signature, but Pillow's TIFF reader fails ("),
        (b"<html>not an image</html>", "no image format Pillow reads (25 bytes, beginning b'<html>no')"),
    ],
)
def test_a_file_pillow_cannot_identify_says_what_is_wrong(data, reason):
    with pytest.raises(DatasourceError) as caught:
        image_size(data, "x.jpg")
    assert str(caught.value).startswith(f"x.jpg: {reason}")
