"""The Ray engine on a real local cluster: the same selection, files and vectors as the local
engine, through a killed actor, a killed driver, object crops and a bucket."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from thresher.demo import demo_config
from thresher.embedding_store import store_for
from thresher.plan import CROP_KEY_WIDTH
from thresher.run import run

pytestmark = pytest.mark.slow
TASK = "lightly_pretagging"


def demo(every: int) -> dict:
    config = demo_config()
    config["thresher"]["every"] = every
    return config


def datasource(folder: Path, bikes_mp4: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copyfile(bikes_mp4, folder / "bikes.mp4")
    return folder


def predictions(root: Path) -> dict[str, bytes]:
    folder = root / ".lightly" / "predictions"
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.json"))}


def embeddings(root: Path, ids: np.ndarray) -> np.ndarray:
    return store_for(root / ".thresher", "ssd-mobilenet-v2-coco").load().align(ids).vectors


def ray_engine(**options):
    from thresher.engines.ray import RayEngine

    return RayEngine(workers=2, **options)


def test_a_ray_head_passes_the_address_check(ray_cluster):
    from thresher.engines.ray import check_reachable

    check_reachable(ray_cluster.get_runtime_context().gcs_address)  # raises UsageError if not answered as a head


@pytest.fixture(scope="module")
def local_demo(tmp_path_factory, bikes_mp4):
    """The demo config (every 5th frame) run by the local engine: (datasource, result)."""
    root = datasource(tmp_path_factory.mktemp("local") / "ds", bikes_mp4)
    return root, run(root, demo(5))


def test_the_demo_config_selects_exactly_the_same_on_ray(ray_cluster, local_demo, bikes_mp4, tmp_path):
    local_root, local = local_demo
    root = datasource(tmp_path / "ds", bikes_mp4)
    result = run(root, demo(5), engine=ray_engine())
    assert (result.folder / "selection.csv").read_text() == (local.folder / "selection.csv").read_text()
    assert result.counts["pretagged frames"] == local.counts["pretagged frames"] == 50
    assert predictions(root) == predictions(local_root)  # every file, byte for byte
    assert np.array_equal(embeddings(root, local.samples.id), embeddings(local_root, local.samples.id))


def model_actor_pids() -> list[int]:
    """Processes of this session's Ray cluster running the model actor (by their process title)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"ModelActor" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_an_actor_killed_in_the_middle_of_the_run_does_not_change_the_result(ray_cluster, local_demo, bikes_mp4, tmp_path):
    local_root, local = local_demo
    root = datasource(tmp_path / "ds", bikes_mp4)
    outcome: dict = {}
    runner = threading.Thread(target=lambda: outcome.update(result=run(root, demo(5), engine=ray_engine(shard_frames=8))))
    runner.start()
    task_folder = root / ".lightly" / "predictions" / TASK
    deadline = time.monotonic() + 120
    while runner.is_alive() and time.monotonic() < deadline and not list(task_folder.glob("bikes-*.json")):
        time.sleep(0.01)
    written = len(list(task_folder.glob("bikes-*.json")))
    victims = model_actor_pids()
    assert runner.is_alive() and 0 < written < 50 and victims  # mid-run: some frames predicted, not all
    os.kill(victims[0], signal.SIGKILL)
    runner.join(300)
    result = outcome["result"]
    assert (result.folder / "selection.csv").read_text() == (local.folder / "selection.csv").read_text()
    assert predictions(root) == predictions(local_root)
    assert np.array_equal(embeddings(root, local.samples.id), embeddings(local_root, local.samples.id))


def test_a_driver_killed_mid_run_resumes_on_the_cluster_it_joined(ray_cluster, local_demo, bikes_mp4, tmp_path):
    """`thresher run --engine ray --address` killed while predicting; the rerun skips finished shards."""
    local_root, local = local_demo
    root = datasource(tmp_path / "ds", bikes_mp4)
    config = tmp_path / "run.yaml"
    import yaml

    config.write_text(yaml.safe_dump(demo(5)))
    address = ray_cluster.get_runtime_context().gcs_address
    command = [sys.executable, "-m", "thresher", "run", str(root), "--config", str(config), "--engine", "ray", "--address", address]
    task_folder = root / ".lightly" / "predictions" / TASK
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as driver:
        deadline = time.monotonic() + 120
        while driver.poll() is None and time.monotonic() < deadline and len(list(task_folder.glob("bikes-*.json"))) < 8:
            time.sleep(0.01)
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
    done = len(list(task_folder.glob("bikes-*.json")))
    assert 8 <= done < 50, "the driver was killed mid-run"
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"\n  Ray cluster at {address}: 1 node, 2 CPUs\n" in rerun.stderr  # which cluster was joined
    folder = Path(rerun.stdout.split("outputs: ", 1)[1].split()[0])
    counts = json.loads((folder / "run.json").read_text())["counts"]
    # the rest only: every file there when the driver died is reused (the cluster's workers may
    # finish a batch already handed to them after that, which the rerun reuses too)
    assert counts["pretagged frames reused"] >= done and counts["pretagged frames"] + counts["pretagged frames reused"] == 50
    assert (folder / "selection.csv").read_text() == (local.folder / "selection.csv").read_text()
    assert predictions(root) == predictions(local_root)


def test_quiet_silences_ray_too(ray_cluster, bikes_mp4, tmp_path):
    """`--quiet` leaves stderr empty: no Ray WARNING lines, no C++ core worker lines."""
    import yaml

    root = datasource(tmp_path / "ds", bikes_mp4)
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump(demo(25)))
    address = ray_cluster.get_runtime_context().gcs_address
    command = [sys.executable, "-m", "thresher", "run", str(root), "--config", str(config), "--engine", "ray", "--address", address, "--quiet"]
    ran = subprocess.run(command, capture_output=True, text=True, timeout=300, env={k: v for k, v in os.environ.items() if k != "RAY_BACKEND_LOG_LEVEL"})
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert len(list((root / ".lightly" / "predictions" / TASK).glob("bikes-*.json"))) == 10  # Ray did run the models
    assert ran.stderr == ""


OBJECTS = {
    "worker_config": {"pretagging": True, "object_level": {"task_name": TASK, "padding": 0.1}},
    "selection_config": {"n_samples": 5, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]},
    "thresher": {"every": 25, "pretagging": {"confidence": 0.3}},
}


def test_object_crops_embed_and_select_the_same_on_ray(ray_cluster, bikes_mp4, tmp_path):
    results = {}
    for name, engine in (("local", "local"), ("ray", ray_engine(shard_bytes=1))):  # shards by bytes alone: one batch each
        root = datasource(tmp_path / name, bikes_mp4)
        results[name] = (root, run(root, OBJECTS, engine=engine))
    (local_root, local), (root, result) = results["local"], results["ray"]
    assert len(local.samples) > 8 and (local.samples.kind == "crop").all()
    assert (result.folder / "selection.csv").read_text() == (local.folder / "selection.csv").read_text()
    assert np.array_equal(embeddings(root, local.samples.id), embeddings(local_root, local.samples.id))
    keys = [store_for(r / ".thresher", "ssd-mobilenet-v2-coco").keys(local.samples.id, CROP_KEY_WIDTH) for r in (root, local_root)]
    assert not np.isnan(keys[0]).any() and np.array_equal(keys[0][:, :5], keys[1][:, :5])  # each crop with its box and file size (the copies differ in time)
    padded = run(root, {**OBJECTS, "worker_config": {**OBJECTS["worker_config"], "object_level": {"task_name": TASK, "padding": 0.3}}}, engine=ray_engine())
    assert padded.counts["embedded"] == len(padded.samples) and padded.counts["embeddings reused"] == 0


def test_a_bucket_is_read_and_written_by_the_workers(ray_cluster, s3, bikes_mp4, tmp_path, ssd):
    from tests.conftest import upload
    from thresher.infer import run_models
    from thresher.io.datasource import Datasource

    fs, options = s3
    local_root = datasource(tmp_path / "ds", bikes_mp4)
    upload(fs, local_root, "bucket/ray-input")
    source = Datasource("s3://bucket/ray-input", storage_options=options)
    frames = source.frames()
    rows = np.flatnonzero(frames.frame_index % 25 == 0)
    result = ray_engine(shard_frames=4).run_models(source, detector=ssd, task=TASK, frames=frames, rows=rows)
    assert result.predicted == 10 and result.reused == 0
    run_models(Datasource(local_root), detector=ssd, task=TASK, frames=frames, rows=rows)
    remote = {p.split("/predictions/", 1)[1]: fs.cat_file(p) for p in fs.find("bucket/ray-input/.lightly/predictions") if p.endswith(".json")}
    assert remote == predictions(local_root)
    again = ray_engine().run_models(source, detector=ssd, task=TASK, frames=frames, rows=rows)
    assert again.predicted == 0 and again.reused == 10  # finished shards are skipped
