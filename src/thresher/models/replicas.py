"""Copies of models for compute threads, and the thread count each copy computes with.

A model that can run on several threads at once has `replica()`: a copy with the same weights
and options and its own runtime state (the built-in SSD: its own OpenCV net, since one net
must not run two forward passes at once). `replicas` gives one tuple of models per worker;
`compute_threads(1)` makes each copy compute on one thread while several run side by side,
so that N workers use N cores without oversubscribing them.

Example: `replicas((ssd, ssd), 2)` → `[(ssd, ssd), (copy, copy)]` (the detector that is also
the embedder stays one model within each tuple).
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from typing import Any

from thresher.errors import UsageError
from thresher.parallel import cores


def can_replicate(model: Any) -> bool:
    """True for None and for models with a `replica()` method."""
    return model is None or callable(getattr(model, "replica", None))


def replicas(models: tuple, workers: int | None = None) -> list[tuple]:
    """`workers` tuples of `models` (the first is `models` itself), each for its own thread.

    workers: None = one per core when every model has `replica()`, else 1.
    """
    if workers is None:
        workers = cores() if all(can_replicate(m) for m in models) else 1
    if int(workers) != workers or workers < 1:
        raise UsageError(f"workers: expected an integer >= 1, got {workers!r}")
    if workers > 1:
        for model in models:
            if not can_replicate(model):
                raise UsageError(f"workers: {type(model).__name__} has no replica() to run on several threads; use workers=1")
    out = [tuple(models)]
    for _ in range(int(workers) - 1):
        copies: dict[int, Any] = {}
        for model in models:
            if model is not None and id(model) not in copies:
                copies[id(model)] = model.replica()
        out.append(tuple(None if m is None else copies[id(m)] for m in models))
    return out


@contextlib.contextmanager
def compute_threads(threads: int | None) -> Iterator[None]:
    """OpenCV (and torch, when loaded) compute on `threads` threads inside the block, as before
    after it; None leaves them alone. The settings are process-wide."""
    if threads is None:
        yield
        return
    restore = []
    if "cv2" in sys.modules or importlib.util.find_spec("cv2") is not None:
        import cv2

        restore.append((cv2.setNumThreads, cv2.getNumThreads()))
        cv2.setNumThreads(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        restore.append((torch.set_num_threads, torch.get_num_threads()))
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        for setter, value in restore:
            setter(value)
