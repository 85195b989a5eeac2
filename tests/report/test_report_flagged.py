"""The report's flagged frames: the worst flicker frames with t-1, t, t+1, their boxes and the
imputed ones, in the bundle and rendered by headless Chromium."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.report_fixtures import Requests
from thresher.frames import Frames
from thresher.io.datasource import Datasource
from thresher.io.lightly_metadata import read_metadata
from thresher.report import build_report, load_report_data
from thresher.report.flagged import STRIP_FRAMES, neighbour_ids, worst_first

pytestmark = pytest.mark.slow


def test_worst_first_and_neighbours():
    ids = np.array(["a", "b", "c", "d", "e"])
    assert worst_first(ids, np.array([0.0, 0.5, 2.0, 0.5, 0.0])).tolist() == [2, 1, 3]
    assert worst_first(ids, np.array([0.0, 0.5, 2.0, 0.5, 0.0]), limit=2).tolist() == [2, 1]
    frames = Frames.build(["v-1", "v-0", "v-2", "w-0", "img"], kind=["frame"] * 4 + ["image"], video=["v", "v", "v", "w", "img"], frame_index=[1, 0, 2, 0, 0])
    assert neighbour_ids(frames, np.array([0, 1, 3, 4])).tolist() == [
        ["v-0", "v-1", "v-2"],
        ["", "v-0", "v-1"],
        ["", "w-0", ""],
        ["", "img", ""],
    ]


def test_the_bundle_holds_the_worst_flagged_frames_with_their_neighbours(bikes_runs):
    run = bikes_runs.second
    data = load_report_data(run.folder)
    about = data.meta["flagged"]
    assert about["task"] == "ssd" and about["imputed_task"] == "ssd-imputed" and about["names"] == ["flicker"]
    assert about["parameters"]["flicker"]["presence"] == "coverage"
    source = Datasource(bikes_runs.root)
    frames = source.frames()
    severity = read_metadata(source.lightly, frames)["assertions.ssd.flicker_severity"]
    assert about["flagged"] == int((severity > 0).sum()) == run.counts["flicker flagged"] > 0
    strips = data.strips
    assert len(strips) == about["shown"] == min(about["flagged"], STRIP_FRAMES)
    expected = frames.id[worst_first(frames.id, severity)]
    assert strips.frame_id.tolist() == expected.tolist()
    assert np.allclose(strips.severity, severity[frames.index_of(expected)])
    index = dict(zip(frames.id.tolist(), frames.frame_index.tolist()))
    for (before, t, after), flagged in zip(strips.neighbours.tolist(), strips.frame_id.tolist()):
        assert t == flagged and index[before] == index[t] - 1 and index[after] == index[t] + 1
    thumbs = strips.thumbnails
    assert set(thumbs.frame_id.tolist()) == set(strips.neighbours.ravel().tolist()) - {""}
    row = {f: k for k, f in enumerate(thumbs.frame_id.tolist())}
    for t in strips.frame_id.tolist():  # every flagged frame shows its imputed box
        assert thumbs.box_imputed[thumbs.box_thumb == row[t]].any()
    assert (thumbs.size == [640, 272]).all() and max(len(thumbs.jpeg(k)) for k in range(len(thumbs))) > 5000


def test_strips_render_in_chromium(bikes_runs, browser, tmp_path):
    page_file = build_report(bikes_runs.second.folder, out=tmp_path / "rebuilt.html")  # from the bundle alone
    data = load_report_data(bikes_runs.second.folder)
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    requests = Requests(("file:", "data:"))
    context.route("**/*", requests.route)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(page_file.as_uri())
    page.wait_for_function("[...document.querySelectorAll('img[data-strip]')].every(i => i.complete && i.naturalWidth > 0)", timeout=15_000)
    assert errors == [] and requests.refused == []
    section = page.locator("#flagged")
    assert f"{data.meta['flagged']['flagged']} frames flagged by flicker on task ssd" in section.inner_text()
    strips = section.locator(".strip")
    assert strips.count() == len(data.strips)
    first = strips.nth(0)
    assert first.locator("h3").inner_text().startswith(data.strips.frame_id[0])
    assert first.locator("figure.strip-frame").count() == 3
    captions = first.locator("figcaption").all_inner_texts()
    assert [c.split(" · ")[0] for c in captions] == ["t−1", "t", "t+1"]
    middle = first.locator("figure.strip-frame").nth(1)
    assert middle.locator("rect.imputed").count() >= 1
    labels = middle.locator("text.label").all_text_contents()
    assert any(text.startswith("imputed ") for text in labels)
    assert all(re.fullmatch(r"(imputed )?[a-z ]+ \d\.\d\d", text) for text in labels)
    # the three images sit side by side, each with its box layer over it
    boxes = [first.locator("figure.strip-frame").nth(k).locator(".frame").bounding_box() for k in range(3)]
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"] and abs(boxes[0]["y"] - boxes[2]["y"]) < 1
    layer = middle.locator("svg.boxes").bounding_box()
    assert abs(layer["width"] - boxes[1]["width"]) < 1 and abs(layer["height"] - boxes[1]["height"]) < 1
    context.close()
