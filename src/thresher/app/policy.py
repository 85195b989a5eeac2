"""Thresher's own rules for `thresher serve`, as ASGI middleware in front of the Starlette app.

Before the app: a request must name this server in `Host` (a page on another site cannot reach
a loopback server by DNS rebinding); a request that may change something (any method but GET and
HEAD) must come from this origin, be JSON, declare its length (no Transfer-Encoding) and stay
under `MAX_BODY` bytes. After the app: every answer carries a Content-Security-Policy (the
page's unless the route set its own), `nosniff` and `no-store`, and an error answer closes its
connection. Header names go out in their usual capitals (`Content-Type`), as the standard
library's server wrote them, for clients that compare names case-sensitively. HTTP parsing and
framing are h11's (through uvicorn); this module only decides.

    app = LocalPolicy(starlette_app, hosts=allowed_hosts("127.0.0.1", 8765))  # see thresher.app.routes
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from thresher.app.errors import json_error

LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
PAGE_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'"
REPORT_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
MAX_BODY = 20 * 1024 * 1024  # bytes of a request body
SAFE_METHODS = ("GET", "HEAD")
# Sent on every answer, the server's own 400s included (thresher.app.protocol).
SECURITY_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"))
CLOSE = (b"connection", b"close")


def is_loopback(host: str) -> bool:
    """True for an address that only this machine reaches.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def allowed_hosts(public_host: str, port: int) -> frozenset[str]:
    """The `Host` values that name a loopback server on `port` (`public_host` in URL form, IPv6
    in brackets).

    >>> sorted(allowed_hosts("127.0.0.1", 8765))
    ['127.0.0.1:8765', '[::1]:8765', 'localhost:8765']
    """
    names = (*LOCAL_HOSTS, public_host)
    allowed = {f"{name}:{port}" for name in names}
    if port == 80:  # browsers leave the default port out
        allowed |= set(names)
    return frozenset(allowed)


def refusal(method: str, headers: Headers, hosts: frozenset[str] | None) -> tuple[int, str] | None:
    """(HTTP status, message) when thresher's rules refuse the request, else None.

    hosts: the allowed `Host` values, or None to allow any (served on the network on purpose).

    >>> refusal("GET", Headers({"host": "evil.example"}), allowed_hosts("127.0.0.1", 80))
    (403, 'Host header does not name this server')
    >>> refusal("POST", Headers({"host": "localhost", "content-type": "text/plain"}), None)
    (415, 'expected Content-Type: application/json')
    >>> refusal("DELETE", Headers({"host": "localhost"}), None)
    (405, 'method DELETE not allowed: the one write is POST /api/tags')
    """
    host = headers.get("host", "")
    if hosts is not None and host not in hosts:
        return 403, "Host header does not name this server"
    if method in SAFE_METHODS:
        return None
    origin = headers.get("origin")
    if origin is not None and origin != f"http://{host}":
        return 403, "cross-origin request refused"
    if method != "POST":
        return 405, f"method {method} not allowed: the one write is POST /api/tags"
    if headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return 415, "expected Content-Type: application/json"
    if "transfer-encoding" in headers:
        return 400, "Transfer-Encoding is not supported: send a Content-Length"
    try:
        length = int(headers.get("content-length") or 0)
    except ValueError:
        return 400, f"Content-Length: expected a size in bytes, got {headers.get('content-length')!r}"
    if length > MAX_BODY:
        return 400, f"request body of {length} bytes is over the limit of {MAX_BODY}"
    return None


def with_policy_headers(headers: Iterable[tuple[bytes, bytes]], status: int, request_closes: bool) -> list[tuple[bytes, bytes]]:
    """The answer's headers with the security headers added (kept where the app set them) and,
    for an error, `Connection: close` (unless uvicorn adds it for a request that asked); names
    in their usual capitals (h11 writes them as given)."""
    out = list(headers)
    present = {name.lower() for name, _ in out}
    if b"content-security-policy" not in present:
        out.append((b"content-security-policy", PAGE_POLICY.encode()))
    out += [(name, value) for name, value in SECURITY_HEADERS if name not in present]
    if status >= 400 and b"connection" not in present and not request_closes:
        out.append(CLOSE)
    return capitalized(out)


def capitalized(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Header names as HTTP/1.1 servers usually write them.

    >>> capitalized([(b"content-type", b"text/html")])
    [(b'Content-Type', b'text/html')]
    """
    return [(name.title(), value) for name, value in headers]


class LocalPolicy:
    """ASGI middleware: `refusal` before the app, `with_policy_headers` on its answer."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str] | None):
        self.app, self.hosts = app, hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_closes = (b"connection", b"close") in scope["headers"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": with_policy_headers(message.get("headers", []), message["status"], request_closes)}
            await send(message)

        refused = refusal(scope["method"], Headers(scope=scope), self.hosts)
        if refused is not None:
            await json_error(*refused)(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
