"""Anchor selection strategies: which rows of the fitted data become anchors.

Every strategy returns a 1-D NumPy array of distinct row indices, so the same items can
later be embedded by another encoder (parallel anchors). Strategies that only need
indices (random, stratified, explicit) never touch the data. FPS is exact and runs in
the namespace of ``X`` (so on the GPU for CUDA tensors) at about the cost of one
product ``X @ anchors.T``; k-means runs on the host with scikit-learn, on a sample of
rows and with a bounded number of iterations, at about the same cost. Neither makes a
normalised copy of the whole of ``X``.
"""

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import gen_batches
from threadpoolctl import threadpool_limits

from ._compat import get_namespace_and_device, is_numpy_namespace, to_numpy
from ._similarity import chunk_n_rows, inverse_norms, normalize_rows, row_norms

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


# Candidates per FPS round: twice the anchors still to pick, within these bounds.
_FPS_MIN_CANDIDATES = 64
_FPS_MAX_CANDIDATES = 2048
# Bytes of product per chunk when updating every row's distance to the anchors.
_UPDATE_CHUNK_BYTES = 64 * 2**20


def _fps(X, y, n_anchors, rng, xp):
    """Farthest point sampling in cosine geometry (distance ``1 - cos``).

    Exact FPS: the same anchors as updating every row's distance to its nearest anchor
    after each pick, up to floating-point rounding in near-ties. It costs about one
    product ``X @ anchors.T`` instead of ``n_anchors`` memory-bound matrix-vector
    products. Each round takes the rows farthest from the anchors so far as
    candidates and continues FPS among them alone: a pick is certain while its
    distance exceeds every other row's (which can only shrink). The round ends when
    that fails; one chunked product then updates all distances with the round's
    picks. ``X`` is never normalised nor densified whole.
    """
    scale = inverse_norms(row_norms(X, xp), xp)
    chosen = [int(rng.randint(X.shape[0]))]
    nearest = _update_distances(X, scale, chosen, None, xp)
    while len(chosen) < n_anchors:
        picks = _fps_round(X, scale, nearest, n_anchors - len(chosen), xp)
        chosen += picks
        if len(chosen) < n_anchors:
            nearest = _update_distances(X, scale, picks, nearest, xp)
    return np.asarray(chosen)


def _unit_rows(X, scale, indices, xp):
    """Dense rows ``indices`` of ``X`` scaled to unit norm (zero rows stay zero)."""
    if sp.issparse(X) or is_numpy_namespace(xp):
        rows = X[indices]
        rows = rows.toarray() if sp.issparse(rows) else rows
        return rows * scale[indices][:, None]
    _, _, device = get_namespace_and_device(X)
    positions = xp.asarray(indices, device=device)
    return xp.take(X, positions, axis=0) * xp.take(scale, positions)[:, None]


def _update_distances(X, scale, indices, nearest, xp):
    """Each row's cosine distance to its nearest anchor, after adding ``indices``.

    Anchors get ``-inf`` so that they are never picked again.
    """
    n_samples = X.shape[0]
    anchors_t = _unit_rows(X, scale, indices, xp).T
    itemsize = X.dtype.itemsize if sp.issparse(X) else xp.finfo(X.dtype).bits // 8
    bytes_per_row = itemsize * len(indices)
    chunk = chunk_n_rows(n_samples, bytes_per_row)
    if is_numpy_namespace(xp):
        chunk = min(chunk, max(1, _UPDATE_CHUNK_BYTES // bytes_per_row))
    if nearest is None:
        _, _, device = get_namespace_and_device(scale)
        nearest = xp.full((n_samples,), float("inf"), dtype=scale.dtype, device=device)
    for rows in gen_batches(n_samples, chunk):
        closest = xp.max(X[rows, :] @ anchors_t, axis=1)
        # scale >= 0, so the largest product is the nearest anchor.
        nearest[rows] = xp.minimum(nearest[rows], 1 - closest * scale[rows])
    for index in indices:
        nearest[index] = -float("inf")
    return nearest


def _fps_round(X, scale, nearest, remaining, xp):
    """The next anchors that FPS picks for certain, using candidates alone."""
    n_samples = nearest.shape[0]
    first = int(xp.argmax(nearest))  # the first pick: exact, ties to the lowest index
    size = min(max(2 * remaining, _FPS_MIN_CANDIDATES), _FPS_MAX_CANDIDATES)
    if size >= n_samples:
        candidates, threshold = np.arange(n_samples), -np.inf
    elif is_numpy_namespace(xp):
        split = n_samples - size - 1
        order = np.argpartition(nearest, split)
        candidates, threshold = order[split + 1 :], float(nearest[order[split]])
    else:
        order = xp.argsort(nearest, descending=True, stable=True)
        candidates = to_numpy(order[:size])
        threshold = float(nearest[int(order[size])])
    candidates = np.union1d(candidates, [first])  # sorted: argmax ties to lowest index
    units = _unit_rows(X, scale, candidates, xp)
    if is_numpy_namespace(xp):
        distances = nearest[candidates].copy()
    else:
        _, _, device = get_namespace_and_device(nearest)
        distances = to_numpy(xp.take(nearest, xp.asarray(candidates, device=device)))
    position = int(np.searchsorted(candidates, first))
    picks = []
    # Hundreds of small matrix-vector products: waking BLAS threads for each costs
    # more than the product itself.
    with threadpool_limits(limits=1, user_api="blas"):
        while True:
            picks.append(int(candidates[position]))
            if len(picks) == remaining:
                return picks
            cosines = to_numpy(units @ units[position, :])
            np.minimum(distances, 1 - cosines, out=distances)
            distances[position] = -np.inf
            position = int(np.argmax(distances))
            # Every non-candidate is at most `threshold` away: beyond it, certain.
            if not distances[position] > threshold:
                return picks


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


def _kmeans(X, y, n_anchors, rng, xp):
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
    start = _fps(unit, None, n_anchors, rng, np)
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
