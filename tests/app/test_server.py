"""`thresher serve` over HTTP: its JSON answers, and that nothing from the URL reaches the file system."""

from __future__ import annotations

import http.client
import json
import re
from urllib.parse import quote

import numpy as np
import pytest

from thresher.catalog import Catalog
from thresher.errors import UsageError

pytestmark = pytest.mark.slow


def request(server, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) of one raw request (the path is sent exactly as given)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
    headers = {"Host": f"127.0.0.1:{server.server_port}", **(headers or {})}
    connection.request(method, path, body=body, headers=headers)
    answer = connection.getresponse()
    data = answer.read()
    connection.close()
    return answer.status, dict(answer.getheaders()), data


def get_json(server, path: str):
    status, _, body = request(server, "GET", path)
    assert status == 200, body
    return json.loads(body)


def test_pages_and_assets_come_from_the_package(app_server):
    for page in ("/", "/embedding", "/sample?id=x", "/runs"):
        status, headers, body = request(app_server, "GET", page)
        assert status == 200 and b"/assets/app.js" in body
        assert "default-src 'self'" in headers["Content-Security-Policy"]
    for name in ("app.js", "app.css", "report.css", "scatter.js"):
        status, _, body = request(app_server, "GET", f"/assets/{name}")
        assert status == 200 and len(body) > 100
    for name in ("app.js", "scatter.js"):  # no address outside the app (the SVG namespace is a name, not a request)
        urls = set(re.findall(rb"https?://[^\s\"'`]+", request(app_server, "GET", f"/assets/{name}")[2]))
        assert urls <= {b"http://www.w3.org/2000/svg"}


@pytest.mark.parametrize(
    "path",
    [
        "/assets/../catalog.sqlite",
        "/assets/%2e%2e/catalog.sqlite",
        "/assets//etc/passwd",
        "/assets/app.js/../../../pyproject.toml",
        "//etc/passwd",
        "/../../etc/passwd",
        "/etc/passwd",
        "/runs/../../etc/passwd/report",
        "/runs/%2e%2e%2f%2e%2e%2fetc/report",
        "/runs//etc/passwd/report",
        "/api/image?id=../../bikes.mp4",
        "/api/image?id=..%2F..%2Fbikes.mp4",
        "/api/image?id=/etc/passwd",
        "/api/image?id=%2Fetc%2Fpasswd",
        "/api/image?id=bikes.mp4",
        "/api/sample?id=../ds/bikes.mp4",
        "/api/sample?id=/etc/passwd",
    ],
)
def test_paths_from_the_browser_are_refused(app_server, path):
    status, _, body = request(app_server, "GET", path)
    assert status == 404, (path, body)
    assert b"root:" not in body and b"SQLite" not in body


def test_report_of_a_run_is_found_through_the_catalog(app_server, bikes_runs):
    run_id = bikes_runs.second.run_id
    status, headers, body = request(app_server, "GET", f"/runs/{run_id}/report")
    assert status == 200 and body == (bikes_runs.second.folder / "report.html").read_bytes()
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert request(app_server, "GET", "/runs/no-such-run/report")[0] == 404


def test_requests_must_name_this_server(app_server):
    status, _, _ = request(app_server, "GET", "/api/runs", headers={"Host": "attacker.example:80"})
    assert status == 403


def test_runs_tags_and_embedding(app_server, bikes_runs):
    runs = get_json(app_server, "/api/runs")
    assert [r["id"] for r in runs] == [bikes_runs.second.run_id, bikes_runs.first.run_id]
    assert all(r["report"] and r["browsable"] for r in runs)
    tags = {t["name"]: t["size"] for t in get_json(app_server, "/api/tags")}
    assert tags["datapool"] == 12
    embedding = get_json(app_server, "/api/embedding")
    assert embedding["run"] == bikes_runs.second.run_id and len(embedding["ids"]) == 50
    assert "scores:ssd/objectness_least_confidence" in [c["name"] for c in embedding["colors"]]


def test_grid_filters_by_score_range_tag_and_class(app_server, bikes_runs):
    score = "scores:ssd/objectness_least_confidence"
    everything = get_json(app_server, f"/api/samples?score={quote(score)}&limit=200")
    values = [i["score"] for i in everything["items"]]
    assert everything["total"] == 50 and values == sorted(values, reverse=True)  # highest first
    high = get_json(app_server, f"/api/samples?score={quote(score)}&min=0.5&limit=200")
    assert high["total"] == sum(v is not None and v >= 0.5 for v in values) and all(i["score"] >= 0.5 for i in high["items"])
    tagged = get_json(app_server, f"/api/samples?tag=run-{bikes_runs.first.run_id}")
    assert sorted(i["id"] for i in tagged["items"]) == sorted(bikes_runs.first.selection.ids.tolist())
    assert "car" in everything["classes"]
    cars = get_json(app_server, "/api/samples?class=car&limit=200")
    assert 0 < cars["total"] <= 50
    assert all(any(b["label"] == "car" and not b["imputed"] for b in i["boxes"]) for i in cars["items"])


def test_grid_rejects_bad_numbers_and_unknown_scores(app_server):
    assert request(app_server, "GET", "/api/samples?score=scores%3Assd%2Fobjectness_least_confidence&min=abc")[0] == 400
    assert request(app_server, "GET", "/api/samples?score=scores%3Assd%2Fobjectness_least_confidence&min=nan")[0] == 400
    assert request(app_server, "GET", "/api/samples?score=nope")[0] == 404
    assert request(app_server, "GET", "/api/samples?tag=nope")[0] == 404


def test_an_offset_past_the_end_gives_the_last_page(app_server):
    total = get_json(app_server, "/api/samples?limit=7")["total"]
    last = get_json(app_server, "/api/samples?limit=7&offset=99999999")
    assert last["offset"] == (total - 1) // 7 * 7 and len(last["items"]) == total - last["offset"] > 0


def test_sample_page_data(app_server, bikes_runs):
    sample_id = bikes_runs.second.selection.ids[-1]
    body = get_json(app_server, f"/api/sample?id={quote(sample_id)}")
    assert body["sample"]["id"] == sample_id and f"run-{bikes_runs.second.run_id}" in body["tags"]
    (mine,) = [r for r in body["runs"] if r["run"] == bikes_runs.second.run_id]
    assert mine["selected"] and mine["pick"] == 12
    assert "metadata:flickering" in mine["scores"]


def test_sample_strip_data(app_server, bikes_runs):
    """A video frame's neighbours with the assertion task's boxes and its flicker severity."""
    from thresher.io.datasource import Datasource
    from thresher.io.lightly_metadata import read_metadata

    source = Datasource(bikes_runs.root)
    frames = source.frames()
    severity = read_metadata(source.lightly, frames)["assertions.ssd.flicker_severity"]
    flagged, quiet = frames.id[np.argmax(severity)], "bikes-000-mp4.png"
    body = get_json(app_server, f"/api/sample?id={quote(str(flagged))}")["strip"]
    assert body["task"] == "ssd" and body["imputed_task"] == "ssd-imputed"
    assert body["severity"] == pytest.approx(severity.max())
    index = int(frames.frame_index[np.argmax(severity)])
    assert [f["frame_index"] for f in body["frames"]] == [index - 1, index, index + 1]
    assert [f["role"] for f in body["frames"]] == ["t−1", "t", "t+1"]
    assert any(b["imputed"] for b in body["frames"][1]["boxes"]) and any(not b["imputed"] for b in body["frames"][0]["boxes"])
    first = get_json(app_server, f"/api/sample?id={quote(quiet)}")["strip"]
    assert first["frames"][0] is None and first["frames"][1]["id"] == quiet and first["severity"] == 0.0


def test_image_is_a_jpeg_of_the_catalog_sample(app_server, bikes_runs):
    sample_id = bikes_runs.second.samples.id[3]
    for size, longest in ((200, 200), (640, 640)):
        status, headers, body = request(app_server, "GET", f"/api/image?id={quote(sample_id)}&size={size}")
        assert status == 200 and headers["Content-Type"] == "image/jpeg" and body[:2] == b"\xff\xd8"
        from io import BytesIO

        from PIL import Image

        assert max(Image.open(BytesIO(body)).size) == longest
    assert request(app_server, "GET", f"/api/image?id={quote(sample_id)}&size=5000")[0] == 400


def post_tag(server, payload: object, headers: dict | None = None):
    body = json.dumps(payload).encode()
    return request(server, "POST", "/api/tags", body, {"Content-Type": "application/json", **(headers or {})})


def test_post_creates_a_tag_of_known_samples_only(app_server, bikes_runs):
    ids = bikes_runs.second.samples.id[:3].tolist()
    status, _, body = post_tag(app_server, {"name": "from-test", "ids": ids})
    assert status == 201 and json.loads(body) == {"name": "from-test", "size": 3}
    with Catalog(bikes_runs.workspace) as catalog:
        assert catalog.tag("from-test") == ids
    assert post_tag(app_server, {"name": "from-test", "ids": ids})[0] == 400  # exists already
    assert post_tag(app_server, {"name": "bad-ids", "ids": ["../../etc/passwd"]})[0] == 404
    assert post_tag(app_server, {"name": "", "ids": ids})[0] == 400
    assert post_tag(app_server, {"name": "empty", "ids": []})[0] == 400
    status, _, body = post_tag(app_server, {"name": "twice", "ids": [ids[0], ids[0]]})
    assert status == 400 and "more than once" in json.loads(body)["error"]
    with Catalog(bikes_runs.workspace) as catalog, pytest.raises(UsageError):
        catalog.tag("bad-ids")


def test_post_must_be_json_from_this_origin(app_server):
    body = json.dumps({"name": "x", "ids": ["a"]}).encode()
    assert request(app_server, "POST", "/api/tags", body, {"Content-Type": "text/plain"})[0] == 415
    assert post_tag(app_server, {"name": "x", "ids": ["a"]}, {"Origin": "http://attacker.example"})[0] == 403
    assert request(app_server, "POST", "/api/tags", b"{not json", {"Content-Type": "application/json"})[0] == 400
    assert post_tag(app_server, {"name": "x"})[0] == 400


def raw_exchange(server, data: bytes) -> bytes:
    """Everything the server answers to `data` sent on one connection, until it closes it."""
    import socket

    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as connection:
        connection.sendall(data)
        chunks = []
        try:
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass  # a connection left open counts as everything received so far
        return b"".join(chunks)


def test_a_refused_request_cannot_smuggle_another_in_its_body(app_server, bikes_runs):
    """A cross-site POST is refused and its connection closed: a second request hidden in its
    body (no Origin, right Host, JSON) must never run."""
    host = f"127.0.0.1:{app_server.server_port}"
    inner = json.dumps({"name": "smuggled", "ids": bikes_runs.second.samples.id[:1].tolist()}).encode()
    hidden = (f"POST /api/tags HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {len(inner)}\r\n\r\n").encode() + inner
    for headers in ("Origin: http://evil.example\r\nContent-Type: text/plain", "Content-Type: text/plain", "Host: evil.example"):
        outer = (f"POST /api/tags HTTP/1.1\r\nHost: {host}\r\n{headers}\r\nContent-Length: {len(hidden)}\r\n\r\n").encode()
        answer = raw_exchange(app_server, outer + hidden)
        assert answer.count(b"HTTP/1.1 ") == 1 and b"Connection: close" in answer, answer[:300]
    with Catalog(bikes_runs.workspace) as catalog:
        assert "smuggled" not in catalog.tags()


def test_bodies_of_unknown_or_negative_length_are_refused(app_server):
    host = f"127.0.0.1:{app_server.server_port}"
    for framing in ("Content-Length: -1", "Transfer-Encoding: chunked"):
        answer = raw_exchange(app_server, f"POST /api/tags HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{framing}\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 400") and b"Connection: close" in answer, answer[:300]


def test_an_unexpected_failure_is_a_500_answer(app_server, monkeypatch):
    def broken():
        raise RuntimeError("the bucket's credentials are missing")

    monkeypatch.setattr(app_server.state, "runs", broken)
    status, _, body = request(app_server, "GET", "/api/runs")
    assert status == 500 and "credentials are missing" in json.loads(body)["error"]
    assert request(app_server, "GET", "/api/tags")[0] == 200  # the server keeps answering


def test_ipv6_loopback(bikes_runs):
    import socket

    from thresher.app import make_server

    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"IPv6 loopback unavailable on this machine: {exc}")
    server = make_server(bikes_runs.workspace, host="::1", port=0)
    try:
        assert server.public_host == "[::1]" and server.address_family == socket.AF_INET6
    finally:
        server.server_close()


def test_default_host_is_loopback(bikes_runs):
    from thresher.app import DEFAULT_HOST, make_server

    server = make_server(bikes_runs.workspace, port=0)
    try:
        assert DEFAULT_HOST == "127.0.0.1" and server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_a_path_that_is_no_catalog_is_refused(tmp_path):
    from thresher.app import make_server

    with pytest.raises(UsageError, match="no thresher catalog"):
        make_server(tmp_path / "nothing", port=0)
    assert not (tmp_path / "nothing").exists()


def test_serve_command_refuses_a_missing_catalog(tmp_path, capsys):
    from tests.test_validate import run_cli

    code, output = run_cli(["serve", "--catalog", str(tmp_path / "none"), "--port", "0"], capsys)
    assert code == 2 and "no thresher catalog" in output


def test_serve_command_announces_its_address_and_serves_until_interrupted(bikes_runs):
    """The real command in its own process: the printed URL answers, Ctrl-C (SIGINT) ends it cleanly."""
    import signal
    import subprocess
    import sys
    import urllib.request

    command = [sys.executable, "-m", "thresher", "serve", "--catalog", str(bikes_runs.workspace), "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            line = process.stdout.readline()
            url = re.search(r"http://127\.0\.0\.1:\d+/", line)
            assert url, f"no address announced: {line!r}"
            with urllib.request.urlopen(url.group(0) + "api/runs", timeout=30) as answer:
                assert answer.status == 200 and json.loads(answer.read())
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=120) == 0  # generous: a loaded CI host is slow to stop threads
        finally:
            process.kill()
