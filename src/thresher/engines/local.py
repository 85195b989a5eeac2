"""The local engine: the per-frame stages in this process (`thresher.infer`), the default."""

from __future__ import annotations

from typing import Any

from thresher.infer import InferenceResult, embed_crops, run_models


class LocalEngine:
    """Runs `thresher.infer.run_models` and `embed_crops` as they are (no options)."""

    name = "local"

    def run_models(self, source: Any, **options: Any) -> InferenceResult:
        return run_models(source, **options)

    def embed_crops(self, source: Any, frames: Any, crops: Any, boxes: Any, embedder: Any, store: Any, **options: Any) -> InferenceResult:
        return embed_crops(source, frames, crops, boxes, embedder, store, **options)

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return "LocalEngine()"
