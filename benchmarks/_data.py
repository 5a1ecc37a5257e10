"""Synthetic embeddings for the benchmarks, generated without large temporaries."""

import numpy as np

__all__ = ["anchor_indices", "make_embeddings", "make_labels"]

# Rows generated per step: keeps the generator's float64 scratch small, so the peak
# memory of a benchmark process after data creation is the data itself.
_GENERATE_ROWS = 32_768


def make_embeddings(n_samples, n_features, dtype, *, n_clusters=64, seed=0):
    """Gaussian mixture embeddings: cluster directions plus isotropic noise.

    Real encoder outputs are clustered and anisotropic; the mixture gives anchor
    selection (FPS, k-means) structure to find while costing the projection exactly
    what any other dense matrix of this shape costs.
    """
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    centers = rng.standard_normal((n_clusters, n_features), dtype=np.float32) * 1.5
    X = np.empty((n_samples, n_features), dtype=dtype)
    for start in range(0, n_samples, _GENERATE_ROWS):
        stop = min(start + _GENERATE_ROWS, n_samples)
        block = X[start:stop]
        rng.standard_normal(dtype=dtype, out=block)
        labels = rng.integers(n_clusters, size=stop - start)
        block += centers[labels].astype(dtype, copy=False)
    return X


def make_labels(n_samples, n_classes=10, seed=0):
    """Class labels for stratified selection."""
    return np.random.default_rng(seed + 1).integers(n_classes, size=n_samples)


def anchor_indices(n_samples, n_anchors, seed=0):
    """The rows every method projects onto (the same in every process)."""
    return np.random.default_rng(seed + 2).choice(n_samples, n_anchors, replace=False)
