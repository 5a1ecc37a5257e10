"""Dask arrays in ``RelativeTransformer``: lazy, blockwise projection; anchors by sampling.

``RelativeTransformer.fit`` and ``transform`` hand dask collections to this module, which
is imported only then: dask is an optional extra (``pip install skrelrep[dask]``).

``transform`` maps the NumPy projection (:func:`~skrelrep._projections.project`)
over row blocks. The anchors (and their mean) enter the task graph once, as a single
one-chunk array that every block task depends on, so the scheduler ships them to each
worker once instead of embedding a copy in every task.

``fit`` never materialises ``X``. Random, stratified, explicit and callable selections
only need the row count (and ``y``), so they pick the same indices as a NumPy fit with
the same ``random_state``; only the chosen rows are then computed. Farthest point
sampling and k-means need the data: they run, unchanged, on a uniform sample of
:func:`fit_sample_size` rows, and their indices are mapped back to rows of ``X``.

Examples
--------
>>> import dask.array as da
>>> from skrelrep import RelativeTransformer
>>> X = da.random.default_rng(0).normal(size=(1000, 8), chunks=(250, 8))
>>> relative = RelativeTransformer(n_anchors=5, random_state=0).fit(X)
>>> R = relative.transform(X)
>>> R.chunks
((250, 250, 250, 250), (5,))
>>> R.compute().shape
(1000, 5)
"""

import math

import dask.array as da
import numpy as np
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import validate_data

from ._anchors import select_anchors
from ._compat import to_numpy
from ._projections import project
from ._relative import _is_dask_collection

__all__ = ["fit_dask", "fit_sample_size", "transform_dask"]

# FPS and k-means on a dask array look at a uniform sample of this many rows at least,
# and at least this many rows per anchor (see fit_sample_size).
MIN_SAMPLE_SIZE = 10_000
SAMPLE_ROWS_PER_ANCHOR = 20

# Strategies that read the data; the others only need the number of rows and y.
_DATA_STRATEGIES = ("fps", "kmeans")

_DTYPES = [np.float64, np.float32]


def fit_sample_size(n_samples, n_anchors):
    """Rows sampled for FPS / k-means anchor selection on a dask array.

    ``min(n_samples, max(20 * n_anchors, 10_000))``: enough rows that every anchor
    has many candidates, few enough to fit in the client's memory (10 000 rows of 768
    float32 features take 31 MB). When the sample is the whole data set, the anchors
    equal those of a NumPy fit with the same ``random_state``.

    Parameters
    ----------
    n_samples : int
        Rows of the array being fitted.
    n_anchors : int or None
        Anchors to select; None means every row.

    Returns
    -------
    sample_size : int

    Examples
    --------
    >>> from skrelrep._dask import fit_sample_size
    >>> fit_sample_size(10**8, 300), fit_sample_size(10**8, 768), fit_sample_size(500, 10)
    (10000, 15360, 500)
    """
    if n_anchors is None:
        return n_samples
    return min(n_samples, max(SAMPLE_ROWS_PER_ANCHOR * n_anchors, MIN_SAMPLE_SIZE))


def fit_dask(est, X, y=None):
    """Fit ``est`` (a RelativeTransformer) on a dask array without computing it whole.

    Called by ``RelativeTransformer.fit`` (parameters already validated). Sets the
    same fitted attributes as a NumPy fit; ``feature_names_in_`` is not set (a dask
    array has no column names).

    Parameters
    ----------
    est : RelativeTransformer
    X : dask.array.Array of shape (n_samples, n_features)
    y : array-like or dask collection of shape (n_samples,), default=None
        Computed in full (it is 1-D). A callable ``anchor_selection`` receives the
        dask ``X`` and the computed ``y``.

    Returns
    -------
    est : RelativeTransformer
    """
    X = _check_dask_array(X, est)
    # Sets n_features_in_ and drops feature_names_in_, without converting X.
    validate_data(est, X, skip_check_array=True, reset=True)
    n_samples, n_features = X.shape
    if math.isnan(n_samples):
        X = X.compute_chunk_sizes()  # one pass over X, keeping only block lengths
        n_samples = X.shape[0]
    _check_min_size(n_samples, n_features, X.shape, est)
    if y is not None:
        y = np.asarray(y.compute() if _is_dask_collection(y) else to_numpy(y))
        if y.shape[0] != n_samples:
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: "
                f"[{n_samples}, {y.shape[0]}]"
            )
    n_anchors = est._resolve_n_anchors(n_samples)
    rng = check_random_state(est.random_state)
    strategy = est.anchor_selection
    if isinstance(strategy, str) and strategy in _DATA_STRATEGIES:
        sample_size = fit_sample_size(n_samples, n_anchors)
        if sample_size < n_samples:
            sample = np.sort(rng.choice(n_samples, size=sample_size, replace=False))
        else:  # the whole data set: draw nothing, so the anchors match a NumPy fit
            sample = np.arange(n_samples)
        X_sample = _checked(_take_rows(X, sample), est)
        y_sample = None if y is None else y[sample]
        local = select_anchors(X_sample, y_sample, n_anchors, strategy, rng, np)
        indices, anchors = sample[local], X_sample[local]
    else:
        # Only the row count, y and rng are read: the same indices as a NumPy fit.
        indices = select_anchors(X, y, n_anchors, strategy, rng, np)
        anchors = _checked(_take_rows(X, indices), est)
    est._set_anchors(anchors)
    est.anchor_indices_ = indices
    return est


def transform_dask(est, X):
    """Lazy relative representation of a dask array, blockwise over row chunks.

    Parameters
    ----------
    est : RelativeTransformer
        Fitted.
    X : dask.array.Array of shape (n_samples, n_features)

    Returns
    -------
    X_new : dask.array.Array of shape (n_samples, n_anchors_)
        Float32 for float32 input, float64 otherwise; row chunks as in ``X``, one
        chunk across the anchors.
    """
    X = _check_dask_array(X, est)
    # scikit-learn's feature count and feature name checks, without converting X.
    validate_data(est, X, skip_check_array=True, reset=False)
    options = est._projection_options()
    if options["top_k"] is not None:
        raise ValueError(
            "top_k gives sparse output, which RelativeTransformer does not produce for "
            "dask arrays; transform blocks with map_blocks, or leave top_k=None."
        )
    dtype = X.dtype

    def one_chunk(name):
        """A fitted array as a one-chunk dask array: one graph key, shared by blocks."""
        value = getattr(est, name, None)
        if value is None:
            return None, None
        value = to_numpy(value).astype(dtype, copy=False)
        return da.from_array(
            value, chunks=value.shape
        ), "k" if value.ndim == 1 else "jk"

    anchors, mean, scale = (
        one_chunk(n) for n in ("anchors_", "anchor_mean_", "anchor_scale_")
    )
    return da.blockwise(
        _project_block,
        "ij",
        X.rechunk({1: -1}),  # each block holds whole rows
        "ik",
        *anchors,
        *mean,
        *scale,
        token="relativetransformer",
        dtype=dtype,
        concatenate=True,
        meta=np.empty((0, 0), dtype=dtype),
        # Several concatenated similarities give more columns than anchors.
        adjust_chunks={"j": (est._n_features_out,)},
        batch_size=est.batch_size,
        estimator_name=type(est).__name__,
        options=options,
        n_features_out=est._n_features_out,
    )


def _project_block(
    block, anchors, mean, scale, *, batch_size, estimator_name, options, n_features_out
):
    """The NumPy path's projection on one block of rows (checked as that path does)."""
    block = check_array(
        block,
        accept_sparse="csr",
        dtype=anchors.dtype,
        ensure_min_samples=0,  # dask arrays may hold empty blocks
        estimator=estimator_name,
        input_name="X",
    )
    if block.shape[0] == 0:  # the kernel needs at least one row
        return np.empty((0, n_features_out), dtype=anchors.dtype)
    return project(
        block,
        anchors,
        np,
        mean=mean,
        scale=scale,
        options=options,
        batch_size=batch_size,
    )


def _check_dask_array(X, est):
    """``X`` as a 2-D dask array of float32 or float64 (lazily cast, like check_array)."""
    if not isinstance(X, da.Array):
        raise TypeError(
            f"{type(est).__name__} takes dask arrays, got {type(X).__name__}. Convert "
            "a dask DataFrame with .to_dask_array(lengths=True), or wrap a pipeline "
            "in dask_ml.wrappers.ParallelPostFit to map it over partitions."
        )
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2D dask array, got {X.ndim}D array of shape {X.shape} instead."
        )
    if math.isnan(X.shape[1]):
        raise ValueError(
            "The number of columns of X is unknown: call X.compute_chunk_sizes() first."
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"{type(est).__name__} needs numeric input, got a dask array of dtype "
            f"{X.dtype}."
        )
    if X.dtype not in _DTYPES:
        X = X.astype(np.float64)
    return X


def _check_min_size(n_samples, n_features, shape, est):
    for count, what in ((n_samples, "sample"), (n_features, "feature")):
        if count < 1:
            raise ValueError(
                f"Found array with {count} {what}(s) (shape={shape}) while a "
                f"minimum of 1 is required by {type(est).__name__}."
            )


def _take_rows(X, indices):
    """Compute rows ``indices`` of a dask array, in the order given.

    The rows are fetched in increasing order (each block read once, no out-of-order
    gather) and put back in the requested order on the client.
    """
    order = np.argsort(indices, kind="stable")
    rows = X[np.asarray(indices)[order]].compute()
    return rows[np.argsort(order, kind="stable")]


def _checked(rows, est):
    """Computed rows validated like the NumPy fit's ``X`` (finite, float dtype)."""
    return check_array(
        rows, accept_sparse="csr", dtype=_DTYPES, estimator=est, input_name="X"
    )
