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
