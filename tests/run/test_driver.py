"""The driver runs the stages in order, logged and timed; each stage leaves the state it got unchanged."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.conftest import package_file
from thresher.catalog import Catalog
from thresher.io.datasource import Datasource
from thresher.run.config import load_run_config
from thresher.run.driver import execute, plan
from thresher.run.stages import check_corruption, embed, enumerate_frames, remove_duplicates, select
from thresher.run.state import Selected, Setup, Written
from thresher.workspace import workspace_for

SELECTION = {"n_samples": 2, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]}


@pytest.fixture
def lines():
    """The run's log lines."""
    return []


@pytest.fixture
def setup(tmp_path, lines):
    """Real photos, an exact copy of one, and a PNG cut in half (its header reads, its pixels do not)."""
    root = tmp_path / "ds"
    root.mkdir()
    for name in ("chelsea.png", "coffee.png", "astronaut.png"):
        shutil.copyfile(package_file("skimage", "data", name), root / name)
    shutil.copyfile(root / "chelsea.png", root / "chelsea_copy.png")
    whole = (root / "coffee.png").read_bytes()
    (root / "cut.png").write_bytes(whole[: len(whole) // 2])
    source = Datasource(root)
    workspace = workspace_for(source)
    (tmp_path / "out").mkdir()
    with Catalog(workspace) as catalog:
        config = load_run_config(selection_config=SELECTION)
        yield Setup(source=source, config=config, catalog=catalog, workspace=workspace, folder=tmp_path / "out", log=lines.append)


def test_each_stage_returns_a_new_state_and_leaves_its_input_as_it_was(setup):
    planned = plan(setup)
    enumerated = enumerate_frames(planned)
    candidates = enumerated.candidate.copy()
    checked = check_corruption(enumerated)
    assert np.array_equal(enumerated.candidate, candidates) and "corrupt files" not in enumerated.counts
    assert [(f, r) for f, r, _ in checked.removed] == [("cut.png", "corrupt")]
    embedded = embed(checked)
    assert checked.counts == {**enumerated.counts, "corrupt files": 1}
    unique = remove_duplicates(embedded)
    assert "chelsea_copy.png" in embedded.samples.id.tolist() and "chelsea_copy.png" not in unique.samples.id.tolist()
    assert [r for r in unique.removed if r[1] == "duplicate"] == [("chelsea_copy.png", "duplicate", "identical to chelsea.png")]
    assert len(embedded.removed) == 1 and embedded.counts.get("exact duplicates") is None
    selected = select(unique)
    assert isinstance(selected, Selected) and selected.resolver.samples is selected.samples
    assert selected.new_picks().tolist() == [True, True] and selected.counts["selected"] == 2


def test_the_driver_runs_the_stages_in_order_logged_and_timed(setup, lines):
    written = execute(plan(setup))
    assert isinstance(written, Written) and written.report == setup.folder / "report.html" and written.report.exists()
    stages = ["config check", "enumerate", "corruptness check", "embeddings", "exact duplicates", "selection", "outputs"]
    assert list(written.timings) == stages and all(seconds >= 0 for seconds in written.timings.values())
    assert [line for line in lines if line.endswith(" …")] == [f"{name} …" for name in stages]
    assert (setup.folder / "selection.csv").exists() and (setup.folder / "run.json").exists()


def test_a_name_clash_is_removed_as_such_naming_the_file_kept(setup):
    """`astronaut.jpg` beside `astronaut.png` would share `astronaut.json`: the first by name is kept."""
    from PIL import Image

    root = setup.workspace.parent
    Image.open(root / "coffee.png").convert("RGB").save(root / "astronaut.jpg")
    enumerated = enumerate_frames(plan(setup))
    assert "astronaut.jpg" in enumerated.frames.id.tolist() and "astronaut.png" not in enumerated.frames.id.tolist()
    detail = "the same prediction file 'astronaut.json' as the image 'astronaut.jpg', which is kept; the image 'astronaut.png' is left out"
    assert enumerated.removed == (("astronaut.png", "name clash", detail),)
    assert enumerated.counts["name clashes"] == 1
    checked = check_corruption(enumerated)
    assert checked.counts["corrupt files"] == 1 and [r for _, r, _ in checked.removed] == ["name clash", "corrupt"]
