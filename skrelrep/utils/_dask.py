"""Dask arrays: blockwise functions over row chunks, rows computed on demand.

``RelativeTransformer`` hands dask arrays to these functions, and this module is
imported only then: dask is an optional extra (``pip install skrelrep[dask]``). The
functions work on arrays; the estimator decides what they compute.

:func:`map_row_blocks` maps a NumPy function over row blocks. Arrays shared by every
block (the anchors and their mean) enter the task graph once, each as a one-chunk
array that every block task depends on, so the scheduler ships them to each worker
once instead of embedding a copy in every task.

:func:`compute_rows` computes only the rows asked for, so an estimator can fit on a
dask array without materialising it.

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
from sklearn.utils import check_array

from ._array_api import is_dask_collection, to_numpy
from ._finite import quiet_finite_check

__all__ = [
    "check_dask_array",
    "compute_rows",
    "compute_vector",
    "fit_sample_size",
    "map_row_blocks",
    "with_known_rows",
]

# FPS and k-means on a dask array look at a uniform sample of this many rows at least,
# and at least this many rows per anchor (see fit_sample_size).
MIN_SAMPLE_SIZE = 10_000
SAMPLE_ROWS_PER_ANCHOR = 20

DTYPES = [np.float64, np.float32]


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
    >>> from skrelrep.utils._dask import fit_sample_size
    >>> fit_sample_size(10**8, 300), fit_sample_size(10**8, 768), fit_sample_size(500, 10)
    (10000, 15360, 500)
    """
    if n_anchors is None:
        return n_samples
    return min(n_samples, max(SAMPLE_ROWS_PER_ANCHOR * n_anchors, MIN_SAMPLE_SIZE))


def check_dask_array(X, estimator):
    """``X`` as a 2-D dask array of float32 or float64 (lazily cast, like check_array)."""
    name = type(estimator).__name__
    if not isinstance(X, da.Array):
        raise TypeError(
            f"{name} takes dask arrays, got {type(X).__name__}. Convert a dask "
            "DataFrame with .to_dask_array(lengths=True), or wrap a pipeline in "
            "dask_ml.wrappers.ParallelPostFit to map it over partitions."
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
            f"{name} needs numeric input, got a dask array of dtype {X.dtype}."
        )
    if X.dtype not in DTYPES:
        X = X.astype(np.float64)
    return X


def with_known_rows(X, estimator):
    """``X`` with known row chunks (one pass computing only block lengths if needed),
    checked to hold at least one sample and one feature."""
    if math.isnan(X.shape[0]):
        X = X.compute_chunk_sizes()
    for count, what in zip(X.shape, ("sample", "feature"), strict=True):
        if count < 1:
            raise ValueError(
                f"Found array with {count} {what}(s) (shape={X.shape}) while a "
                f"minimum of 1 is required by {type(estimator).__name__}."
            )
    return X


def compute_vector(y, n_samples):
    """A 1-D ``y`` (dask or not) as a NumPy array of ``n_samples`` entries, or None."""
    if y is None:
        return None
    y = np.asarray(y.compute() if is_dask_collection(y) else to_numpy(y))
    if y.shape[0] != n_samples:
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"[{n_samples}, {y.shape[0]}]"
        )
    return y


def compute_rows(X, indices, estimator):
    """Compute rows ``indices`` of a dask array, in the order given, validated.

    The rows are fetched in increasing order (each block read once, no out-of-order
    gather) and put back in the requested order on the client; they are checked as a
    NumPy fit checks its ``X`` (finite, floating dtype).
    """
    indices = np.asarray(indices)
    order = np.argsort(indices, kind="stable")
    rows = X[indices[order]].compute()
    rows = rows[np.argsort(order, kind="stable")]
    with quiet_finite_check():
        return check_array(
            rows, accept_sparse="csr", dtype=DTYPES, estimator=estimator, input_name="X"
        )


def map_row_blocks(function, X, shared, *, n_features_out, dtype, estimator, **kwargs):
    """Lazy ``function(block, **shared, **kwargs)`` over the row blocks of ``X``.

    Parameters
    ----------
    function : callable
        Maps a validated NumPy block of whole rows to a NumPy block of
        ``n_features_out`` columns. It must be picklable (a module-level function) to
        run on a distributed cluster.
    X : dask.array.Array of shape (n_samples, n_features)
    shared : dict of str to ndarray or None
        Arrays every block needs (cast to ``dtype``), each one graph key.
    n_features_out : int
    dtype : numpy dtype
        Of the blocks and of the result.
    estimator : estimator
        Named in validation errors.
    **kwargs : dict
        Passed to ``function`` as they are.

    Returns
    -------
    X_new : dask.array.Array of shape (n_samples, n_features_out)
        Row chunks as in ``X``, one chunk across the columns.
    """
    names = list(shared)
    arguments = []
    for name in names:
        value = shared[name]
        if value is None:
            arguments += [None, None]
            continue
        value = to_numpy(value).astype(dtype, copy=False)
        index = "k" if value.ndim == 1 else "jk"
        arguments += [da.from_array(value, chunks=value.shape), index]
    return da.blockwise(
        _apply_to_block,
        "ij",
        X.rechunk({1: -1}),  # each block holds whole rows
        "ik",
        *arguments,
        token=type(estimator).__name__.lower(),
        dtype=dtype,
        concatenate=True,
        meta=np.empty((0, 0), dtype=dtype),
        adjust_chunks={"j": (n_features_out,)},
        function=function,
        names=names,
        block_dtype=dtype,
        n_features_out=n_features_out,
        estimator_name=type(estimator).__name__,
        kwargs=kwargs,
    )


def _apply_to_block(
    block, *values, function, names, block_dtype, n_features_out, estimator_name, kwargs
):
    """``function`` on one block, checked as the NumPy path checks its input."""
    with quiet_finite_check():
        block = check_array(
            block,
            accept_sparse="csr",
            dtype=block_dtype,
            ensure_min_samples=0,  # dask arrays may hold empty blocks
            estimator=estimator_name,
            input_name="X",
        )
    if block.shape[0] == 0:  # the kernels need at least one row
        return np.empty((0, n_features_out), dtype=block_dtype)
    return function(block, **dict(zip(names, values, strict=True)), **kwargs)
