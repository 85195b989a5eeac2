"""Checks the Makefile runs around an install from the lock files (standard library only).

    python requirements/check.py interpreter 3.11 x86_64-manylinux_2_28
        before .venv is made: the interpreter is the one the lock files were resolved for.
    python requirements/check.py venv requirements/demo.txt requirements/test.txt ...
        after an install: every distribution in this environment equals its pin in one of the
        lock files (thresher itself aside), nothing unpinned is installed, exactly one OpenCV
        distribution is present, and `pip check` finds nothing.

Each problem prints one line `error: …` with what to do; exit code 1.
"""

from __future__ import annotations

import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
OPENCV = {"opencv-python", "opencv-python-headless", "opencv-contrib-python", "opencv-contrib-python-headless"}
PROJECT = "thresher"


def canonical(name: str) -> str:
    """PEP 503 normalized distribution name: `Opencv_Python` -> `opencv-python`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock_files: list[str]) -> dict[str, str]:
    """{distribution: version} pinned by the lock files (`name==version` lines)."""
    pinned: dict[str, str] = {}
    for lock_file in lock_files:
        for line in Path(lock_file).read_text().splitlines():
            match = PIN.match(line.strip())
            if match:
                pinned[canonical(match.group(1))] = match.group(2)
    return pinned


def check_interpreter(python: str, lock_platform: str) -> list[str]:
    """Problems if this interpreter is not CPython `python` (e.g. "3.11") on the lock's machine."""
    here = f"{platform.python_implementation()} {platform.python_version()} on {sys.platform} {platform.machine()}"
    machine = lock_platform.split("-")[0]
    wanted = f"CPython {python} on linux {machine}"
    ok = (
        platform.python_implementation() == "CPython"
        and f"{sys.version_info[0]}.{sys.version_info[1]}" == python
        and sys.platform == "linux"
        and platform.machine() == machine
    )
    if ok:
        return []
    return [
        f"requirements/*.txt are locked for {wanted}; {sys.executable} is {here}: "
        f"run make with PYTHON=python{python}, or lock for this interpreter (docs/install.md)"
    ]


def installed() -> dict[str, str]:
    """{distribution: version} installed in this environment."""
    return {canonical(dist.metadata["Name"]): dist.version for dist in metadata.distributions()}


def check_venv(lock_files: list[str]) -> list[str]:
    """Problems of this environment against the lock files (see the module docstring)."""
    pinned = pins(lock_files)
    problems = []
    for name, version in sorted(installed().items()):
        if name == PROJECT:
            continue
        if name not in pinned:
            problems.append(f"{name}=={version} is installed but no lock file pins it: run `make clean`, then the command again")
        elif pinned[name] != version:
            problems.append(f"{name}=={version} is installed but the lock pins {pinned[name]}: run `make clean`, then the command again")
    opencv = sorted(OPENCV & set(installed()))
    if len(opencv) > 1:
        problems.append(f"{len(opencv)} OpenCV distributions share one cv2 folder ({', '.join(opencv)}): keep only opencv-python-headless")
    result = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    if result.returncode != 0:
        problems += [f"pip check: {line}" for line in result.stdout.splitlines() if line.strip()]
    return problems


def main(argv: list[str]) -> int:
    if argv[:1] == ["interpreter"] and len(argv) == 3:
        problems = check_interpreter(argv[1], argv[2])
    elif argv[:1] == ["venv"] and len(argv) >= 2:
        problems = check_venv(argv[1:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
