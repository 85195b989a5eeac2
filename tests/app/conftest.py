import pytest

from tests.report_fixtures import bikes_runs as _bikes_runs
from tests.report_fixtures import launch_chromium


@pytest.fixture(scope="session")
def bikes_runs(tmp_path_factory, bikes_predicted):
    return _bikes_runs(tmp_path_factory, bikes_predicted)


@pytest.fixture(scope="module")
def browser():
    playwright, browser = launch_chromium()
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture(scope="module")
def app_server(bikes_runs):
    """`thresher serve` over the runs' catalog on a free port of 127.0.0.1, in a thread."""
    import threading

    from thresher.app import make_server

    server = make_server(bikes_runs.workspace, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)
