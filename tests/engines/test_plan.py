"""Work plans of the distributed engine: the local engine's batches, shards, engine names."""

from __future__ import annotations

import numpy as np
import pytest

from thresher.engines import make_engine
from thresher.engines._plan import crop_batches, frame_batches, shards
from thresher.engines.local import LocalEngine
from thresher.errors import UsageError
from thresher.frames import Frames


def table() -> Frames:
    """Rows sorted by id: an image between two videos' frames, so the id order is not the reading order."""
    ids = ["a.jpg", "v-0-mp4.png", "v-1-mp4.png", "v-2-mp4.png", "w-0-mp4.png", "w-1-mp4.png"]
    return Frames.build(
        np.array(ids), kind=np.array(["image", "frame", "frame", "frame", "frame", "frame"]),
        video=np.array(["a.jpg", "v.mp4", "v.mp4", "v.mp4", "w.mp4", "w.mp4"]),
        frame_index=np.array([0, 0, 1, 2, 0, 1]), width=4, height=4,
    )  # fmt: skip


def test_frame_batches_are_the_local_engines_reading_order_cut_every_batch_size():
    frames = table()
    # reading order: by video name, then frame index; the given row order does not matter
    batches = frame_batches(frames, np.array([5, 3, 0, 1]), 2)
    assert [b.tolist() for b in batches] == [[0, 1], [3, 5]]


@pytest.mark.parametrize(
    ("parents", "size", "expected"),
    [
        # crops of parents 1, 1, 4, 2 (rows); reading order of parents: 1 (v-0), 2 (v-1), 4 (w-0)
        ([1, 1, 4, 2], 2, [[0, 1], [3, 2]]),  # parent 1 fills a batch; 2 then 4 make the next
        ([1, 1, 4, 2], 3, [[0, 1, 3], [2]]),  # a batch closes once it holds 3 or more
        ([4, 4, 4, 1], 2, [[3, 0, 1, 2]]),  # a parent's crops join whole: 1 crop, then 3 more
        ([], 2, []),
    ],
)
def test_crop_batches_group_crops_as_embed_crops_does(parents, size, expected):
    assert [b.tolist() for b in crop_batches(table(), np.array(parents, dtype=np.int64), size)] == expected


@pytest.mark.parametrize(
    ("sizes", "per_shard", "expected"),
    [
        ([8, 8, 8, 3], 16, [[0, 1], [2, 3]]),
        ([8, 8, 8], 8, [[0], [1], [2]]),
        ([8, 8, 8], 100, [[0, 1, 2]]),
        ([], 16, []),
    ],
)
def test_shards_are_runs_of_consecutive_batches(sizes, per_shard, expected):
    assert [list(r) for r in shards(sizes, per_shard)] == expected


def test_engines_by_name():
    assert isinstance(make_engine("local"), LocalEngine)
    with pytest.raises(UsageError, match=r"engine: expected one of local, ray, got 'rey' \(did you mean \"ray\"\?\)"):
        make_engine("rey")
    with pytest.raises(UsageError, match="address: only the ray engine"):
        make_engine("local", address="127.0.0.1:6379")


def test_ray_engine_checks_its_options_before_any_work():
    from thresher.engines.ray import RayEngine

    with pytest.raises(UsageError, match="workers: expected an integer >= 1, got 0"):
        RayEngine(workers=0)
    with pytest.raises(UsageError, match=r"read_cpus: expected a fraction of a CPU in \(0, 1\], got 2"):
        RayEngine(read_cpus=2)


class FakeCluster:
    def __init__(self, cpus):
        self.cpus = cpus

    def cluster_resources(self):
        return {"CPU": self.cpus}


@pytest.mark.parametrize(
    ("cpus", "workers", "expected"),
    [(2, None, (2, 2, 0.75)), (2, 3, (3, 2, 0.5)), (1, None, (1, 1, 0.75)), (16, 4, (4, 4, 1.0))],
)
def test_actors_leave_cpus_to_the_reading_tasks(cpus, workers, expected):
    """Actors reserving every CPU would starve the readers and deadlock the pipeline."""
    from thresher.engines.ray import RayEngine

    engine = RayEngine(workers=workers)
    actors, readers, actor_cpus = engine.resources(FakeCluster(cpus))
    assert (actors, readers, actor_cpus) == expected
    assert actors * actor_cpus + readers * engine.read_cpus <= cpus


def test_too_many_actors_for_the_cluster_is_an_error():
    from thresher.engines.ray import RayEngine

    with pytest.raises(UsageError, match="workers: 9 actors do not fit in the cluster's 2 CPUs"):
        RayEngine(workers=9, read_cpus=1).resources(FakeCluster(2))
