"""`thresher serve` over a catalog whose run read a bucket, started without the bucket's
credentials: a warning at startup, each failure's reason once in the log, and on the page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.app.test_server_http import serving
from tests.conftest import package_file
from thresher.app.state import AppState, credentials_warnings
from thresher.run import run

URL = "s3://bucket/serve-input"


@pytest.fixture(scope="module")
def bucket_catalog(s3, tmp_path_factory) -> Path:
    """The workspace of a run over two photos in the local S3 bucket (read with its options)."""
    fs, options = s3
    root = tmp_path_factory.mktemp("bucket-serve")
    for name in ("chelsea.png", "coffee.png"):
        fs.pipe_file(f"{URL.removeprefix('s3://')}/{name}", package_file("skimage", "data", name).read_bytes())
    config = {"selection_config": {"n_samples": 1, "strategies": [{"input": {"type": "RANDOM"}, "strategy": {"type": "WEIGHTS"}}]}, "thresher": {"exports": {"images": False}}}
    run(URL, config, catalog=root / "catalog", storage_options=options)
    return root / "catalog"


def no_credentials(home: Path) -> dict[str, str]:
    """The environment without any AWS credentials (nor a machine role to ask for)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(home), AWS_CONFIG_FILE=str(home / "none"), AWS_SHARED_CREDENTIALS_FILE=str(home / "none"), AWS_EC2_METADATA_DISABLED="true")
    return env


@pytest.fixture
def without_aws_credentials(tmp_path, monkeypatch) -> None:
    """This process's environment as `no_credentials` gives it (restored after the test)."""
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in no_credentials(tmp_path).items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)


def test_startup_warns_when_no_credentials_will_open_the_runs_bucket(bucket_catalog, s3, tmp_path):
    """`thresher serve` says at once that the run's bucket cannot be read; not with options, nor
    with credentials in the environment."""
    env = no_credentials(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "thresher", "serve", "--catalog", str(bucket_catalog), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        announced = process.stdout.readline()  # type: ignore[union-attr]  # after the warnings
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=30)
    assert announced.startswith("thresher serves "), (announced, errors)
    warnings = [line for line in errors.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        f"warning: {URL}: runs of this catalog read this bucket, and neither --storage-options nor credentials in the environment are given: "
        "its images will not show; restart with the --storage-options of the run, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "(or AWS_PROFILE), or pass --storage-options '{\"anon\": true}' for a public bucket"
    ]
    state = AppState(bucket_catalog, s3[1])  # what the server answers from, without a socket to listen on
    assert credentials_warnings(state, env) == []
    state.storage_options = None
    assert len(credentials_warnings(state, env)) == 1
    assert credentials_warnings(state, {**env, "AWS_PROFILE": "work"}) == []


def image_status(server, sample_id: str) -> tuple[int, str]:
    """(HTTP status, JSON error or "") of the sample's 640-pixel image."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/api/image?id={sample_id}&size=640", timeout=60) as answer:
            return answer.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())["error"]


def test_each_reason_an_image_fails_for_is_logged_once(bucket_catalog, without_aws_credentials):
    lines: list[str] = []
    with serving(bucket_catalog, log=lines.append) as server:
        answers = [image_status(server, sample) for sample in ("coffee.png", "chelsea.png", "coffee.png")]
    assert {status for status, _ in answers} == {500}
    assert answers[0][1].startswith(f"{URL}: no credentials found (NoCredentialsError")
    told = [line for line in lines if line.startswith("error on ")]
    assert told == [f"error on GET /api/image: {answers[0][1]}"], lines
    assert sum('"GET /api/image?id=' in line and " 500" in line for line in lines) == 3


@pytest.mark.slow
def test_the_sample_page_shows_why_its_image_failed(bucket_catalog, browser, without_aws_credentials):
    from tests.app.test_app_browser import open_page, wait_until

    with serving(bucket_catalog) as server:
        context, page, requests, errors = open_page(browser, server, "/sample?id=coffee.png")
        try:
            wait_until(page, "() => document.querySelector('.big .frame p.image-error') !== null")
            note = page.locator(".big .frame p.image-error").inner_text()
            title = page.locator(".big .frame img").get_attribute("title")
        finally:
            context.close()
    assert note.startswith(f"{URL}: no credentials found (NoCredentialsError") and title == note
    assert not errors and not requests.refused
