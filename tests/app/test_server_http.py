"""`thresher serve` as an HTTP/1.1 server: malformed requests on a raw socket, 200 requests at
once, keep-alive and pipelining, a port in use, the log lines."""

from __future__ import annotations

import concurrent.futures
import json
import socket
import threading
import time
from contextlib import contextmanager
from urllib.parse import quote

import h11
import pytest

from thresher.app import make_server
from thresher.errors import UsageError

pytestmark = pytest.mark.slow


@contextmanager
def serving(workspace, **options):
    """A new server (its own caches) over `workspace` on a free port, in a thread."""
    server = make_server(workspace, port=0, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(30)


def exchange(server, data: bytes, eof: bool = False, timeout: float = 30) -> bytes:
    """Everything the server answers to `data` on one connection until it closes it (`eof`: the
    client closes its sending side after `data`). A connection left open fails the test."""
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=timeout) as connection:
        connection.sendall(data)
        if eof:
            connection.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := connection.recv(65536):  # TimeoutError: the server kept the connection open
            chunks.append(chunk)
        return b"".join(chunks)


def get(server, path: str, host: str | None = None) -> tuple[int, bytes]:
    """(status, body) of one GET on its own connection, read with h11 (a real HTTP/1.1 parser)."""
    host = host or f"127.0.0.1:{server.server_port}"
    answers = responses(exchange(server, f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()))
    assert len(answers) == 1, answers
    return answers[0][0], answers[0][2]


def responses(raw: bytes) -> list[tuple[int, dict[bytes, bytes], bytes]]:
    """The answers in `raw`, parsed by h11 as a client: (status, headers, body) each."""
    client = h11.Connection(h11.CLIENT)
    client.receive_data(raw)
    client.receive_data(b"")  # the connection closed after `raw`
    out: list[tuple[int, dict[bytes, bytes], bytes]] = []
    while True:
        client.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))  # h11 pairs each answer with a request
        client.send(h11.EndOfMessage())
        event = client.next_event()
        if event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
            return out
        assert isinstance(event, h11.Response), event
        status, headers, body = event.status_code, dict(event.headers), b""
        while not isinstance(event := client.next_event(), h11.EndOfMessage):
            body += bytes(event.data)
        out.append((status, headers, body))
        if client.our_state is h11.MUST_CLOSE or client.their_state is h11.MUST_CLOSE:
            return out
        client.start_next_cycle()


def host_line(server) -> bytes:
    return f"Host: 127.0.0.1:{server.server_port}\r\n".encode()


HOST = b"<Host line>"
MALFORMED = {  # each refused by h11; HOST stands for a right Host line
    "no request line": b"GARBAGE\r\n\r\n",
    "a TLS handshake": bytes.fromhex("16030100a5010000a10303") + bytes(range(64)),
    "a NUL in the target": b"GET /api/\x00runs HTTP/1.1\r\n" + HOST + b"\r\n",
    "a non-ASCII method": "GÉT /api/runs HTTP/1.1\r\n".encode() + HOST + b"\r\n",
    "a header without colon": b"GET /api/runs HTTP/1.1\r\n" + HOST + b"X-Thing yes\r\n\r\n",
    "a space before the colon": b"GET /api/runs HTTP/1.1\r\n" + HOST + b"X-Thing : yes\r\n\r\n",
    "two Host headers": b"GET /api/runs HTTP/1.1\r\n" + HOST + b"Host: evil.example\r\n\r\n",
    "no Host header": b"GET /api/runs HTTP/1.1\r\n\r\n",
    "a Content-Length that is no number": b"POST /api/tags HTTP/1.1\r\n" + HOST + b"Content-Type: application/json\r\nContent-Length: 2x\r\n\r\n{}",
    "two different Content-Lengths": b"POST /api/tags HTTP/1.1\r\n" + HOST + b"Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\n{}",
    "a Transfer-Encoding h11 cannot read": b"POST /api/tags HTTP/1.1\r\n" + HOST + b"Content-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "a broken chunk": b"POST /api/runs HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_http_is_answered_400_and_closed_and_the_server_keeps_serving(app_server, name):
    answer = exchange(app_server, MALFORMED[name].replace(HOST, host_line(app_server)))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"\r\nConnection: close" in head, answer[:300]
    assert json.loads(body)["error"], body  # one answer, then the connection closed
    assert b"X-Content-Type-Options: nosniff" in head
    assert get(app_server, "/api/runs")[0] == 200


@pytest.mark.parametrize("data", [b"\r\n\r\n", b"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1"], ids=["blank lines", "cut short"])
def test_a_request_cut_short_by_the_client_is_answered_400_or_closed(app_server, data):
    answer = exchange(app_server, data, eof=True)
    assert answer == b"" or (answer.startswith(b"HTTP/1.1 400 ") and b"Connection: close" in answer), answer[:300]
    assert get(app_server, "/api/runs")[0] == 200


@pytest.fixture
def quick_header_deadline(monkeypatch):
    from thresher.app.protocol import AppH11Protocol

    monkeypatch.setattr(AppH11Protocol, "header_timeout", 0.5)


def open_connection(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.server_port), timeout=10)


def read_until_closed(connection: socket.socket) -> bytes:
    chunks = []
    while chunk := connection.recv(65536):  # TimeoutError: the server kept the connection open
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("sent", [b"", b"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1"], ids=["nothing", "half the headers"])
def test_a_client_too_slow_with_its_headers_is_disconnected(app_server, quick_header_deadline, sent):
    with open_connection(app_server) as connection:
        connection.sendall(sent)
        assert read_until_closed(connection) == b""  # closed by the server, well before the 10 s socket timeout
    assert get(app_server, "/api/runs")[0] == 200


def test_headers_in_pieces_within_the_deadline_and_a_kept_alive_connection_are_served(app_server, quick_header_deadline):
    host = host_line(app_server)
    with open_connection(app_server) as connection:
        connection.sendall(b"GET /api/tags HTTP/1.1\r\n")
        time.sleep(0.2)
        connection.sendall(host + b"\r\n")
        first = connection.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 "), first[:200]
        time.sleep(1.0)  # idle longer than the header deadline: a kept-alive connection waits for uvicorn's keep-alive timeout
        connection.sendall(b"GET /api/runs HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n")
        answers = responses(first + read_until_closed(connection))
    assert [status for status, _, _ in answers] == [200, 200]


def test_keep_alive_and_pipelined_requests_are_answered_in_order(app_server):
    host = host_line(app_server)
    data = b"GET /api/tags HTTP/1.1\r\n" + host + b"\r\n" + b"GET /api/nothing HTTP/1.1\r\n" + host + b"\r\n" + b"GET /api/runs HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n"
    answers = responses(exchange(app_server, data))
    assert [status for status, _, _ in answers] == [200, 404]  # the 404 closes the connection: the third never runs
    assert isinstance(json.loads(answers[0][2]), list) and "no page '/api/nothing'" in json.loads(answers[1][2])["error"]
    data = b"GET /api/tags HTTP/1.1\r\n" + host + b"\r\n" + b"GET /api/runs HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n"
    answers = responses(exchange(app_server, data))
    assert [status for status, _, _ in answers] == [200, 200] and json.loads(answers[1][2])[0]["status"]


def test_200_concurrent_requests_are_all_answered_correctly(bikes_runs):
    """200 connections at once (released together) over every kind of route, each answer equal
    to the one a separate server gives to the same request alone."""
    ids = bikes_runs.second.samples.id.tolist()
    score = quote("scores:ssd/objectness_least_confidence")
    paths = [
        "/api/runs",
        "/api/tags",
        f"/api/samples?score={score}&limit=200",
        "/api/samples?class=car",
        "/api/embedding",
        "/assets/app.js",
        "/",
        f"/runs/{bikes_runs.first.run_id}/report",
        "/api/image?id=nope",
        "/api/samples?score=nope",
    ]
    paths += [f"/api/sample?id={quote(i)}" for i in ids[:5]] + [f"/api/image?id={quote(i)}&size=200" for i in ids[:25]]
    requests = [(paths[k % len(paths)], None) for k in range(190)] + [("/api/runs", "evil.example")] * 10
    with serving(bikes_runs.workspace) as alone:
        expected = {(path, host): get(alone, path, host) for path, host in set(requests)}
    with serving(bikes_runs.workspace) as server:
        start = threading.Barrier(len(requests), timeout=120)

        def one(request):
            start.wait()
            return get(server, *request)

        with concurrent.futures.ThreadPoolExecutor(len(requests)) as pool:
            answers = list(pool.map(one, requests))
    assert len(answers) == 200
    for request, answer in zip(requests, answers):
        assert answer == expected[request], (request, answer[0], answer[1][:200])
    statuses = {status for status, _ in answers}
    assert statuses == {200, 403, 404}


def test_a_port_in_use_is_one_usage_error(app_server, bikes_runs, capsys):
    from tests.test_validate import run_cli

    with pytest.raises(UsageError, match=rf"--port {app_server.server_port}: cannot listen there \(Address already in use\)"):
        make_server(bikes_runs.workspace, port=app_server.server_port)
    code, output = run_cli(["serve", "--catalog", str(bikes_runs.workspace), "--port", str(app_server.server_port)], capsys)
    assert code == 2 and output.startswith("error: --host 127.0.0.1") and "Traceback" not in output


def test_log_gets_a_line_per_request_and_per_failure(bikes_runs, monkeypatch):
    lines: list[str] = []
    with serving(bikes_runs.workspace, log=lines.append) as server:
        assert get(server, "/api/tags")[0] == 200
        exchange(server, b"GARBAGE\r\n\r\n")

        def broken():
            raise RuntimeError("the bucket's credentials are missing")

        monkeypatch.setattr(server.state, "runs", broken)
        assert get(server, "/api/runs")[0] == 500
    assert any('"GET /api/tags HTTP/1.1" 200' in line for line in lines), lines
    assert "Invalid HTTP request received." in lines
    assert "error on GET /api/runs: RuntimeError: the bucket's credentials are missing" in lines
    assert any('"GET /api/runs HTTP/1.1" 500' in line for line in lines), lines
