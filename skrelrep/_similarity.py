"""Projection kernels: the cosine similarity of rows to anchors, chunked, any namespace.

The relative representation of a row ``x`` is ``(x - m) @ A.T / ||x - m||`` where ``A``
holds the anchors, already centred by ``m`` and L2-normalised. Dividing the product by
the row norm, instead of normalising ``X`` first, means no normalised copy of the input
is ever made: the working set is one chunk of rows (only when centring or densifying a
sparse chunk) plus the output itself.
"""

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.utils import gen_batches

from ._compat import is_numpy_namespace

__all__ = [
    "chunk_n_rows",
    "cosine_projection",
    "inverse_norms",
    "normalize_rows",
    "row_norms",
]


def chunk_n_rows(n_samples, bytes_per_row, batch_size=None):
    """Rows per chunk: ``batch_size`` if given, else what fits ``working_memory``."""
    if batch_size is not None:
        return max(1, min(int(batch_size), n_samples))
    budget = get_config()["working_memory"] * 2**20
    return int(max(1, min(n_samples, budget // max(1, bytes_per_row))))


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


def cosine_projection(X, anchors, xp, *, mean=None, batch_size=None, device=None):
    """Cosine similarity of every row of ``X`` to every row of ``anchors``.

    Parameters
    ----------
    X : array of shape (n_samples, n_features) or CSR matrix
        Rows to project, in namespace ``xp`` (NumPy for sparse input).
    anchors : array of shape (n_anchors, n_features)
        Anchors already centred by ``mean`` and L2-normalised, same namespace, device
        and dtype as ``X``.
    xp : namespace
        Array namespace of ``X``.
    mean : array of shape (n_features,), default=None
        Subtracted from every row of ``X`` before the cosine (centring).
    batch_size : int, default=None
        Rows per chunk; by default as many as ``working_memory`` allows.
    device : device, default=None
        Device on which to allocate the output.

    Returns
    -------
    similarities : array of shape (n_samples, n_anchors)
        In the namespace, device and dtype of ``X``.
    """
    n_samples, n_features = X.shape
    n_anchors = anchors.shape[0]
    numpy_namespace = is_numpy_namespace(xp)
    itemsize = (
        np.dtype(X.dtype).itemsize if numpy_namespace else xp.finfo(X.dtype).bits // 8
    )
    # Working set per row: a centred (or densified) copy of the row and its output.
    chunk = chunk_n_rows(
        n_samples, itemsize * (n_features + n_anchors), batch_size=batch_size
    )
    if numpy_namespace:
        out = np.empty((n_samples, n_anchors), dtype=X.dtype)
    else:
        out = xp.empty((n_samples, n_anchors), dtype=X.dtype, device=device)
    anchors_t = anchors.T
    for rows in gen_batches(n_samples, chunk):
        block = X[rows, :]
        if mean is not None:
            if sp.issparse(block):
                block = block.toarray()
            block = block - mean
        scale = inverse_norms(row_norms(block, xp), xp)
        if not numpy_namespace:
            out[rows, :] = (block @ anchors_t) * scale[:, None]
            continue
        if sp.issparse(block):
            out[rows] = block @ anchors_t
        else:  # straight into the output: no temporary for the product
            np.matmul(block, anchors_t, out=out[rows])
        out[rows] *= scale[:, None]
    return out
