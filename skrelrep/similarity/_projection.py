"""The relative projection of a whole array, chunk by chunk: one loop for every path.

:func:`relative_projection` is the entry point of ``RelativeTransformer.transform``.
When the transformer asks for nothing after the similarity (no per-feature scale, no
exponent, no top-k), the similarity projects the whole array itself: the cosine does
so with its fused kernel, at the speed of one matrix product. Otherwise
:func:`chunked_projection` runs one chunk of rows at a time, so the working set stays
one chunk whatever is asked for:

- pre-projection scaling of each feature by its spread over the anchors (invariance to
  non-isotropic rescaling, Garcia-Castellanos et al., 2024);
- the similarity itself, possibly several aggregated (a product of invariances,
  Cannistraci et al., ICLR 2024);
- an exponent on the similarities and a top-k sparsification (ASIF, Norelli et al.,
  2023).
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils import gen_batches

from ..utils._array_api import is_numpy_namespace, itemsize
from ..utils._chunks import chunk_n_rows

__all__ = ["chunked_projection", "relative_projection"]


def relative_projection(
    X,
    anchors,
    similarity,
    xp,
    *,
    mean=None,
    scale=None,
    exponent=1.0,
    top_k=None,
    batch_size=None,
    device=None,
):
    """The relative representation of ``X``: the one entry point of every code path.

    Parameters
    ----------
    X : array of shape (n_samples, n_features) or CSR matrix
        Rows to project, in namespace ``xp`` (NumPy for sparse input).
    anchors : array of shape (n_anchors, n_features)
        Anchors centred by ``mean``, divided by ``scale`` and prepared by
        ``similarity.prepare_anchors``.
    similarity : Similarity
    xp : namespace of ``X``
    mean, scale : arrays of shape (n_features,) or None
        Applied to each chunk of ``X`` as ``(X - mean) / scale``.
    exponent : float
        Sign-preserving power applied to the similarities.
    top_k : int or None
        Keep the ``top_k`` largest entries per row; the result is then a CSR matrix.
    batch_size : int or None
        Rows per chunk; by default as many as ``working_memory`` allows.
    device : device of ``X``

    Returns
    -------
    out : array of shape (n_samples, n_outputs), or CSR matrix when ``top_k`` is set
    """
    if scale is None and exponent == 1 and top_k is None:
        return similarity.project(
            X, anchors, xp, mean=mean, batch_size=batch_size, device=device
        )
    return chunked_projection(
        X,
        anchors,
        similarity,
        xp,
        mean=mean,
        scale=scale,
        exponent=exponent,
        top_k=top_k,
        batch_size=batch_size,
        device=device,
    )


def chunked_projection(
    X,
    anchors,
    similarity,
    xp,
    *,
    mean=None,
    scale=None,
    exponent=1.0,
    top_k=None,
    batch_size=None,
    device=None,
):
    """:func:`relative_projection` one chunk of rows at a time, for any similarity."""
    n_samples, n_features = X.shape
    n_anchors = anchors.shape[0]
    width = similarity.n_outputs(n_anchors)
    numpy_namespace = is_numpy_namespace(xp)
    size = itemsize(X, xp)
    per_row = size * (n_features + 2 * width) + similarity.extra_bytes_per_row(
        n_features, n_anchors, size, numpy_namespace
    )
    chunk = chunk_n_rows(n_samples, per_row, batch_size=batch_size)
    out = None
    pieces = []
    if top_k is None:
        out = (
            np.empty((n_samples, width), dtype=X.dtype)
            if numpy_namespace
            else xp.empty((n_samples, width), dtype=X.dtype, device=device)
        )
    for rows in gen_batches(n_samples, chunk):
        block = X[rows, :]
        if sp.issparse(block) and (
            mean is not None or scale is not None or not similarity.accepts_sparse
        ):
            block = block.toarray()
        if mean is not None:
            block = block - mean
        if scale is not None:
            block = block / scale
        values = _signed_power(
            similarity.relative_block(block, anchors, xp), exponent, xp
        )
        if top_k is None:
            out[rows, :] = values
        else:
            pieces.append(_top_k_rows(np.asarray(values), top_k))
    if top_k is not None:
        return sp.vstack(pieces, format="csr") if pieces else sp.csr_matrix((0, width))
    return out


def _signed_power(values, exponent, xp):
    if exponent == 1:
        return values
    return xp.sign(values) * xp.abs(values) ** exponent


def _top_k_rows(block, k):
    """Keep the k largest entries of each row of a dense NumPy block, as CSR."""
    n_rows, n_columns = block.shape
    k = min(k, n_columns)
    columns = np.argpartition(-block, k - 1, axis=1)[:, :k]
    columns.sort(axis=1)
    values = np.take_along_axis(block, columns, axis=1)
    indptr = np.arange(0, n_rows * k + 1, k)
    return sp.csr_matrix((values.ravel(), columns.ravel(), indptr), shape=block.shape)
