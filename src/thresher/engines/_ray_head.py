"""Is there a Ray head at `--address`? Checked in seconds, before any work.

`ray.init(address=...)` does not give up quickly: a closed port is retried for minutes, and a
port where something else listens (a web server, a database) keeps it waiting about a quarter
of an hour before a traceback. Two checks answer sooner:

1. a TCP connection to the port opens within `REACH_SECONDS` (else: refused, no route, ...);
2. the port answers Ray's own GCS client (`ray._raylet.GcsClient`, the client `ray.init`
   uses) within `REPLY_SECONDS`. The client runs in a child Python process, so that a port
   that never answers costs that process and not this one (the client cannot be cancelled),
   and so that this process's Ray settings stay untouched for its own `ray.init`. A head
   that refuses the client (a missing authentication token) has answered: `ray.init` then
   says what it wants. The check is skipped where it cannot run (Ray not installed here,
   or a Ray without that client), and for `ray://` addresses (Ray Client, another service).
"""

from __future__ import annotations

import socket
import subprocess
import sys

from thresher.errors import UsageError

REACH_SECONDS = 3.0  # how long the head's port may take to accept a TCP connection
REPLY_SECONDS = 10.0  # how long it may take to answer Ray's GCS client (a head answers in milliseconds)
IMPORT_SECONDS = 60.0  # how long the child process may take to import Ray before it asks
RAY_PORT = 6379  # Ray's default GCS port, for an address without one
WHAT_TO_DO = "start it with `ray start --head` and pass the address it prints, or --address auto for the cluster of this machine"

# Run as `python -c PROBE HOST:PORT SECONDS`; exit status 0: answered as a Ray head,
# 1: no answer in time (or an RPC error: not Ray's GCS service), 3: cannot check here.
PROBE = """
import os, sys, threading
try:
    from ray._raylet import GcsClient
    from ray.exceptions import RayError, RpcError
except ImportError:
    sys.exit(3)
status = [1]
def ask():
    try:
        GcsClient(address=sys.argv[1])
        status[0] = 0
    except RpcError:
        status[0] = 1
    except RayError:
        status[0] = 0
    except Exception:
        status[0] = 3
asking = threading.Thread(target=ask, daemon=True)
asking.start()
asking.join(float(sys.argv[2]))
sys.stdout.flush()
os._exit(status[0] if not asking.is_alive() else 1)
"""


def host_port(address: str) -> tuple[str, int]:
    """("host", port) of "HOST:PORT", "ray://HOST:PORT" or "[IPv6]:PORT"; no port: Ray's 6379.

    >>> host_port("10.0.0.5:6379"), host_port("ray://head:10001"), host_port("[::1]")
    (('10.0.0.5', 6379), ('head', 10001), ('::1', 6379))
    """
    rest = address.split("://", 1)[-1].rstrip("/")
    host, colon, port = rest.rpartition(":")
    if not colon or "]" in port:  # no port ("head", "[::1]")
        host, port = rest, str(RAY_PORT)
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--address {address}: expected HOST:PORT of a Ray head (e.g. 10.0.0.5:6379, as `ray start --head` prints it) or 'auto'")
    return host, int(port)


def check_reachable(address: str | None, timeout: float = REACH_SECONDS, reply: float = REPLY_SECONDS) -> None:
    """Raise UsageError unless a Ray head at `address` accepts a TCP connection within
    `timeout` seconds and answers Ray's GCS client within `reply` seconds (see the module
    docstring). None (a local instance) and "auto" (the cluster of this machine) are not checked.

    >>> check_reachable("auto")
    """
    if address is None or address == "auto":
        return
    host, port = host_port(address)
    _connect(address, host, port, timeout)
    if not address.startswith("ray://") and not answers_as_ray_head(host, port, reply):
        raise UsageError(
            f"--address {address}: expected a Ray head at {host}:{port}, got a port that accepts connections but does not answer as one"
            f" (Ray's GCS client, {reply:g} s allowed); {WHAT_TO_DO}"
        )


def _connect(address: str, host: str, port: int, timeout: float) -> None:
    """Raise UsageError unless `host:port` accepts a TCP connection within `timeout` seconds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc)).lower()
        raise UsageError(f"--address {address}: expected a running Ray head at {host}:{port}, got {reason} (a TCP connection, {timeout:g} s allowed); {WHAT_TO_DO}") from exc


def answers_as_ray_head(host: str, port: int, seconds: float = REPLY_SECONDS) -> bool:
    """True when `host:port` answers Ray's GCS client within `seconds` (after the child process
    has imported Ray), or when that cannot be checked here; False otherwise."""
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    command = [sys.executable, "-c", PROBE, target, str(seconds)]
    try:
        asked = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=IMPORT_SECONDS + seconds)
    except subprocess.TimeoutExpired:
        return False
    return asked.returncode != 1
