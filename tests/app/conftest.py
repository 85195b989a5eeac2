import contextlib
import threading
from pathlib import Path

import pytest


@contextlib.contextmanager
def served(workspace: Path):
    """`thresher serve` over `workspace`'s catalog on a free port of 127.0.0.1, in a thread."""
    from thresher.app import make_server

    server = make_server(workspace, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def app_server(bikes_runs):
    """`thresher serve` over the runs' catalog on a free port of 127.0.0.1, in a thread."""
    with served(bikes_runs.workspace) as server:
        yield server


@pytest.fixture(scope="module")
def portrait_server(portrait_run):
    """`thresher serve` over the catalog of the run with a portrait (rotated) video."""
    with served(portrait_run.folder.parents[1]) as server:
        yield server
