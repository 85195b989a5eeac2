"""`thresher assert --strips DIR`: the worst flagged frames as PNG, frames t-1, t, t+1 side by side."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.test_validate import run_cli
from thresher.io.datasource import Datasource
from thresher.io.lightly_metadata import read_metadata
from thresher.io.lightly_predictions import read_predictions
from thresher.report.flagged import worst_first

pytestmark = pytest.mark.slow


def test_strips_of_the_worst_flagged_frames(bikes_datasource_copy, tmp_path, capsys):
    out = tmp_path / "strips"
    code, output = run_cli(["assert", str(bikes_datasource_copy), "--task", "ssd", "--strips", str(out), "--strips-limit", "2"], capsys)
    assert code in (0, None), output
    assert f"2 flagged frames drawn in {out}" in output
    source = Datasource(bikes_datasource_copy)
    frames = source.frames()
    severity = read_metadata(source.lightly, frames)["flicker_severity"]
    worst = frames.id[worst_first(frames.id, severity, 2)]
    assert sorted(p.name for p in out.iterdir()) == sorted(worst.tolist())
    with Image.open(out / worst[0]) as image:
        pixels = np.asarray(image.convert("RGB"))
    # three 640-px panels and two gaps; imputed boxes are magenta, on the frames that have one
    assert pixels.shape[1] == 3 * 640 + 2 * 8
    magenta = (pixels[..., 0] > 230) & (pixels[..., 1] < 30) & (pixels[..., 2] > 230)
    imputed = read_predictions(source.lightly, "ssd-imputed", frames).detections
    index = int(frames.frame_index[frames.index_of([worst[0]])[0]])
    for k, offset in enumerate((-1, 0, 1)):
        has_box = bool(np.isin(frames.frame_index[imputed.frame], index + offset).any())
        assert magenta[:, k * 648 : k * 648 + 640].any() == has_box
    assert magenta[:, 648:1288].any()


def test_strips_need_flicker(bikes_datasource_copy, tmp_path, capsys):
    code, output = run_cli(["assert", str(bikes_datasource_copy), "--task", "ssd", "--assertion", "multibox", "--strips", str(tmp_path)], capsys)
    assert code == 2 and "--strips: shows flicker's flagged frames" in output


def test_a_label_at_the_right_edge_stays_inside_the_picture():
    """The label of a box at a frame's right edge is moved left, not cut off."""
    from PIL import ImageDraw

    from thresher.report.strip_png import _font, _label

    picture = Image.new("RGB", (200, 40), "black")
    draw = ImageDraw.Draw(picture)
    font = _font(12)
    _label(draw, (190, 5), "car 0.15", "#ff0000", font)
    red = np.all(np.asarray(picture) == (255, 0, 0), axis=2).any(axis=0)
    width = draw.textlength("car 0.15", font=font)
    assert red[int(200 - 2 - width) + 1] and red[196]  # the whole label box, ending inside the picture
