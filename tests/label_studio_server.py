"""A real Label Studio for tests: installed from requirements/label-studio.txt, started on 127.0.0.1.

**Install.** Label Studio pins Django and ~150 other packages, so it gets a virtual environment
of its own, never thresher's `.venv`: built from the lock file with `pip install --no-deps
--require-hashes` (setuptools from the same lock first, then `--no-build-isolation` for the few
pure-Python sdists), in `<cache>/label-studio-<first 16 hex of the lock's SHA-256>`, where
`<cache>` is `$THRESHER_TEST_CACHE`, else `$XDG_CACHE_HOME/thresher-tests`, else
`~/.cache/thresher-tests`. It is built under a temporary name and renamed when complete, so a
build that was interrupted or raced by another checkout is never used half-done; a new lock
gets a new folder. About 1 GB and 1–2 minutes the first time; then reused.

**Server.** `python -m label_studio.server start` on a free port of 127.0.0.1 with a throwaway
data folder and HOME, a throwaway user with a fixed API token
(`LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true`), local-files serving on for one document root,
and no version check (`LATEST_VERSION_CHECK=false`). It answers `/health` after 40–60 s here.

Example:
    with LabelStudio.start(python, document_root=Path("ws"), folder=tmp) as studio:
        project = studio.call("POST", "/api/projects", {"title": "demo", "label_config": xml})
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "label-studio.txt"
START_TIMEOUT = 300  # seconds for /health (40–60 s here, slower while other tests run)
INSTALL_TIMEOUT = 1800


class InstallError(RuntimeError):
    """Label Studio could not be installed (the reason is the message)."""


def cache_folder() -> Path:
    explicit = os.environ.get("THRESHER_TEST_CACHE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "thresher-tests"


def venv_folder(lock: Path = LOCK) -> Path:
    """Where the environment of this lock file lives (a new lock, a new folder)."""
    return cache_folder() / f"label-studio-{hashlib.sha256(lock.read_bytes()).hexdigest()[:16]}"


def installed_python(lock: Path = LOCK) -> Path:
    """The interpreter of the cached Label Studio environment, built first when missing.

    Raises InstallError with pip's last lines when the install fails (no network, no wheel).
    """
    folder = venv_folder(lock)
    python = folder / "bin" / "python"
    if python.exists():
        return python
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = folder.with_name(f"{folder.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        _build(building, lock)
        try:
            os.rename(building, folder)
        except OSError:
            if not python.exists():  # not another process that finished first
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return python


def _build(folder: Path, lock: Path) -> None:
    base = getattr(sys, "_base_executable", sys.executable)
    _run([base, "-m", "venv", str(folder)])
    pip = [str(folder / "bin" / "python"), "-m", "pip", "--quiet", "--disable-pip-version-check", "install", "--no-deps", "--require-hashes"]
    build_tools = folder / "build-tools.txt"
    build_tools.write_text(_block(lock.read_text(), "setuptools"))
    _run([*pip, "-r", str(build_tools)])
    _run([*pip, "--no-build-isolation", "-r", str(lock)])
    _run([str(folder / "bin" / "python"), "-c", "import label_studio, django"])


def _block(text: str, name: str) -> str:
    """The `name==version \\ --hash …` lines of one distribution of a lock file."""
    lines, inside = [], False
    for line in text.splitlines():
        if not line.startswith((" ", "\t", "#")):
            inside = line.lower().startswith(f"{name}==")
        if inside and not line.lstrip().startswith("#"):
            lines.append(line)
    if not lines:
        raise InstallError(f"{LOCK}: no pin of {name}")
    return "\n".join(lines) + "\n"


def _run(args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")}
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=INSTALL_TIMEOUT)
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise InstallError(f"{' '.join(args[:4])} …: exit code {done.returncode}: {tail}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LabelStudio:
    """A running Label Studio; `call` speaks its REST API with the user's token."""

    process: subprocess.Popen
    url: str
    token: str
    log: Path

    @classmethod
    @contextlib.contextmanager
    def start(cls, python: Path, document_root: Path, folder: Path):
        """Start Label Studio serving local files below `document_root`; stop it on exit."""
        port, token = free_port(), secrets.token_hex(20)
        data, home = folder / "data", folder / "home"
        data.mkdir(parents=True)
        home.mkdir()
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith(("DJANGO", "LABEL_STUDIO"))},
            "HOME": str(home),
            "LABEL_STUDIO_BASE_DATA_DIR": str(data),
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LOCAL_FILES_SERVING_ENABLED": "true",
            "LOCAL_FILES_DOCUMENT_ROOT": str(document_root),
            "LATEST_VERSION_CHECK": "false",
            "COLLECT_ANALYTICS": "false",
        }
        args = [
            str(python),
            "-m",
            "label_studio.server",
            "start",
            "--no-browser",
            "--internal-host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data),
            "--username",
            "tester@example.com",
            "--password",
            secrets.token_hex(8),
            "--user-token",
            token,
        ]
        log = folder / "label-studio.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=folder, start_new_session=True)
        studio = cls(process, f"http://127.0.0.1:{port}", token, log)
        try:
            studio._wait()
            yield studio
        finally:
            studio.stop()

    def _wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Label Studio exited with {self.process.returncode}: {self.log_tail()}")
            with contextlib.suppress(OSError):
                if self.get("/health")[0] == 200:
                    return
            time.sleep(1)
        raise RuntimeError(f"Label Studio did not answer /health within {START_TIMEOUT} s: {self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(30)

    def get(self, path: str) -> tuple[int, bytes]:
        """GET `path` with the token: (status, body)."""
        return self._request("GET", path, None)

    def call(self, method: str, path: str, body: object = None) -> object:
        """A JSON API call that must succeed (2xx); returns the parsed answer."""
        status, answer = self._request(method, path, body)
        assert 200 <= status < 300, f"{method} {path}: {status} {answer[:500]!r}"
        return json.loads(answer) if answer else None

    def _request(self, method: str, path: str, body: object) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Token {self.token}", "Content-Type": "application/json"}
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
