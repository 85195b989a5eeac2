"""uvicorn's h11 protocol, with one change: a request that h11 refuses (two Host headers, a bad
Content-Length, a broken request line, headers over the size limit) is answered like the app's
own errors: JSON naming what h11 found, the security headers, `Connection: close`; when h11
refuses the body of a request already handed to the app, the app's answer is dropped (uvicorn
would otherwise try to send a second answer on the closed connection and log a traceback).
Parsing, framing and the closing of the connection stay h11's and uvicorn's.

It also closes a connection whose request line and headers have not all arrived within
`header_timeout` seconds of their first byte (or of the connection's opening): uvicorn's h11 mode
times out idle kept-alive connections only, so a client sending a header a byte a minute
(slowloris) would otherwise hold its connection forever.

    uvicorn.Config(app, http=AppH11Protocol)
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from thresher.app.policy import CLOSE, PAGE_POLICY, SECURITY_HEADERS, capitalized


HEADER_TIMEOUT_S = 10.0  # seconds a client has to send a request's line and headers


class AppH11Protocol(H11Protocol):
    """See the module docstring."""

    header_timeout = HEADER_TIMEOUT_S
    _header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._watch_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_watching()
        super().connection_lost(exc)

    def _watch_headers(self) -> None:
        """Arm the deadline while h11 waits for a request's headers with some of them received
        (or none on a new connection); disarm it once they are all in."""
        waiting = self.conn.their_state is h11.IDLE and (self.conn.trailing_data[0] or self.conn.their_http_version is None)
        if not waiting:
            self._stop_watching()
        elif self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _stop_watching(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """Called by uvicorn inside its `except h11.RemoteProtocolError`; `msg` is uvicorn's
        generic text, the exception being handled names the actual fault."""
        fault = sys.exc_info()[1]
        body = json.dumps({"error": f"malformed HTTP request: {fault or msg}"}).encode()
        headers = capitalized(
            [
                *self.server_state.default_headers,
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"content-security-policy", PAGE_POLICY.encode()),
                *SECURITY_HEADERS,
                CLOSE,
            ]
        )
        try:
            for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body), h11.EndOfMessage()):
                self.transport.write(self.conn.send(event))
        except h11.LocalProtocolError:  # an answer was already under way: nothing more can be said
            pass
        if self.cycle is not None:  # a request whose body h11 refused: its handler must not answer too
            self.cycle.disconnected = True
        self.transport.close()
