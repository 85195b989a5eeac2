"""Each way a new user's input goes wrong ends in one line saying what was wrong and what to do."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from PIL import Image

from tests.conftest import package_file
from thresher.demo import demo_config


def thresher(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "thresher", *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    return errors[0]


@pytest.fixture
def run_file(tmp_path) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(demo_config()))
    return path


def test_an_empty_folder_fails_validate_and_run_with_exit_1_and_counts_unsupported_files(tmp_path, run_file):
    folder = tmp_path / "empty"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "anim.gif")
    (folder / "notes.txt").write_text("hello")
    validated = thresher("validate", "empty", cwd=tmp_path)
    assert validated.returncode == 1
    assert "skipped 2 files of unsupported types (.gif 1, .txt 1)" in validated.stdout
    assert "problem: empty: expected images or videos" in validated.stdout
    ran = thresher("run", "empty", "--config", "run.yaml", cwd=tmp_path)
    assert ran.returncode == 1
    assert one_error_line(ran).startswith("error: empty: no images or videos to select from; skipped 2 files of unsupported types (.gif 1, .txt 1)")
    assert not list((folder / ".thresher" / "runs").glob("*.partial"))  # a failed run removes its own folder


def test_a_run_with_nothing_selectable_says_why(tmp_path, run_file):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    ran = thresher("run", "broken", "--config", "run.yaml", cwd=tmp_path)
    assert ran.returncode == 1
    assert one_error_line(ran) == "error: broken: none of its 1 images and videos could be read (thresher validate broken says why)"


def test_a_datapool_run_with_nothing_new_selects_none_and_says_why(tmp_path):
    from thresher.run import run

    folder = tmp_path / "ds"
    folder.mkdir()
    shutil.copyfile(package_file("skimage", "data", "chelsea.png"), folder / "chelsea.png")
    shutil.copyfile(package_file("skimage", "data", "coffee.png"), folder / "coffee.png")
    config = {
        "worker_config": {"use_datapool": True},
        "selection_config": {"n_samples": 5, "strategies": [{"input": {"type": "RANDOM"}, "strategy": {"type": "WEIGHTS"}}]},
    }
    assert len(run(folder, config).selection) == 2
    lines = []
    again = run(folder, config, log=lines.append)
    assert again.summary() == "selected 0 new (2 already in the datapool) of 2 samples"
    assert any(line == "  nothing to select: of 2 frames, 2 already selected (the datapool)" for line in lines)


def test_a_file_given_as_the_datasource_names_its_folder(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "photo.jpg")
    result = thresher("validate", "photo.jpg", cwd=tmp_path)
    assert result.returncode == 2
    assert one_error_line(result) == "error: photo.jpg: a file, not a folder; give the folder that holds the images and videos, e.g. ."


def test_a_bucket_without_credentials_is_one_line_with_the_fix(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_EC2_METADATA_DISABLED="true")
    result = thresher("validate", "s3://thresher-tests-no-such-bucket", cwd=tmp_path, env=env)
    assert result.returncode == 1
    line = one_error_line(result)
    assert line.startswith("error: s3://thresher-tests-no-such-bucket: no credentials found (NoCredentialsError")
    assert "AWS_ACCESS_KEY_ID" in line and "--storage-options '{\"anon\": true}'" in line


def test_an_unreadable_tiff_is_named_without_a_file_object_repr(tmp_path):
    folder = tmp_path / "tifs"
    folder.mkdir()
    (folder / "bad.tif").write_bytes(b"II*\x00" + b"garbage" * 10)
    result = thresher("validate", "tifs", cwd=tmp_path)
    assert result.returncode == 1
    assert "problem: bad.tif: expected a readable image, got a TIFF signature, but Pillow's TIFF reader fails (" in result.stdout
    assert "object at 0x" not in result.stdout + result.stderr and "Warning" not in result.stderr


def test_serve_on_a_datasource_folder_points_at_its_catalog(tmp_path):
    from thresher.app.state import AppState
    from thresher.catalog import Catalog
    from thresher.errors import UsageError

    (tmp_path / "ds" / ".thresher").mkdir(parents=True)
    Catalog(tmp_path / "ds" / ".thresher").close()
    with pytest.raises(UsageError, match=r"that is a datasource; its catalog is .*ds/\.thresher \(serve --catalog .*ds/\.thresher\)"):
        AppState(tmp_path / "ds")


def test_select_given_a_run_file_says_so(tmp_path, run_file):
    folder = tmp_path / "ds"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "a.png")
    result = thresher("select", "ds", "--config", "run.yaml", "--out", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert one_error_line(result).startswith("error: run.yaml: a run file (it has selection_config, thresher, worker_config), not a selection_config")


def test_the_partial_folder_of_a_killed_run_is_removed_by_the_next_run_but_not_a_live_one(tmp_path):
    from thresher.run.partial import PartialFolder, remove_dead_partials

    runs = tmp_path / "runs"
    live = PartialFolder(runs / "live.partial")
    code = (
        "import sys, time; from pathlib import Path; from thresher.run.partial import PartialFolder; PartialFolder(Path(sys.argv[1])); print('locked', flush=True); time.sleep(60)"
    )
    killed = subprocess.Popen([sys.executable, "-c", code, str(runs / "killed.partial")], stdout=subprocess.PIPE, text=True)
    assert killed.stdout.readline().strip() == "locked"
    assert remove_dead_partials(runs) == []  # both alive
    killed.kill()
    killed.wait()
    killed.stdout.close()
    assert remove_dead_partials(runs) == [runs / "killed.partial"]
    assert (runs / "live.partial").is_dir()
    live.finish(runs / "live")
    live.done()
    assert sorted(p.name for p in runs.iterdir()) == ["live"] and not (runs / "live" / ".lock").exists()


def test_a_ray_address_where_nothing_listens_fails_before_enumerating(tmp_path, run_file):
    folder = tmp_path / "ds"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "a.png")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    ran = thresher("run", "ds", "--config", "run.yaml", "--engine", "ray", "--address", f"127.0.0.1:{port}", cwd=tmp_path)
    assert time.monotonic() - started < 60  # ray.init alone retries for minutes
    assert ran.returncode != 0
    assert one_error_line(ran).startswith(f"error: --address 127.0.0.1:{port}: expected a running Ray head at 127.0.0.1:{port}, got connection refused")
    assert "enumerate" not in ran.stderr


@pytest.fixture
def web_server():
    """`python -m http.server` on a free local port (a TCP port that is not a Ray head): its port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):  # until it listens
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield port
    server.kill()
    server.wait()


def test_a_ray_address_where_a_web_server_listens_fails_in_seconds_with_what_to_do(tmp_path, run_file, web_server):
    """ray.init would wait on it for about a quarter of an hour, then print a traceback."""
    (tmp_path / "ds").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "ds" / "a.png")
    address = f"127.0.0.1:{web_server}"
    command = [sys.executable, "-m", "thresher", "run", "ds", "--config", "run.yaml", "--engine", "ray", "--address", address]
    ran = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)  # a hang fails the test
    assert ran.returncode == 2
    assert one_error_line(ran) == (
        f"error: --address {address}: expected a Ray head at {address}, got a port that accepts connections but does not answer as one"
        " (Ray's GCS client, 10 s allowed); start it with `ray start --head` and pass the address it prints, or --address auto for the cluster of this machine"
    )
    assert not (tmp_path / "ds" / ".thresher").exists()  # refused before any work


def test_a_ray_address_without_the_ray_engine_is_refused(tmp_path, run_file):
    (tmp_path / "ds").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "ds" / "a.png")
    ran = thresher("run", "ds", "--config", "run.yaml", "--address", "127.0.0.1:6379", cwd=tmp_path)
    assert ran.returncode == 2
    assert (
        one_error_line(ran)
        == "error: --address 127.0.0.1:6379: only the ray engine joins a cluster, and the engine is 'local'; add --engine ray (engine='ray'), or leave the address out"
    )
    assert not (tmp_path / "ds" / ".thresher").exists()


@pytest.mark.slow
@pytest.mark.parametrize("command", ["predict", "run"])
def test_ctrl_c_says_the_work_is_kept_and_how_to_resume(tmp_path, bikes_mp4, command):
    import signal
    import time

    (tmp_path / "ds").mkdir()
    shutil.copyfile(bikes_mp4, tmp_path / "ds" / "bikes.mp4")
    config = tmp_path / "run.yaml"
    selection = {"n_samples": 2, "strategies": [{"input": {"type": "SCORES", "task": "lightly_pretagging", "score": "uncertainty_margin"}, "strategy": {"type": "WEIGHTS"}}]}
    config.write_text(yaml.safe_dump({"worker_config": {"pretagging": True, "enable_corruptness_check": False}, "selection_config": selection}))
    args = ["predict", "ds"] if command == "predict" else ["run", "ds", "--config", str(config), "--quiet"]
    started = subprocess.Popen([sys.executable, "-m", "thresher", *args], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    written = tmp_path / "ds" / ".lightly" / "predictions" / "lightly_pretagging"
    deadline = time.time() + 120
    while len(list(written.glob("*.json"))) < 10 and started.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    started.send_signal(signal.SIGINT)
    out, err = started.communicate(timeout=120)
    assert started.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted: finished work is kept; run the same command again to resume"
    assert "Traceback" not in err


def test_predict_on_a_bucket_needs_a_catalog_to_record_its_settings(tmp_path, s3, carphone_mp4):
    fs, options = s3
    fs.pipe_file("bucket/predict-no-catalog/clip.mp4", carphone_mp4.read_bytes())
    result = thresher("predict", "s3://bucket/predict-no-catalog", "--storage-options", json.dumps(options), cwd=tmp_path)
    assert result.returncode == 2
    assert one_error_line(result) == "error: s3://bucket/predict-no-catalog is not a local folder: give a local folder for thresher's state with --catalog PATH"
    assert not fs.exists("bucket/predict-no-catalog/.lightly")  # refused before predicting anything


@pytest.fixture
def silent_endpoint():
    """A TCP server that accepts every connection and never answers: its `http://` URL."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:  # closed at the end of the test
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for connection in held:
        connection.close()


def test_a_bucket_endpoint_that_never_answers_is_one_line_within_seconds(tmp_path, silent_endpoint):
    """thresher's defaults retry a timed-out request 3 times, not botocore's and s3fs's 25: with a
    1 s read timeout the error comes after a few seconds (about 25 s without them)."""
    import json
    import time

    pytest.importorskip("s3fs")
    options = {"key": "k", "secret": "s", "client_kwargs": {"endpoint_url": silent_endpoint, "region_name": "us-east-1"}, "config_kwargs": {"read_timeout": 1}}
    start = time.monotonic()
    result = thresher("validate", "s3://street/data", "--storage-options", json.dumps(options), cwd=tmp_path)
    elapsed = time.monotonic() - start
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == "reading s3://street/data …"
    assert one_error_line(result).startswith("error: s3://street/data: cannot read the bucket (ReadTimeoutError: Read timeout on endpoint URL")
    assert elapsed < 15, elapsed


def test_weak_candidates_without_a_threshold_names_the_flag(tmp_path):
    folder = tmp_path / "ds"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "a.png")
    result = thresher("score", "ds", "--task", "det", "--out", "s.csv", "--families", "lightly,weak_candidates", cwd=tmp_path)
    assert result.returncode == 2
    assert one_error_line(result).startswith("error: --families weak_candidates needs --candidate-threshold: expected the score from which a box counts as detected")
    assert not (tmp_path / "s.csv").exists()
