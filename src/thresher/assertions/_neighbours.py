"""What the assertions share: which frames follow which, and which boxes may overlap.

Everything here works on whole columns at once. Frames are neighbours only when they are
truly consecutive in their video (same `Frames.video`, `frame_index` differing by exactly
the offset, every frame in between present). Candidate box pairs come from a sorted index of
the boxes by (frame, x0): a pair can only reach IoU >= s when the boxes' left edges are
within (1 - s) * max width of each other, so each query box looks at a narrow window of its
target frame instead of all of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from thresher.boxes import intersection, iou, widths
from thresher.detections import Detections
from thresher.errors import SchemaError
from thresher.frames import Frames

#: Candidate pairs handled per chunk, to bound memory when windows are wide.
CHUNK_PAIRS = 1 << 20
#: Boxes per block of whole frames. Small blocks keep temporaries in cache and out of fresh
#: pages: on 3M boxes at once numpy runs several times slower than on blocks of 32k.
BLOCK_BOXES = 1 << 15


def check_rows(detections: Detections, frames: Frames) -> None:
    """Raise SchemaError when a detection points at a row that `frames` does not have."""
    if len(detections) and detections.frame.max() >= len(frames):
        raise SchemaError(f"detections.frame: expected rows of the {len(frames)} frames given, got row {int(detections.frame.max())}")


def video_order(frames: Frames) -> np.ndarray:
    """Rows of the non-crop frames sorted by (video, frame_index); raises on repeated frames."""
    rows = np.flatnonzero(frames.kind != "crop")
    order = rows[np.lexsort((frames.frame_index[rows], frames.video[rows]))]
    video, index = frames.video[order], frames.frame_index[order]
    same = (video[1:] == video[:-1]) & (index[1:] == index[:-1])
    if same.any():
        k = int(np.flatnonzero(same)[0])
        raise SchemaError(f"Frames: frame {int(index[k])} of video {str(video[k])!r} appears twice (rows {int(order[k])} and {int(order[k + 1])})")
    return order


def later_rows(frames: Frames, offset: int, order: np.ndarray | None = None) -> np.ndarray:
    """For every row, the row `offset` frames later in the same video, or -1 when there is none.

    A row is returned only when all frames in between are in the table too, so chains of
    `later_rows(frames, 1)` and `later_rows(frames, k)` agree.
    """
    order = video_order(frames) if order is None else order
    result = np.full(len(frames), -1, dtype=np.int64)
    if offset <= 0 or len(order) <= offset:
        return result
    head, tail = order[:-offset], order[offset:]
    ok = (frames.video[head] == frames.video[tail]) & (frames.frame_index[tail] - frames.frame_index[head] == offset)
    result[head[ok]] = tail[ok]
    return result


def frame_offsets(frame: np.ndarray, n_frames: int) -> np.ndarray:
    """(n_frames + 1,) start of each frame's rows in `frame` sorted ascending."""
    return np.searchsorted(frame, np.arange(n_frames + 1), side="left")


@dataclass(frozen=True, eq=False)
class BoxIndex:
    """Boxes sorted by (frame, x0), for windowed candidate search.

    `order` maps sorted positions to rows of the indexed boxes; `starts` are the sorted
    positions where each frame begins; `keys` are frame * span + x0 - origin (float64, exact
    to well under a pixel while `windows_ok`).
    """

    order: np.ndarray
    keys: np.ndarray
    starts: np.ndarray
    max_width: np.ndarray
    origin: float
    span: float
    windows_ok: bool

    @classmethod
    def build(cls, frame: np.ndarray, xyxy: np.ndarray, n_frames: int) -> "BoxIndex":
        x0 = xyxy[:, 0]
        origin = float(x0.min()) if len(x0) else 0.0
        span = float(np.ceil(x0.max() - origin)) + 2.0 if len(x0) else 2.0
        # float64 keys resolve a pixel below 2**50; beyond, windows are whole frames
        windows_ok = (n_frames + 1) * span < 2.0**50
        keys = frame * span + (x0 - origin) if windows_ok else frame.astype(np.float64)
        order = _sort_by_frame_blocks(frame, keys)
        keys = keys[order]
        starts = frame_offsets(frame[order], n_frames)
        max_width = np.zeros(n_frames)
        filled = np.flatnonzero(starts[1:] > starts[:-1])
        if len(filled):
            width = widths(xyxy)[order]
            max_width[filled] = np.maximum.reduceat(width, starts[filled])
        return cls(order, keys, starts, max_width, origin, span, windows_ok)

    def blocks(self, size: int = BLOCK_BOXES) -> Iterator[np.ndarray]:
        """Yield the indexed rows, sorted by (frame, x0), in blocks of whole frames of about
        `size` boxes (a frame with more boxes is a block of its own)."""
        total = len(self.order)
        cuts = np.unique(self.starts[np.searchsorted(self.starts, np.arange(size, total, size))])
        bounds = [0, *cuts[(cuts > 0) & (cuts < total)].tolist(), total]
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            if hi > lo:
                yield self.order[lo:hi]

    def windows(
        self,
        query_frame: np.ndarray,
        query_xyxy: np.ndarray,
        min_iou: float,
        whole_frame: np.ndarray | bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sorted positions [lo, hi) of the boxes of `query_frame` that may reach `min_iou`.

        A query with frame -1 gets an empty window. `whole_frame` (mask or bool) forces the
        whole target frame, as does `min_iou <= 0` (every pair may qualify then).
        """
        valid = query_frame >= 0
        f = query_frame if valid.all() else np.where(valid, query_frame, 0)
        lo, hi = self.starts[f], self.starts[f + 1]
        narrow = ~np.asarray(whole_frame, dtype=bool) & (min_iou > 0) & self.windows_ok
        if np.any(narrow) and len(f):
            # IoU >= s needs |x0_a - x0_b| <= (1 - s) * max(w_a, w_b), and w_b <= w_a / s since
            # IoU <= min(w) / max(w); s is lowered a little for float32 rounding, +1 px of slack
            s = max(min_iou - 1e-6, 1e-9)
            width = widths(query_xyxy)
            delta = np.minimum(width / s, np.maximum(width, self.max_width[f])) * (1.0 - s) + 1.0
            center = f * self.span + (query_xyxy[:, 0] - self.origin)
            # the answers lie within the target frames, so search only their stretch of keys
            first = int(lo.min())
            keys = self.keys[first : int(hi.max())]
            near_lo = np.maximum(first + _search(keys, center - delta, "left"), lo)
            near_hi = np.minimum(first + _search(keys, center + delta, "right"), hi)
            lo, hi = (near_lo, near_hi) if narrow is True or np.all(narrow) else (np.where(narrow, near_lo, lo), np.where(narrow, near_hi, hi))
        counts = np.maximum(hi - lo, 0)
        if not valid.all():
            counts[~valid] = 0
        return lo, counts

    def candidates(
        self,
        query_frame: np.ndarray,
        query_xyxy: np.ndarray,
        min_iou: float,
        whole_frame: np.ndarray | bool = False,
        chunk_pairs: int = CHUNK_PAIRS,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield chunks of (query index, indexed row) pairs that may reach IoU >= `min_iou`.

        Every pair with IoU >= min_iou (and every pair of the whole-frame queries) is yielded
        exactly once; others may be too, so callers compute the exact IoU and filter.
        """
        lo, counts = self.windows(query_frame, query_xyxy, min_iou, whole_frame)
        yield from self._chunks(lo, counts, chunk_pairs)

    def overlap_candidates(self, query_frame: np.ndarray, query_xyxy: np.ndarray, share: float = 0.0, chunk_pairs: int = CHUNK_PAIRS) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield chunks of (query index, indexed row) pairs whose x-ranges may overlap.

        Every box of the query's frame whose x-range overlaps the query's by more than
        `share` of the query's width is yielded exactly once (its left edge lies within
        [x0 + share * w - widest box of the frame, x1 - share * w]); others may be too, so
        callers compute the exact overlap and filter. A query with frame -1 gets none.
        """
        valid = query_frame >= 0
        f = query_frame if valid.all() else np.where(valid, query_frame, 0)
        lo, hi = self.starts[f], self.starts[f + 1]
        if self.windows_ok and len(f):
            base = f * self.span - self.origin
            first = int(lo.min())
            keys = self.keys[first : int(hi.max())]
            inset = share * widths(query_xyxy)
            lo = np.maximum(first + _search(keys, base + query_xyxy[:, 0] + inset - self.max_width[f] - 1.0, "left"), lo)
            hi = np.minimum(first + _search(keys, base + query_xyxy[:, 2] - inset + 1.0, "right"), hi)
        counts = np.maximum(hi - lo, 0)
        if not valid.all():
            counts[~valid] = 0
        yield from self._chunks(lo, counts, chunk_pairs)

    def _chunks(self, lo: np.ndarray, counts: np.ndarray, chunk_pairs: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(query index, indexed row) pairs of the windows [lo, lo + counts), in chunks."""
        ends = np.cumsum(counts)
        start_query = 0
        while start_query < len(counts):
            done = ends[start_query - 1] if start_query else 0
            stop_query = max(int(np.searchsorted(ends, done + chunk_pairs, side="right")), start_query + 1)
            yield self._expand(lo, counts, start_query, stop_query)
            start_query = stop_query

    def _expand(self, lo: np.ndarray, counts: np.ndarray, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        counts = counts[start:stop]
        query = np.repeat(np.arange(start, stop), counts)
        first = np.cumsum(counts) - counts
        position = np.arange(len(query)) - np.repeat(first, counts) + np.repeat(lo[start:stop], counts)
        return query, self.order[position]


def _sort_by_frame_blocks(frame: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Stable argsort of `keys` (which order by frame first), sorting blocks of whole frames
    separately when `frame` is already sorted (the usual case, and much faster)."""
    if len(frame) < 2 * BLOCK_BOXES or not (frame[1:] >= frame[:-1]).all():
        return np.argsort(keys, kind="stable")
    starts = np.flatnonzero(np.r_[True, frame[1:] != frame[:-1]])
    cuts = np.unique(starts[np.searchsorted(starts, np.arange(BLOCK_BOXES, len(frame), BLOCK_BOXES))])
    bounds = [0, *cuts.tolist(), len(frame)]
    return np.concatenate([lo + np.argsort(keys[lo:hi], kind="stable") for lo, hi in zip(bounds[:-1], bounds[1:])])


def _search(keys: np.ndarray, queries: np.ndarray, side: Literal["left", "right"]) -> np.ndarray:
    """`np.searchsorted`; with large key arrays, queries are sorted first (sorted queries walk
    the keys in order, many times faster than random ones once the keys leave the cache)."""
    if len(keys) <= 1 << 17 or len(queries) < 2 or (queries[1:] >= queries[:-1]).all():
        return np.searchsorted(keys, queries, side=side)
    order = np.argsort(queries, kind="stable")
    result = np.empty(len(queries), dtype=np.int64)
    result[order] = np.searchsorted(keys, queries[order], side=side)
    return result


pair_iou = iou  # IoU of a[k] with b[k] for every k (thresher.boxes)
pair_intersection = intersection  # overlap area of a[k] and b[k] (thresher.boxes)


def group_sum(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Sum of `values` per group id in [0, n) (float64)."""
    return np.bincount(groups, weights=values, minlength=n)[:n].astype(np.float64)
