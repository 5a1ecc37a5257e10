"""The relative projection of a whole array: one entry point for every code path.

:class:`Projection` holds what ``RelativeTransformer`` fitted (the prepared anchors,
their mean and scale, the similarity) and what it asks for after the similarity
(``exponent``, ``top_k``). Calling it projects rows:

- when nothing follows a plain cosine, its fused kernel projects the whole array at
  the speed of one matrix product (:func:`~skrelrep.similarity._cosine.cosine_projection`);
  the kernel is chosen here, by the type of the similarity, not by the similarity;
- otherwise :func:`chunked_projection` runs one chunk of rows at a time, so that the
  working set stays one chunk whatever is asked for: centring, pre-projection scaling
  of each feature by its spread over the anchors (Garcia-Castellanos et al., 2024),
  the similarity's ``pairwise``, then the post-processing, all of it here: the
  similarity's per-row ``normalization``, the sign-preserving ``exponent`` and the
  ``top_k`` sparsification (ASIF, Norelli et al., 2023).
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.utils import gen_batches

from ..utils._array_api import (
    as_dtype,
    is_numpy_namespace,
    itemsize,
    to_namespace,
    to_numpy,
)
from ..utils._chunks import chunk_n_rows
from ..utils._norms import inverse_norms, normalize_rows
from ..utils._statistics import centre_rows
from . import _cosine

__all__ = [
    "Projection",
    "chunked_projection",
    "is_cosine",
    "n_outputs",
    "normalize_similarities",
    "relative_block",
]


@dataclass(frozen=True, eq=False)
class Projection:
    """A fitted relative projection: ``(X - mean) / scale``, the similarity, then
    its post-processing.

    Parameters
    ----------
    anchors : array of shape (n_anchors, n_features)
        Anchors centred by ``mean``, divided by ``scale`` and prepared by
        ``similarity.prepare_anchors``.
    similarity : Similarity
    mean, scale : arrays of shape (n_features,) or None
        Applied to the rows of ``X`` as ``(X - mean) / scale``.
    exponent : float
        Sign-preserving power applied to the similarities.
    top_k : int or None
        Keep the ``top_k`` largest entries per row; the result is then a CSR matrix.
    batch_size : int or None
        Rows per chunk; by default as many as ``working_memory`` allows.
    """

    anchors: Any
    similarity: Any
    mean: Any = None
    scale: Any = None
    exponent: float = 1.0
    top_k: int = None
    batch_size: int = None

    @property
    def n_outputs(self):
        """Columns of the result."""
        return n_outputs(self.similarity, self.anchors.shape[0])

    def finds_non_finite(self, xp):
        """Whether projecting rows of namespace ``xp`` raises on NaN and infinity.

        True for the fused cosine kernel on NumPy and SciPy input, which finds such
        rows through their norms at no extra cost: the caller may then skip its own
        check, one more pass over ``X``.
        """
        return is_numpy_namespace(xp) and self._fused_kernel() is not None

    def __call__(self, X, xp, device=None):
        """The relative representation of ``X`` (namespace ``xp``, on ``device``).

        The fitted arrays are brought to the namespace, device and dtype of ``X``.
        Returns an array of shape ``(n_samples, n_outputs)``, or a CSR matrix when
        ``top_k`` is set.
        """
        anchors, mean, scale = (
            None
            if array is None
            else as_dtype(to_namespace(array, xp, device), X.dtype, xp)
            for array in (self.anchors, self.mean, self.scale)
        )
        kernel = self._fused_kernel()
        if kernel is not None:
            return kernel(
                X, anchors, xp, mean=mean, batch_size=self.batch_size, device=device
            )
        return chunked_projection(
            X,
            anchors,
            self.similarity,
            xp,
            mean=mean,
            scale=scale,
            exponent=self.exponent,
            top_k=self.top_k,
            batch_size=self.batch_size,
            device=device,
        )

    def _fused_kernel(self):
        """The kernel that projects all of ``X`` at once, or None.

        The cosine's fused kernel serves the cosine (see :func:`is_cosine`) when
        nothing follows it: no per-feature scale, no normalisation, no exponent, no
        top-k.
        """
        if (
            self.scale is None
            and self.exponent == 1
            and self.top_k is None
            and is_cosine(self.similarity)
            and self.similarity.normalization is None
        ):
            # Looked up at each call, so that the module's kernel is the one used.
            return _cosine.cosine_projection
        return None


def is_cosine(similarity):
    """Whether ``similarity`` is the cosine: a :class:`CosineSimilarity`, or a
    subclass that keeps its ``pairwise`` and ``prepare_anchors``.

    Its values ignore the scale of each row, so rows may be centred at any scale
    (see :func:`~skrelrep.utils._statistics.centre_rows`), and its fused kernel may
    replace ``pairwise``.
    """
    cosine = _cosine.CosineSimilarity
    return isinstance(similarity, cosine) and all(
        getattr(type(similarity), name) is getattr(cosine, name)
        for name in ("pairwise", "prepare_anchors")
    )


def n_outputs(similarity, n_anchors):
    """Columns of ``similarity``'s relative representation for ``n_anchors`` anchors."""
    return similarity.outputs_per_anchor * n_anchors


def relative_block(similarity, X, anchors, xp):
    """``similarity.pairwise``, each row normalised as its ``normalization`` asks.

    A similarity without a ``normalization`` parameter is left as it is.
    """
    values = similarity.pairwise(X, anchors, xp)
    return normalize_similarities(
        values, getattr(similarity, "normalization", None), xp
    )


def normalize_similarities(values, how, xp):
    """Per-row normalisation of a block of similarities.

    ``None`` leaves them; ``"l2"`` scales each row to unit norm; ``"standard"`` gives
    each row zero mean and unit spread across the anchors. Constant rows stay zero.
    """
    if how is None:
        return values
    if how == "l2":
        return normalize_rows(values, xp)
    centred = values - xp.mean(values, axis=1)[:, None]
    spread = xp.sqrt(xp.mean(centred * centred, axis=1))
    return centred * inverse_norms(spread, xp)[:, None]


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
    """The projection of :class:`Projection`, one chunk of rows at a time, for any
    similarity (the fitted arrays already in the namespace and dtype of ``X``)."""
    n_samples, n_features = X.shape
    width = n_outputs(similarity, anchors.shape[0])
    numpy_namespace = is_numpy_namespace(xp)
    size = itemsize(X, xp)
    if top_k is None:
        per_row = size * (n_features + 2 * width)
        chunk = chunk_n_rows(n_samples, per_row, batch_size=batch_size)
        out = (
            np.empty((n_samples, width), dtype=X.dtype)
            if numpy_namespace
            else xp.empty((n_samples, width), dtype=X.dtype, device=device)
        )
    else:
        # Two copies of a chunk (centred, then scaled), its similarities with the
        # temporaries of the exponent and the partition, three masks.
        per_row = size * (2 * n_features + 5 * width) + 3 * width
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
            block = centre_rows(block, mean, xp, scale_free=is_cosine(similarity))
        if scale is not None:
            block = block / scale
        values = _signed_power(
            relative_block(similarity, block, anchors, xp), exponent, xp
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
