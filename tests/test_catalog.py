import multiprocessing
import os
import signal
import sqlite3
import time

import pytest

from thresher import Frames, UsageError
from thresher.catalog import Catalog


def frames(names):
    return Frames.build(names, width=10, height=10)


def test_samples_round_trip_and_first_run(tmp_path):
    with Catalog(tmp_path) as catalog:
        assert catalog.add_samples(frames(["b.jpg", "a.jpg"]), run_id="r1") == 2
        assert catalog.add_samples(frames(["a.jpg", "c.jpg"]), run_id="r2") == 1
        assert catalog.samples().id.tolist() == ["a.jpg", "b.jpg", "c.jpg"]
        assert catalog.samples(["c.jpg", "a.jpg"]).id.tolist() == ["c.jpg", "a.jpg"]
        with pytest.raises(UsageError, match="unknown sample id 'z.jpg'"):
            catalog.samples(["z.jpg"])


def test_tags_and_their_operations(tmp_path):
    with Catalog(tmp_path / "c.sqlite") as catalog:
        catalog.create_tag("first", ["a", "b", "c"])
        catalog.create_tag("second", ["c", "d"])
        catalog.combine_tags("u", "first", "second", "UNION")
        catalog.combine_tags("i", "first", "second", "INTERSECTION")
        catalog.combine_tags("d", "first", "second", "DIFFERENCE")
        assert catalog.tag("u") == ["a", "b", "c", "d"]
        assert catalog.tag("i") == ["c"]
        assert catalog.tag("d") == ["a", "b"]
        with pytest.raises(UsageError, match='did you mean "first"'):
            catalog.tag("frist")
        with pytest.raises(UsageError, match="exists already"):
            catalog.create_tag("first", [])
        with pytest.raises(UsageError, match='did you mean "UNION"'):
            catalog.combine_tags("x", "first", "second", "UNIO")


def test_runs(tmp_path):
    with Catalog(tmp_path) as catalog:
        run_id = catalog.start_run({"n_samples": 3})
        catalog.update_run(run_id, status="done", counts={"selected": 3}, finished=1.0)
        run = catalog.run(run_id)
        assert (run.status, run.config, run.counts) == ("done", {"n_samples": 3}, {"selected": 3})


def _write_forever(path):
    catalog = Catalog(path)
    i = 0
    while True:
        catalog.create_tag(f"t{i}", [f"s{j}" for j in range(2000)])
        i += 1


def test_kill_during_writes_leaves_a_consistent_catalog(tmp_path):
    path = tmp_path / "catalog.sqlite"
    Catalog(path).close()
    process = multiprocessing.get_context("spawn").Process(target=_write_forever, args=(path,))
    process.start()
    with Catalog(path) as reader:
        while len(reader.tags()) < 3:
            time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.join()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    with Catalog(path) as catalog:
        sizes = {len(catalog.tag(t)) for t in catalog.tags()}
        assert sizes == {2000}  # every tag is whole: none half-written


def test_neighbours_of_a_video_frame(tmp_path):
    frames = Frames.build(["v-0", "v-1", "v-3", "w-1", "img"], kind=["frame"] * 4 + ["image"], video=["v", "v", "v", "w", "img"], frame_index=[0, 1, 3, 1, 0])
    with Catalog(tmp_path) as catalog:
        catalog.add_samples(frames)
        assert catalog.neighbours("v-1") == ["v-0", "v-1", None]
        assert catalog.neighbours("v-0") == [None, "v-0", "v-1"]
        assert catalog.neighbours("v-3", (-2, 0)) == ["v-1", "v-3"]
        assert catalog.neighbours("img") == [None, None, None] and catalog.neighbours("nope") == [None, None, None]
