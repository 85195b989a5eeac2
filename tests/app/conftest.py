import pytest


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
