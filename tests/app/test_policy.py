"""thresher's rules for `thresher serve` (Host, Origin, bodies, headers), without a server."""

from __future__ import annotations

from starlette.datastructures import Headers

from thresher.app.errors import status_of
from thresher.app.policy import MAX_BODY, allowed_hosts, capitalized, is_loopback, refusal, with_policy_headers
from thresher.app.state import NotFound
from thresher.errors import ThresherError, UsageError

HOSTS = allowed_hosts("127.0.0.1", 8765)
JSON_POST = {"host": "127.0.0.1:8765", "content-type": "application/json", "content-length": "20"}


def test_allowed_hosts_name_this_port_only():
    assert {"127.0.0.1:8765", "localhost:8765", "[::1]:8765"} == set(HOSTS)
    assert "127.0.0.1" in allowed_hosts("127.0.0.1", 80) and "127.0.0.1" not in HOSTS
    assert "[::1]:9000" in allowed_hosts("[::1]", 9000)
    assert is_loopback("127.0.0.2") and is_loopback("::1") and not is_loopback("0.0.0.0")


def test_refusals():
    assert refusal("GET", Headers({"host": "127.0.0.1:8765"}), HOSTS) is None
    assert refusal("GET", Headers({"host": "evil.example:8765"}), HOSTS)[0] == 403
    assert refusal("GET", Headers({}), HOSTS)[0] == 403
    assert refusal("GET", Headers({"host": "anything"}), None) is None  # served on the network on purpose
    assert refusal("POST", Headers(JSON_POST), HOSTS) is None
    assert refusal("POST", Headers({**JSON_POST, "origin": "http://127.0.0.1:8765"}), HOSTS) is None
    assert refusal("POST", Headers({**JSON_POST, "origin": "http://evil.example"}), HOSTS) == (403, "cross-origin request refused")
    assert refusal("DELETE", Headers({**JSON_POST, "origin": "null"}), HOSTS)[0] == 403
    assert refusal("DELETE", Headers(JSON_POST), HOSTS)[0] == 405
    assert refusal("POST", Headers({**JSON_POST, "content-type": "text/plain"}), HOSTS)[0] == 415
    assert refusal("POST", Headers({**JSON_POST, "content-type": "application/json; charset=utf-8"}), HOSTS) is None
    assert refusal("POST", Headers({**JSON_POST, "transfer-encoding": "chunked"}), HOSTS)[0] == 400
    assert refusal("POST", Headers({**JSON_POST, "content-length": str(MAX_BODY + 1)}), HOSTS)[0] == 400
    assert refusal("POST", Headers({**JSON_POST, "content-length": "x"}), HOSTS) == (400, "Content-Length: expected a size in bytes, got 'x'")


def test_headers_of_an_answer():
    ok = dict(with_policy_headers([(b"content-type", b"text/html")], 200, request_closes=False))
    assert ok[b"Content-Type"] == b"text/html" and ok[b"X-Content-Type-Options"] == b"nosniff" and ok[b"Cache-Control"] == b"no-store"
    assert b"default-src 'self'" in ok[b"Content-Security-Policy"] and b"Connection" not in ok
    report = dict(with_policy_headers([(b"content-security-policy", b"default-src 'none'")], 200, request_closes=False))
    assert report[b"Content-Security-Policy"] == b"default-src 'none'"
    assert dict(with_policy_headers([], 404, request_closes=False))[b"Connection"] == b"close"
    assert b"Connection" not in dict(with_policy_headers([], 404, request_closes=True))  # uvicorn adds it then
    assert capitalized([(b"x-content-type-options", b"a")]) == [(b"X-Content-Type-Options", b"a")]


def test_status_of_an_exception():
    assert status_of(NotFound("x")) == 404 and status_of(UsageError("x")) == 400 and status_of(ValueError("x")) == 400
    assert status_of(ThresherError("x")) == 500 and status_of(RuntimeError("x")) == 500
