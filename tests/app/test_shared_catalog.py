"""A catalog shared by two datasources (`--catalog`): each sample is read from its run's datasource."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from thresher.app.queries import sample
from thresher.app.state import AppState
from thresher.run import run

RED, BLUE = (220, 30, 30), (30, 30, 220)


def _datasource(root, color, names):
    root.mkdir()
    for k, name in enumerate(names):  # a white square in another place: no two are duplicates
        pixels = np.full((64, 96, 3), color, np.uint8)
        pixels[20 + 10 * k : 40 + 10 * k, 40 + 15 * k : 60 + 15 * k] = 255
        Image.fromarray(pixels).save(root / name)
    return root


def _config():
    return {"selection_config": {"n_samples": 2, "strategies": [{"input": {"type": "RANDOM", "random_seed": 1}, "strategy": {"type": "WEIGHTS"}}]}}


def _color(jpeg: bytes) -> tuple:
    """The mean colour of the image's top left corner (a tenth of each side), where no square is."""
    pixels = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
    corner = pixels[: pixels.shape[0] // 10 + 1, : pixels.shape[1] // 10 + 1]
    return tuple(corner.reshape(-1, 3).mean(axis=0).round().astype(int).tolist())


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """(state, run of the red datasource, run of the blue one), both in one catalog, red first."""
    tmp = tmp_path_factory.mktemp("shared")
    workspace = tmp / "workspace"
    red = run(_datasource(tmp / "red", RED, ["only-red.png", "same.png", "r2.png"]), _config(), catalog=workspace)
    blue = run(_datasource(tmp / "blue", BLUE, ["only-blue.png", "same.png", "b2.png"]), _config(), catalog=workspace)
    return AppState(workspace), red.run_id, blue.run_id


def _near(color, expected):
    return all(abs(a - b) <= 12 for a, b in zip(color, expected))


def test_a_sample_of_an_older_runs_datasource_is_read_from_it(shared):
    state, red_run, _ = shared
    assert _near(_color(state.image("only-red.png", 640)), RED)  # the latest run (blue) has no such file
    assert _near(_color(state.image("only-red.png", 200, red_run)), RED)
    assert sample(state, "only-red.png")["run"] == red_run


def test_a_same_named_sample_is_read_from_the_run_it_is_shown_for(shared):
    state, red_run, blue_run = shared
    assert _near(_color(state.image("same.png", 640, red_run)), RED)
    assert _near(_color(state.image("same.png", 640, blue_run)), BLUE)
    assert _near(_color(state.image("same.png", 640)), BLUE)  # no run named: the latest that holds it
    assert sample(state, "same.png", red_run)["run"] == red_run
    assert all("same.png" in state.view(r).row_of for r in (red_run, blue_run))  # both runs' bundles hold it


def test_a_same_named_sample_takes_the_size_and_kind_its_run_saw(tmp_path, carphone_mp4):
    """The catalog keeps the first datasource's row of an id: a video frame here, a still image
    of another size there; each run's page, image and strip are those of its own datasource."""
    import shutil

    workspace = tmp_path / "workspace"
    video = tmp_path / "video"
    video.mkdir()
    shutil.copyfile(carphone_mp4, video / "clip.mp4")  # frames clip-000-mp4.png … clip-119-mp4.png, 176×144
    frame_run = run(video, _config(), catalog=workspace).run_id
    stills = _datasource(tmp_path / "stills", BLUE, ["clip-049-mp4.png", "b2.png"])  # 96×64 stills
    still_run = run(stills, _config(), catalog=workspace).run_id
    state = AppState(workspace)

    shown = sample(state, "clip-049-mp4.png", still_run)
    assert (shown["sample"]["kind"], shown["sample"]["width"], shown["sample"]["height"], shown["strip"]) == ("image", 96, 64, None)
    still = Image.open(io.BytesIO(state.image("clip-049-mp4.png", 640, still_run)))
    assert still.size == (96, 64) and _near(_color(state.image("clip-049-mp4.png", 640, still_run)), BLUE)

    shown = sample(state, "clip-049-mp4.png", frame_run)
    assert (shown["sample"]["kind"], shown["sample"]["width"], shown["sample"]["height"]) == ("frame", 176, 144)
    assert [f["id"] for f in shown["strip"]["frames"]] == ["clip-048-mp4.png", "clip-049-mp4.png", "clip-050-mp4.png"]
    assert Image.open(io.BytesIO(state.image("clip-049-mp4.png", 640, frame_run))).size == (176, 144)
