"""Centred kernel alignment between two spaces of the same items."""

import numpy as np
from sklearn.utils import gen_batches

from ..utils._chunks import chunk_n_rows
from ._validation import check_batch_size, check_pair

__all__ = ["linear_cka"]


def linear_cka(A, B, *, debiased=False, batch_size=None):
    """Linear centred kernel alignment (CKA) between two spaces of the same items.

    With ``X`` and ``Y`` the column-centred ``A`` and ``B`` (Kornblith et al., 2019),

    ``CKA = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)``,

    the feature-space form of ``HSIC(XX^T, YY^T) / sqrt(HSIC(XX^T, XX^T)
    HSIC(YY^T, YY^T))``: it costs ``O(n_samples * (n_features_a + n_features_b)^2)``
    time and ``O((n_features_a + n_features_b)^2)`` memory, never forming an
    ``n_samples x n_samples`` matrix. It lies in ``[0, 1]``, does not change under
    translation, rotation or uniform rescaling of either space, and the spaces may have
    different widths. A space with no variance (every row equal) gives 0. The
    cross-products are accumulated in ``float64``, a chunk of rows at a time.

    The plain (biased) estimator is inflated on small samples: two independent
    Gaussian spaces of 64 items and 64 features score 0.53 (below). With
    ``debiased=True`` each HSIC is the unbiased estimator of Song et al. (2012),

    ``HSIC_u(K, L) ∝ tr(K~ L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~ L~ 1``,

    where ``K~`` is the Gram matrix ``X X^T`` with a zeroed diagonal. For linear
    kernels of centred data this is
    ``||Y^T X||_F^2 - n/(n-2) sum_i |x_i|^2 |y_i|^2 + tr(X^T X) tr(Y^T Y) / ((n-1)(n-2))``,
    computed without an ``n x n`` matrix. Independent spaces then score about 0
    (slightly negative values are possible), and at least 4 items are needed.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_features_a)
        The items in the first space.
    B : array-like of shape (n_samples, n_features_b)
        The same items, in the same order, in the second space.
    debiased : bool, default=False
        Use the unbiased HSIC estimator (needs ``n_samples >= 4``).
    batch_size : int, default=None
        Rows centred and accumulated at once. By default as many as scikit-learn's
        ``working_memory`` allows.

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
    n_samples, width_a = A.shape
    if debiased and n_samples < 4:
        raise ValueError(
            f"debiased=True needs at least 4 rows, got {n_samples}: the unbiased "
            "HSIC estimator divides by (n - 1)(n - 2)(n - 3)."
        )
    width_b = B.shape[1]
    chunk = chunk_n_rows(n_samples, 8 * (width_a + width_b), batch_size)
    # CKA does not change when a space is rescaled: dividing each by its largest
    # entry keeps every product in range, whatever the magnitude of the input.
    scale_a, scale_b = _largest(A), _largest(B)
    mean_a, mean_b = np.zeros(width_a), np.zeros(width_b)
    for rows in gen_batches(n_samples, chunk):
        mean_a += np.sum(A[rows] / scale_a, axis=0, dtype=np.float64)
        mean_b += np.sum(B[rows] / scale_b, axis=0, dtype=np.float64)
    mean_a /= n_samples
    mean_b /= n_samples
    gram_a = np.zeros((width_a, width_a))
    gram_b = np.zeros((width_b, width_b))
    cross = np.zeros((width_b, width_a))
    # The diagonals of the two n x n Gram matrices (squared row norms): their dot
    # products with each other and with themselves, for the unbiased estimator.
    diagonal = np.zeros((2, 2))
    for rows in gen_batches(n_samples, chunk):
        X = A[rows] / scale_a - mean_a
        Y = B[rows] / scale_b - mean_b
        gram_a += X.T @ X
        gram_b += Y.T @ Y
        cross += Y.T @ X
        if debiased:
            squared = np.stack(
                [np.einsum("ij,ij->i", X, X), np.einsum("ij,ij->i", Y, Y)]
            )
            diagonal += squared @ squared.T
        del X, Y
    hsic_ab = np.linalg.norm(cross) ** 2
    hsic_aa = np.linalg.norm(gram_a) ** 2
    hsic_bb = np.linalg.norm(gram_b) ** 2
    if debiased:
        traces = np.array([np.trace(gram_a), np.trace(gram_b)])
        n = n_samples
        # HSIC_u up to the common factor 1 / (n (n - 3)), which the ratio cancels.
        unbiased = (
            np.array([[hsic_aa, hsic_ab], [hsic_ab, hsic_bb]])
            - n / (n - 2) * diagonal
            + np.outer(traces, traces) / ((n - 1) * (n - 2))
        )
        hsic_aa, hsic_ab, hsic_bb = unbiased[0, 0], unbiased[0, 1], unbiased[1, 1]
    if hsic_aa <= 0 or hsic_bb <= 0:  # a space without variance (or no estimate)
        return 0.0
    return float(hsic_ab / np.sqrt(hsic_aa * hsic_bb))


def _largest(A):
    """The largest absolute entry of ``A`` (1 for an all-zero array), as float64."""
    largest = float(np.max(np.abs(A))) if A.size else 0.0
    return largest if largest > 0 else 1.0
