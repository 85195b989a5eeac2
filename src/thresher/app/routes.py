"""The routes of `thresher serve` on Starlette: pages, assets, the JSON API, the runs' reports.

Pages (`/`, `/embedding`, `/sample`, `/runs`) are one HTML shell; `/assets/<file>` serves the
app's and the report's package files (Starlette's StaticFiles, which refuses any path out of
those folders); a run's report is found through the catalog (`/runs/<run id>/report`). Ids and
names from the URL are looked up in the catalog, never joined onto a path. Queries run on
Starlette's thread pool (each opens its own catalog connection).

    app = build_app(AppState("data/.thresher"), hosts=allowed_hosts("127.0.0.1", 8765))
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from thresher.app import queries
from thresher.app.errors import AnswerErrors, http_error
from thresher.app.policy import REPORT_POLICY, LocalPolicy
from thresher.app.state import AppState
from thresher.errors import UsageError

PAGES = ("/", "/embedding", "/sample", "/runs")
ASSET_PACKAGES: list[str | tuple[str, str]] = [("thresher.app", "assets"), ("thresher.report", "assets")]


def _state(request: Request) -> AppState:
    return request.app.state.thresher


def _query(request: Request) -> dict[str, str]:
    """The query string as {name: value}, the last value of a repeated name."""
    return dict(request.query_params)


def page(request: Request) -> HTMLResponse:
    return HTMLResponse(resources.files("thresher.app").joinpath("assets", "app.html").read_bytes())


def runs(request: Request) -> JSONResponse:
    return JSONResponse(_state(request).runs())


def tags(request: Request) -> JSONResponse:
    return JSONResponse(_state(request).tags())


def samples(request: Request) -> JSONResponse:
    return JSONResponse(queries.grid(_state(request), _query(request)))


def sample(request: Request) -> JSONResponse:
    query = _query(request)
    return JSONResponse(queries.sample(_state(request), query.get("id", ""), query.get("run") or None))


def embedding(request: Request) -> JSONResponse:
    return JSONResponse(queries.embedding(_state(request), _query(request).get("run")))


def image(request: Request) -> Response:
    query = _query(request)
    side = queries._int(query.get("size"), "size", 200)
    return Response(_state(request).image(query.get("id", ""), side, query.get("run") or None), media_type="image/jpeg")


def report(request: Request) -> HTMLResponse:
    page_bytes = _state(request).report_page(request.path_params["run_id"])
    return HTMLResponse(page_bytes, headers={"Content-Security-Policy": REPORT_POLICY})


async def create_tag(request: Request) -> JSONResponse:
    """POST /api/tags {"name": …, "ids": [sample id, …]}: a new catalog tag (201, its size)."""
    try:
        body = await request.json()
    except ValueError as exc:
        raise UsageError(f"request body: expected JSON ({exc})") from None
    if not isinstance(body, dict):
        raise UsageError(f'request body: expected a JSON object {{"name": …, "ids": […]}}, got {type(body).__name__}')
    size = await run_in_threadpool(_state(request).create_tag, body.get("name"), body.get("ids"))
    return JSONResponse({"name": body["name"].strip(), "size": size}, status_code=201)


ROUTES = [
    *(Route(path, page, methods=["GET"]) for path in PAGES),
    Mount("/assets", StaticFiles(packages=ASSET_PACKAGES), name="assets"),
    Route("/api/runs", runs, methods=["GET"]),
    Route("/api/tags", tags, methods=["GET"]),
    Route("/api/tags", create_tag, methods=["POST"]),
    Route("/api/samples", samples, methods=["GET"]),
    Route("/api/sample", sample, methods=["GET"]),
    Route("/api/embedding", embedding, methods=["GET"]),
    Route("/api/image", image, methods=["GET"]),
    Route("/runs/{run_id}/report", report, methods=["GET"]),
]


def build_app(state: AppState, hosts: frozenset[str] | None, log: Callable[[str], object] | None = None) -> Starlette:
    """The ASGI app over `state`: thresher's policy (`LocalPolicy`, `hosts` as there), then
    JSON errors (`AnswerErrors`, unexpected ones told to `log`), then the routes above."""
    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(LocalPolicy, hosts=hosts), Middleware(AnswerErrors, log=log)],
        exception_handlers={HTTPException: http_error},
    )
    app.state.thresher = state
    return app
