"""Nearest-neighbour distances between normalized embeddings, for the report.

Distances are Euclidean between L2-normalized vectors, in [0, 2], as LightlyOne's
DIVERSITY uses them (`stopping_condition_minimum_distance`). Computed blockwise with one
matrix product per block: ‖a − b‖² = 2 − 2 a·b.
"""

from __future__ import annotations

import numpy as np

BLOCK = 2048


def normalized(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))[:, None]
    return vectors / np.where(norms > 0, norms, 1)


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(np.clip(2.0 - 2.0 * (a @ b.T), 0.0, 4.0))


def nearest(queries: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each normalized query, (index of its nearest point, distance); (-1, inf) without points."""
    index = np.full(len(queries), -1, np.int64)
    distance = np.full(len(queries), np.inf, np.float32)
    if len(points) == 0:
        return index, distance
    for start in range(0, len(queries), BLOCK):
        d = _distances(queries[start : start + BLOCK], points)
        index[start : start + BLOCK] = d.argmin(axis=1)
        distance[start : start + BLOCK] = d.min(axis=1)
    return index, distance


def nearest_other(points: np.ndarray) -> np.ndarray:
    """Distance of each normalized point to the nearest other point of the set (inf if alone)."""
    out = np.full(len(points), np.inf, np.float32)
    if len(points) < 2:
        return out
    for start in range(0, len(points), BLOCK):
        d = _distances(points[start : start + BLOCK], points)
        rows = np.arange(len(d))
        d[rows, start + rows] = np.inf
        out[start : start + BLOCK] = d.min(axis=1)
    return out


def closest_pairs(others: np.ndarray, chosen: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k (other row, chosen row, distance) pairs with the smallest distance, closest first.

    Each other point is paired with its nearest chosen point (ties: lowest row first).
    """
    index, distance = nearest(others, chosen)
    valid = np.flatnonzero(index >= 0)
    order = valid[np.lexsort((valid, distance[valid]))][:k]
    return order, index[order], distance[order]
