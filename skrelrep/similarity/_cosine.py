"""The cosine similarity and its fused kernel, the fast path of every projection.

The relative representation of a row ``x`` is ``(x - m) @ A.T / ||x - m||`` where ``A``
holds the anchors, already centred by ``m`` and L2-normalised. No normalised (or
centred, or densified) copy of the whole input is ever made.

On NumPy the limit is the matrix product itself (one GEMM of normalised inputs). The
rows go in pieces that stay in cache from their first pass to their product:
each piece's norms are computed, its rows (or, when the output is narrower than the
input, its rows of output) are scaled, centred first if asked, and multiplied into the
output. ``X`` is thus read from memory once and the output written once, as by the
product alone, and the working set is the output plus a piece per thread. The pieces
are shared among as many threads as the BLAS would use, each with a single-threaded
BLAS, so that the passes around the product run on every core as well.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils import assert_all_finite, gen_batches

from ..utils._array_api import is_numpy_namespace, itemsize
from ..utils._chunks import chunk_n_rows
from ..utils._compat import get_namespace_and_device
from ..utils._finite import quiet_finite_check
from ..utils._norms import (
    centring_residue,
    extreme_squared_norms,
    inverse_norms,
    normalize_rows,
    row_norms,
)
from ..utils._statistics import centre_rows
from ..utils._threads import blas_threads, run_pieces
from ._base import NORMALIZATION_CONSTRAINT, Similarity

__all__ = [
    "CosineSimilarity",
    "cosine_projection",
    "kernel_threads",
    "piece_rows",
    "projection_chunk_rows",
]


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
    measures_angles = True

    _parameter_constraints: dict = {"normalization": NORMALIZATION_CONSTRAINT}

    def __init__(self, normalization=None):
        self.normalization = normalization

    def prepare_anchors(self, anchors, xp):
        """The anchors scaled to unit norm (zero anchors stay zero)."""
        return normalize_rows(anchors, xp)

    def pairwise(self, X, anchors, xp):
        """Cosine of each row of ``X`` to each unit anchor."""
        return cosine_projection(X, anchors, xp, batch_size=X.shape[0])


# The NumPy kernel works on pieces of rows. Each is small enough to stay in cache from
# its first pass (norms, centring) to the matrix product that reads it, so X is read
# from memory once and the output written once, as by the product alone; and large
# enough that the BLAS packing of the anchors, once per product, stays small next to
# the product: at least this many rows ...
_MIN_PIECE_ROWS = 4096
# ... or about this many bytes of X for narrow rows ...
_PIECE_BYTES = 2 * 2**20
# ... and at most this many bytes of X (the buffer a thread scales rows into).
# Pieces of 2,048 to 8,192 rows are about equally fast; smaller ones pay the packing
# more often (benchmarks/RESULTS.md, "Projection shapes").
_MAX_PIECE_BYTES = 16 * 2**20
# Starting threads costs a fraction of a millisecond: a product smaller than this many
# flops (a few milliseconds on one core) is left to one thread.
_PARALLEL_MIN_FLOPS = 1e8
# Centred rows are normalised in sub-pieces of about this size, which stay in a
# core's L2 cache between computing their norms and scaling them.
_NORM_PIECE_BYTES = 512 * 2**10


def projection_chunk_rows(
    n_samples, n_features, n_anchors, itemsize, *, batch_size=None
):
    """Rows per chunk of the projection in a namespace other than NumPy.

    ``batch_size`` if given; otherwise what fits ``working_memory`` (a chunk of input
    plus its rows of output).
    """
    return chunk_n_rows(n_samples, itemsize * (n_features + n_anchors), batch_size)


def kernel_threads(n_samples, n_features, n_anchors):
    """Threads that the NumPy kernel shares its pieces among (1 for small products)."""
    if 2 * n_samples * n_features * n_anchors < _PARALLEL_MIN_FLOPS:
        return 1
    return blas_threads()


def piece_rows(
    n_samples, n_features, n_anchors, itemsize, *, batch_size=None, threads=1
):
    """Rows per piece of the NumPy kernel.

    ``_MIN_PIECE_ROWS`` (more for rows narrower than ``_PIECE_BYTES / 4096``, fewer
    for rows wider than ``_MAX_PIECE_BYTES / 4096``), and never more than
    ``batch_size`` or, without it, than ``working_memory`` allows for a piece of
    input plus its rows of output; a little fewer so that the pieces divide evenly
    among ``threads``.
    """
    row_bytes = itemsize * max(n_features, 1)
    rows = max(_MIN_PIECE_ROWS, _PIECE_BYTES // row_bytes)
    rows = min(rows, max(1, _MAX_PIECE_BYTES // row_bytes))
    budget = chunk_n_rows(n_samples, itemsize * (n_features + n_anchors), batch_size)
    return _even_piece_rows(n_samples, max(1, min(rows, budget)), threads)


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
        At most this many rows at once; by default see :func:`piece_rows` (NumPy)
        and :func:`projection_chunk_rows` (other namespaces).
    device : device, default=None
        Device on which to allocate the output (by default that of ``X``).

    Returns
    -------
    similarities : array of shape (n_samples, n_anchors)
        In the namespace, device and dtype of ``X``. A zero row (or, with ``mean``,
        a row equal to ``mean``) gives a row of zeros.

    Raises
    ------
    ValueError
        On NumPy and SciPy input, when ``X`` holds NaN or infinity. Such a row has
        a squared norm out of range, so it is found among the rows whose norm is
        measured again anyway: no extra pass over ``X``.
    """
    if not is_numpy_namespace(xp):
        return _projection_xp(X, anchors, xp, mean, batch_size, device)
    n_samples, n_features = X.shape
    n_anchors = anchors.shape[0]
    dtype = X.dtype
    threads = kernel_threads(n_samples, n_features, n_anchors)
    rows = piece_rows(
        n_samples,
        n_features,
        n_anchors,
        dtype.itemsize,
        batch_size=batch_size,
        threads=threads,
    )
    out = np.empty((n_samples, n_anchors), dtype=dtype)
    # Scale the narrower side of the product: the rows of X (into a buffer) or their
    # rows of output (in place); either is still in cache. Centring needs the buffer
    # anyway; sparse rows are scaled through the output unless centred.
    scale_inputs = mean is not None or (not sp.issparse(X) and n_anchors >= n_features)
    anchors_t = anchors.T
    residue = None if mean is None else centring_residue(mean, np)

    def workspace():
        norms = np.empty(rows, dtype=dtype)
        unit = np.empty((rows, n_features), dtype=dtype) if scale_inputs else None
        return norms, unit

    def project(piece, buffers):
        norms, unit = buffers
        block, target = X[piece, :], out[piece]
        scale = norms[: target.shape[0]]
        if unit is None:
            _scaled_product(block, anchors_t, target, scale)
            return
        buffer = unit[: target.shape[0]]
        source = block
        if sp.issparse(block):  # one piece is densified, never the whole of X
            buffer.fill(0)
            block = block.toarray(out=buffer)
        if mean is None:
            _unit_rows(block, buffer, scale)
        else:
            _centered_unit_rows(block, mean, buffer, scale, residue, source)
        np.matmul(buffer, anchors_t, out=target)

    run_pieces(project, gen_batches(n_samples, rows), threads, make_workspace=workspace)
    return out


def _even_piece_rows(n_samples, rows, threads):
    """At most ``rows`` rows per piece, the pieces a multiple of ``threads`` in number.

    Otherwise the last round leaves threads idle: 10,000 rows in pieces of 2,048 are
    five pieces, three for one thread and two for the other (1.2x the even share).
    """
    if threads == 1 or n_samples == 0:
        return rows
    pieces = -(-n_samples // rows)
    pieces = -(-pieces // threads) * threads
    return max(1, -(-n_samples // pieces))


def _squared_norms(block, out):
    """Squared norm of each row of a dense ``block``, into ``out``.

    Squares out of range are expected: the callers measure those rows again.
    """
    if _vecdot is None:  # NumPy < 2.0; einsum raises no floating-point warnings
        np.einsum("ij,ij->i", block, block, out=out)
        return
    with np.errstate(over="ignore", under="ignore"):  # per thread: set it here
        _vecdot(block, block, out=out)


# np.vecdot (NumPy >= 2.0) is about 1.3-2x faster than einsum on rows in cache.
_vecdot = getattr(np, "vecdot", None)


def _inverse_norms(block, scale):
    """Write each row's inverse norm to ``scale``; return the rows out of range.

    The callers normalise the rows returned (zero rows included) again, safely; NaN
    or infinity in ``block`` raise a ``ValueError``.
    """
    if sp.issparse(block):
        scale[:] = np.asarray(block.multiply(block).sum(axis=1)).ravel()
    else:
        _squared_norms(block, scale)
    extreme = _extreme_rows(block, scale)
    _invert_sqrt(scale)
    return extreme


def _scaled_product(block, anchors_t, target, scale):
    """``target = unit rows of block @ anchors_t``, scaling the product's rows."""
    extreme = _inverse_norms(block, scale)
    if sp.issparse(block):
        target[...] = block @ anchors_t
    else:
        np.matmul(block, anchors_t, out=target)
    # A product out of range (rows near the dtype's largest value) times the zero
    # scale of its row: only extreme rows, written again below.
    with np.errstate(invalid="ignore"):
        target *= scale[:, None]
    if extreme.size:  # norms out of the normal range (and zero rows): rescaled
        target[extreme] = normalize_rows(block[extreme], np) @ anchors_t


def _extreme_rows(block, squared_norms):
    """Rows whose squared norm is out of the normal range (zero rows included).

    NaN and infinity land here too (their squared norm is NaN or infinite): the
    rows found are checked, and a ``ValueError`` names what ``X`` holds.
    """
    extreme = np.flatnonzero(extreme_squared_norms(squared_norms, block.dtype))
    if extreme.size:
        _check_finite(block[extreme])
    return extreme


def _check_finite(rows):
    """Raise scikit-learn's ``ValueError`` if ``rows`` hold NaN or infinity."""
    with quiet_finite_check():
        assert_all_finite(rows, input_name="X")


def _unit_rows(block, unit, scale):
    """Write each row of ``block`` scaled to unit norm to ``unit`` (zero rows stay)."""
    extreme = _inverse_norms(block, scale)
    np.multiply(block, scale[:, None], out=unit)
    if extreme.size:  # norms out of the normal range (and zero rows): rescaled
        unit[extreme] = normalize_rows(block[extreme], np)


def _centered_unit_rows(block, mean, unit, scale, residue, source):
    """Write ``block - mean``, each row scaled to unit norm, to ``unit``.

    ``block`` may be ``unit`` itself (a densified sparse piece), so the rows of
    ``source`` (the piece as given: dense or CSR) are read again where needed. Rows
    within ``residue`` of the mean become zero rows (see ``centring_residue``). A row
    whose difference with the mean overflows has an infinite squared norm: it is
    centred again at half its scale (see ``centre_rows``), as the rows whose squared
    norm leaves the normal range are normalised again.
    """
    piece_rows = max(1, _NORM_PIECE_BYTES // (unit.itemsize * unit.shape[1]))
    # Overflow (and the infinity times zero it then leads to) only in extreme rows,
    # which are written again below; NaN or infinity in X raise in _extreme_rows.
    with np.errstate(over="ignore", invalid="ignore"):  # per thread: set it here
        for start in range(0, block.shape[0], piece_rows):
            piece = slice(start, start + piece_rows)
            target, inverse = unit[piece], scale[piece]
            np.subtract(block[piece], mean, out=target)
            _squared_norms(target, inverse)
            # Squared norms out of the normal range (and zero rows) are redone below;
            # NaN and infinity land there too.
            extreme = np.flatnonzero(extreme_squared_norms(inverse, unit.dtype))
            if extreme.size:
                rows = source[piece][extreme]
                _check_finite(rows)
            centred = target[extreme]  # a copy of those rows, still unscaled
            # The mean, up to rounding (a bound beyond the dtype's range: extreme
            # rows).
            bound = min(residue * residue, float(np.finfo(unit.dtype).max))
            inverse[inverse <= bound] = 0
            _invert_sqrt(inverse)
            target *= inverse[:, None]
            if extreme.size:
                if not np.isfinite(centred).all():  # the difference overflowed
                    rows = rows.toarray() if sp.issparse(rows) else rows
                    centred = centre_rows(rows, mean, np, scale_free=True)
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
        finite = xp.isfinite(norms)
        if residue:
            norms = xp.where(norms > residue, norms, xp.zeros_like(norms))
        unit = block * inverse_norms(norms, xp)[:, None]
        if not bool(xp.all(finite)):
            # Rows whose norm (or difference with the mean) leaves the dtype's range:
            # centred at half their scale where needed, divided by their largest
            # entry before their norm is taken.
            if mean is not None:
                block = centre_rows(X[rows, :], mean, xp, scale_free=True)
            unit = xp.where(finite[:, None], unit, normalize_rows(block, xp))
        out[rows, :] = unit @ anchors_t
    return out
