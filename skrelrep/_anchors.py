"""Anchor selection strategies: which rows of the fitted data become anchors.

Every strategy returns a 1-D NumPy array of distinct row indices, so the same items can
later be embedded by another encoder (parallel anchors). Strategies that only need
indices (random, stratified, explicit) never touch the data; FPS runs in the namespace
of ``X`` (so on the GPU for CUDA tensors); k-means runs on the host with scikit-learn.
"""

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import pairwise_distances_argmin_min

from ._compat import is_numpy_namespace, to_numpy
from ._similarity import inverse_norms, normalize_rows, row_norms

__all__ = ["STRATEGIES", "select_anchors"]


def _random(X, y, n_anchors, rng, xp):
    return rng.choice(X.shape[0], size=n_anchors, replace=False)


def _stratified(X, y, n_anchors, rng, xp):
    """As equal a number of anchors per class as the class sizes allow."""
    if y is None:
        raise ValueError(
            "anchor_selection='stratified' needs class labels: call fit(X, y)."
        )
    y = np.asarray(to_numpy(y))
    classes, y_encoded = np.unique(y, return_inverse=True)
    members = [np.flatnonzero(y_encoded == k) for k in range(len(classes))]
    sizes = np.array([len(m) for m in members])
    quota = np.zeros(len(classes), dtype=int)
    remaining = n_anchors
    open_classes = np.arange(len(classes))
    # Water-filling: equal shares, a class that runs out hands its share to the
    # others; the last few anchors go one each to randomly chosen classes.
    while remaining > 0:
        share = remaining // len(open_classes)
        if share == 0:
            quota[rng.choice(open_classes, size=remaining, replace=False)] += 1
            break
        take = np.minimum(share, sizes[open_classes] - quota[open_classes])
        quota[open_classes] += take
        remaining -= int(take.sum())
        open_classes = open_classes[quota[open_classes] < sizes[open_classes]]
    order = rng.permutation(len(classes))
    picks = [
        rng.choice(members[k], size=quota[k], replace=False) for k in order if quota[k]
    ]
    return np.concatenate(picks)


def _fps(X, y, n_anchors, rng, xp):
    """Farthest point sampling in cosine geometry (distance ``1 - cos``).

    Keeps, for every row, its distance to the nearest anchor chosen so far, and updates
    it with one matrix-vector product per new anchor; ``X`` is never normalised whole.
    """
    n_samples = X.shape[0]
    numpy_namespace = is_numpy_namespace(xp)
    scale = inverse_norms(row_norms(X, xp), xp)
    chosen = [int(rng.randint(n_samples))]
    nearest = None
    for _ in range(1, n_anchors):
        index = chosen[-1]
        anchor = X[index : index + 1, :]
        if sp.issparse(anchor):
            anchor = anchor.toarray()
        anchor = anchor[0, :] * scale[index]
        product = X @ anchor
        if numpy_namespace:
            distance = 1 - np.asarray(product).ravel() * scale
            nearest = distance if nearest is None else np.minimum(nearest, distance)
        else:
            distance = 1 - product * scale
            nearest = distance if nearest is None else xp.minimum(nearest, distance)
        nearest[index] = -float("inf")  # never pick an anchor twice
        chosen.append(int(xp.argmax(nearest)))
    return np.asarray(chosen)


def _kmeans(X, y, n_anchors, rng, xp):
    """The row nearest each k-means centroid, clustering unit-norm rows (cosine)."""
    unit = normalize_rows(to_numpy(X), np)
    with warnings.catch_warnings():
        # Fewer distinct rows than anchors: handled below by taking the nearest
        # unused rows, so k-means' warning about it would only be noise.
        warnings.filterwarnings(
            "ignore", "Number of distinct clusters", category=ConvergenceWarning
        )
        kmeans = KMeans(
            n_clusters=n_anchors,
            n_init=1,
            random_state=rng.randint(np.iinfo(np.int32).max),
        ).fit(unit)
    labels = kmeans.labels_
    chosen = np.empty(n_anchors, dtype=np.intp)
    taken = np.zeros(unit.shape[0], dtype=bool)
    for k in range(n_anchors):
        # The member nearest its centroid; fall back to the whole data set for a
        # centroid whose nearest rows are already anchors (identical rows).
        candidates = np.flatnonzero((labels == k) & ~taken)
        if candidates.size == 0:
            candidates = np.flatnonzero(~taken)
        centroid = kmeans.cluster_centers_[k : k + 1].astype(unit.dtype)
        position, _ = pairwise_distances_argmin_min(centroid, unit[candidates])
        chosen[k] = candidates[position[0]]
        taken[chosen[k]] = True
    return chosen


STRATEGIES = {
    "random": _random,
    "stratified": _stratified,
    "fps": _fps,
    "kmeans": _kmeans,
}


def _check_indices(indices, n_samples, source):
    indices = np.asarray(to_numpy(indices))
    if indices.ndim != 1 or indices.size == 0:
        raise ValueError(f"{source} must give a non-empty 1-D array of row indices.")
    if not np.issubdtype(indices.dtype, np.integer):
        if indices.dtype == bool or not np.all(np.equal(np.mod(indices, 1), 0)):
            raise ValueError(
                f"{source} must give integer row indices, got dtype {indices.dtype}."
            )
        indices = indices.astype(np.intp)
    if indices.min() < -n_samples or indices.max() >= n_samples:
        raise ValueError(
            f"{source} gave row indices out of range for {n_samples} samples."
        )
    indices = np.where(indices < 0, indices + n_samples, indices).astype(np.intp)
    if np.unique(indices).size != indices.size:
        raise ValueError(
            f"{source} gave duplicate row indices; each anchor must be a distinct row."
        )
    return indices


def select_anchors(X, y, n_anchors, strategy, rng, xp):
    """Indices of the anchor rows of ``X`` chosen by ``strategy``.

    Parameters
    ----------
    X : array of shape (n_samples, n_features) or CSR matrix
    y : array of shape (n_samples,) or None
    n_anchors : int or None
        Number of anchors (already resolved from a fraction); None means every row.
    strategy : str, array-like or callable
        See ``RelativeTransformer``'s ``anchor_selection``.
    rng : numpy.random.RandomState
    xp : namespace of ``X``

    Returns
    -------
    indices : ndarray of shape (n_anchors,)
    """
    n_samples = X.shape[0]
    if isinstance(strategy, str):
        if n_anchors is None:
            return np.arange(n_samples)
        return _check_indices(
            STRATEGIES[strategy](X, y, n_anchors, rng, xp),
            n_samples,
            f"anchor_selection={strategy!r}",
        )
    if callable(strategy):
        indices = strategy(X, y, n_anchors=n_anchors, random_state=rng)
        return _check_indices(indices, n_samples, "The anchor_selection callable")
    if isinstance(strategy, numbers.Integral):
        strategy = [strategy]
    return _check_indices(strategy, n_samples, "anchor_selection")
