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

from ..utils._array_api import is_numpy_namespace, itemsize, to_numpy
from ..utils._chunks import chunk_n_rows

__all__ = ["chunked_projection", "projection_refuses_non_finite", "relative_projection"]


def _whole_by_similarity(scale, exponent, top_k):
    """Whether the similarity projects the whole array itself (nothing after it)."""
    return scale is None and exponent == 1 and top_k is None


def projection_refuses_non_finite(similarity, xp, *, scale, exponent, top_k):
    """Whether :func:`relative_projection` raises on NaN or infinity by itself.

    True for the fused cosine kernel on NumPy and SciPy input, which finds such rows
    through their norms at no extra cost; the caller may then skip its own check, one
    more pass over ``X``.
    """
    return _whole_by_similarity(
        scale, exponent, top_k
    ) and similarity.refuses_non_finite(xp)


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
    if _whole_by_similarity(scale, exponent, top_k):
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


# With top_k, a chunk's working set (its centred copy, its similarities and the
# scratch of the top-k selection) stays within this many bytes, whatever
# working_memory says: the memory beyond the input is the sparse output plus this.
_TOP_K_CHUNK_BYTES = 64 * 2**20


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
    extra = similarity.extra_bytes_per_row(n_features, n_anchors, size, numpy_namespace)
    if top_k is None:
        per_row = size * (n_features + 2 * width) + extra
        chunk = chunk_n_rows(n_samples, per_row, batch_size=batch_size)
        out = (
            np.empty((n_samples, width), dtype=X.dtype)
            if numpy_namespace
            else xp.empty((n_samples, width), dtype=X.dtype, device=device)
        )
    else:
        # Two copies of a chunk (centred, then scaled), its similarities with the
        # temporaries of the exponent and the partition, three masks.
        per_row = size * (2 * n_features + 5 * width) + 3 * width + extra
        chunk = chunk_n_rows(
            n_samples, per_row, batch_size=batch_size, max_bytes=_TOP_K_CHUNK_BYTES
        )
        out = _TopK(n_samples, width, top_k)
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
        del block  # the chunk's copies go before the top-k scratch comes
        if top_k is None:
            out[rows, :] = values
        else:
            out.add(rows, to_numpy(values))
    return out if top_k is None else out.result()


def _signed_power(values, exponent, xp):
    if exponent == 1:
        return values
    return xp.sign(values) * xp.abs(values) ** exponent


class _TopK:
    """The CSR matrix of each row's ``k`` largest entries, filled chunk by chunk.

    Its arrays are allocated once, at their final size, so that no piece is ever
    copied into the result. Ties go to the lowest column; NaN comes last.
    """

    def __init__(self, n_rows, n_columns, k):
        self.shape = (n_rows, n_columns)
        self.k = min(k, n_columns)
        nnz = n_rows * self.k
        index = np.int32 if max(nnz, n_columns) < np.iinfo(np.int32).max else np.int64
        self.indices = np.empty(nnz, dtype=index)
        self.indptr = np.arange(0, nnz + 1, self.k, dtype=index)
        self.data = None

    def add(self, rows, block):
        if self.data is None:
            self.data = np.empty(self.indices.shape, dtype=block.dtype)
        span = slice(rows.start * self.k, rows.stop * self.k)
        _top_k_rows(block, self.k, self.data[span], self.indices[span])

    def result(self):
        if self.data is None:  # no rows
            self.data = np.empty(0)
        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)


def _top_k_rows(block, k, values, columns):
    """Write the ``k`` largest entries of each row of ``block`` to ``values`` and
    their columns, ascending, to ``columns`` (flat, ``k`` per row).

    Among entries equal to a row's k-th largest, the lowest columns are kept (as a
    stable sort would). NaN ranks below every number.
    """
    n_columns = block.shape[1]
    key = block
    if np.isnan(block).any():
        key = np.where(np.isnan(block), -np.inf, block)
    # The k-th largest of each row; the partitioned copy is freed at once.
    kth = np.partition(key, n_columns - k, axis=1)[:, n_columns - k].copy()
    keep = key > kth[:, None]
    tied = key == kth[:, None]
    need = k - np.count_nonzero(keep, axis=1)
    crowded = np.flatnonzero(np.count_nonzero(tied, axis=1) > need)
    if crowded.size:  # more ties than places: the first ``need`` of them
        ties = tied[crowded]
        ties &= np.cumsum(ties, axis=1) <= need[crowded, None]
        tied[crowded] = ties
    keep |= tied
    row, column = np.nonzero(keep)  # row by row, columns ascending: k per row
    columns[:] = column
    values[:] = block[row, column]
