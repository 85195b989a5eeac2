"""The HTTP side of `thresher serve`: the standard library's threading server, a fixed route table.

Pages (`/`, `/embedding`, `/sample`, `/runs`) are one HTML shell; assets are served by name
from a fixed table of files shipped in the package; a run's report is found through the
catalog (`/runs/<run id>/report`). Nothing from the URL is joined onto a path. Requests must
name this server in `Host` (a page on another site cannot reach it by DNS rebinding) and a POST
must be JSON from this origin.
"""

from __future__ import annotations

import json
import socket
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from thresher.app import queries
from thresher.app.state import AppState, NotFound
from thresher.errors import ThresherError, UsageError

PAGES = ("/", "/embedding", "/sample", "/runs")
ASSETS = {  # URL name -> (package folder, file, content type)
    "app.js": ("thresher.app", "app.js", "text/javascript; charset=utf-8"),
    "app.css": ("thresher.app", "app.css", "text/css; charset=utf-8"),
    "report.css": ("thresher.report", "report.css", "text/css; charset=utf-8"),
    "scatter.js": ("thresher.report", "scatter.js", "text/javascript; charset=utf-8"),
}
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
PAGE_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'"
REPORT_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
MAX_BODY = 20 * 1024 * 1024


def asset_bytes(name: str) -> tuple[bytes, str]:
    package, file, kind = ASSETS[name]
    return resources.files(package).joinpath("assets", file).read_bytes(), kind


class Handler(BaseHTTPRequestHandler):
    """Routes: see the module docstring; errors become JSON {"error": …} with 400/403/404."""

    server: "AppServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class' name
        if self.server.log is not None:
            self.server.log(format % args)

    # plumbing -----------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, kind: str, policy: str = PAGE_POLICY) -> None:
        self.send_response(status)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", policy)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, value: object, status: int = 200) -> None:
        self._send(status, json.dumps(value, allow_nan=False).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        """An error answer, then the connection is closed: an unread request body must never
        be taken for the next request (request smuggling past the Origin and Host checks)."""
        self.close_connection = True
        self._json({"error": message}, status)

    def _host_ok(self) -> bool:
        if not self.server.loopback:  # served on the network on purpose: any name may reach it
            return True
        host = self.headers.get("Host", "")
        names = (*LOCAL_HOSTS, self.server.public_host)
        allowed = {f"{h}:{self.server.server_port}" for h in names}
        if self.server.server_port == 80:  # browsers leave the default port out
            allowed |= set(names)
        return host in allowed

    def _guarded(self, handler) -> None:
        if not self._host_ok():
            self._error(HTTPStatus.FORBIDDEN, "Host header does not name this server")
            return
        try:
            handler()
        except NotFound as exc:
            self._error(HTTPStatus.NOT_FOUND, str(exc))
        except (UsageError, ValueError) as exc:
            self._error(HTTPStatus.BAD_REQUEST, str(exc))
        except ThresherError as exc:
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, str(exc))
        except Exception as exc:  # noqa: BLE001 - the app must answer, whatever a library raised
            if self.server.log is not None:
                self.server.log(f"error on {self.command} {self.path}: {type(exc).__name__}: {exc}")
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}")

    # GET ----------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - the base class' name
        self._guarded(self._get)

    do_HEAD = do_GET  # noqa: N815

    def _get(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        state = self.server.state
        if url.path in PAGES:
            self._send(200, asset_bytes_page(), "text/html; charset=utf-8")
        elif url.path.startswith("/assets/") and url.path.removeprefix("/assets/") in ASSETS:
            self._send(200, *asset_bytes(url.path.removeprefix("/assets/")))
        elif url.path == "/api/runs":
            self._json(state.runs())
        elif url.path == "/api/tags":
            self._json(state.tags())
        elif url.path == "/api/samples":
            self._json(queries.grid(state, query))
        elif url.path == "/api/sample":
            self._json(queries.sample(state, query.get("id", "")))
        elif url.path == "/api/embedding":
            self._json(queries.embedding(state, query.get("run")))
        elif url.path == "/api/image":
            side = queries._int(query.get("size"), "size", 200)
            self._send(200, state.image(query.get("id", ""), side), "image/jpeg")
        elif _is_report(url.path):
            self._send(200, state.report_page(url.path.split("/")[2]), "text/html; charset=utf-8", REPORT_POLICY)
        else:
            raise NotFound(f"no page {url.path!r}")

    # POST ---------------------------------------------------------------------------------

    def do_POST(self) -> None:  # noqa: N802 - the base class' name
        self._guarded(self._post)

    def _post(self) -> None:
        origin = self.headers.get("Origin")
        if origin is not None and origin != f"http://{self.headers.get('Host')}":
            self._error(HTTPStatus.FORBIDDEN, "cross-origin request refused")
            return
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "expected Content-Type: application/json")
            return
        if self.headers.get("Transfer-Encoding") is not None:
            raise UsageError("Transfer-Encoding is not supported: send a Content-Length")
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise UsageError(f"Content-Length: expected a size in bytes, got {length}")
        if length > MAX_BODY:
            raise UsageError(f"request body of {length} bytes is over the limit of {MAX_BODY}")
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError as exc:
            raise UsageError(f"request body: expected JSON ({exc})") from None
        if urlsplit(self.path).path != "/api/tags" or not isinstance(body, dict):
            raise NotFound(f"no POST {self.path!r}")
        size = self.server.state.create_tag(body.get("name"), body.get("ids"))
        self._json({"name": body["name"].strip(), "size": size}, HTTPStatus.CREATED)


def _is_report(path: str) -> bool:
    parts = path.split("/")
    return len(parts) == 4 and parts[1] == "runs" and parts[3] == "report" and parts[2] != ""


def asset_bytes_page() -> bytes:
    return resources.files("thresher.app").joinpath("assets", "app.html").read_bytes()


class AppServer(ThreadingHTTPServer):
    """The app's server; `state` answers the queries, `log` gets one line per request (or None)."""

    daemon_threads = True

    def __init__(self, state: AppState, host: str, port: int, log=None):
        if ":" in host:  # an IPv6 address such as ::1
            self.address_family = socket.AF_INET6
        super().__init__((host, port), Handler)
        self.state, self.log = state, log
        self.public_host = f"[{host}]" if ":" in host else host
        self.loopback = host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")
