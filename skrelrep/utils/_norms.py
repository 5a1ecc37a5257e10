"""Row norms and unit rows, for NumPy, SciPy sparse and any Array API namespace.

The cosine kernel, the anchor strategies, the metrics and the anchor search all
normalise rows the same way: a zero row stays a zero row (it is equally similar, 0,
to everything), never a row of NaN. Norms cannot overflow or underflow: squaring a
float32 entry above about 1.8e19 overflows and one below about 1e-23 underflows, so
rows whose squared norm falls outside the normal range are measured again after
dividing by their largest entry (rounded to a power of two), as LAPACK's ``nrm2``
does. The usual rows pay one comparison; the scaled pass runs only for the rows that
need it.

A row can be finite and its norm not: eight float32 entries near 3e38 have a norm
above float32's largest value. :func:`row_norms` gives such a row an infinite norm,
without a warning; a caller that needs the row's norm or direction divides it first by
a power of two (:func:`power_of_two_rows`, exact), and keeps the norm's logarithm.
"""

import numpy as np
import scipy.sparse as sp

from ._array_api import is_numpy_namespace, to_namespace, to_numpy
from ._compat import get_namespace_and_device

__all__ = [
    "extreme_squared_norms",
    "inverse_norms",
    "normalize_rows",
    "power_of_two_rows",
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
    """Euclidean norm of each row, scaled first: no intermediate overflows nor
    underflows. A norm beyond the dtype's largest value (a finite row can have one)
    is infinite, without a warning."""
    if sp.issparse(X) or is_numpy_namespace(xp):
        scaled, exponents = power_of_two_rows(X, np)
        if sp.issparse(scaled):
            squared = np.asarray(scaled.multiply(scaled).sum(axis=1)).ravel()
        else:
            squared = np.einsum("ij,ij->i", scaled, scaled)
        with np.errstate(over="ignore"):  # the norm itself is beyond the range
            return np.ldexp(np.sqrt(squared.astype(X.dtype, copy=False)), exponents)
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
        dtype = _numpy_dtype(X.dtype)
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


def power_of_two_rows(X, xp):
    """``(scaled, exponents)``: row ``i`` of ``X`` divided by ``2 ** exponents[i]``.

    The power of two brings each row's largest absolute entry into ``[1, 2)`` (zero
    rows keep exponent 0), exactly: the scaled rows have the directions of the rows
    of ``X``, and their norms and their products with unit vectors cannot overflow
    nor underflow. Row ``i``'s norm is ``norm(scaled[i]) * 2 ** exponents[i]``, its
    natural logarithm ``log(norm(scaled[i])) + exponents[i] * log(2)``, finite even
    where the norm itself is beyond the dtype's range. ``exponents`` is a NumPy
    integer array (the largest entries are brought to the host); ``scaled`` is in
    the container (dense or CSR) and the namespace of ``X``.
    """
    if sp.issparse(X):
        X = sp.csr_matrix(X, copy=True)
        X.sum_duplicates()
        largest = np.asarray(abs(X).max(axis=1).toarray()).ravel()
    elif X.shape[1] == 0:
        largest = np.zeros(X.shape[0])
    else:
        largest = to_numpy(xp.max(xp.abs(X), axis=1))
    _, exponents = np.frexp(largest.astype(np.float64))
    exponents = np.where(largest > 0, exponents - 1, 0)
    # Every power of two a row of the dtype needs is a number of the dtype.
    divisors = np.ldexp(1.0, exponents).astype(_numpy_dtype(X.dtype))
    if sp.issparse(X):  # a copy already
        X.data /= np.repeat(divisors, np.diff(X.indptr))
        return X, exponents
    if is_numpy_namespace(xp):
        return X / divisors[:, None], exponents
    _, _, device = get_namespace_and_device(X)
    return X / to_namespace(divisors, xp, device)[:, None], exponents


def _numpy_dtype(dtype):
    """The NumPy dtype of the same name (``torch.float32`` gives ``float32``)."""
    return np.dtype(str(dtype).rsplit(".", 1)[-1])


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
    dtype = _numpy_dtype(mean.dtype)
    largest = float(xp.max(xp.abs(mean))) if n_features else 0.0
    return 4.0 * float(np.sqrt(n_features)) * float(np.finfo(dtype).eps) * largest
