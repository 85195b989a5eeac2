"""uvicorn's h11 protocol, with one change: a request that h11 refuses (two Host headers, a bad
Content-Length, a broken request line, headers over the size limit) is answered like the app's
own errors: JSON naming what h11 found, the security headers, `Connection: close`; when h11
refuses the body of a request already handed to the app, the app's answer is dropped (uvicorn
would otherwise try to send a second answer on the closed connection and log a traceback).
Parsing, framing and the closing of the connection stay h11's and uvicorn's.

    uvicorn.Config(app, http=AppH11Protocol)
"""

from __future__ import annotations

import json
import sys

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from thresher.app.policy import CLOSE, PAGE_POLICY, SECURITY_HEADERS, capitalized


class AppH11Protocol(H11Protocol):
    """See the module docstring."""

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
