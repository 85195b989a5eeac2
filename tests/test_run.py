"""The worker run end to end on real data: outputs, removed samples, reuse, determinism, kills."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.conftest import package_file, tree_digest
from tests.killed_writes import killed_while_writing, temporaries
from thresher.catalog import Catalog
from thresher.run import run

SELECTION = {
    "n_samples": 6,
    "strategies": [
        {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
        {"input": {"type": "SCORES", "task": "lightly_pretagging", "score": "objectness_least_confidence"}, "strategy": {"type": "WEIGHTS"}},
    ],
}
CONFIG = {"worker_config": {"pretagging": True}, "selection_config": SELECTION, "thresher": {"every": 25}}


def make_datasource(root, bikes_mp4):
    root.mkdir()
    shutil.copyfile(bikes_mp4, root / "bikes.mp4")
    shutil.copyfile(package_file("skimage", "data", "chelsea.png"), root / "chelsea.png")
    shutil.copyfile(package_file("skimage", "data", "chelsea.png"), root / "chelsea_copy.png")
    shutil.copyfile(package_file("skimage", "data", "coffee.png"), root / "coffee.png")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    return root


@pytest.fixture
def datasource(tmp_path, bikes_mp4):
    """bikes.mp4 (every 25th frame used), two real photos, an exact copy of one, a broken JPEG."""
    return make_datasource(tmp_path / "ds", bikes_mp4)


@pytest.fixture(scope="module")
def reference_selection(tmp_path_factory, bikes_mp4):
    """The selection of an uninterrupted run of CONFIG on a fresh copy of the datasource."""
    return run(make_datasource(tmp_path_factory.mktemp("reference") / "ds", bikes_mp4), CONFIG).selection.ids.tolist()


def media(root):
    return {k: v for k, v in tree_digest(root).items() if not k.startswith((".lightly", ".thresher"))}


def assert_lossless(root, frames_folder):
    """Each extracted PNG holds exactly the decoded pixels of its video frame."""
    from PIL import Image

    from thresher.io.datasource import Datasource
    from thresher.io.problems import Problems
    from thresher.io.video import VideoReader

    source = Datasource(root)
    frames = source.frames(Problems())  # the datasource holds a corrupt image on purpose
    for path in (p for p in frames_folder.iterdir() if p.name.startswith("bikes-")):
        row = int(frames.index_of([path.name])[0])
        with VideoReader(source.input, str(frames.video[row])) as reader, Image.open(path) as image:
            assert np.array_equal(np.asarray(image), reader[int(frames.frame_index[row])]), path.name


def removed_rows(folder):
    with open(folder / "removed_samples.csv") as f:
        return {(r["file_name"], r["reason"]) for r in csv.DictReader(f)}


def test_run_writes_outputs_and_lists_what_it_removed(datasource):
    before = media(datasource)
    result = run(datasource, CONFIG)
    folder = result.folder
    assert len(result.selection) == 6 and folder.name == result.run_id
    assert {("broken.jpg", "corrupt"), ("chelsea_copy.png", "duplicate")} <= removed_rows(folder)
    with open(folder / "selection.csv") as f:
        picked = [r["file_name"] for r in csv.DictReader(f)]
    assert picked == result.selection.ids.tolist()
    assert sorted(p.name for p in (folder / "images").iterdir()) == sorted(picked)
    assert_lossless(datasource, folder / "images")
    for still in (p for p in picked if not p.startswith("bikes-")):  # stills are relative links into the datasource
        link = folder / "images" / still
        assert link.is_symlink() and not os.path.isabs(os.readlink(link)) and link.read_bytes() == (datasource / still).read_bytes()
    tasks = json.loads((folder / "label_studio_tasks.json").read_text())
    assert [t["data"]["thresher_id"] for t in tasks] == picked
    assert [t["data"]["image"] for t in tasks] == [f"/data/local-files/?d=runs/{result.run_id}/images/{p}" for p in picked]
    assert all(len(t["predictions"]) == 1 for t in tasks)
    coco = json.loads((folder / "coco.json").read_text())
    assert [i["file_name"] for i in coco["images"]] == picked
    assert (folder / "filenames.txt").read_text().split() == picked
    assert media(datasource) == before
    assert not list(folder.parent.glob("*.partial"))
    with Catalog(datasource / ".thresher") as catalog:
        assert catalog.tag(f"run-{result.run_id}") == picked
        assert catalog.run(result.run_id).status == "done"


def test_second_run_reuses_everything_and_selects_the_same(datasource):
    first = run(datasource, CONFIG)
    second = run(datasource, CONFIG)
    assert second.counts["pretagged frames"] == 0 and second.counts["embedded"] == 0
    assert second.selection.ids.tolist() == first.selection.ids.tolist()


def test_a_float16_store_and_a_projected_diversity(datasource):
    """thresher.embedding_dtype writes float16 shards; thresher.diversity selects over their PCA
    projection; duplicates are still found in the float16 store, and a rerun reuses it."""
    config = {**CONFIG, "thresher": {"every": 25, "embedding_dtype": "float16", "diversity": {"pca_dims": 4, "pca_sample": 50}}}
    result = run(datasource, config)
    assert len(result.selection) == 6 and ("chelsea_copy.png", "duplicate") in removed_rows(result.folder)
    shards = list((datasource / ".thresher" / "embeddings" / "ssd-mobilenet-v2-coco").glob("shard-*/vectors.npy"))
    assert shards and all(np.load(p, mmap_mode="r").dtype == np.float16 for p in shards)
    again = run(datasource, config)
    assert again.counts["embedded"] == 0 and again.selection.ids.tolist() == result.selection.ids.tolist()


def test_file_names_escaping_the_datasource_are_refused(datasource):
    task = datasource / ".lightly/predictions/user"
    task.mkdir(parents=True)
    (datasource / ".lightly/predictions/tasks.json").write_text('["user"]')
    (task / "schema.json").write_text(json.dumps({"task_type": "object-detection", "categories": [{"id": 0, "name": "cat"}]}))
    (task / "coffee.json").write_text(json.dumps({"file_name": "../../../etc/passwd", "predictions": []}))
    config = {
        **CONFIG,
        "selection_config": {
            "n_samples": 3,
            "strategies": [{"input": {"type": "SCORES", "task": "user", "score": "objectness_least_confidence"}, "strategy": {"type": "WEIGHTS"}}],
        },
    }
    result = run(datasource, config)
    assert len(result.selection) == 3
    # the file's name escapes the datasource: it is refused, and its sample listed as removed
    assert ("coffee.png", "invalid prediction") in removed_rows(result.folder)
    assert "coffee.png" not in result.selection.ids


def test_invalid_prediction_files_are_explained_and_counted_on_the_console(datasource):
    """removed_samples.csv says what is wrong with each file; the log has one warning line with
    the counts (files for no sample too) pointing to `thresher validate`."""
    task = datasource / ".lightly/predictions/user"
    task.mkdir(parents=True)
    (datasource / ".lightly/predictions/tasks.json").write_text('["user"]')
    (task / "schema.json").write_text(json.dumps({"task_type": "object-detection", "categories": [{"id": 0, "name": "cat"}]}))
    (task / "coffee.json").write_text(json.dumps({"file_name": "coffee.png", "predictions": [{"category_id": 0, "bbox": [1, 1, 9, 9], "score": 1.5}]}))
    (task / "gone.json").write_text(json.dumps({"file_name": "gone.png", "predictions": []}))
    strategy = {"input": {"type": "SCORES", "task": "user", "score": "objectness_least_confidence"}, "strategy": {"type": "WEIGHTS"}}
    lines: list[str] = []
    result = run(datasource, {**CONFIG, "selection_config": {"n_samples": 3, "strategies": [strategy]}}, log=lines.append)
    with open(result.folder / "removed_samples.csv") as f:
        details = {r["file_name"]: r["detail"] for r in csv.DictReader(f) if r["reason"] == "invalid prediction"}
    assert details == {"coffee.png": "prediction file of task user is invalid: predictions[0].score: expected a number in [0, 1], got 1.5"}
    warnings = [line for line in lines if "warning: task user" in line]
    assert warnings == [
        "  warning: task user: 1 samples removed for an invalid prediction file (why: removed_samples.csv), "
        f"1 prediction file for no sample of the datasource ignored; `thresher validate {datasource}` lists every problem"
    ]
    assert json.loads((result.folder / "run.json").read_text())["counts"]["invalid predictions"] == 1


DRIVER = textwrap.dedent(
    """
    import json, sys
    from thresher.run import run
    config = json.loads(sys.argv[2])
    run(sys.argv[1], config, log=lambda line: print(line, flush=True))
    print("DONE", flush=True)
    """
)


@pytest.mark.parametrize("stage", ["pretagging", "embeddings", "selection", "outputs"])
def test_a_killed_run_leaves_everything_consistent_and_the_next_resumes(datasource, reference_selection, stage):
    expected = reference_selection
    before = media(datasource)
    with subprocess.Popen([sys.executable, "-c", DRIVER, str(datasource), json.dumps(CONFIG)], stdout=subprocess.PIPE, text=True) as process:
        for line in process.stdout:
            if line.startswith(stage):
                break
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    database = sqlite3.connect(datasource / ".thresher" / "catalog.sqlite")
    assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert database.execute("SELECT COUNT(*) FROM runs WHERE status = 'done'").fetchone() == (0,)
    assert database.execute("SELECT COUNT(*) FROM tags").fetchone() == (0,)
    database.close()
    assert media(datasource) == before
    resumed = run(datasource, CONFIG)
    assert resumed.selection.ids.tolist() == expected
    if stage != "pretagging":
        assert resumed.counts["pretagged frames"] == 0  # finished work is not redone
    assert temporaries(datasource) == []  # the kill may land mid-write: the next run removes what it left


def test_the_next_run_removes_what_killed_writes_left_and_only_that(datasource, reference_selection):
    """The kill above, made certain to land mid-write: a command killed while writing a prediction
    file, metadata, thresher's record in `.lightly/`, a workspace cache and an embedding shard
    leaves their temporaries; the next run removes them, says so, keeps the user's files that
    only look like one, and reuses everything as if nothing had happened."""
    first = run(datasource, CONFIG)
    lightly, workspace = datasource / ".lightly", datasource / ".thresher"
    files = [
        lightly / "predictions/lightly_pretagging/schema.json",
        lightly / "metadata/bikes-000-mp4.json",
        lightly / "thresher/assertions.json",
        workspace / "cache/metadata.npz",
    ]
    killed_while_writing(files, [workspace / "embeddings/ssd-mobilenet-v2-coco/shard-00001"])
    users = [lightly / "predictions/notes.tmp", datasource / ".coffee.png.1a2b3c4d.tmp"]  # the latter not in a folder thresher writes
    for path in users:
        path.write_bytes(b"the user's")
    left = [p for p in temporaries(datasource) if p not in users]
    assert len(left) == 5
    lines: list[str] = []
    rerun = run(datasource, CONFIG, log=lines.append)
    assert temporaries(datasource) == sorted(users) and all(p.read_bytes() == b"the user's" for p in users)
    said = [line for line in lines if line.startswith("removed ")]
    assert len(said) == 1 and said[0].startswith("removed 5 temporary files left by a command killed while writing: ") and said[0].endswith(", … (2 more)")
    assert str(next(p for p in left if "/predictions/" in str(p))) in said[0]  # the predictions first
    assert rerun.selection.ids.tolist() == first.selection.ids.tolist() == reference_selection
    assert rerun.counts["pretagged frames"] == 0 and rerun.counts["embedded"] == 0


def test_datapool_processes_only_new_files_and_keeps_earlier_picks(datasource, carphone_mp4):
    config = {**CONFIG, "worker_config": {"pretagging": True, "use_datapool": True}}
    first = run(datasource, config)
    shutil.copyfile(carphone_mp4, datasource / "carphone.mp4")
    second = run(datasource, {**config, "selection_config": {**SELECTION, "n_samples": 10}})
    new = second.selection.ids[len(first.selection) :]
    assert set(second.selection.ids[: len(first.selection)].tolist()) == set(first.selection.ids.tolist())
    assert len(new) == 4 and all(i.startswith("carphone-") for i in new)
    assert np.isnan(second.selection.objective[: len(first.selection)]).all()
    with Catalog(datasource / ".thresher") as catalog:
        assert set(catalog.tag("datapool")) == set(second.selection.ids.tolist())


def test_object_level_run_selects_crops(datasource):
    config = {
        "worker_config": {"pretagging": True, "object_level": {"task_name": "lightly_pretagging", "padding": 0.1}},
        "selection_config": {"n_samples": 5, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]},
        "thresher": {"every": 25, "pretagging": {"confidence": 0.5}},
    }
    result = run(datasource, config)
    assert len(result.selection) == 5 and (result.samples.kind == "crop").all()
    crops = sorted(p.name for p in (result.folder / "ds-crops").rglob("*.png"))
    assert len(crops) == 5 and all("-" in c for c in crops)


def test_a_bucket_datasource_runs_end_to_end(s3, datasource, tmp_path):
    from tests.conftest import upload

    fs, options = s3
    upload(fs, datasource, "bucket/run-input")
    before = {p: fs.info(p)["size"] for p in fs.find("bucket/run-input")}
    result = run("s3://bucket/run-input", CONFIG, catalog=tmp_path / "catalog", storage_options=options)
    assert len(result.selection) == 6
    assert {("broken.jpg", "corrupt"), ("chelsea_copy.png", "duplicate")} <= removed_rows(result.folder)
    frames = [p for p in result.selection.ids.tolist() if p.startswith("bikes-")]
    images = result.folder / "images"
    assert sorted(p.name for p in images.iterdir()) == sorted(result.selection.ids.tolist())
    for still in set(result.selection.ids.tolist()) - set(frames):  # a bucket's stills are copied
        assert not (images / still).is_symlink() and (images / still).read_bytes() == (datasource / still).read_bytes()
    media_after = {p: s for p, s in ((p, fs.info(p)["size"]) for p in fs.find("bucket/run-input")) if "/.lightly/" not in p}
    assert media_after == {p: s for p, s in before.items() if "/.lightly/" not in p}
    assert fs.exists("bucket/run-input/.lightly/predictions/lightly_pretagging/schema.json")
    assert_served_with_options(tmp_path / "catalog", options, frames[0])


def object_versions(client, bucket: str) -> list[tuple[str, str]]:
    """(key, version id) of every version and delete marker in a versioned bucket: one more per put or delete."""
    found = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        found += [(v["Key"], v["VersionId"]) for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
    return sorted(found)


def test_a_rerun_on_a_bucket_writes_nothing_to_it(s3, datasource, tmp_path):
    """Everything reused: not one put to the user's bucket (schema.json, tasks.json, metadata, records)."""
    import boto3

    from tests.conftest import upload

    fs, options = s3
    endpoint = options["client_kwargs"]["endpoint_url"]
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket="versioned")
    client.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
    upload(fs, datasource, "versioned/rerun")
    config = {**CONFIG, "thresher": {**CONFIG["thresher"], "assertions": {"names": ["flicker"]}}}
    run("s3://versioned/rerun", config, catalog=tmp_path / "catalog", storage_options=options)
    written = object_versions(client, "versioned")
    assert any(key.endswith(".lightly/predictions/lightly_pretagging/schema.json") for key, _ in written)
    rerun = run("s3://versioned/rerun", config, catalog=tmp_path / "catalog", storage_options=options)
    assert rerun.counts["pretagged frames"] == 0 and rerun.counts["embedded"] == 0
    assert object_versions(client, "versioned") == written


def assert_served_with_options(catalog, options, frame_id):
    """`thresher serve --storage-options` reads the bucket's pixels and boxes for the app."""
    import threading
    import urllib.request

    from thresher.app import make_server

    server = make_server(catalog, port=0, storage_options=options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        with urllib.request.urlopen(f"{base}/api/samples", timeout=60) as answer:
            assert answer.status == 200 and json.loads(answer.read())["items"]
        with urllib.request.urlopen(f"{base}/api/image?id={frame_id}", timeout=60) as answer:
            assert answer.headers["Content-Type"] == "image/jpeg" and answer.read()[:2] == b"\xff\xd8"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_changed_file_is_processed_again(datasource):
    first = run(datasource, CONFIG)
    shutil.copyfile(package_file("skimage", "data", "astronaut.png"), datasource / "coffee.png")  # same name, new content
    second = run(datasource, CONFIG)
    assert second.counts["pretagged frames"] == 1  # only the changed image
    assert first.counts["pretagged frames"] > 1
    # the pretagging's forward pass embedded it: embedded once, every other embedding reused
    assert second.counts["embedded"] == 1
    assert second.counts["embeddings reused"] == first.counts["embedded"] - 1


EMBEDDINGS_ONLY = {
    "selection_config": {"n_samples": 3, "strategies": [{"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}}]},
    "thresher": {"every": 25},
}


def test_a_changed_file_is_embedded_again_after_the_cache_is_deleted(datasource, ssd):
    """The store proves by itself which file each vector came from: clearing `cache/` makes no stale vector pass."""
    from tests.conftest import read_rgb
    from thresher.embedding_store import EmbeddingStore

    first = run(datasource, EMBEDDINGS_ONLY)
    store = EmbeddingStore(datasource / ".thresher" / "embeddings" / "ssd-mobilenet-v2-coco")
    old = np.asarray(store.open().align(["coffee.png"]).vectors)
    shutil.copyfile(package_file("skimage", "data", "astronaut.png"), datasource / "coffee.png")  # same name, new content
    shutil.rmtree(datasource / ".thresher" / "cache")  # the natural "clear the cache"
    second = run(datasource, EMBEDDINGS_ONLY)
    assert second.counts["embedded"] == 1 and second.counts["embeddings reused"] == first.counts["embedded"] - 1
    stored = np.asarray(store.open().align(["coffee.png"]).vectors)
    fresh = ssd.embed([read_rgb(datasource / "coffee.png")])
    assert np.allclose(stored, fresh, atol=1e-5) and not np.allclose(stored, old, atol=1e-2)


def test_temporal_assertions_on_every_nth_frame_warn(bikes_datasource_copy):
    """Pretagging every 50th frame leaves no consecutive frames: the run says flicker cannot flag."""
    lines = []
    config = {
        "worker_config": {"pretagging": True},
        "thresher": {"every": 50, "assertions": {"names": ["flicker"]}, "exports": {"images": False}},
        "selection_config": {"n_samples": 2, "strategies": [{"input": {"type": "RANDOM"}, "strategy": {"type": "WEIGHTS"}}]},
    }
    result = run(bikes_datasource_copy, config, log=lines.append)
    assert any("warning: flicker compare consecutive frames" in line and "every 50th frame" in line for line in lines)
    assert result.counts["flicker flagged"] == 0


def stills(root, count: int = 4):
    """`count` small distinct PNGs (no model needed to select among them)."""
    from PIL import Image

    root.mkdir()
    for k in range(count):
        Image.fromarray(np.full((16, 16, 3), 50 * k, np.uint8)).save(root / f"s{k}.png")
    return root


RANDOM_DATAPOOL = {
    "worker_config": {"use_datapool": True},
    "selection_config": {"n_samples": 1, "strategies": [{"input": {"type": "RANDOM", "random_seed": 0}, "strategy": {"type": "WEIGHTS"}}]},
}


def test_a_run_killed_between_its_folder_and_the_catalog_record_is_not_left_looking_finished(tmp_path, monkeypatch):
    import thresher.run.api

    source = stills(tmp_path / "ds")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # as SIGKILL would stop it: no `except Exception` runs

    monkeypatch.setattr(thresher.run.api, "record_run", killed)
    with pytest.raises(KeyboardInterrupt):
        run(source, RANDOM_DATAPOOL)
    runs = source / ".thresher" / "runs"
    (first,) = runs.iterdir()
    assert (first / ".lock").exists() and (first / "selection.csv").exists()  # final name, not recorded
    monkeypatch.undo()
    lines: list[str] = []
    second = run(source, RANDOM_DATAPOOL, log=lines.append)
    assert f"removed {first.name}, left by a run that did not finish" in lines
    assert sorted(p.name for p in runs.iterdir()) == [second.run_id] and not (second.folder / ".lock").exists()
    with Catalog(source / ".thresher") as catalog:
        assert catalog.tag("datapool") == second.selection.ids.tolist()  # the datapool never learned of the first run
        assert catalog.run(first.name).status == "interrupted"


KILLED_BEFORE_RECORD = (  # a run killed (SIGKILL) after its folder's rename, before the catalog's record
    "import json, os, signal, sys; import thresher.run.api as api; "
    "api.record_run = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL); api.run(sys.argv[1], json.loads(sys.argv[2]))"
)


def test_a_run_killed_before_its_catalog_record_is_marked_interrupted_by_the_next_run(tmp_path):
    source = stills(tmp_path / "ds")
    killed = subprocess.run([sys.executable, "-c", KILLED_BEFORE_RECORD, str(source), json.dumps(RANDOM_DATAPOOL)], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with Catalog(source / ".thresher") as catalog:
        (first,) = catalog.runs()
    assert first.status == "running"  # it could not say otherwise
    second = run(source, RANDOM_DATAPOOL)
    with Catalog(source / ".thresher") as catalog:
        dead = catalog.run(first.id)
    assert dead.status == "interrupted" and dead.error == f"killed before it finished; its folder was removed by run {second.run_id}"
    assert dead.finished is not None


def test_a_run_whose_catalog_record_fails_removes_its_final_folder(tmp_path, monkeypatch):
    import thresher.run.api

    source = stills(tmp_path / "ds")

    def failed(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(thresher.run.api, "record_run", failed)
    with pytest.raises(sqlite3.OperationalError):
        run(source, RANDOM_DATAPOOL)
    assert list((source / ".thresher" / "runs").iterdir()) == []


def test_a_datapool_that_fills_n_samples_says_so_when_new_files_wait(tmp_path):
    from PIL import Image

    source = stills(tmp_path / "ds")
    run(source, RANDOM_DATAPOOL)
    Image.fromarray(np.full((16, 16, 3), 7, np.uint8)).save(source / "new.png")  # round 2: a new file
    again = run(source, RANDOM_DATAPOOL)
    assert again.summary() == "selected 0 new (1 already in the datapool) of 2 samples; n_samples counts the datapool's samples: raise it to select new ones"


def test_a_bucket_run_points_to_validate_with_the_same_storage_options(s3, tmp_path):
    """The run's warning names the `--storage-options` the bucket needs (not their values)."""
    from tests.conftest import upload

    fs, options = s3
    root = tmp_path / "ds"
    (root / ".lightly/predictions/user").mkdir(parents=True)
    for name in ("chelsea.png", "coffee.png"):
        shutil.copyfile(package_file("skimage", "data", name), root / name)
    (root / ".lightly/predictions/tasks.json").write_text('["user"]')
    (root / ".lightly/predictions/user/schema.json").write_text(json.dumps({"task_type": "object-detection", "categories": [{"id": 0, "name": "cat"}]}))
    (root / ".lightly/predictions/user/coffee.json").write_text(json.dumps({"file_name": "coffee.png", "predictions": [{"category_id": 0, "bbox": [1, 1, 9, 9], "score": 1.5}]}))
    upload(fs, root, "bucket/options-hint")
    strategy = {"input": {"type": "SCORES", "task": "user", "score": "objectness_least_confidence"}, "strategy": {"type": "WEIGHTS"}}
    config = {"selection_config": {"n_samples": 1, "strategies": [strategy]}, "thresher": {"exports": {"images": False}}}
    lines: list[str] = []
    run("s3://bucket/options-hint", config, catalog=tmp_path / "catalog", storage_options=options, log=lines.append)
    warnings = [line for line in lines if "warning: task user" in line]
    assert len(warnings) == 1 and warnings[0].endswith("; `thresher validate s3://bucket/options-hint` with the same --storage-options lists every problem"), lines
    assert "secret" not in warnings[0] and "testing" not in warnings[0]


def test_a_rerun_of_an_unchanged_run_opens_no_prediction_file(bikes_datasource_copy, monkeypatch):
    """Every task is read once per run through the columnar cache: the report's thumbnails and
    flagged strips draw the boxes the run read, so an unchanged rerun opens no prediction file."""
    from thresher.io.datasource import Datasource
    from thresher.io.storage import Location
    from thresher.report.data import load_report_data
    from thresher.report.thumbs import read_boxes

    config = {
        "selection_config": {"n_samples": 5, "strategies": [{"input": {"type": "SCORES", "task": "ssd", "score": "objectness_least_confidence"}, "strategy": {"type": "WEIGHTS"}}]},
        "thresher": {"assertions": {"task": "ssd", "names": ["flicker"]}, "exports": {"images": False}},
    }
    run(bikes_datasource_copy, config)
    opened: list[str] = []
    for method in ("open", "read_bytes"):
        original = getattr(Location, method)
        monkeypatch.setattr(Location, method, lambda self, name, _original=original: (opened.append(name), _original(self, name))[1])
    original_many = Location.read_many
    monkeypatch.setattr(Location, "read_many", lambda self, names: original_many(self, [opened.append(n) or n for n in names]))
    second = run(bikes_datasource_copy, config)
    assert [n for n in opened if n.startswith(".lightly/predictions/") and not n.endswith(("schema.json", "tasks.json"))] == []
    monkeypatch.undo()
    thumbs = load_report_data(second.folder).thumbnails
    drawn = {(str(thumbs.frame_id[t]), tuple(np.round(xyxy, 2).tolist())) for t, xyxy, imputed in zip(thumbs.box_thumb, thumbs.box_xyxy, thumbs.box_imputed) if not imputed}
    source = Datasource(bikes_datasource_copy)
    frames = source.frames()
    detections, _ = read_boxes(source.lightly, "ssd", frames[frames.index_of(thumbs.frame_id)])
    in_files = {(str(thumbs.frame_id[f]), tuple(np.round(xyxy.astype(np.float32), 2).tolist())) for f, xyxy in zip(detections.frame, detections.xyxy)}
    assert drawn and drawn == in_files  # the boxes of the files, drawn on the right thumbnails
