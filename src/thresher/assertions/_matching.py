"""One-to-one matching of boxes across two frames, for all frame pairs in one call.

Given candidate edges (left box, right box, IoU), keep a set of edges in which every box
appears at most once, with as many edges as possible and, among those, the largest total
IoU (the Hungarian assignment of each frame pair). Edges whose two boxes have no other edge
are kept directly; only the conflicting rest goes to one sparse assignment problem.
"""

from __future__ import annotations

import numpy as np


def one_to_one(left: np.ndarray, right: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Boolean mask of the edges kept by the one-to-one matching.

    Args:
        left, right: int64 box ids of the two ends of each edge (any non-negative ids;
            a left id and a right id are different nodes even when equal).
        weight: float64 IoU of each edge, in [0, 1].
    """
    keep = np.zeros(len(left), dtype=bool)
    if len(left) == 0:
        return keep
    _, left_node, left_degree = np.unique(left, return_inverse=True, return_counts=True)
    _, right_node, right_degree = np.unique(right, return_inverse=True, return_counts=True)
    simple = (left_degree[left_node] == 1) & (right_degree[right_node] == 1)
    keep[simple] = True
    rest = np.flatnonzero(~simple)
    if len(rest):
        keep[rest[_assign(left_node[rest], right_node[rest], weight[rest])]] = True
    return keep


def _assign(left: np.ndarray, right: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Mask of edges in a maximum-cardinality, then maximum-weight, matching.

    Reduced to a perfect matching of minimum cost on a square graph: each box may also take
    its own "unmatched" partner (cost 2), real edges cost 2 - IoU, and the unmatched partners
    of two matched boxes pair up at cost 1. Each real edge then saves 1 + IoU over leaving
    both boxes unmatched.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    _, left = np.unique(left, return_inverse=True)
    _, right = np.unique(right, return_inverse=True)
    n_left, n_right = int(left.max()) + 1, int(right.max()) + 1
    n = n_left + n_right
    rows = np.concatenate([left, np.arange(n_left), n_left + np.arange(n_right), n_left + right])
    cols = np.concatenate([right, n_right + np.arange(n_left), np.arange(n_right), n_right + left])
    cost = np.concatenate([2.0 - weight, np.full(n, 2.0), np.ones(len(left))])
    graph = coo_matrix((cost, (rows, cols)), shape=(n, n)).tocsr()
    row_ind, col_ind = min_weight_full_bipartite_matching(graph)
    matched_col = np.full(n, -1, dtype=np.int64)
    matched_col[row_ind] = col_ind
    return matched_col[left] == right
