"""Anchor selection strategies: which rows of the fitted data become anchors.

Every strategy returns a 1-D NumPy array of distinct row indices, so the same items can
later be embedded by another encoder (parallel anchors). Strategies that only need
indices (random, stratified, explicit) never touch the data. FPS is exact and runs in
the namespace of ``X`` (so on the GPU for CUDA tensors) at about the cost of one
product ``X @ anchors.T``; k-means runs on the host with scikit-learn, on a sample of
rows and with a bounded number of iterations, at about the same cost. Neither makes a
normalised copy of the whole of ``X``.
"""

import inspect
import math
import numbers

import numpy as np
from sklearn.utils.multiclass import type_of_target

from ..utils._array_api import to_numpy
from ..utils._compat import Interval, RealNotInt, StrOptions
from ..utils._warnings import warn
from ._fps import farthest_point_sampling
from ._kmeans import kmeans_anchors

__all__ = [
    "ANCHOR_SELECTION_CONSTRAINT",
    "DATA_STRATEGIES",
    "N_ANCHORS_CONSTRAINT",
    "STRATEGIES",
    "check_class_labels",
    "class_quota",
    "resolve_n_anchors",
    "select_anchors",
]


def _random(X, y, n_anchors, rng, xp):
    return rng.choice(X.shape[0], size=n_anchors, replace=False)


def _stratified(X, y, n_anchors, rng, xp):
    """As equal a number of anchors per class as the class sizes allow."""
    y = check_class_labels(y, method="fit(X, y)")
    classes, y_encoded = np.unique(y, return_inverse=True)
    members = [np.flatnonzero(y_encoded == k) for k in range(len(classes))]
    quota = class_quota(np.array([len(m) for m in members]), n_anchors, rng)
    order = rng.permutation(len(classes))
    picks = [
        rng.choice(members[k], size=quota[k], replace=False) for k in order if quota[k]
    ]
    return np.concatenate(picks)


def check_class_labels(y, *, method):
    """``y`` as a NumPy array of class labels, or a clear error (``method`` is named)."""
    if y is None:
        raise ValueError(
            f"anchor_selection='stratified' needs class labels: call {method}."
        )
    y = np.asarray(to_numpy(y))
    target_type = type_of_target(y, input_name="y")
    if target_type not in ("binary", "multiclass"):
        raise ValueError(
            "anchor_selection='stratified' needs one class label per row (a 1-D y "
            f"of classes); got y of shape {y.shape} whose type is {target_type!r}. "
            "For continuous or multi-output targets, use another strategy, or "
            "pass class labels derived from them (e.g. quantile bins)."
        )
    return y


def class_quota(sizes, n_anchors, rng):
    """Anchors per class: as equal as the class ``sizes`` allow, ``n_anchors`` in all.

    Water-filling: equal shares, a class that runs out hands its share to the others;
    the last few anchors go one each to randomly chosen classes.
    """
    sizes = np.asarray(sizes)
    quota = np.zeros(len(sizes), dtype=int)
    remaining = n_anchors
    open_classes = np.arange(len(sizes))
    while remaining > 0:
        share = remaining // len(open_classes)
        if share == 0:
            quota[rng.choice(open_classes, size=remaining, replace=False)] += 1
            break
        take = np.minimum(share, sizes[open_classes] - quota[open_classes])
        quota[open_classes] += take
        remaining -= int(take.sum())
        open_classes = open_classes[quota[open_classes] < sizes[open_classes]]
    return quota


STRATEGIES = {
    "random": _random,
    "stratified": _stratified,
    "fps": farthest_point_sampling,
    "kmeans": kmeans_anchors,
}


def _check_indices(indices, n_samples, source):
    indices = np.asarray(to_numpy(indices))
    if indices.ndim != 1 or indices.size == 0:
        raise ValueError(f"{source} must give a non-empty 1-D array of row indices.")
    if indices.dtype.kind not in "biuf":
        raise ValueError(
            f"{source} must give integer row indices (positions in X), got "
            f"{indices.dtype} values such as {indices[0]!r}. To choose anchors by "
            "name, look their positions up first (e.g. with list.index or "
            "pandas.Index.get_indexer)."
        )
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


# Parameter constraints of every estimator that selects anchors (RelativeTransformer,
# the relative nets of skrelrep.neural).
N_ANCHORS_CONSTRAINT = [
    Interval(numbers.Integral, 1, None, closed="left"),
    Interval(RealNotInt, 0, 1, closed="right"),
    None,
]
ANCHOR_SELECTION_CONSTRAINT = [StrOptions(set(STRATEGIES)), "array-like", callable]


def is_explicit(selection):
    """Whether ``selection`` gives the anchors' row indices itself."""
    return not isinstance(selection, str) and not callable(selection)


def resolve_n_anchors(n_anchors, selection, n_samples):
    """The number of anchors to select, or None for "every row (or index), in order".

    An int is used as it is, a float in ``(0, 1]`` is a fraction of ``n_samples``
    (rounded up). A strategy or callable asked for more anchors than rows takes every
    row, with a warning, as :class:`~sklearn.kernel_approximation.Nystroem` does. For
    explicit indices the count is a prefix length (see :func:`select_anchors`).
    """
    if n_anchors is None:
        return None
    if isinstance(n_anchors, numbers.Integral):
        count = int(n_anchors)
    else:
        count = max(1, math.ceil(n_anchors * n_samples))
    if is_explicit(selection) or count <= n_samples:
        return count
    warn(
        f"n_anchors={count} is larger than n_samples={n_samples}: every sample "
        "becomes an anchor."
    )
    return n_samples


# Strategies that read the data; the others need only the number of rows and y.
DATA_STRATEGIES = ("fps", "kmeans")


def select_anchors(X, y, n_anchors, strategy, rng, xp, *, X_parallel=None):
    """Indices of the anchor rows of ``X`` chosen by ``strategy``.

    Parameters
    ----------
    X : array of shape (n_samples, n_features) or CSR matrix
    y : array of shape (n_samples,) or None
    n_anchors : int or None
        Number of anchors, resolved by :func:`resolve_n_anchors`; None means every
        row (every given index, for explicit indices).
    strategy : str, array-like or callable
        See ``RelativeTransformer``'s ``anchor_selection``. For explicit indices,
        the first ``n_anchors`` of them.
    rng : numpy.random.RandomState
    xp : namespace of ``X``
    X_parallel : array-like of shape (n_samples, n_features_parallel), default=None
        The same rows embedded by a second encoder, passed on to a callable (such
        as :class:`GreedyAnchorSelector`) that takes it.

    Returns
    -------
    indices : ndarray of shape (n_anchors,)
    """
    n_samples = X.shape[0]
    if X_parallel is not None and not _takes_parallel_data(strategy):
        raise ValueError(
            "X_parallel is read only by anchor selections that take parallel data, "
            "such as GreedyAnchorSelector; anchor_selection="
            f"{_describe(strategy)} does not."
        )
    if isinstance(strategy, str):
        if n_anchors is None:
            return np.arange(n_samples)
        return _check_indices(
            STRATEGIES[strategy](X, y, n_anchors, rng, xp),
            n_samples,
            f"anchor_selection={strategy!r}",
        )
    if callable(strategy):
        metadata = {} if X_parallel is None else {"X_parallel": X_parallel}
        indices = strategy(X, y, n_anchors=n_anchors, random_state=rng, **metadata)
        return _check_indices(indices, n_samples, "The anchor_selection callable")
    if isinstance(strategy, numbers.Integral):
        strategy = [strategy]
    indices = _check_indices(strategy, n_samples, "anchor_selection")
    return indices if n_anchors is None else indices[:n_anchors]


def _takes_parallel_data(strategy):
    if not callable(strategy):
        return False
    try:
        parameters = inspect.signature(strategy).parameters.values()
    except (TypeError, ValueError):
        return True  # cannot tell: let the call decide
    return any(
        p.name == "X_parallel" or p.kind is inspect.Parameter.VAR_KEYWORD
        for p in parameters
    )


def _describe(strategy):
    if isinstance(strategy, str) or callable(strategy):
        return repr(strategy) if isinstance(strategy, str) else type(strategy).__name__
    return "<indices>"
