"""Engines: what runs the per-frame stages of a run (decode, predict, embed).

- `"local"` (the default, `LocalEngine`): this process, through `thresher.infer` (frames
  decoded in a background thread while the models run).
- `"ray"` (`RayEngine`, extra `ray`): Ray Data on a cluster, or on a local Ray instance; see
  `thresher.engines.ray`.

Both take the same arguments as `thresher.infer.run_models` / `embed_crops`, write the same
prediction files and the same embeddings (per sample, bit for bit), resume the same way
(prediction files present and valid, embeddings stored) and return the same
`InferenceResult`, so a run selects exactly the same samples on either engine. Selection
always runs in the calling process over the gathered scores and embeddings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from thresher.errors import UsageError, did_you_mean

if TYPE_CHECKING:
    import numpy as np

    from thresher.frames import Frames
    from thresher.infer import InferenceResult

ENGINES = ("local", "ray")


class Engine(Protocol):
    """Runs the models over frames (`run_models`) and over object crops (`embed_crops`), with
    the arguments of `thresher.infer.run_models` / `embed_crops` both engines take."""

    def run_models(
        self,
        source: Any,
        *,
        detector: Any = None,
        task: str | None = None,
        embedder: Any = None,
        store: Any = None,
        every: int = 1,
        batch_size: int = ...,
        resume: bool = True,
        progress: Callable[[int, int], None] | None = None,
        frames: Frames | None = None,
        rows: np.ndarray | None = None,
        redo: np.ndarray | None = None,
        cache: Any = None,
    ) -> InferenceResult: ...

    def embed_crops(
        self,
        source: Any,
        frames: Frames,
        crops: Frames,
        boxes: np.ndarray,
        embedder: Any,
        store: Any,
        *,
        batch_size: int = ...,
        resume: bool = True,
        progress: Callable[[int, int], None] | None = None,
    ) -> InferenceResult: ...

    def close(self) -> None: ...


def make_engine(name: str = "local", *, address: str | None = None, **options: Any) -> Engine:
    """The engine called `name` ("local" or "ray").

    Args:
        address: the Ray cluster to join ("HOST:PORT", or "auto"); only with "ray" (refused with
            "local"). None joins the Ray instance this process already started, or starts a local one.
        options: passed to the engine's constructor (see `RayEngine`).
    """
    if name == "local":
        if address is not None:
            raise UsageError(f"--address {address}: only the ray engine joins a cluster, and the engine is 'local'; add --engine ray (engine='ray'), or leave the address out")
        from thresher.engines.local import LocalEngine

        return LocalEngine(**options)
    if name == "ray":
        from thresher.engines.ray import RayEngine

        return RayEngine(address=address, **options)
    raise UsageError(f"engine: expected one of {', '.join(ENGINES)}, got {name!r}{did_you_mean(str(name), ENGINES)}")


__all__ = ["ENGINES", "Engine", "make_engine"]
