"""Farthest point sampling in cosine geometry, exact, at about one product's cost."""

import numpy as np
import scipy.sparse as sp
from sklearn.utils import gen_batches
from threadpoolctl import threadpool_limits

from ..utils._array_api import is_numpy_namespace, itemsize, to_numpy
from ..utils._chunks import chunk_n_rows
from ..utils._compat import get_namespace_and_device
from ..utils._norms import inverse_norms, row_norms

__all__ = ["farthest_point_sampling"]


# Candidates per FPS round: twice the anchors still to pick, within these bounds.
_FPS_MIN_CANDIDATES = 64
_FPS_MAX_CANDIDATES = 2048
# Bytes of product per chunk when updating every row's distance to the anchors.
_UPDATE_CHUNK_BYTES = 64 * 2**20


def farthest_point_sampling(X, y, n_anchors, rng, xp):
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
    bytes_per_row = itemsize(X, xp) * len(indices)
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
