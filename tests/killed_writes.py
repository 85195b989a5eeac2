"""Temporaries exactly as a killed write leaves them: a process writing files and folders through
`thresher.io.temporary` is killed with SIGKILL midway. It says when it is writing (no timing)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

WRITER = textwrap.dedent(
    """
    import contextlib, json, os, sys, time
    from thresher.io.temporary import replacing, replacing_folder
    files, folders = json.loads(sys.argv[1]), json.loads(sys.argv[2])
    with contextlib.ExitStack() as stack:
        for path in files:
            stack.enter_context(replacing(path)).write(b'{"half": ')
        for path in folders:
            with open(os.path.join(stack.enter_context(replacing_folder(path)), "ids.npy"), "wb") as handle:
                handle.write(b"half a shard")
        print("writing", flush=True)
        time.sleep(600)
    """
)


@contextmanager
def writing(files: Sequence[Path] = (), folders: Sequence[Path] = ()) -> Iterator[None]:
    """Inside, another process is writing `files` and `folders` (each half written under its
    temporary name, locked); it is killed with SIGKILL at the end of the block."""
    command = [sys.executable, "-c", WRITER, json.dumps([str(p) for p in files]), json.dumps([str(p) for p in folders])]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            line = process.stdout.readline()  # type: ignore[union-attr]
            assert line == "writing\n", process.stderr.read() if process.poll() is not None else line  # type: ignore[union-attr]
            yield
        finally:
            process.kill()
            process.communicate()


def killed_while_writing(files: Sequence[Path] = (), folders: Sequence[Path] = ()) -> None:
    """What a command killed while writing `files` and `folders` leaves: their temporaries."""
    with writing(files, folders):
        pass


def temporaries(root: Path) -> list[Path]:
    """Every file or folder below `root` named like a temporary: thresher's
    `.<name>.<8 hex>.tmp`, or any other name holding `.tmp`."""
    return sorted(p for p in root.rglob("*") if ".tmp" in p.name)
