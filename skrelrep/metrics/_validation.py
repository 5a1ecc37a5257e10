"""Input checks shared by the measures: two row-aligned spaces of the same items."""

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import check_array, check_scalar
from sklearn.utils.multiclass import type_of_target

from ..utils._array_api import to_numpy

__all__ = [
    "check_batch_size",
    "check_k",
    "check_ks",
    "check_labels",
    "check_pair",
    "check_rows",
    "check_targets",
]


def check_rows(X, name, *, min_samples=1):
    """One 2-D floating array (float32 stays float32), finite."""
    return check_array(
        to_numpy(X),
        dtype=[np.float64, np.float32],
        ensure_min_samples=min_samples,
        input_name=name,
    )


def check_pair(A, B, *, same_width):
    """Validate two row-aligned arrays and bring them to one floating dtype."""
    A = check_rows(A, "A", min_samples=2)
    B = check_rows(B, "B", min_samples=2)
    if A.shape[0] != B.shape[0]:
        raise ValueError(
            "A and B must have the same number of rows (row i is the same item in "
            f"both spaces); got {A.shape[0]} and {B.shape[0]}."
        )
    if same_width and A.shape[1] != B.shape[1]:
        raise ValueError(
            "A and B must have the same number of columns for this metric, which "
            f"compares A[i] with rows of B directly; got {A.shape[1]} and "
            f"{B.shape[1]}. Compare relative representations built on the same "
            "(parallel) anchors, or use neighbourhood_jaccard or linear_cka."
        )
    dtype = np.result_type(A.dtype, B.dtype)
    return A.astype(dtype, copy=False), B.astype(dtype, copy=False)


def check_batch_size(batch_size):
    if batch_size is not None:
        check_scalar(batch_size, "batch_size", numbers.Integral, min_val=1)


def _check_integer(value, name, max_val):
    # bool is an Integral, but True for a number of neighbours is a mistake.
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be an int, not bool.")
    check_scalar(value, name, numbers.Integral, min_val=1, max_val=max_val)
    return int(value)


def check_k(k, n_candidates, *, others=True):
    """``1 <= k`` and, with ``others``, ``k`` smaller than the number of rows."""
    if others:
        k = _check_integer(k, "k", None)
        if k >= n_candidates:
            raise ValueError(
                f"k={k} must be smaller than the number of rows ({n_candidates}): "
                "each row's neighbours are the other rows."
            )
        return k
    return _check_integer(k, "k", n_candidates)


def check_ks(ks, n_items):
    """Cut-offs: integers in ``[1, n_items]``, sorted, without repeats."""
    if isinstance(ks, numbers.Number):
        ks = (ks,)
    checked = sorted({_check_integer(k, "k", n_items) for k in ks})
    if not checked:
        raise ValueError("ks must hold at least one cut-off.")
    return checked


def check_targets(targets, n_queries, n_items):
    """The index row of each query's answer: integers in ``[0, n_items)``."""
    if targets is None:
        if n_items < n_queries:
            raise ValueError(
                f"The index has {n_items} rows for {n_queries} queries: without "
                "targets, query i's answer is index row i, so the index needs at "
                "least as many rows. Pass targets= to give each query's row."
            )
        return np.arange(n_queries)
    targets = np.asarray(to_numpy(targets))
    if targets.shape != (n_queries,):
        raise ValueError(
            f"targets must hold one index row per query: expected shape "
            f"({n_queries},), got {targets.shape}."
        )
    if targets.dtype.kind not in "iu":
        raise ValueError(
            f"targets must be integer row numbers of the index; got dtype "
            f"{targets.dtype}."
        )
    if n_queries and (targets.min() < 0 or targets.max() >= n_items):
        raise ValueError(
            f"targets must be rows of the index, 0 to {n_items - 1}; got values "
            f"from {targets.min()} to {targets.max()}."
        )
    return targets.astype(np.intp, copy=False)


def check_labels(labels, n_samples):
    """One class label per item: integers, strings or integral floats, no missing."""
    if labels is None:
        return None
    labels = np.asarray(to_numpy(labels))
    if labels.ndim != 1 or labels.shape[0] != n_samples:
        raise ValueError(
            f"labels must hold one label per item: expected shape ({n_samples},), "
            f"got {labels.shape}."
        )
    missing = pd.isna(labels)
    if np.any(missing):
        raise ValueError(
            f"labels must not be missing: {np.count_nonzero(missing)} of "
            f"{n_samples} are NaN or None (the first at item "
            f"{np.flatnonzero(missing)[0]}). Give them a label of their own, or "
            "leave those items out of both spaces."
        )
    if labels.dtype.kind == "f" and type_of_target(labels) == "continuous":
        example = labels[labels != np.round(labels)][0]
        raise ValueError(
            "labels must be classes (integers or strings), but they hold "
            f"non-integer numbers such as {example!r}: each value would be a class "
            "of its own. Bin them first (numpy.digitize), or pass class names."
        )
    return labels
