"""The report's thumbnail cache: a rerun's thumbnails come from it while the video is unchanged (real bikes.mp4)."""

import os
import shutil

import numpy as np

from thresher.io.datasource import Datasource
from thresher.report.thumb_cache import ThumbnailCache
from thresher.report.thumbs import JPEG_QUALITY, THUMB_SIDE, make_thumbnails


def test_thumbnails_are_reused_while_the_video_is_unchanged(tmp_path, bikes_mp4):
    root = tmp_path / "ds"
    root.mkdir()
    video = root / "bikes.mp4"
    shutil.copyfile(bikes_mp4, video)
    source = Datasource(root)
    frames = source.frames()
    ids = frames.id[[0, 42, 100, 249]]
    cache = ThumbnailCache(tmp_path / "thumbnails.npz", THUMB_SIDE, JPEG_QUALITY)
    first = make_thumbnails(source, frames, ids, cache=cache)
    assert len(first) == 4 and (cache.path).exists()

    stat = video.stat()
    video.write_bytes(b"\0" * stat.st_size)  # no longer a video, same size and time: the cache answers
    os.utime(video, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert len(make_thumbnails(source, frames, ids)) == 0  # without the cache nothing decodes
    second = make_thumbnails(source, frames, ids, cache=cache)
    assert second.frame_id.tolist() == first.frame_id.tolist() and np.array_equal(second.data, first.data)
    assert np.array_equal(second.offsets, first.offsets) and np.array_equal(second.size, first.size)

    os.utime(video, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the video changed: made again (and none decode)
    assert len(make_thumbnails(source, frames, ids, cache=cache)) == 0

    shutil.copyfile(bikes_mp4, video)
    cache.path.write_bytes(b"damaged")  # a damaged cache is rebuilt
    third = make_thumbnails(source, frames, ids[:2], cache=cache)
    assert np.array_equal(third.data, first.data[: first.offsets[2]])
    assert len(make_thumbnails(source, frames, ids[:2], cache=cache)) == 2


def test_thumbnails_of_a_rotated_phone_video_are_upright(tmp_path, bikes_mp4):
    import io

    from PIL import Image

    from tests.conftest import rotated_copy

    rotated_copy(bikes_mp4, tmp_path / "phone.mp4", -90)  # stored 640x272, shown 272x640
    source = Datasource(tmp_path)
    frames = source.frames()
    thumbs = make_thumbnails(source, frames, frames.id[[0, 100]])
    assert thumbs.size.tolist() == [[272, 640], [272, 640]]
    with Image.open(io.BytesIO(thumbs.jpeg(0))) as image:
        assert image.width < image.height
