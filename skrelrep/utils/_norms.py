"""Row norms and unit rows, for NumPy, SciPy sparse and any Array API namespace.

The cosine kernel, the anchor strategies, the metrics and the anchor search all
normalise rows the same way: a zero row stays a zero row (it is equally similar, 0,
to everything), never a row of NaN. Norms cannot overflow or underflow: squaring a
float32 entry above about 1.8e19 overflows and one below about 1e-23 underflows, so
rows whose squared norm falls outside the normal range are measured again after
dividing by their largest entry, as LAPACK's ``nrm2`` does. The usual rows pay one
comparison; the scaled pass runs only for the rows that need it.
"""

import numpy as np
import scipy.sparse as sp

from ._array_api import is_numpy_namespace

__all__ = [
    "extreme_squared_norms",
    "inverse_norms",
    "normalize_rows",
    "row_norms",
    "safe_row_norms",
]


def _limits(dtype):
    """Squared norms in ``[tiny, huge]`` are exact to rounding; outside, rescale."""
    info = np.finfo(dtype)
    return float(info.tiny), float(info.max) / 4


def extreme_squared_norms(squared, dtype, xp=np):
    """Mask of the rows whose squared norm may have overflowed or underflowed.

    Zero rows are included (their squared norm underflows to zero as well); the
    scaled pass gives them their exact norm, zero.
    """
    tiny, huge = _limits(dtype)
    return ~((squared >= tiny) & (squared <= huge))


def safe_row_norms(X, xp):
    """Euclidean norm of each row, scaled first: never overflows nor underflows."""
    if sp.issparse(X):
        largest = np.asarray(abs(X).max(axis=1).toarray()).ravel().astype(X.dtype)
        divisor = np.where(largest > 0, largest, 1).astype(X.dtype)
        scaled = sp.diags(1 / divisor) @ X
        return largest * np.sqrt(
            np.asarray(scaled.multiply(scaled).sum(axis=1)).ravel()
        )
    if is_numpy_namespace(xp):
        largest = np.max(np.abs(X), axis=1) if X.shape[1] else np.zeros(X.shape[0])
        largest = largest.astype(X.dtype, copy=False)
        scaled = X / np.where(largest > 0, largest, 1)[:, None]
        return largest * np.sqrt(np.einsum("ij,ij->i", scaled, scaled))
    largest = xp.max(xp.abs(X), axis=1)
    scaled = X / xp.where(largest > 0, largest, xp.ones_like(largest))[:, None]
    return largest * xp.sqrt(xp.sum(scaled * scaled, axis=1))


def row_norms(X, xp):
    """Euclidean norm of each row, without a temporary copy of a dense NumPy ``X``.

    Rows whose squared norm is outside the floating-point normal range are measured
    again on a scaled copy (only those rows), so the result is exact to rounding at
    every magnitude the dtype can represent.
    """
    if not sp.issparse(X) and not is_numpy_namespace(xp):
        squared = xp.sum(X * X, axis=1)
        dtype = np.dtype(str(X.dtype).rsplit(".", 1)[-1])
        if bool(xp.any(extreme_squared_norms(squared, dtype, xp))):
            return safe_row_norms(X, xp)
        return xp.sqrt(squared)
    # Squares out of range are expected here: those rows are measured again below.
    with np.errstate(over="ignore", under="ignore"):
        if sp.issparse(X):
            squared = np.asarray(X.multiply(X).sum(axis=1)).ravel().astype(X.dtype)
        else:
            squared = np.einsum("ij,ij->i", X, X)
    norms = np.sqrt(squared)
    extreme = np.flatnonzero(extreme_squared_norms(squared, X.dtype))
    if extreme.size:
        norms[extreme] = safe_row_norms(X[extreme], np)
    return norms


def inverse_norms(norms, xp):
    """``1 / norms`` with zero where the norm is zero (zero rows project to zero)."""
    if is_numpy_namespace(xp):
        inverse = np.zeros_like(norms)
        np.divide(1, norms, out=inverse, where=norms > 0)
        return inverse
    positive = norms > 0
    return xp.where(positive, 1 / xp.where(positive, norms, 1), 0)


def normalize_rows(X, xp):
    """Return a copy of ``X`` with each row scaled to unit norm; zero rows stay zero.

    Each row is divided by its largest entry before its norm is taken, so that no
    intermediate overflows or underflows, and the result does not depend on the
    magnitude of the row: rows that differ by a power of two give the same unit row,
    bit for bit.
    """
    if sp.issparse(X):
        return _normalize_csr(sp.csr_matrix(X, copy=True))
    if is_numpy_namespace(xp):
        largest = np.max(np.abs(X), axis=1) if X.shape[1] else np.zeros(X.shape[0])
        # Divided, not multiplied by 1 / largest, which overflows for subnormal rows.
        scaled = np.divide(
            X, largest[:, None], out=np.zeros_like(X), where=largest[:, None] > 0
        )
        norms = np.sqrt(np.einsum("ij,ij->i", scaled, scaled))
        scaled *= inverse_norms(norms, np)[:, None]
        return scaled
    largest = xp.max(xp.abs(X), axis=1)
    scaled = X / xp.where(largest > 0, largest, xp.ones_like(largest))[:, None]
    norms = xp.sqrt(xp.sum(scaled * scaled, axis=1))
    return scaled * inverse_norms(norms, xp)[:, None]


def _normalize_csr(X):
    """Normalise the rows of a CSR matrix in place (divided by their largest entry
    first, as the dense rows are)."""
    X.sum_duplicates()
    counts = np.diff(X.indptr)
    largest = np.zeros(X.shape[0], dtype=X.dtype)
    rows = np.flatnonzero(counts)
    if rows.size:
        largest[rows] = np.maximum.reduceat(np.abs(X.data), X.indptr[rows])
    X.data /= np.repeat(np.where(largest > 0, largest, 1), counts)
    norms = (
        np.sqrt(np.add.reduceat(X.data * X.data, X.indptr[rows])) if rows.size else []
    )
    scale = np.zeros(X.shape[0], dtype=X.dtype)
    scale[rows] = inverse_norms(np.asarray(norms, dtype=X.dtype), np)
    X.data *= np.repeat(scale, counts)
    return X


def centring_residue(mean, xp):
    """Norm below which a row minus ``mean`` is only the rounding error of centring.

    Subtracting a mean of magnitude ``|m|`` leaves an error of about ``eps * |m|`` per
    feature, so a row equal to the mean up to rounding keeps a norm of up to about
    ``sqrt(n_features) * eps * max|m|``. Normalising that residue would give a unit
    vector pointing nowhere in particular; rows (and anchors) below this bound are
    treated as the mean itself, whose cosine to everything is 0.
    """
    n_features = mean.shape[0]
    dtype = np.dtype(str(mean.dtype).rsplit(".", 1)[-1])
    largest = float(xp.max(xp.abs(mean))) if n_features else 0.0
    return 4.0 * float(np.sqrt(n_features)) * float(np.finfo(dtype).eps) * largest
