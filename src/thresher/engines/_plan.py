"""How the Ray engine cuts the planned work: the local engine's batches, in shards.

What to compute (sampled rows, resume, redo) is `thresher.plan`'s, the one rule both engines
call. Here, batches are formed exactly as `thresher.infer` forms them (frames in reading order,
cut every `batch_size`; crops accumulated parent by parent until a batch holds `batch_size` or
more), so a model whose output would depend on the batch composition still gives the same
vectors (except when frames fail to decode: the local engine forms its batches after decoding,
the plan before; docs/run.md). A shard is a run of consecutive batches (about `shard_frames`
frames, and at most `shard_bytes` of decoded pixels, so a task reading 4K video holds fewer
frames than one reading 640x480): the unit a reading task decodes and the unit that is retried.
"""

from __future__ import annotations

import numpy as np

from thresher.errors import UsageError
from thresher.frames import Frames
from thresher.io.pixels import reading_order


def frame_batches(frames: Frames, work: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Rows of `work` in reading order, cut every `batch_size` (the local engine's batches)."""
    ordered = reading_order(frames, work)
    return [ordered[start : start + batch_size] for start in range(0, len(ordered), batch_size)]


def crop_batches(frames: Frames, parent_rows: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Crop indices grouped as `embed_crops` groups them.

    `parent_rows[i]` is the frame row of crop i. Parents are visited in reading order; a
    parent's crops join the open batch whole, and the batch closes once it holds
    `batch_size` or more crops.
    """
    parent_rows = np.asarray(parent_rows, dtype=np.int64)
    if len(parent_rows) == 0:
        return []
    parents = reading_order(frames, np.unique(parent_rows))
    rank = np.empty(len(frames), np.int64)
    rank[parents] = np.arange(len(parents))
    order = np.argsort(rank[parent_rows], kind="stable")  # crops of one parent keep their order
    counts = np.bincount(rank[parent_rows], minlength=len(parents))
    batches, members, size = [], [], 0
    start = 0
    for count in counts.tolist():
        members.append(order[start : start + count])
        start += count
        size += count
        if size >= batch_size:
            batches.append(np.concatenate(members))
            members, size = [], 0
    if members:
        batches.append(np.concatenate(members))
    return batches


def shards(sizes: list[int], shard_frames: int, sizes_bytes: list[int] | None = None, shard_bytes: int | None = None) -> list[range]:
    """Consecutive batch indices grouped so each group holds about `shard_frames` items and at
    most `shard_bytes` decoded bytes (`sizes_bytes`: each batch's): a group closes once it
    reaches `shard_frames`, and before a batch that would take it over `shard_bytes`. Every
    group holds at least one batch (a batch larger than the budget is a group alone)."""
    if shard_frames < 1:
        raise UsageError(f"shard_frames: expected an integer >= 1, got {shard_frames}")
    groups, start, total, used = [], 0, 0, 0
    for index, size in enumerate(sizes):
        weight = sizes_bytes[index] if sizes_bytes is not None else 0
        if shard_bytes is not None and index > start and used + weight > shard_bytes:
            groups.append(range(start, index))
            start, total, used = index, 0, 0
        total += size
        used += weight
        if total >= shard_frames:
            groups.append(range(start, index + 1))
            start, total, used = index + 1, 0, 0
    if start < len(sizes):
        groups.append(range(start, len(sizes)))
    return groups


UNKNOWN_FRAME_BYTES = 1920 * 1080 * 3  # a frame whose size enumeration did not find counts as 1080p


def frame_bytes(frames: Frames, rows: np.ndarray) -> np.ndarray:
    """Decoded RGB bytes of each row (width x height x 3; `UNKNOWN_FRAME_BYTES` when unknown)."""
    rows = np.asarray(rows, dtype=np.int64)
    pixels = frames.width[rows].astype(np.int64) * frames.height[rows].astype(np.int64) * 3
    return np.where(pixels > 0, pixels, UNKNOWN_FRAME_BYTES)


def reading_shards(frames: Frames, batches: list[np.ndarray], shard_frames: int, shard_bytes: int, parents: np.ndarray | None = None) -> list[range]:
    """`shards` of frame batches (rows of `frames`) or of crop batches (crop indices, with
    `parents[i]` the frame row of crop i: a batch weighs its distinct parent frames, which
    the reading task decodes whole).

        reading_shards(frames, frame_batches(frames, rows, 8), 64, 256 * 2**20)
    """
    if parents is None:
        weights = [int(frame_bytes(frames, b).sum()) for b in batches]
    else:
        weights = [int(frame_bytes(frames, np.unique(parents[b])).sum()) for b in batches]
    return shards([len(b) for b in batches], shard_frames, weights, shard_bytes)
