"""Helpers of the compat tests: run a seed script, copy folders into a bucket."""

from __future__ import annotations

from pathlib import Path

SEEDS = Path(__file__).parent / "seeds"


def run_seed(name: str, namespace: dict | None = None, replace: dict[str, str] | None = None) -> dict:
    """Execute a seed script of tests/compat/seeds/ as `__main__` in `namespace`; returns it.

    `replace` fills placeholders the seed asks the user to fill (each must occur once).
    """
    path = SEEDS / name
    text = path.read_text(encoding="utf-8")
    for old, new in (replace or {}).items():
        assert text.count(old) == 1, f"{name}: placeholder {old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    namespace = {} if namespace is None else namespace
    namespace.setdefault("__name__", "__main__")
    exec(compile(text, str(path), "exec"), namespace)  # noqa: S102 - the seed scripts of this repository
    return namespace


def upload(fs, local: Path, remote: str) -> None:
    """Copy a local folder into the bucket (`aws s3 cp --recursive`)."""
    for path in sorted(local.rglob("*")):
        if path.is_file():
            fs.pipe_file(f"{remote}/{path.relative_to(local).as_posix()}", path.read_bytes())


def empty(fs, bucket: str) -> None:
    for path in fs.find(bucket):
        fs.rm_file(path)
    fs.invalidate_cache()
