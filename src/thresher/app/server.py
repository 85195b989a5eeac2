"""The server of `thresher serve`: uvicorn (HTTP/1.1 through h11) on a socket bound at creation.

Binding first gives the port at once (port 0: any free port) and turns a port in use into one
`UsageError` line. `serve_forever` blocks; from the main thread Ctrl-C (SIGINT) or SIGTERM stops
it gracefully (uvicorn's handling, requests under way get `GRACE_S` seconds), from another
thread `shutdown()` does. `log` gets uvicorn's access lines and warnings, one line each.

    server = AppServer(AppState("data/.thresher"), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever).start(); ...; server.shutdown(); server.server_close()
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator

import uvicorn

from thresher.app.policy import allowed_hosts, is_loopback
from thresher.app.protocol import AppH11Protocol
from thresher.app.routes import build_app
from thresher.app.state import AppState
from thresher.errors import UsageError

GRACE_S = 5  # seconds the requests under way get to finish once stopping


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (IPv6 when host has a colon); UsageError if taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise UsageError(f"--host {host} --port {port}: cannot listen there ({reason}); choose another port (0: any free port)") from None


class _ToLog(logging.Handler):
    def __init__(self, log: Callable[[str], object]):
        super().__init__(logging.INFO)
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        self.log(record.getMessage())


@contextlib.contextmanager
def forwarded_logs(log: Callable[[str], object] | None) -> Iterator[None]:
    """uvicorn's access log (INFO) and its warnings and errors go to `log` while serving."""
    if log is None:
        yield
        return
    access, errors, handler = logging.getLogger("uvicorn.access"), logging.getLogger("uvicorn.error"), _ToLog(log)
    level = access.level
    access.setLevel(logging.INFO)
    access.addHandler(handler)
    errors.addHandler(handler)  # its INFO chatter stays below the logger's level (WARNING unless set)
    try:
        yield
    finally:
        access.removeHandler(handler)
        errors.removeHandler(handler)
        access.setLevel(level)


class AppServer:
    """The app's server; `state` answers the queries, `log` gets one line per request (or None).

    Attributes as the standard library's servers name them: `server_address`, `server_port`,
    `address_family`; `public_host` is the host as a URL names it (`[::1]`)."""

    def __init__(self, state: AppState, host: str, port: int, log: Callable[[str], object] | None = None):
        self.state, self.log = state, log
        self.socket = bind(host, port)
        self.address_family = self.socket.family
        self.server_address = self.socket.getsockname()
        self.server_port: int = self.server_address[1]
        self.public_host = f"[{host}]" if ":" in host else host
        self.loopback = is_loopback(host)
        hosts = allowed_hosts(self.public_host, self.server_port) if self.loopback else None
        config = uvicorn.Config(
            build_app(state, hosts, log),
            http=AppH11Protocol,
            ws="none",
            lifespan="off",
            proxy_headers=False,
            server_header=False,
            log_config=None,
            access_log=log is not None,
            timeout_graceful_shutdown=GRACE_S,
        )
        self._uvicorn = uvicorn.Server(config)
        self._serving, self._stopped = threading.Event(), threading.Event()

    def serve_forever(self) -> None:
        """Serve until `shutdown()`, or Ctrl-C / SIGTERM when called from the main thread (then
        KeyboardInterrupt is raised once the server has stopped, as uvicorn re-raises it)."""
        self._serving.set()
        try:
            with forwarded_logs(self.log):
                self._uvicorn.run(sockets=[self.socket])
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop `serve_forever` (running in another thread) and wait until it has returned."""
        self._uvicorn.should_exit = True
        if self._serving.is_set():
            self._stopped.wait()

    def server_close(self) -> None:
        """Close the listening socket (uvicorn closes it too when it stops)."""
        self.socket.close()
