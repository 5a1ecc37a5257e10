"""Centred kernel alignment between two spaces of the same items, and its nulls.

Linear CKA needs three HSIC terms, ``||Y^T X||^2``, ``||X^T X||^2`` and
``||Y^T Y||^2`` for the column-centred spaces ``X`` and ``Y``. They are computed in
whichever of two equal forms is cheaper for the shape of each space: its
``width x width`` cross-products (``O(n d^2)``) when there are more items than
features, its ``n x n`` Gram matrix (``O(n^2 d)``) and a factor of it when there are
fewer, so no matrix is larger than ``min(n, d)`` squared. Permuting the rows of ``B``
changes only ``||Y^T X||^2`` (and a sum over rows for the debiased estimator), so
:class:`CKAParts` computes everything else once and each permutation costs one cross
term.
"""

import numpy as np

from ..utils._chunks import chunk_n_rows
from ._validation import check_batch_size, check_pair

__all__ = ["CKAParts", "linear_cka"]

# A block of centred rows (or columns) larger than this is no faster to multiply.
BLOCK_BYTES = 64 * 2**20


def linear_cka(A, B, *, debiased=False, batch_size=None):
    """Linear centred kernel alignment (CKA) between two spaces of the same items.

    With ``X`` and ``Y`` the column-centred ``A`` and ``B`` (Kornblith et al., 2019),

    ``CKA = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)``,

    which equals ``HSIC(XX^T, YY^T) / sqrt(HSIC(XX^T, XX^T) HSIC(YY^T, YY^T))``. The
    cheaper of the two forms is used: ``width x width`` cross-products when there are
    more items than features, ``n_samples x n_samples`` Gram matrices when there are
    fewer, so a few items of very wide spaces (or many items of narrow ones) need
    little memory. It lies in ``[0, 1]``, does not change under translation,
    rotation or uniform rescaling of either space, and the spaces may have different
    widths. A space with no variance (every row equal) gives 0: a column whose
    variance is within the rounding error of its centring counts as constant. The
    products are accumulated in ``float64``, a chunk at a time.

    The plain (biased) estimator is inflated on small samples: two independent
    Gaussian spaces of 64 items and 64 features score 0.53 (below). With
    ``debiased=True`` each HSIC is the unbiased estimator of Song et al. (2012),

    ``HSIC_u(K, L) ∝ tr(K~ L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~ L~ 1``,

    where ``K~`` is the Gram matrix ``X X^T`` with a zeroed diagonal. For linear
    kernels of centred data this is
    ``||Y^T X||_F^2 - n/(n-2) sum_i |x_i|^2 |y_i|^2 + tr(X^T X) tr(Y^T Y) / ((n-1)(n-2))``.
    Independent spaces then score about 0 (slightly negative values are possible),
    and at least 4 items are needed.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_features_a)
        The items in the first space.
    B : array-like of shape (n_samples, n_features_b)
        The same items, in the same order, in the second space.
    debiased : bool, default=False
        Use the unbiased HSIC estimator (needs ``n_samples >= 4``).
    batch_size : int, default=None
        Rows (or columns) centred and multiplied at once. By default as many as
        scikit-learn's ``working_memory`` allows.

    Returns
    -------
    score : float
        Linear CKA, in ``[0, 1]`` (debiased: at most 1, near 0 for independent
        spaces).

    References
    ----------
    .. [1] S. Kornblith, M. Norouzi, H. Lee, G. Hinton, "Similarity of neural network
       representations revisited", ICML 2019.
    .. [2] L. Song, A. Smola, A. Gretton, J. Bedo, K. Borgwardt, "Feature selection
       via dependence maximization", JMLR 13, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.metrics import linear_cka
    >>> A = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])

    A rotated, rescaled and shifted copy is the same space:

    >>> rotation = np.array([[0.6, -0.8], [0.8, 0.6]])
    >>> round(linear_cka(A, 3 * A @ rotation + 5), 6)
    1.0

    Keeping only the first coordinate: ``X^T X = 2 I``, ``Y^T Y = [[2]]`` and
    ``Y^T X = [[2, 0]]``, so CKA = 4 / (2 sqrt(2) * 2) = 0.7071:

    >>> round(linear_cka(A, A[:, :1]), 4)
    0.7071

    On small samples the plain estimator sees structure where there is none:

    >>> rng = np.random.RandomState(0)
    >>> A, B = rng.normal(size=(64, 64)), rng.normal(size=(64, 64))
    >>> print(round(linear_cka(A, B), 2), round(linear_cka(A, B, debiased=True), 2))
    0.53 0.05
    """
    A, B = check_pair(A, B, same_width=False)
    check_batch_size(batch_size)
    parts = CKAParts(A, B, debiased=debiased, batch_size=batch_size)
    plain, unbiased = parts.observed()
    return unbiased if debiased else plain


def _batches(n, size):
    """Slices of ``size`` (the last one shorter) covering ``range(n)``.

    scikit-learn's ``gen_batches`` validates its arguments on every call, which costs
    more than the products of a small CKA; the permutations call this often.
    """
    return (slice(start, min(start + size, n)) for start in range(0, n, size))


def _largest(A):
    """The largest absolute entry of ``A`` (1 for an all-zero array), as float64."""
    largest = float(np.max(np.abs(A))) if A.size else 0.0
    return largest if largest > 0 else 1.0


class _Centring:
    """How one space is centred: its scale, column means and constant columns.

    Each space is divided by its largest entry (CKA does not change under rescaling,
    and no product can then overflow). A column whose variance is within the
    rounding error of its centring (scikit-learn's test for constant features) is
    constant: it is centred to exactly 0, where subtracting its computed mean would
    leave the same rounding residue in every row, a structure that is not there.
    """

    def __init__(self, X, chunk):
        n_samples, width = X.shape
        self.scale = _largest(X)
        mean = np.zeros(width)
        for rows in _batches(n_samples, chunk):
            mean += np.sum(X[rows] / self.scale, axis=0, dtype=np.float64)
        mean /= n_samples
        variance = np.zeros(width)
        for rows in _batches(n_samples, chunk):
            variance += np.sum((X[rows] / self.scale - mean) ** 2, axis=0)
        variance /= n_samples
        eps = np.finfo(np.float64).eps
        bound = n_samples * eps * variance + (n_samples * mean * eps) ** 2
        self.varying = variance > bound
        self.mean = np.where(self.varying, mean, 0.0)
        self.mean_cast = self.mean.astype(X.dtype)

    def rows(self, X, dtype=np.float64):
        """``X`` (some of its rows) centred, constant columns zero, in ``dtype``."""
        if dtype == np.float64:
            centred = X / self.scale - self.mean
        else:  # the permutations' GEMMs stay in the input's precision
            centred = X / X.dtype.type(self.scale) - self.mean_cast
        centred *= self.varying
        return centred

    def columns(self, X, columns):
        """Columns of ``X`` centred, constant ones zero, in float64."""
        centred = X[:, columns] / self.scale - self.mean[columns]
        centred *= self.varying[columns]
        return centred


class _Space:
    """One centred space, as rows whose Gram matrix is the centred one's.

    With at least as many items as features, the rows are the centred data itself,
    computed a chunk at a time. With fewer (wide spaces), they are the rows of an
    ``n x n`` factor ``F`` of the centred Gram matrix ``K = X X^T = F F^T`` (from
    its eigendecomposition): any cross term ``||Y^T X||^2`` depends on ``X`` only
    through ``K``, so the factor stands in for the ``n x d`` data at
    ``n / d`` of the cost.
    """

    def __init__(self, X, chunk, batch_size):
        self.X = X
        n, width = X.shape
        self.centring = _Centring(X, chunk)
        self.factor = None
        if width > n:
            gram = np.zeros((n, n))
            block = chunk_n_rows(width, 8 * n, batch_size, max_bytes=BLOCK_BYTES)
            for columns in _batches(width, block):
                centred = self.centring.columns(X, columns)
                gram += centred @ centred.T
            values, vectors = np.linalg.eigh(gram)
            positive = values > 0
            self.factor = vectors[:, positive] * np.sqrt(values[positive])
            self.hsic = float(np.sum(gram**2))
            self.squared = np.diag(gram).copy()
        else:
            gram = np.zeros((width, width))
            self.squared = np.empty(n)
            for rows in _batches(n, chunk):
                centred = self.centring.rows(X[rows])
                gram += centred.T @ centred
                self.squared[rows] = np.einsum("ij,ij->i", centred, centred)
            self.hsic = float(np.sum(gram**2))
        self.width = width if self.factor is None else self.factor.shape[1]

    def stand_in_dtype(self, dtype):
        """The dtype of the stand-in rows: the factor's float64, or ``dtype``."""
        return np.float64 if self.factor is not None else np.dtype(dtype)

    def rows(self, rows, dtype, out=None):
        """The stand-in rows ``rows`` (a slice or indices), centred.

        With ``out`` (at least as many rows, of the stand-in's width and dtype), they
        are written there: the permutations reuse one block of memory.
        """
        source = self.X if self.factor is None else self.factor
        if out is None:
            chosen = source[rows]
            return (
                chosen if self.factor is not None else self.centring.rows(chosen, dtype)
            )
        indices = np.arange(rows.start, rows.stop) if isinstance(rows, slice) else rows
        block = np.take(source, indices, axis=0, out=out[: indices.shape[0]])
        if self.factor is None:
            centring = self.centring
            block /= block.dtype.type(centring.scale)
            block -= centring.mean_cast
            block *= centring.varying
        return block


class CKAParts:
    """The parts of linear CKA that do not change when ``B``'s rows are permuted.

    ``observed()`` gives the plain and debiased CKA of ``A`` and ``B``;
    ``permuted(order)`` those of ``A`` and ``B[order]``, at the cost of one cross
    term, ``O(n min(n, d_a) min(n, d_b))``.
    """

    def __init__(self, A, B, *, debiased=True, batch_size=None):
        self.debiased = debiased
        n = A.shape[0]
        self.n_samples = n
        if debiased and n < 4:
            raise ValueError(
                f"debiased=True needs at least 4 rows, got {n}: the unbiased HSIC "
                "estimator divides by (n - 1)(n - 2)(n - 3)."
            )
        chunk = chunk_n_rows(
            n, 16 * (A.shape[1] + B.shape[1]), batch_size, max_bytes=BLOCK_BYTES
        )
        self.a, self.b = _Space(A, chunk, batch_size), _Space(B, chunk, batch_size)
        self.dtype = A.dtype
        self.row_chunk = chunk_n_rows(
            n, 16 * (self.a.width + self.b.width), batch_size, max_bytes=BLOCK_BYTES
        )
        self._permuted = None  # what the permutations reuse, made on first use
        self.hsic = np.array([self.a.hsic, self.b.hsic])
        squared = self.a.squared, self.b.squared
        self.traces = np.array([squared[0].sum(), squared[1].sum()])
        self.fourth = np.array([squared[0] @ squared[0], squared[1] @ squared[1]])

    def _cross(self, order, dtype):
        """``||Y[order]^T X||^2`` (``order`` None: the rows as given, in float64)."""
        cross = np.zeros((self.b.width, self.a.width))
        if order is None:
            for rows in _batches(self.n_samples, self.row_chunk):
                cross += self.b.rows(rows, dtype).T @ self.a.rows(rows, dtype)
            return float(np.sum(cross**2))
        # Permuting B's rows is permuting A's by the inverse: sum_i y_p(i) x_i^T =
        # sum_j y_j x_q(j)^T with q = p^-1. The narrower space is gathered, a block
        # of rows at a time; the wider one is read in order from a centred copy.
        if self._permuted is None:
            self._permuted = self._prepare_permutations(dtype)
        narrow_is_a, wide_rows, block = self._permuted
        if narrow_is_a:
            order = np.argsort(order)
        narrow = self.a if narrow_is_a else self.b
        for rows in _batches(self.n_samples, self.row_chunk):
            gathered = narrow.rows(order[rows], dtype, out=block)
            in_order = wide_rows[rows]
            if narrow_is_a:
                cross += in_order.T @ gathered
            else:
                cross += gathered.T @ in_order
        return float(np.sum(cross**2))

    def _prepare_permutations(self, dtype):
        """Which space to gather, the other's centred rows, a block to gather into."""
        narrow_is_a = self.a.width <= self.b.width
        narrow, wide = (self.a, self.b) if narrow_is_a else (self.b, self.a)
        if wide.factor is not None:
            wide_rows = wide.factor
        else:
            wide_rows = np.empty((self.n_samples, wide.width), dtype)
            for rows in _batches(self.n_samples, self.row_chunk):
                wide.rows(rows, dtype, out=wide_rows[rows.start :])
        block = np.empty((self.row_chunk, narrow.width), narrow.stand_in_dtype(dtype))
        return narrow_is_a, wide_rows, block

    def _scores(self, hsic_ab, diagonal_ab):
        hsic_aa, hsic_bb = self.hsic
        plain = 0.0
        if hsic_aa > 0 and hsic_bb > 0:  # a space without variance scores 0
            plain = float(np.clip(hsic_ab / np.sqrt(hsic_aa * hsic_bb), 0.0, 1.0))
        if not self.debiased:
            return plain, np.nan
        n = self.n_samples
        # HSIC_u up to the common factor 1 / (n (n - 3)), which the ratio cancels.
        correction = self.traces / ((n - 1) * (n - 2))
        u_aa = hsic_aa - n / (n - 2) * self.fourth[0] + self.traces[0] * correction[0]
        u_bb = hsic_bb - n / (n - 2) * self.fourth[1] + self.traces[1] * correction[1]
        u_ab = hsic_ab - n / (n - 2) * diagonal_ab + self.traces[0] * correction[1]
        unbiased = 0.0
        if u_aa > 0 and u_bb > 0:
            unbiased = float(min(u_ab / np.sqrt(u_aa * u_bb), 1.0))
        return plain, unbiased

    def observed(self):
        """Plain and debiased CKA of ``A`` and ``B`` (NaN for debiased if not asked)."""
        return self._scores(
            self._cross(None, np.float64), self.a.squared @ self.b.squared
        )

    def permuted(self, order):
        """Plain and debiased CKA of ``A`` and ``B[order]``, in the input's dtype."""
        return self._scores(
            self._cross(order, self.dtype), self.a.squared @ self.b.squared[order]
        )
