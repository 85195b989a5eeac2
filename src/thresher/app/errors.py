"""Every failure of `thresher serve` answered as JSON `{"error": message}` with its HTTP status.

An id the catalog does not know is 404 (`NotFound`), a bad parameter 400 (`UsageError`,
`ValueError`), another thresher error 500; Starlette's own (no such route, wrong method) keep
their status with a message naming the path. Anything else is a 500 that names the exception,
and the server keeps serving.

    >>> status_of(NotFound("run 'x'")), status_of(ValueError("size")), status_of(KeyError("x"))
    (404, 400, 500)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from thresher.app.state import NotFound
from thresher.errors import ThresherError, UsageError


def json_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The answer to a refused or failed request.

    >>> json_error(404, "no page /x").body
    b'{"error":"no page /x"}'
    """
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def status_of(exc: Exception) -> int:
    """The HTTP status of an exception raised while answering (see the module docstring)."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, (UsageError, ValueError)):
        return 400
    return 500


def message_of(exc: Exception) -> str:
    """A thresher error's own line; another exception's type and text (`RuntimeError: …`)."""
    return str(exc) if isinstance(exc, (ThresherError, ValueError)) else f"{type(exc).__name__}: {exc}"


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's HTTPException (no route matched, method not allowed) as JSON."""
    assert isinstance(exc, HTTPException)
    path = request.url.path
    if exc.status_code == 404:
        message = f"no page {path!r}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {path!r}"
    else:
        message = str(exc.detail)
    return json_error(exc.status_code, message, exc.headers)


TOLD_REASONS = 1000  # distinct failure reasons `AnswerErrors` remembers having logged


class AnswerErrors:
    """ASGI middleware: an exception of the app becomes `json_error(status_of(exc), …)`; a
    failure (status 500: a thresher error such as a bucket's missing credentials, or an
    unexpected exception) is also told to `log`, one line `error on GET /api/image: <reason>`
    the first time its reason comes (a page of 60 images failing alike logs it once)."""

    def __init__(self, app: ASGIApp, log: Callable[[str], object] | None = None):
        self.app, self.log = app, log
        self._told: set[str] = set()

    def _tell(self, scope: Scope, reason: str) -> None:
        """Log the failure's one line unless its reason was logged already."""
        if self.log is None or reason in self._told:
            return
        if len(self._told) < TOLD_REASONS:
            self._told.add(reason)
        first = reason.strip().splitlines()[0] if reason.strip() else reason
        self.log(f"error on {scope.get('method')} {scope.get('path')}: {first}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:  # noqa: BLE001 - the app must answer, whatever a library raised
            status = status_of(exc)
            if status == 500:
                self._tell(scope, message_of(exc))
            if started:  # too late for an answer: uvicorn closes the connection
                raise
            await json_error(status, message_of(exc))(scope, receive, send)
