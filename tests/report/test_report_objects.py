"""The report of an object-level run (bikes.mp4, the built-in detector's boxes): each selected
object outlined in its frame, the near-duplicate crops outlined, the timeline counting frames."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from thresher.report import load_report_data
from thresher.report.render import duplicates_section, gallery_section
from thresher.report.sections import timeline_section

pytestmark = pytest.mark.slow

CONFIG = {
    "worker_config": {"object_level": {"task_name": "ssd", "padding": 0.1}},
    "thresher": {"every": 25, "exports": {"crops": False, "images": False}},
    "selection_config": {"n_samples": 24, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]},
}


@pytest.fixture(scope="module")
def objects_run(tmp_path_factory, bikes_predicted):
    """An object-level run picking 24 crops of 10 frames (several objects per frame)."""
    from thresher.run import run

    root = tmp_path_factory.mktemp("objects") / "ds"
    shutil.copytree(bikes_predicted, root)
    result = run(root, CONFIG)
    return result, load_report_data(result.folder)


def figures(section: str) -> list[str]:
    return re.findall(r"<figure class='thumb'>.*?</figure>", section)


def test_the_gallery_outlines_every_selected_object_of_a_frame(objects_run):
    result, data = objects_run
    picks = result.samples[result.samples.index_of(data.new_picks)]
    per_frame = {frame: int((picks.parent_id == frame).sum()) for frame in set(picks.parent_id.tolist())}
    assert max(per_frame.values()) > 1  # the case the report got wrong: several objects of one frame
    section = gallery_section(data)
    shown = figures(section)
    assert len(shown) == len(per_frame)
    for figure in shown:
        frame = re.search(r"<figcaption>([^<]+)<br>", figure).group(1)
        assert figure.count("class='crop'") == per_frame[frame], frame
        if per_frame[frame] > 1:
            assert f"{per_frame[frame]} objects selected: #" in figure
    assert "Selected objects, by frame" in section and "a selected object: the crop cut for it" in section


def test_near_duplicate_crops_are_outlined_in_their_frames(objects_run):
    _, data = objects_run
    kept, other, _ = data.duplicates
    assert len(kept)
    section = duplicates_section(data)
    pairs = re.findall(r"<div class='pair'>(.*?)<p class='distance'>", section)
    assert len(pairs) == len(kept)
    for pair, a, b in zip(pairs, kept.tolist(), other.tolist()):
        inside = [s for s in (a, b) if s in set(data.samples.id.tolist())]  # a removed exact duplicate has no box in the bundle
        assert pair.count("class='crop'") == len(inside)


def test_the_timeline_counts_frames_not_crops(objects_run):
    result, data = objects_run
    picks = result.samples[result.samples.index_of(data.new_picks)]
    frames = len(np.unique(picks.frame_index))
    assert frames < len(picks)
    section = timeline_section(data)
    assert f"<span class='count'>{frames} / 250</span>" in section
    assert f"bikes.mp4: {frames} of 250 frames selected" in section and "frame with a selected object" in section
