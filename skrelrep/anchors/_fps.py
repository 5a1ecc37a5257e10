"""Farthest point sampling in cosine geometry, exact, at about one product's cost."""

import numpy as np
import scipy.sparse as sp
from sklearn.utils import gen_batches

from ..utils._array_api import is_numpy_namespace, itemsize, to_numpy
from ..utils._chunks import chunk_n_rows
from ..utils._compat import get_namespace_and_device
from ..utils._norms import inverse_norms, power_of_two_rows, row_norms
from ..utils._threads import single_threaded_blas
from ..utils._warnings import warn

__all__ = ["farthest_point_sampling"]


# Candidates per FPS round: twice the anchors still to pick, within these bounds.
_FPS_MIN_CANDIDATES = 64
_FPS_MAX_CANDIDATES = 2048
# When most candidates of a round turn out to repeat its picks' directions (data with
# few distinct directions, many copies of each), later rounds take this factor more
# candidates (both the count and its bounds), up to this many bytes of unit rows.
_FPS_GROWTH = 4
_FPS_MAX_CANDIDATE_BYTES = 32 * 2**20
# Bytes of product per chunk when updating every row's distance to the anchors.
_UPDATE_CHUNK_BYTES = 64 * 2**20
# A row within this many ``sqrt(n_features) * eps`` of an anchor (in 1 - cos) points
# its way up to the rounding of the cosine: it adds no new direction.
_COVERED_EPS = 4


def farthest_point_sampling(X, y, n_anchors, rng, xp, *, warn_when_covered=True):
    """Farthest point sampling in cosine geometry (distance ``1 - cos``).

    Exact FPS: the same anchors as updating every row's distance to its nearest anchor
    after each pick (ties to the lowest row index), up to floating-point rounding in
    near-ties. It costs about one product ``X @ anchors.T`` instead of ``n_anchors``
    memory-bound matrix-vector products. Each round takes the rows farthest from the
    anchors so far as candidates (ties to the lowest index) and continues FPS among
    them alone: a pick is certain while it beats every other row, whose distance can
    only shrink. The round ends when that fails; one chunked product then updates all
    distances with the round's picks. ``X`` is never normalised nor densified whole.

    Once every row left is within rounding of an anchor's direction (``1 - cos`` at
    most ``4 sqrt(n_features) eps``), FPS has nothing farther to pick: there are
    fewer distinct directions than anchors. The remaining anchors are then drawn
    uniformly at random among the rows not chosen yet, with a warning (none when
    ``warn_when_covered=False``).
    """
    n_samples = X.shape[0]
    norms = row_norms(X, xp)
    if not bool(xp.all(norms <= _largest_float(X) / 4)):
        # Norms near or beyond the largest float: products with unit rows could
        # overflow. FPS reads directions only: rows divided by powers of two (a
        # copy, exact) have the same.
        X, _ = power_of_two_rows(X, xp)
        norms = row_norms(X, xp)
    scale = inverse_norms(norms, xp)
    covered = _covered_distance(X, xp)
    growth = 1
    largest = _FPS_MAX_CANDIDATE_BYTES // (itemsize(X, xp) * X.shape[1])
    chosen = [int(rng.randint(n_samples))]
    nearest = _update_distances(X, scale, chosen, None, xp)
    while len(chosen) < n_anchors:
        remaining = n_anchors - len(chosen)
        size = growth * min(
            max(2 * remaining, _FPS_MIN_CANDIDATES), _FPS_MAX_CANDIDATES
        )
        picks, wasted = _fps_round(X, scale, nearest, remaining, size, covered, xp)
        if not picks:
            return _fill_at_random(chosen, n_samples, n_anchors, rng, warn_when_covered)
        if 2 * wasted > size and size * _FPS_GROWTH <= largest:
            growth *= _FPS_GROWTH  # copies of the picks crowd the candidates out
        chosen += picks
        if len(chosen) < n_anchors:
            nearest = _update_distances(X, scale, picks, nearest, xp)
    return np.asarray(chosen)


def _largest_float(X):
    return float(np.finfo(np.dtype(str(X.dtype).rsplit(".", 1)[-1])).max)


def _covered_distance(X, xp):
    """The ``1 - cos`` up to which a row points the way of an anchor (rounding)."""
    dtype = X.dtype
    eps = np.finfo(dtype).eps if sp.issparse(X) or is_numpy_namespace(xp) else None
    if eps is None:
        eps = xp.finfo(dtype).eps
    return _COVERED_EPS * float(np.sqrt(X.shape[1])) * float(eps)


def _fill_at_random(chosen, n_samples, n_anchors, rng, warn_when_covered):
    """``chosen``, then rows not chosen, uniformly at random, up to ``n_anchors``."""
    missing = n_anchors - len(chosen)
    if warn_when_covered:
        warn(
            f"anchor_selection='fps' found {len(chosen)} distinct directions for "
            f"n_anchors={n_anchors}: every other row points, up to rounding, the way "
            f"of an anchor. The other {missing} anchors are drawn uniformly at random "
            "among the remaining rows; ask for fewer anchors to avoid repeated "
            "directions."
        )
    remaining = np.setdiff1d(np.arange(n_samples), chosen)
    extra = rng.choice(remaining, size=missing, replace=False)
    return np.concatenate([np.asarray(chosen, dtype=remaining.dtype), extra])


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


def _candidates(nearest, size, xp):
    """The ``size`` rows farthest from the anchors, and the row that comes next.

    Rows are ordered by distance, ties by lowest index (the order in which FPS picks
    them). Returns the candidates (sorted row indices) and the next row's distance and
    index: every other row comes after it in that order, and stays there as
    distances shrink. Ties matter: rows that repeat a direction share a distance, and
    ordering them by index keeps a round going through them.
    """
    n_samples = nearest.shape[0]
    if size >= n_samples:
        return np.arange(n_samples), -np.inf, n_samples
    if not is_numpy_namespace(xp):  # a stable sort orders ties by index
        order = xp.argsort(nearest, descending=True, stable=True)
        following = int(order[size])
        return np.sort(to_numpy(order[:size])), float(nearest[following]), following
    split = n_samples - size - 1
    value = np.partition(nearest, split)[split]  # the distance of row size + 1
    farther = np.flatnonzero(nearest > value)
    tied = np.flatnonzero(nearest == value)
    need = size - farther.size
    candidates = np.union1d(farther, tied[:need])
    return candidates, float(value), int(tied[need])


def _fps_round(X, scale, nearest, remaining, size, covered, xp):
    """The next anchors that FPS picks for certain, using ``size`` candidates alone.

    Returns the picks (none when every row left is within ``covered`` of an anchor's
    direction) and how many candidates ended the round covered by them.
    """
    first = int(xp.argmax(nearest))  # the first pick: exact, ties to the lowest index
    if not float(nearest[first]) > covered:
        return [], 0
    candidates, threshold, following = _candidates(nearest, size, xp)
    candidates = np.union1d(candidates, [first])  # argmax ties to the lowest index
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
    with single_threaded_blas():
        while True:
            picks.append(int(candidates[position]))
            if len(picks) == remaining:
                return picks, 0
            cosines = to_numpy(units @ units[position, :])
            np.minimum(distances, 1 - cosines, out=distances)
            distances[position] = -np.inf
            position = int(np.argmax(distances))
            distance = distances[position]
            # Every non-candidate comes after (threshold, following): beyond, certain.
            certain = distance > threshold or (
                distance == threshold and candidates[position] < following
            )
            if not (certain and distance > covered):
                return picks, int(np.count_nonzero(distances <= covered)) - len(picks)
