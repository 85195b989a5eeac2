"""`thresher serve`: a local web app over the catalog.

Pages: a grid of samples with their boxes, filtered by tag, score range and predicted class;
the embedding view coloured by a chosen score, where a lasso saves the enclosed samples as a
new tag of the catalog; a sample page with its predicted and imputed boxes, tags and every
score; the list of runs with their reports. Served by Starlette on uvicorn (h11) on 127.0.0.1
by default; every script and style ships in the package (no CDN, no network). Sample and run
ids from the browser are looked up in the catalog, never joined onto a path. Modules: `server`
(uvicorn on a bound socket), `routes` (the Starlette app), `policy` (Host, Origin, body rules,
security headers), `errors` (JSON error answers), `protocol` (h11's refusals answered alike),
`state` and `queries` (what is shown), `images` (pixels).

    from thresher.app import make_server
    server = make_server("data/.thresher")      # port 0: any free port
    server.serve_forever()
"""

from __future__ import annotations

import os

from thresher.app.server import AppServer
from thresher.app.state import AppState

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def make_server(catalog: str | os.PathLike, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, log=None, storage_options: dict | None = None) -> AppServer:
    """A server over the catalog (a workspace folder or its catalog.sqlite), not yet serving;
    `storage_options`: fsspec options to read the runs' datasource (a bucket's credentials)."""
    return AppServer(AppState(catalog, storage_options), host, port, log)


def serve(catalog: str | os.PathLike, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, log=None, announce=None, storage_options: dict | None = None) -> None:
    """Serve until interrupted (Ctrl-C); `announce(line)` is told the address once listening,
    `log` a warning first for each bucket the runs read that no credentials will open."""
    from thresher.app.state import credentials_warnings

    server = make_server(catalog, host, port, log, storage_options)
    for line in credentials_warnings(server.state) if log is not None else ():
        log(line)
    if announce is not None:
        announce(f"thresher serves {server.state.catalog_path} on http://{server.public_host}:{server.server_port}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "AppServer", "AppState", "make_server", "serve"]
