"""Compare two latent spaces of the same items: neighbourhoods, retrieval, similarity.

Every metric takes two row-aligned arrays ``A`` and ``B``: row ``i`` of each is the same
item seen by two encoders (two seeds, two architectures, or the same items expressed
relative to two sets of parallel anchors). These are the measures of the paper's word
embedding experiment (Moschella et al., 2023, Table 1) plus linear CKA, and a helper
that scores every encoder against every decoder (the stitching matrix).

Cosine similarities between all pairs of rows are computed a chunk of rows at a time,
so no ``n_samples x n_samples`` matrix is ever held whole: the chunk size follows
scikit-learn's ``working_memory`` setting (see :func:`sklearn.config_context`) unless
``batch_size`` is given. ``float32`` input is computed in ``float32`` (linear CKA
accumulates its cross-products in ``float64``). A row whose norm is zero has cosine
similarity 0 with every row, so no metric returns NaN.
"""

import numbers

import numpy as np
from sklearn.utils import check_array, check_scalar, gen_batches

from ._compat import to_numpy
from ._metrics_stitching import pivot_stitching_matrix, stitching_matrix
from ._similarity import chunk_n_rows, inverse_norms, normalize_rows, row_norms

__all__ = [
    "cosine_agreement",
    "jaccard_at_k",
    "linear_cka",
    "mean_reciprocal_rank",
    "pivot_stitching_matrix",
    "stitching_matrix",
]


def _check_pair(A, B, *, same_width):
    """Validate two row-aligned arrays and bring them to one floating dtype."""
    A = check_array(
        to_numpy(A),
        dtype=[np.float64, np.float32],
        ensure_min_samples=2,
        input_name="A",
    )
    B = check_array(
        to_numpy(B),
        dtype=[np.float64, np.float32],
        ensure_min_samples=2,
        input_name="B",
    )
    if A.shape[0] != B.shape[0]:
        raise ValueError(
            "A and B must have the same number of rows (row i is the same item in "
            f"both spaces); got {A.shape[0]} and {B.shape[0]}."
        )
    if same_width and A.shape[1] != B.shape[1]:
        raise ValueError(
            "A and B must have the same number of columns for this metric, which "
            f"compares A[i] with rows of B directly; got {A.shape[1]} and "
            f"{B.shape[1]}. Compare relative representations built on the same "
            "(parallel) anchors, or use jaccard_at_k or linear_cka."
        )
    dtype = np.result_type(A.dtype, B.dtype)
    return A.astype(dtype, copy=False), B.astype(dtype, copy=False)


def _check_batch_size(batch_size):
    if batch_size is not None:
        check_scalar(batch_size, "batch_size", numbers.Integral, min_val=1)


def _candidates(similarities, k):
    """Each row's values that may be among its ``k`` largest, with their columns.

    The k-th largest value of a strided sample of a row is a lower bound of the row's
    k-th largest, so only the values reaching it are kept: left-aligned in a narrow
    block, in increasing column order, padded with ``-inf``. Short rows, or rows the
    bound does not thin out (heavy ties), are returned whole.
    """
    n_rows, n_samples = similarities.shape
    step = n_samples // max(8 * k, n_samples // 16)
    if step >= 2:
        sample = similarities[:, ::step]
        n_sampled = sample.shape[1]
        bound = np.partition(sample, n_sampled - k, axis=1)[:, n_sampled - k, None]
        candidates = similarities >= bound
        counts = np.count_nonzero(candidates, axis=1)
        width = counts.max()
        if 2 * width <= n_samples:
            starts = np.cumsum(counts) - counts
            in_rows = np.repeat(np.arange(n_rows), counts)
            positions = np.arange(counts.sum()) - np.repeat(starts, counts)
            flat = np.flatnonzero(candidates)
            values = np.full((n_rows, width), -np.inf, dtype=similarities.dtype)
            values[in_rows, positions] = similarities.ravel()[flat]
            columns = np.zeros((n_rows, width), dtype=np.intp)
            columns[in_rows, positions] = flat % n_samples
            return values, columns
    return similarities, np.broadcast_to(np.arange(n_samples), similarities.shape)


def _top_k(similarities, k, rows):
    """Columns of each row's ``k`` most similar other rows, shape ``(n_rows, k)``.

    ``similarities`` holds the chunk ``rows`` against all rows and is overwritten.
    Columns tied at the k-th place enter in increasing index order.
    """
    n_rows = similarities.shape[0]
    similarities[np.arange(n_rows), np.arange(rows.start, rows.stop)] = -np.inf
    values, columns = _candidates(similarities, k)
    width = values.shape[1]
    kth = np.partition(values, width - k, axis=1)[:, width - k, None]
    take = values > kth
    needed = k - np.count_nonzero(take, axis=1)
    tied = values == kth
    take |= tied
    # Rare (duplicate or zero rows): more columns tie at the k-th place than fit.
    for row in np.flatnonzero(np.count_nonzero(tied, axis=1) > needed):
        take[row, np.flatnonzero(tied[row])[needed[row] :]] = False
    return columns[take].reshape(n_rows, k)


def jaccard_at_k(A, B, k=10, *, batch_size=None):
    """Mean Jaccard index of each item's k nearest neighbours in two spaces.

    For every row ``i``, let ``N_A(i)`` be the ``k`` rows of ``A`` with the highest
    cosine similarity to ``A[i]``, row ``i`` itself excluded, and ``N_B(i)`` the same
    in ``B``. The score is the mean over rows of
    ``|N_A(i) & N_B(i)| / |N_A(i) | N_B(i)|``. It is 1 when every item keeps the same
    neighbours and about ``k / (2 n_samples)`` for unrelated spaces. Only the
    neighbour structure of each space matters, so the spaces may differ in width.

    Ties are broken deterministically: among rows tied at the k-th place, the ones
    with the lowest indices are taken. A zero row has cosine similarity 0 with every
    row, so its neighbours are the rows of highest similarity, which ties keep in
    index order.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_features_a)
        The items in the first space.
    B : array-like of shape (n_samples, n_features_b)
        The same items, in the same order, in the second space.
    k : int, default=10
        Number of neighbours, ``1 <= k < n_samples``.
    batch_size : int, default=None
        Rows whose similarities to all rows are held at once. By default as many as
        scikit-learn's ``working_memory`` allows.

    Returns
    -------
    score : float
        Mean Jaccard index, in ``[0, 1]``.

    See Also
    --------
    mean_reciprocal_rank : Whether each item finds itself across the two spaces.

    References
    ----------
    .. [1] L. Moschella et al., "Relative representations enable zero-shot latent
       space communication", ICLR 2023 (Table 1).

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.metrics import jaccard_at_k
    >>> A = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])

    A rotation (here by 90 degrees) keeps every neighbourhood:

    >>> jaccard_at_k(A, A @ np.array([[0.0, 1.0], [-1.0, 0.0]]), k=1)
    1.0

    Swapping the roles of rows 1 and 2 in ``B`` changes the neighbours of every row.
    In ``A`` the nearest neighbours of rows 0, 1, 2, 3 are 1, 0, 3, 2; in ``B`` they
    are 2, 3, 0, 1, so the neighbour sets never overlap at ``k=1``. At ``k=2``, rows
    0, 1 and 2 keep one of their two neighbours (Jaccard 1/3; row 0 has ``{1, 3}`` in
    ``A`` and ``{2, 3}`` in ``B``) and row 3 keeps both (Jaccard 1):

    >>> B = A[[0, 2, 1, 3]]
    >>> jaccard_at_k(A, B, k=1)
    0.0
    >>> jaccard_at_k(A, B, k=2)
    0.5
    """
    A, B = _check_pair(A, B, same_width=False)
    n_samples = A.shape[0]
    check_scalar(k, "k", numbers.Integral, min_val=1)
    if k >= n_samples:
        raise ValueError(
            f"k={k} must be smaller than the number of rows ({n_samples}): each row's "
            "neighbours are the other rows."
        )
    _check_batch_size(batch_size)
    A, B = normalize_rows(A, np), normalize_rows(B, np)
    # Per row of a chunk: a row of similarities, a boolean mask over it and the
    # gathered candidates (more only where ties defeat the candidate bound).
    chunk = chunk_n_rows(n_samples, n_samples * (A.itemsize + 2), batch_size)
    total = 0.0
    for rows in gen_batches(n_samples, chunk):
        neighbours = np.hstack(
            [_top_k(A[rows] @ A.T, k, rows), _top_k(B[rows] @ B.T, k, rows)]
        )
        # Each set holds distinct rows: a row in both appears twice, side by side.
        neighbours.sort(axis=1)
        shared = np.count_nonzero(neighbours[:, 1:] == neighbours[:, :-1], axis=1)
        total += np.sum(shared / (2 * k - shared))
    return float(total / n_samples)


def mean_reciprocal_rank(A, B, *, batch_size=None):
    """Mean reciprocal rank of each item's own match, retrieved from ``A`` into ``B``.

    For every row ``i``, all rows of ``B`` are ranked by cosine similarity to
    ``A[i]``; the rank of the match ``B[i]`` is one plus the number of rows ``j`` with
    ``cos(A[i], B[j]) > cos(A[i], B[i])`` (strictly: ties count in the match's
    favour). The score is the mean of ``1 / rank``: 1 when every item retrieves itself
    first, about ``log(n_samples) / n_samples`` for unrelated spaces. It is directional
    (``A`` queries, ``B`` is searched) and needs spaces of the same width, such as
    relative representations on parallel anchors.

    A zero row of ``A`` is equally similar (0) to every row of ``B`` and so ranks its
    match first; a zero row of ``B`` is ranked after every row of positive similarity.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_features)
        The queries.
    B : array-like of shape (n_samples, n_features)
        The same items, in the same order: row ``i`` is the match of ``A[i]``.
    batch_size : int, default=None
        Queries whose similarities to all of ``B`` are held at once. By default as many
        as scikit-learn's ``working_memory`` allows.

    Returns
    -------
    score : float
        Mean reciprocal rank, in ``(0, 1]``.

    See Also
    --------
    jaccard_at_k : Agreement of neighbourhoods, for spaces of any widths.

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.metrics import mean_reciprocal_rank
    >>> A = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    >>> mean_reciprocal_rank(A, A)
    1.0

    In ``B`` the first two directions are swapped: ``A[0] = (1, 0)`` has cosine 0.8
    with ``B[1] = (0.8, 0.6)`` and only 0.6 with its match ``B[0] = (0.6, 0.8)``, so
    the match ranks 2nd; the same holds for ``A[1]``, while ``A[2]`` finds its match
    first. The score is ``(1/2 + 1/2 + 1) / 3``:

    >>> B = np.array([[0.6, 0.8], [0.8, 0.6], [-1.0, 0.0]])
    >>> round(mean_reciprocal_rank(A, B), 4)
    0.6667
    """
    A, B = _check_pair(A, B, same_width=True)
    _check_batch_size(batch_size)
    n_samples = A.shape[0]
    A, B = normalize_rows(A, np), normalize_rows(B, np)
    chunk = chunk_n_rows(n_samples, n_samples * (A.itemsize + 1), batch_size)
    total = 0.0
    for rows in gen_batches(n_samples, chunk):
        similarities = A[rows] @ B.T
        # The match's similarity is read from the same product, so that a row equal
        # to the match is an exact tie and not a rounding difference.
        own = similarities[
            np.arange(similarities.shape[0]), np.arange(rows.start, rows.stop)
        ]
        ranks = 1 + np.count_nonzero(similarities > own[:, None], axis=1)
        total += np.sum(1.0 / ranks)
        del similarities  # free this chunk before the next one is computed
    return float(total / n_samples)


def cosine_agreement(A, B):
    """Mean cosine similarity between each item's two representations.

    The score is ``mean_i cos(A[i], B[i])``, with ``cos(a, b) = a . b / (|a| |b|)``
    taken as 0 when either vector is zero. It is 1 when every row points the same way
    in both spaces and near 0 for unrelated spaces. It compares coordinates directly,
    so it is meaningful only when the columns of ``A`` and ``B`` mean the same thing,
    such as relative representations on the same (or parallel) anchors.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_features)
        The items in the first space.
    B : array-like of shape (n_samples, n_features)
        The same items, in the same order, in the second space.

    Returns
    -------
    score : float
        Mean cosine similarity, in ``[-1, 1]``.

    See Also
    --------
    linear_cka : Similarity of two spaces that does not need matching columns.

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.metrics import cosine_agreement
    >>> A = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
    >>> B = np.array([[2.0, 0.0], [1.0, 1.0], [0.0, 0.0]])

    The cosines of the three pairs are 1, 1/sqrt(2) and 0 (a zero row):

    >>> round(cosine_agreement(A, B), 4)
    0.569
    """
    A, B = _check_pair(A, B, same_width=True)
    scale = inverse_norms(row_norms(A, np), np) * inverse_norms(row_norms(B, np), np)
    return float(np.mean(np.einsum("ij,ij->i", A, B) * scale, dtype=np.float64))


def linear_cka(A, B, *, batch_size=None):
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

    Parameters
    ----------
    A : array-like of shape (n_samples, n_features_a)
        The items in the first space.
    B : array-like of shape (n_samples, n_features_b)
        The same items, in the same order, in the second space.
    batch_size : int, default=None
        Rows centred and accumulated at once. By default as many as scikit-learn's
        ``working_memory`` allows.

    Returns
    -------
    score : float
        Linear CKA, in ``[0, 1]``.

    References
    ----------
    .. [1] S. Kornblith, M. Norouzi, H. Lee, G. Hinton, "Similarity of neural network
       representations revisited", ICML 2019.

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
    """
    A, B = _check_pair(A, B, same_width=False)
    _check_batch_size(batch_size)
    n_samples, width_a = A.shape
    width_b = B.shape[1]
    mean_a = A.mean(axis=0, dtype=np.float64)
    mean_b = B.mean(axis=0, dtype=np.float64)
    gram_a = np.zeros((width_a, width_a))
    gram_b = np.zeros((width_b, width_b))
    cross = np.zeros((width_b, width_a))
    chunk = chunk_n_rows(n_samples, 8 * (width_a + width_b), batch_size)
    for rows in gen_batches(n_samples, chunk):
        X = A[rows] - mean_a
        Y = B[rows] - mean_b
        gram_a += X.T @ X
        gram_b += Y.T @ Y
        cross += Y.T @ X
        del X, Y
    denominator = np.linalg.norm(gram_a) * np.linalg.norm(gram_b)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(cross) ** 2 / denominator)
