"""The cosine similarity and its fused kernel, the fast path of every projection.

The relative representation of a row ``x`` is ``(x - m) @ A.T / ||x - m||`` where ``A``
holds the anchors, already centred by ``m`` and L2-normalised. The rows are processed
in chunks, so no normalised (or centred, or densified) copy of the whole input is ever
made: the working set is the output plus one chunk.

On NumPy the limit is the matrix product itself (one GEMM of normalised inputs).
Without centring, ``X`` is multiplied straight into the output, whose rows are then
rescaled: a pass over ``X`` for the norms and one over the output are all that is
added, and the working set is the output plus a vector of row norms. With centring,
each chunk of rows is centred and normalised into a reused buffer (in cache-sized
pieces) and that buffer is multiplied into the output.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils import gen_batches

from ..utils._array_api import is_numpy_namespace, itemsize
from ..utils._chunks import chunk_n_rows
from ..utils._compat import get_namespace_and_device
from ..utils._norms import (
    centring_residue,
    extreme_squared_norms,
    inverse_norms,
    normalize_rows,
    row_norms,
)
from ._base import NORMALIZATION_CONSTRAINT, Similarity

__all__ = ["CosineSimilarity", "cosine_projection", "projection_chunk_rows"]


class CosineSimilarity(Similarity):
    """Cosine similarity to each anchor: the relative representation of the paper.

    ``r_x[j] = cos(x, a_j)``. Invariant to rotations, reflections and isotropic
    rescaling of the latent space (to translations too when the transformer centres
    it). A zero row has similarity 0 to every anchor. This is the similarity
    :class:`~skrelrep.RelativeTransformer` uses by default (``similarity="cosine"``),
    and the fastest: one matrix product of the input with the unit anchors, chunk by
    chunk, without a normalised copy of the input.

    Parameters
    ----------
    normalization : {"l2", "standard"}, default=None
        Per-row normalisation of the relative vector: unit L2 norm, or zero mean and
        unit spread across the anchors. Useful when aggregating several similarities
        (see :class:`CombinedSimilarity`).

    See Also
    --------
    EuclideanSimilarity : Negated Euclidean distance, invariant to translations.

    References
    ----------
    .. [1] L. Moschella et al., "Relative representations enable zero-shot latent
       space communication", ICLR 2023. https://arxiv.org/abs/2209.15430

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.similarity import CosineSimilarity
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> anchors = CosineSimilarity().prepare_anchors(np.array([[3.0, 0.0], [1.0, 1.0]]), np)
    >>> CosineSimilarity().pairwise(X, anchors, np).round(4)
    array([[1.    , 0.7071],
           [0.    , 0.7071]])
    """

    name = "cosine"
    accepts_sparse = True

    _parameter_constraints: dict = {"normalization": NORMALIZATION_CONSTRAINT}

    measures_angles = True

    def __init__(self, normalization=None):
        self.normalization = normalization

    def prepare_anchors(self, anchors, xp):
        """The anchors scaled to unit norm (zero anchors stay zero)."""
        return normalize_rows(anchors, xp)

    def pairwise(self, X, anchors, xp):
        """Cosine of each row of ``X`` to each unit anchor."""
        return cosine_projection(X, anchors, xp, batch_size=X.shape[0])

    def project(self, X, anchors, xp, *, mean=None, batch_size=None, device=None):
        """The cosine of every row of ``X`` to every anchor, with the fused kernel."""
        if self.normalization is not None:
            return super().project(
                X, anchors, xp, mean=mean, batch_size=batch_size, device=device
            )
        return cosine_projection(
            X, anchors, xp, mean=mean, batch_size=batch_size, device=device
        )


# With centring, a NumPy chunk holds a centred copy of at most about this many bytes
# of X: few matrix products (each wakes the BLAS threads once), small next to X.
_CENTERED_CHUNK_BYTES = 64 * 2**20
# Centred rows are normalised in pieces of about this size, which stay in a core's
# cache between computing their norms and scaling them.
_PIECE_BYTES = 512 * 2**10


def projection_chunk_rows(
    n_samples, n_features, n_anchors, itemsize, *, batch_size=None, copy_rows=False
):
    """Rows per chunk of :func:`cosine_projection`.

    ``batch_size`` if given; otherwise what fits ``working_memory`` (a chunk of input
    plus its rows of output). When each chunk is copied (NumPy with centring), at most
    a ``_CENTERED_CHUNK_BYTES`` copy.
    """
    rows = chunk_n_rows(n_samples, itemsize * (n_features + n_anchors), batch_size)
    if batch_size is None and copy_rows:
        rows = min(rows, max(1, _CENTERED_CHUNK_BYTES // (itemsize * n_features)))
    return rows


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
        Rows per chunk; by default see :func:`projection_chunk_rows`.
    device : device, default=None
        Device on which to allocate the output (by default that of ``X``).

    Returns
    -------
    similarities : array of shape (n_samples, n_anchors)
        In the namespace, device and dtype of ``X``. A zero row (or, with ``mean``,
        a row equal to ``mean``) gives a row of zeros.
    """
    if not is_numpy_namespace(xp):
        return _projection_xp(X, anchors, xp, mean, batch_size, device)
    n_samples, n_features = X.shape
    n_anchors = anchors.shape[0]
    chunk = projection_chunk_rows(
        n_samples,
        n_features,
        n_anchors,
        X.dtype.itemsize,
        batch_size=batch_size,
        copy_rows=mean is not None,
    )
    out = np.empty((n_samples, n_anchors), dtype=X.dtype)
    anchors_t = anchors.T
    norms = np.empty(chunk, dtype=X.dtype)
    centered = None if mean is None else np.empty((chunk, n_features), dtype=X.dtype)
    residue = None if mean is None else centring_residue(mean, np)
    for rows in gen_batches(n_samples, chunk):
        block = X[rows, :]
        scale = norms[: block.shape[0]]
        target = out[rows]
        if centered is not None:
            unit = centered[: block.shape[0]]
            if sp.issparse(block):  # one chunk is densified, never the whole of X
                unit.fill(0)
                block = block.toarray(out=unit)
            _centered_unit_rows(block, mean, unit, scale, residue)
            np.matmul(unit, anchors_t, out=target)
            continue
        if sp.issparse(block):
            scale[:] = np.asarray(block.multiply(block).sum(axis=1)).ravel()
        else:
            np.einsum("ij,ij->i", block, block, out=scale)
        extreme = np.flatnonzero(extreme_squared_norms(scale, X.dtype))
        _invert_sqrt(scale)
        # Multiply X itself into the output, then rescale the output rows: one large
        # matrix product and one pass over the output, no copy of X.
        if sp.issparse(block):
            target[...] = block @ anchors_t
        else:
            np.matmul(block, anchors_t, out=target)
        target *= scale[:, None]
        if extreme.size:  # norms out of the normal range (and zero rows): rescaled
            target[extreme] = normalize_rows(block[extreme], np) @ anchors_t
    return out


def _centered_unit_rows(block, mean, unit, scale, residue):
    """Write ``block - mean``, each row scaled to unit norm, to ``unit``.

    Rows within ``residue`` of the mean become zero rows (see ``centring_residue``).
    """
    piece_rows = max(1, _PIECE_BYTES // (unit.itemsize * unit.shape[1]))
    for start in range(0, block.shape[0], piece_rows):
        piece = slice(start, start + piece_rows)
        target, inverse = unit[piece], scale[piece]
        np.subtract(block[piece], mean, out=target)
        np.einsum("ij,ij->i", target, target, out=inverse)
        # Squared norms out of the normal range (and zero rows) are redone below.
        extreme = np.flatnonzero(extreme_squared_norms(inverse, unit.dtype))
        centred = target[extreme]  # a copy of those rows, still unscaled
        # The mean, up to rounding (a bound beyond the dtype's range: extreme rows).
        inverse[inverse <= min(residue * residue, float(np.finfo(unit.dtype).max))] = 0
        _invert_sqrt(inverse)
        target *= inverse[:, None]
        if extreme.size:
            near_mean = row_norms(centred, np) <= residue
            target[extreme] = normalize_rows(centred, np) * ~near_mean[:, None]


def _invert_sqrt(squared_norms):
    """In place: ``1 / sqrt(squared_norms)``; zero norms stay zero (zero rows)."""
    np.sqrt(squared_norms, out=squared_norms)
    np.divide(1, squared_norms, out=squared_norms, where=squared_norms > 0)


def _projection_xp(X, anchors, xp, mean, batch_size, device):
    """Any other namespace (e.g. torch on a GPU): chunks by ``working_memory``."""
    n_samples, n_features = X.shape
    n_anchors = anchors.shape[0]
    chunk = projection_chunk_rows(
        n_samples, n_features, n_anchors, itemsize(X, xp), batch_size=batch_size
    )
    if device is None:
        _, _, device = get_namespace_and_device(X)
    out = xp.empty((n_samples, n_anchors), dtype=X.dtype, device=device)
    anchors_t = anchors.T
    residue = None if mean is None else centring_residue(mean, xp)
    for rows in gen_batches(n_samples, chunk):
        block = X[rows, :]
        if mean is not None:
            block = block - mean
        norms = row_norms(block, xp)
        if residue:
            norms = xp.where(norms > residue, norms, xp.zeros_like(norms))
        out[rows, :] = (block * inverse_norms(norms, xp)[:, None]) @ anchors_t
    return out
