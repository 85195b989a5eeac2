"""The app's frame pixels: exact, and a video replaced while the app runs is read anew."""

from __future__ import annotations

import shutil

import av
import numpy as np

from thresher.app.images import frame_pixels
from thresher.io.datasource import Datasource
from thresher.io.problems import Problems


def test_a_frame_is_read_exactly_and_a_replaced_video_anew(tmp_path, bikes_mp4, carphone_mp4, bikes_sequential):
    shutil.copyfile(bikes_mp4, tmp_path / "clip.mp4")
    source = Datasource(tmp_path)
    frames = source.frames(Problems())
    row = frames[np.array([57])]
    assert np.array_equal(frame_pixels(source, row), bikes_sequential[57])
    shutil.copyfile(carphone_mp4, tmp_path / "clip.mp4")  # another video under the same name
    with av.open(str(carphone_mp4)) as container:
        carphone_57 = next(f for i, f in enumerate(container.decode(video=0)) if i == 57).to_ndarray(format="rgb24")
    assert np.array_equal(frame_pixels(source, row), carphone_57)  # not bikes' index applied to carphone's bytes


def test_the_app_seeks_with_the_index_the_runs_stored(bikes_runs, monkeypatch):
    from thresher.app import state as app_state
    from thresher.app.state import AppState, datasource_of
    from thresher.io.video import video_info

    monkeypatch.setattr(app_state, "_SOURCES", {})  # as a newly started `thresher serve`
    source = datasource_of(AppState(bikes_runs.workspace))
    (video,) = source.media_files().videos
    assert source.video_infos.known(video) == video_info(source.input, video)  # known with no demux pass


def test_an_older_run_shows_the_boxes_it_saw(bikes_datasource_copy):
    """A selected frame's boxes come from the run's bundle after its prediction file changed;
    a frame the bundle does not hold shows the file as it is now."""
    import json

    from thresher.app.queries import sample
    from thresher.app.state import AppState
    from thresher.run import run
    from tests.report_fixtures import _config

    result = run(bikes_datasource_copy, _config(4))
    state = AppState(bikes_datasource_copy / ".thresher")
    view = state.view(result.run_id)
    flagged = set(view.data.strips.frame_id.tolist())  # frames whose report strip keeps their severity anyway
    picked = next(str(i) for i in result.selection.ids if str(i) not in flagged)
    other = "bikes-001-mp4.png"  # in the catalog, not among the run's samples (every 5th frame)
    assert picked in set(view.data.thumbnails.frame_id.tolist()) and other not in view.row_of
    before = {name: sample(state, name, result.run_id) for name in (picked, other)}
    assert before[picked]["boxes"] and before[other]["boxes"]
    severity = before[picked]["strip"]["severity"]
    assert severity is not None
    for name in (picked, other):  # the detector is run again with other settings: no boxes now, another severity
        path = bikes_datasource_copy / ".lightly" / "predictions" / "ssd" / name.replace(".png", ".json")
        path.write_text(json.dumps({"file_name": name, "predictions": []}))
        metadata = bikes_datasource_copy / ".lightly" / "metadata" / name.replace(".png", ".json")
        changed = metadata.read_text().replace('"flicker_severity": ', '"flicker_severity": 7.5, "was": ')
        assert "7.5" in changed
        metadata.write_text(changed)
    state = AppState(bikes_datasource_copy / ".thresher")
    now = sample(state, picked, result.run_id)
    assert now["boxes"] == before[picked]["boxes"]
    t = now["strip"]["frames"][1]
    assert t["id"] == picked and t["boxes"] == before[picked]["strip"]["frames"][1]["boxes"] and now["strip"]["severity"] == severity
    assert sample(state, other, result.run_id)["boxes"] == []


def test_a_frame_of_a_rotated_phone_video_is_shown_upright(tmp_path, bikes_mp4, bikes_sequential):
    from tests.conftest import rotated_copy

    rotated_copy(bikes_mp4, tmp_path / "phone.mp4", 90)
    source = Datasource(tmp_path)
    frames = source.frames(Problems())
    assert np.array_equal(frame_pixels(source, frames[np.array([57])]), np.rot90(bikes_sequential[57]))
