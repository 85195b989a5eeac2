"""What runs on Ray's workers: shard decoding (tasks) and the models (actors).

Nothing here imports Ray: Ray Data calls these with batches of one column, `payload`, holding
pickled `Shard`, `Decoded` and `Outcome` objects (numpy arrays and small tables; a pickle is
unambiguous where Arrow would have to guess a type for ragged images). The datasource is
rebuilt in each worker process from its URLs and storage options (`SourceSpec`), never
pickled with its open filesystem handles.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from thresher.errors import DatasourceError
from thresher.frames import Frames
from thresher.io.problems import Problem, Problems


@dataclass(frozen=True)
class SourceSpec:
    """How to open a `Datasource` in another process: each location's URL (a local folder by
    its absolute path, so a worker started in another folder finds it) and its own fsspec
    storage options (the INPUT and LIGHTLY locations may hold different credentials)."""

    input: str
    input_options: dict
    lightly: str | None = None
    lightly_options: dict | None = None

    @classmethod
    def of(cls, source: Any) -> "SourceSpec":
        if source.lightly is source.input:
            return cls(*_where(source.input))
        return cls(*_where(source.input), *_where(source.lightly))

    def open(self) -> Any:
        """The Datasource (once per worker process); the driver already checked its folders."""
        key = pickle.dumps(self)
        if key not in _OPENED:
            from thresher.io.datasource import Datasource
            from thresher.io.storage import Location

            lightly = None if self.lightly is None else Location(self.lightly, self.lightly_options)
            _OPENED[key] = Datasource.of_locations(Location(self.input, self.input_options), lightly)
        return _OPENED[key]


def _where(location: Any) -> tuple[str, dict]:
    url = location.root if location.is_local else location.url
    return url, dict(getattr(location.fs, "storage_options", {}) or {})


_OPENED: dict[bytes, Any] = {}  # one Datasource per worker process and spec


@dataclass
class Shard:
    """Consecutive batches to decode: `frames` (the rows read), `batches` (lists of positions
    in `frames`, or of crops with `crops`), the masks of what to predict / embed per row, the
    video infos computed once for videos split over several shards, and the crops when the
    items are object crops (ids, integer boxes, position of their parent in `frames`)."""

    index: int
    frames: Frames
    batches: list[np.ndarray]
    pred: np.ndarray
    emb: np.ndarray
    infos: dict = field(default_factory=dict)
    crop_ids: np.ndarray | None = None
    crop_boxes: np.ndarray | None = None
    crop_parent: np.ndarray | None = None

    def crops(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(ids, boxes, parent positions) of the crops, or None when the items are whole frames.

        Example: `ids, boxes, parent = shard.crops()` for a shard of object crops.
        """
        if self.crop_ids is None:
            return None
        assert self.crop_boxes is not None and self.crop_parent is not None  # set with crop_ids
        return self.crop_ids, self.crop_boxes, self.crop_parent


@dataclass
class Decoded:
    """One batch of decoded images with the ids / frames they belong to."""

    shard: int
    batch: int
    ids: np.ndarray
    frames: Frames | None
    images: list
    pred: np.ndarray
    emb: np.ndarray
    problems: list[Problem]


@dataclass
class Outcome:
    """What the models gave for one batch: embeddings (ids, vectors), predicted frame count."""

    shard: int
    batch: int
    ids: np.ndarray
    vectors: np.ndarray | None
    predicted: int
    problems: list[Problem]


def _payloads(batch: dict) -> list:
    return [pickle.loads(p) for p in batch["payload"]]


def _pack(items: list) -> dict:
    out = np.empty(len(items), dtype=object)
    out[:] = [pickle.dumps(item, protocol=5) for item in items]
    return {"payload": out}


def video_info_of(spec: SourceSpec, name: str) -> Any:
    """A video's info (one demux pass), or None when it cannot be read."""
    from thresher.io.video import video_info

    try:
        return video_info(spec.open().input, name)
    except DatasourceError:
        return None


def decode_shards(batch: dict, spec: SourceSpec) -> dict:
    """Ray Data task: each `Shard` → one `Decoded` per batch (images in reading order)."""
    return _pack([item for shard in _payloads(batch) for item in decode_shard(spec.open(), shard)])


def decode_shard(source: Any, shard: Shard) -> list[Decoded]:
    problems = Problems()
    crops = shard.crops()
    wanted = np.unique(np.concatenate(shard.batches)) if crops is None else np.unique(crops[2])
    images = dict(read_rows(source, shard.frames, wanted, shard.infos, problems))
    out = []
    for number, members in enumerate(shard.batches):
        if crops is None:
            kept = np.array([r for r in members.tolist() if r in images], dtype=np.int64)
            pixels = [images[r] for r in kept.tolist()]
            frames = shard.frames[kept]
            item = Decoded(shard.index, number, frames.id, frames, pixels, shard.pred[kept], shard.emb[kept], [])
        else:
            from thresher.objects import cut

            crop_ids, crop_boxes, crop_parent = crops
            kept = np.array([c for c in members.tolist() if int(crop_parent[c]) in images], dtype=np.int64)
            pixels = [cut(images[int(crop_parent[c])], crop_boxes[c : c + 1])[0] for c in kept.tolist()]
            ones = np.ones(len(kept), bool)
            item = Decoded(shard.index, number, crop_ids[kept], None, pixels, ~ones, ones, [])
        out.append(item)
    if out:
        out[0].problems = list(problems)
    return out


def read_rows(source: Any, frames: Frames, rows: np.ndarray, infos: dict, problems: Problems):
    """(row, RGB array) of each readable row in reading order: `iter_pixels` with the probed video infos."""
    from thresher.io.pixels import iter_pixels

    return iter_pixels(source, frames, rows, problems, infos)


class ModelActor:
    """Ray Data actor: holds the models (loaded once per actor), runs one `Decoded` batch per
    call, writes its prediction files (each file whole) and returns its embeddings."""

    def __init__(self, spec: SourceSpec, detector: Any, task: str | None, embedder: Any, threads: int = 1) -> None:
        self.spec, self.detector, self.task, self.embedder = spec, detector, task, embedder
        _limit_threads(threads)
        for model in (detector, embedder):
            getattr(model, "net", None)  # load the weights now, once (the SSD reads its net lazily)

    def __call__(self, batch: dict) -> dict:
        return _pack([self.run(item) for item in _payloads(batch)])

    def run(self, item: Decoded) -> Outcome:
        from thresher.infer import _BatchRunner
        from thresher.plan import FRAME_KEY_WIDTH

        if not item.images:
            return Outcome(item.shard, item.batch, item.ids[:0], None, 0, item.problems)
        source = self.spec.open()
        no_keys = np.zeros((0, FRAME_KEY_WIDTH))  # unused: the driver stores the vectors, with their keys
        runner = _BatchRunner(source, item.frames, self.detector, self.task, self.embedder, None, set(), set(), no_keys)
        detections, vectors = runner._forward(item.images, item.pred, item.emb)
        predicted = 0
        if detections is not None:
            runner._write_predictions(np.flatnonzero(item.pred), detections)
            predicted = int(item.pred.sum())
        ids = item.ids[item.emb] if vectors is not None else item.ids[:0]
        return Outcome(item.shard, item.batch, ids, vectors, predicted, item.problems)


def _limit_threads(threads: int) -> None:
    """Each actor computes with `threads` threads (OpenCV, torch, BLAS), so actors do not
    oversubscribe the cores they share with each other and with the reading tasks."""
    import importlib.util
    import os
    import sys

    os.environ["OMP_NUM_THREADS"] = str(threads)
    if importlib.util.find_spec("cv2") is not None:
        import cv2

        cv2.setNumThreads(threads)
    torch = sys.modules.get("torch")  # imported by unpickling a torch model, if any
    if torch is not None:
        torch.set_num_threads(threads)
