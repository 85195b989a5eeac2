"""Work plans of the distributed engine: the local engine's batches, shards, engine names."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

from thresher.engines import make_engine
from thresher.engines._plan import crop_batches, frame_batches, reading_shards, shards
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


@pytest.mark.parametrize(
    ("sizes", "weights", "budget", "expected"),
    [
        ([8, 8, 8, 8], [5, 5, 5, 5], 10, [[0, 1], [2, 3]]),  # two batches fill the budget
        ([8, 8, 8], [5, 6, 5], 10, [[0], [1], [2]]),  # a batch that would go over starts a new shard
        ([8, 8, 8], [50, 1, 1], 10, [[0], [1, 2]]),  # a batch over the budget is a shard alone
        ([8, 8, 8, 8], [1, 1, 1, 1], 100, [[0, 1], [2, 3]]),  # shard_frames binds first
    ],
)
def test_shards_close_before_going_over_the_byte_budget(sizes, weights, budget, expected):
    assert [list(r) for r in shards(sizes, 16, weights, budget)] == expected


def test_4k_frames_make_smaller_reading_tasks_than_640x480_ones(tmp_path):
    """Real images enumerated by the datasource: with the engine's defaults (64 frames and 256
    MiB a task) 640x480 frames fill 64-frame tasks, 4K frames 8-frame ones (one batch: 199 MB)."""
    import shutil

    from PIL import Image

    from tests.conftest import package_file
    from thresher.engines.ray import SHARD_BYTES, RayEngine
    from thresher.io.datasource import Datasource

    with Image.open(package_file("skimage", "data", "chelsea.png")) as cat:
        for name, size in (("vga", (640, 480)), ("uhd", (3840, 2160))):
            folder = tmp_path / name
            folder.mkdir()
            cat.convert("RGB").resize(size).save(folder / "0000.jpg")
            for i in range(1, 80):
                shutil.copyfile(folder / "0000.jpg", folder / f"{i:04d}.jpg")
    engine = RayEngine()
    sizes = {}
    for name in ("vga", "uhd"):
        frames = Datasource(tmp_path / name).frames()
        batches = frame_batches(frames, np.arange(len(frames)), engine.batch_size)
        groups = reading_shards(frames, batches, engine.shard_frames, engine.shard_bytes)
        held = [np.concatenate([batches[i] for i in group]) for group in groups]
        assert sorted(np.concatenate(held).tolist()) == list(range(80))
        sizes[name] = [len(rows) for rows in held]
        assert all(int((frames.width[rows] * frames.height[rows] * 3).sum()) <= SHARD_BYTES for rows in held)
    assert sizes == {"vga": [64, 16], "uhd": [8] * 10}


def test_crop_shards_weigh_the_parent_frames_they_decode():
    frames = Frames.build(np.array(["a.png", "b.png"]), kind="image", video=np.array(["a.png", "b.png"]), frame_index=0,
                          width=np.array([3840, 640]), height=np.array([2160, 480]))  # fmt: skip
    parents = np.array([0, 0, 0, 0, 1, 1, 1, 1])  # four crops of the 4K frame, four of the small one
    batches = crop_batches(frames, parents, 4)
    assert [list(g) for g in reading_shards(frames, batches, 64, 3840 * 2160 * 3, parents)] == [[0], [1]]
    assert [list(g) for g in reading_shards(frames, batches, 64, 3840 * 2160 * 3 + 640 * 480 * 3, parents)] == [[0, 1]]


def test_engines_by_name():
    assert isinstance(make_engine("local"), LocalEngine)
    with pytest.raises(UsageError, match=r"engine: expected one of local, ray, got 'rey' \(did you mean \"ray\"\?\)"):
        make_engine("rey")
    with pytest.raises(UsageError, match=r"^--address 127.0.0.1:6379: only the ray engine joins a cluster, and the engine is 'local'; add --engine ray"):
        make_engine("local", address="127.0.0.1:6379")


def test_ray_engine_checks_its_options_before_any_work():
    from thresher.engines.ray import RayEngine

    with pytest.raises(UsageError, match="workers: expected an integer >= 1, got 0"):
        RayEngine(workers=0)
    with pytest.raises(UsageError, match="shard_bytes: expected an integer >= 1, got 0.5"):
        RayEngine(shard_bytes=0.5)
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


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_ray_address_fails_at_once_with_what_to_do():
    from thresher.engines.ray import RayEngine

    port = closed_port()
    started = time.monotonic()
    with pytest.raises(UsageError) as caught:
        make_engine("ray", address=f"127.0.0.1:{port}")
    assert time.monotonic() - started < 5
    assert str(caught.value) == (
        f"--address 127.0.0.1:{port}: expected a running Ray head at 127.0.0.1:{port}, got connection refused (a TCP connection, 3 s allowed);"
        " start it with `ray start --head` and pass the address it prints, or --address auto for the cluster of this machine"
    )
    with pytest.raises(UsageError, match=r"^--address ray://127.0.0.1:\d+: expected a running Ray head"):
        RayEngine(address=f"ray://127.0.0.1:{port}")
    with pytest.raises(UsageError, match=r"^--address head:six: expected HOST:PORT of a Ray head"):
        RayEngine(address="head:six")


def test_a_port_that_accepts_connections_but_is_no_ray_head_fails_with_what_to_do():
    """A listener that never answers (ray.init would wait on it for about a quarter of an hour)."""
    from thresher.engines.ray import check_reachable

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with pytest.raises(UsageError) as caught:
            check_reachable(f"127.0.0.1:{port}", reply=2)
    assert str(caught.value) == (
        f"--address 127.0.0.1:{port}: expected a Ray head at 127.0.0.1:{port}, got a port that accepts connections but does not answer as one"
        " (Ray's GCS client, 2 s allowed); start it with `ray start --head` and pass the address it prints, or --address auto for the cluster of this machine"
    )


def test_a_local_instance_and_auto_are_not_checked():
    from thresher.engines.ray import check_reachable

    check_reachable(None)
    check_reachable("auto")


RANDOM_PICK = {"n_samples": 1, "strategies": [{"input": {"type": "RANDOM", "random_seed": 0}, "strategy": {"type": "WEIGHTS"}}]}


def test_an_address_beside_an_engine_object_is_refused_not_ignored(tmp_path):
    from thresher.run import run

    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(UsageError, match=r"^address='127.0.0.1:6379': an engine object joins the cluster it was built with; give it the address \(RayEngine\(address=...\)\)"):
        run(tmp_path, selection_config=RANDOM_PICK, engine=LocalEngine(), address="127.0.0.1:6379")
    assert not (tmp_path / ".thresher").exists()  # refused before any work
