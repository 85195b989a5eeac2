"""The run's states are frozen: a stage returns a new state and leaves the one it got as it was."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from tests.conftest import package_file
from thresher.catalog import Catalog
from thresher.io.datasource import Datasource
from thresher.run.config import load_run_config
from thresher.run.state import Embedded, Enumerated, Planned, Setup, advance
from thresher.run.stages import enumerate_frames
from thresher.workspace import workspace_for

CONFIG = {"n_samples": 1, "strategies": [{"input": {"type": "RANDOM"}, "strategy": {"type": "WEIGHTS"}}]}


@pytest.fixture
def planned(tmp_path):
    """A Planned state over a folder of three real photos."""
    for name in ("chelsea.png", "coffee.png", "astronaut.png"):
        shutil.copyfile(package_file("skimage", "data", name), tmp_path / name)
    source = Datasource(tmp_path)
    workspace = workspace_for(source)
    with Catalog(workspace) as catalog:
        setup = Setup(source=source, config=load_run_config(selection_config=CONFIG), catalog=catalog, workspace=workspace, folder=tmp_path / "out")
        yield advance(setup, Planned, assertion_plan=None, export_task=None, label_studio_root=None, final_folder=tmp_path / "out")


def test_a_state_cannot_be_changed(planned):
    with pytest.raises(dataclasses.FrozenInstanceError):
        planned.counts = {"frames": 1}


def test_advance_keeps_every_field_and_the_new_ones_win(planned):
    enumerated = enumerate_frames(planned)
    assert type(enumerated) is Enumerated
    assert enumerated.source is planned.source and enumerated.final_folder == planned.final_folder
    assert dict(enumerated.counts) == {"frames": 3, "candidates": 3, "preselected": 0} and dict(planned.counts) == {}
    embedded = advance(enumerated, Embedded, samples=enumerated.frames, store=None, counts={"frames": 0})
    assert embedded.frames is enumerated.frames and embedded.counts == {"frames": 0} and enumerated.counts["frames"] == 3


def test_dropping_returns_a_new_state_and_leaves_the_old_one(planned):
    enumerated = enumerate_frames(planned)
    before = enumerated.candidate.copy()
    mask = enumerated.frames.file_name == "coffee.png"
    dropped = enumerated.dropping(mask, "duplicate", "identical to chelsea.png")
    assert type(dropped) is Enumerated
    assert np.array_equal(enumerated.candidate, before) and enumerated.removed == ()
    assert dropped.candidate.tolist() == (~mask).tolist()
    assert dropped.removed == (("coffee.png", "duplicate", "identical to chelsea.png"),)
    assert dropped.active_rows().tolist() == np.flatnonzero(~mask).tolist()
    again = dropped.dropping(mask, "corrupt", "not listed twice")  # no longer a candidate: not removed again
    assert again.removed == dropped.removed
