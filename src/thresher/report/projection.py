"""2-D projections of embeddings for the scatter plots: PCA (default), t-SNE, UMAP.

All take float vectors (N, D), L2-normalize them (as the selection does) and return float32
(N, 2). PCA is numpy only: the eigenvectors of the covariance of at most `PCA_FIT_SAMPLES` rows drawn
with the seed, applied to every row, with each axis' sign fixed so the result does not depend on the SVD
library. t-SNE needs scikit-learn (extra `report-tsne`), UMAP needs umap-learn (extra
`report-umap`); both are imported only when asked for and are slow on large sets.
"""

from __future__ import annotations

import numpy as np

from thresher.errors import UsageError, did_you_mean, require

PROJECTIONS = ("pca", "tsne", "umap")
PCA_FIT_SAMPLES = 10_000


def _normalized(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"vectors: expected a 2-D array (N, D), got shape {vectors.shape}")
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))[:, None]
    if np.allclose(norms, 1.0, atol=1e-5):
        return vectors  # normalized already (the report passes normalized vectors)
    return vectors / np.where(norms > 0, norms, 1)


def pca_2d(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """The first two principal components of the normalized vectors (float32 (N, 2)).

    Rows with fewer than 2 independent directions give zeros in the missing axis.
    """
    x = _normalized(vectors)
    out = np.zeros((len(x), 2), np.float32)
    if len(x) < 2:
        return out
    fit = x
    if len(x) > PCA_FIT_SAMPLES:
        fit = x[np.sort(np.random.default_rng(seed).choice(len(x), PCA_FIT_SAMPLES, replace=False))]
    mean = fit.mean(axis=0, dtype=np.float64).astype(np.float32)
    centered = fit - mean
    # the covariance (D, D) in one BLAS product, then its top eigenvectors: far cheaper than an
    # SVD of the (N, D) matrix for N >> D
    covariance = (centered.T @ centered).astype(np.float64)
    axes = top_eigenvectors(covariance, 2, seed)
    axes *= np.where(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)] < 0, -1.0, 1.0)[:, None]
    projected = (x - mean) @ axes.T.astype(np.float32)
    out[:, : projected.shape[1]] = projected
    return out


def top_eigenvectors(matrix: np.ndarray, k: int, seed: int = 0, iterations: int = 10) -> np.ndarray:
    """(k, D) eigenvectors of the k largest eigenvalues of a symmetric positive semi-definite
    matrix: `eigh` for small D, else subspace iteration on k + 8 seeded directions (a few
    matrix products instead of a full eigendecomposition)."""
    d = matrix.shape[0]
    if d <= 64:
        _, vectors = np.linalg.eigh(matrix)
        return vectors[:, ::-1][:, :k].T
    q = np.random.default_rng(seed).normal(size=(d, min(d, k + 8)))
    for _ in range(iterations):
        q, _ = np.linalg.qr(matrix @ q)
    _, vectors = np.linalg.eigh(q.T @ matrix @ q)
    return (q @ vectors[:, ::-1][:, :k]).T


def tsne_2d(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """scikit-learn's t-SNE (PCA initialization, perplexity ≤ 30) of the normalized vectors."""
    manifold = require("sklearn.manifold", "report-tsne")
    x = _normalized(vectors)
    if len(x) < 3:
        return pca_2d(x, seed)
    perplexity = float(min(30.0, max(1.0, (len(x) - 1) / 3)))
    model = manifold.TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    return model.fit_transform(x).astype(np.float32)


def umap_2d(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """umap-learn's UMAP of the normalized vectors (cosine metric)."""
    umap = require("umap", "report-umap")
    x = _normalized(vectors)
    if len(x) < 4:
        return pca_2d(x, seed)
    model = umap.UMAP(n_components=2, n_neighbors=min(15, len(x) - 1), metric="cosine", random_state=seed)
    return np.asarray(model.fit_transform(x), dtype=np.float32)


def project(vectors: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """float32 (N, 2) projection by `method` ("pca", "tsne" or "umap")."""
    functions = {"pca": pca_2d, "tsne": tsne_2d, "umap": umap_2d}
    if method not in functions:
        raise UsageError(f"projection: expected one of {', '.join(PROJECTIONS)}, got {method!r}{did_you_mean(str(method), PROJECTIONS)}")
    return functions[method](vectors, seed)
