"""The stages of a run that decide which samples take part, each a plain function.

Removed samples are collected as (file_name, reason, detail) rows for `removed_samples.csv`:
reasons are `corrupt`, `duplicate`, `invalid prediction` and `not relevant`.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from thresher.embeddings import Embeddings
from thresher.errors import ConfigError, DatasourceError
from thresher.frames import Frames
from thresher.io.datasource import IO_THREADS, Datasource
from thresher.io.images import check_image
from thresher.provenance import read_json_cache, write_json_cache

Removed = list[tuple[str, str, str]]  # (file_name, reason, detail)


def relevant_rows(frames: Frames, source: Datasource, relevant_file: str | None) -> np.ndarray:
    """Rows whose file is listed in the worker's `relevant_filenames_file` (all when None)."""
    if relevant_file is None:
        return np.arange(len(frames))
    try:
        text = source.lightly.read_bytes(relevant_file).decode()
    except Exception as exc:  # noqa: BLE001 - reported as a config problem
        raise ConfigError(f"worker_config.relevant_filenames_file: cannot read {relevant_file!r} ({exc})") from exc
    names = {line.strip() for line in text.splitlines() if line.strip()}
    return np.flatnonzero(np.isin(frames.video, list(names)) | np.isin(frames.file_name, list(names)))


def corrupt_files(source: Datasource, frames: Frames, cache_file: Path, progress=None) -> dict[str, str]:
    """{file: reason} of images that do not decode fully and videos that do not decode to
    their last frame. Results are cached by file size and modification time. `progress`:
    called with (files checked, files to check)."""
    from thresher.io.video import check_video

    cache = read_json_cache(cache_file)
    files = sorted(set(frames.video.tolist()))
    stats = {name: list(source.input.stat(name)) for name in files}
    todo = [n for n in files if cache.get(n, [None, None])[:2] != stats[n]]
    kinds = dict(zip(frames.video.tolist(), frames.kind.tolist()))

    def check(name: str) -> str:
        try:
            if kinds[name] == "image":
                with source.input.open(name) as f:
                    check_image(f, name)
            else:
                check_video(source.input, name)
            return ""
        except DatasourceError as exc:
            return str(exc).removeprefix(f"{name}: ")

    with ThreadPoolExecutor(IO_THREADS) as pool:
        for done, (name, reason) in enumerate(zip(todo, pool.map(check, todo)), 1):
            cache[name] = [*stats[name], reason]
            if progress:
                progress(done, len(todo))
    write_json_cache(cache_file, cache)
    return {n: cache[n][2] for n in files if cache[n][2]}


def exact_duplicates(embeddings: Embeddings, candidates: np.ndarray, keep_first: np.ndarray) -> dict[str, str]:
    """{id: id of its twin} for samples whose embedding equals an earlier sample's exactly.

    Identical pixels give identical vectors (the embedders are deterministic), so this finds
    exact duplicate images and frames (e.g. a static camera) without hashing files. Among
    twins, samples in `keep_first` (preselected) are kept, then the smallest id.
    """
    if len(embeddings) == 0:
        return {}
    order = np.lexsort((embeddings.ids, ~np.isin(embeddings.ids, keep_first)))
    vectors = np.ascontiguousarray(embeddings.vectors[order])
    _, first, inverse = np.unique(vectors.view(np.dtype((np.void, vectors.dtype.itemsize * vectors.shape[1]))), return_index=True, return_inverse=True)
    twin = embeddings.ids[order][first[inverse.ravel()]]
    ids = embeddings.ids[order]
    duplicate = (twin != ids) & np.isin(ids, candidates)
    return dict(zip(ids[duplicate].tolist(), twin[duplicate].tolist()))


def no_media_reason(url: str, media_files: int, unsupported: dict[str, int]) -> str:
    """Why a run has no frame at all: no media file, or none readable (one line, with the fix)."""
    from thresher.io.datasource import SUPPORTED, describe_unsupported

    if media_files:
        return f"{url}: none of its {media_files} images and videos could be read (thresher validate {url} says why)"
    skipped = f"; {describe_unsupported(unsupported)}" if unsupported else f"; thresher reads {SUPPORTED}"
    return f"{url}: no images or videos to select from{skipped}"


def no_candidates_reason(frames: int, removed: Removed, preselected: int, left_out: dict[str, int]) -> str:
    """Why no sample is left to select, e.g. "nothing to select: of 250 frames, 250 removed (corrupt 250)"."""
    reasons = Counter(reason for _, reason, _ in removed)
    parts = []
    if reasons:
        parts.append(f"{sum(reasons.values())} removed ({', '.join(f'{r} {n}' for r, n in reasons.most_common())}; removed_samples.csv lists them)")
    if preselected:
        parts.append(f"{preselected} already selected (the datapool)")
    parts += [f"{n} {why}" for why, n in left_out.items() if n]
    return f"nothing to select: of {frames} frames, " + "; ".join(parts or ["none is a candidate"])
