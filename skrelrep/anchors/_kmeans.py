"""k-means anchors: the row nearest each centroid, on a sample, with bounded work."""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import gen_batches

from ..utils._array_api import to_numpy
from ..utils._norms import normalize_rows
from ._fps import farthest_point_sampling

__all__ = ["kmeans_anchors", "kmeans_sample_size"]


# k-means runs on a uniform sample of max(10 * n_anchors, n_samples / 10, 10_000) rows
# (all rows when fewer), for at most 10 Lloyd iterations: about one matrix product
# X @ anchors.T in all, whatever n_samples.
_KMEANS_ROWS_PER_ANCHOR = 10
_KMEANS_SAMPLE_FRACTION = 10
_KMEANS_MIN_SAMPLE = 10_000
_KMEANS_MAX_ITER = 10


def kmeans_sample_size(n_samples, n_anchors):
    """Rows on which ``anchor_selection="kmeans"`` clusters."""
    return min(
        n_samples,
        max(
            _KMEANS_ROWS_PER_ANCHOR * n_anchors,
            n_samples // _KMEANS_SAMPLE_FRACTION,
            _KMEANS_MIN_SAMPLE,
        ),
    )


def kmeans_anchors(X, y, n_anchors, rng, xp):
    """The row nearest each k-means centroid, clustering unit-norm rows (cosine).

    Lloyd's k-means, started from farthest point sampling and stopped after at most
    ``_KMEANS_MAX_ITER`` iterations, on a uniform sample of rows (all rows for up to
    ``_KMEANS_MIN_SAMPLE`` of them); each anchor is the sampled row nearest its
    centroid among the rows of its cluster.
    """
    X = to_numpy(X)
    n_samples = X.shape[0]
    seed = rng.randint(np.iinfo(np.int32).max)
    size = kmeans_sample_size(n_samples, n_anchors)
    if size < n_samples:
        sample = np.sort(rng.choice(n_samples, size=size, replace=False))
    else:
        sample = np.arange(n_samples)
    unit = normalize_rows(X[sample], np)
    # Fewer distinct directions than anchors is handled below (_nearest_members):
    # FPS fills its start at random, silently.
    start = farthest_point_sampling(
        unit, None, n_anchors, rng, np, warn_when_covered=False
    )
    initial = unit[start].toarray() if sp.issparse(unit) else unit[start]
    with warnings.catch_warnings():
        # Fewer distinct rows than anchors: handled below by taking the nearest
        # unused rows, so k-means' warning about it would only be noise.
        warnings.filterwarnings(
            "ignore", "Number of distinct clusters", category=ConvergenceWarning
        )
        kmeans = KMeans(
            n_clusters=n_anchors,
            init=initial,
            n_init=1,
            max_iter=_KMEANS_MAX_ITER,
            random_state=seed,
        ).fit(unit)
    centers = kmeans.cluster_centers_.astype(unit.dtype, copy=False)
    return sample[_nearest_members(unit, kmeans.labels_, centers)]


def _nearest_members(unit, labels, centers):
    """For each cluster, its member nearest the centroid (ties to the lowest row).

    For unit rows the nearest member has the largest dot product with the centroid. A
    cluster left without members (fewer distinct rows than clusters) takes the nearest
    row not yet chosen.
    """
    n_clusters = centers.shape[0]
    score = np.empty(unit.shape[0], dtype=centers.dtype)
    for rows in gen_batches(unit.shape[0], 4096):
        own = centers[labels[rows]]
        block = unit[rows]
        if sp.issparse(block):
            score[rows] = np.asarray(block.multiply(own).sum(axis=1)).ravel()
        else:
            score[rows] = np.einsum("ij,ij->i", block, own)
    order = np.lexsort((-score, labels))  # by cluster, then best score, then row
    first = np.ones(order.size, dtype=bool)
    first[1:] = labels[order[1:]] != labels[order[:-1]]
    chosen = np.full(n_clusters, -1, dtype=np.intp)
    chosen[labels[order[first]]] = order[first]
    taken = np.zeros(unit.shape[0], dtype=bool)
    taken[chosen[chosen >= 0]] = True
    for k in np.flatnonzero(chosen < 0):
        free = np.flatnonzero(~taken)
        similarity = np.asarray(unit[free] @ centers[k]).ravel()
        chosen[k] = free[np.argmax(similarity)]
        taken[chosen[k]] = True
    return chosen
