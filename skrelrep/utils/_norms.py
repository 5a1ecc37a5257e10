"""Row norms and unit rows, for NumPy, SciPy sparse and any Array API namespace.

The cosine kernel, the anchor strategies, the metrics and the anchor search all
normalise rows the same way: a zero row stays a zero row (it is equally similar, 0,
to everything), never a row of NaN.
"""

import numpy as np
import scipy.sparse as sp

from ._array_api import is_numpy_namespace

__all__ = ["inverse_norms", "normalize_rows", "row_norms"]


def row_norms(X, xp):
    """Euclidean norm of each row, without a temporary copy of a dense NumPy ``X``."""
    if sp.issparse(X):
        return np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel()).astype(
            X.dtype, copy=False
        )
    if is_numpy_namespace(xp):
        return np.sqrt(np.einsum("ij,ij->i", X, X))
    return xp.sqrt(xp.sum(X * X, axis=1))


def inverse_norms(norms, xp):
    """``1 / norms`` with zero where the norm is zero (zero rows project to zero)."""
    if is_numpy_namespace(xp):
        inverse = np.zeros_like(norms)
        np.divide(1, norms, out=inverse, where=norms > 0)
        return inverse
    positive = norms > 0
    return xp.where(positive, 1 / xp.where(positive, norms, 1), 0)


def normalize_rows(X, xp):
    """Return a copy of ``X`` with each row scaled to unit norm; zero rows stay zero."""
    scale = inverse_norms(row_norms(X, xp), xp)
    if sp.issparse(X):
        return sp.csr_matrix(sp.diags(scale) @ X)
    return X * scale[:, None]
