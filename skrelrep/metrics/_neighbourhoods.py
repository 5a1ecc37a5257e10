"""Neighbourhood and retrieval agreement of two spaces: Jaccard@k, mutual k-NN, MRR.

Cosine similarities between all pairs of rows are computed a chunk of rows at a time,
so no ``n_samples x n_samples`` matrix is ever held whole.
"""

import numbers

import numpy as np
from sklearn.utils import check_scalar, gen_batches

from ..utils._chunks import chunk_n_rows
from ..utils._norms import normalize_rows
from ._chance import warn_if_mrr_at_chance
from ._validation import check_batch_size, check_pair

__all__ = ["jaccard_at_k", "mean_reciprocal_rank", "mutual_knn"]


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
    """Mean Jaccard index of each item's k nearest neighbours, each space searched alone.

    For every row ``i``, let ``N_A(i)`` be the ``k`` rows of ``A`` with the highest
    cosine similarity to ``A[i]``, row ``i`` itself excluded, and ``N_B(i)`` the same
    in ``B``. The score is the mean over rows of
    ``|N_A(i) & N_B(i)| / |N_A(i) | N_B(i)|``. It is 1 when every item keeps the same
    neighbours and about ``k / (2 n_samples)`` for unrelated spaces. Only the
    neighbour structure of each space matters, so the spaces may differ in width.

    Each space's own neighbourhoods are compared; no vector of ``A`` is ever compared
    with a vector of ``B``. So an angle-preserving map (a rotation) between the spaces
    leaves the score at 1, although a query from one space would retrieve nothing in
    the other. This is not the measure of the paper's word-embedding table (Moschella
    et al., 2023, Table 1): that is cross-space retrieval, queries from ``A`` searched
    among the rows of ``B`` (:func:`retrieval_agreement`), which is about 0 for
    rotated absolute spaces; on the same vectors the two scores differ.

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
    retrieval_agreement : The paper's Jaccard@k and MRR@k, queries from one space
        searched among the other's rows (the columns must mean the same thing).
    mean_reciprocal_rank : Whether each item finds itself across the two spaces.
    mutual_knn : The same neighbour sets, scored by their overlap over ``k``.

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
    shared = _shared_neighbours(A, B, k, batch_size)
    return float(np.mean(shared / (2 * k - shared)))


def mutual_knn(A, B, *, k=10, batch_size=None):
    """Mutual k-nearest-neighbour alignment of two spaces of the same items.

    For every row ``i``, ``N_A(i)`` and ``N_B(i)`` are the ``k`` rows most similar to
    row ``i`` by cosine in ``A`` and in ``B``, row ``i`` itself excluded (ties as in
    :func:`jaccard_at_k`). The score is the mean over rows of
    ``|N_A(i) & N_B(i)| / k`` (Huh et al., 2024): 1 when every item keeps its
    neighbours, about ``k / (n_samples - 1)`` for unrelated spaces. Only each space's
    own neighbourhoods matter, so it compares raw spaces of any widths: two encoders'
    absolute embeddings need no anchors.

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
        Mean share of common neighbours, in ``[0, 1]``.

    See Also
    --------
    jaccard_at_k : The same neighbour sets, scored by intersection over union.

    References
    ----------
    .. [1] M. Huh, B. Cheung, T. Wang, P. Isola, "The Platonic Representation
       Hypothesis", ICML 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.metrics import mutual_knn
    >>> A = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])

    With rows 1 and 2 swapped in ``B``, the neighbours of rows 0, 1 and 2 keep one of
    two at ``k=2`` and row 3 keeps both: ``(1/2 + 1/2 + 1/2 + 1) / 4``.

    >>> mutual_knn(A, A[[0, 2, 1, 3]], k=2)
    0.625
    """
    shared = _shared_neighbours(A, B, k, batch_size)
    return float(np.mean(shared / k))


def _shared_neighbours(A, B, k, batch_size):
    """Per row, how many of its ``k`` nearest neighbours the two spaces share."""
    A, B = check_pair(A, B, same_width=False)
    n_samples = A.shape[0]
    check_scalar(k, "k", numbers.Integral, min_val=1)
    if k >= n_samples:
        raise ValueError(
            f"k={k} must be smaller than the number of rows ({n_samples}): each row's "
            "neighbours are the other rows."
        )
    check_batch_size(batch_size)
    return shared_counts(
        neighbour_table(A, k, batch_size), neighbour_table(B, k, batch_size)
    )


def neighbour_table(X, k, batch_size=None):
    """Each row's ``k`` nearest other rows by cosine, shape ``(n_samples, k)``."""
    X = normalize_rows(X, np)
    n_samples = X.shape[0]
    # Per row of a chunk: a row of similarities, a boolean mask over it and the
    # gathered candidates (more only where ties defeat the candidate bound).
    chunk = chunk_n_rows(n_samples, n_samples * (X.itemsize + 2), batch_size)
    table = np.empty((n_samples, k), dtype=np.intp)
    for rows in gen_batches(n_samples, chunk):
        table[rows] = _top_k(X[rows] @ X.T, k, rows)
    return table


def shared_counts(first, second):
    """Per row, how many entries two tables of distinct entries per row share."""
    # A row's entry in both tables appears twice, side by side, once sorted.
    both = np.sort(np.hstack([first, second]), axis=1)
    return np.count_nonzero(both[:, 1:] == both[:, :-1], axis=1)


def mean_reciprocal_rank(A, B, *, batch_size=None):
    """Mean reciprocal rank of each item's own match, retrieved from ``A`` into ``B``.

    For every row ``i``, all rows of ``B`` are ranked by cosine similarity to
    ``A[i]``; the rank of the match ``B[i]`` is one plus the number of rows ``j`` with
    ``cos(A[i], B[j]) > cos(A[i], B[i])`` (strictly: ties count in the match's
    favour). The score is the mean of ``1 / rank``: 1 when every item retrieves itself
    first, about ``log(n_samples) / n_samples`` for unrelated spaces. It is directional
    (``A`` queries, ``B`` is searched) and needs spaces of the same width, such as
    relative representations on parallel anchors. A score within three standard
    errors of random ranks warns with a :class:`ChanceAgreementWarning`: that is what
    the raw embeddings of two encoders give.

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
    A, B = check_pair(A, B, same_width=True)
    check_batch_size(batch_size)
    n_samples = A.shape[0]
    ranks = match_ranks(normalize_rows(A, np), normalize_rows(B, np), batch_size)
    score = float(np.mean(1.0 / ranks))
    warn_if_mrr_at_chance(score, n_samples)
    return score


def match_ranks(queries, index, batch_size=None):
    """The rank of row ``i`` of ``index`` among all its rows, for query ``i``.

    ``queries`` and ``index`` hold unit rows (``index`` may hold more rows than
    ``queries``). The rank is one plus the number of rows strictly more similar:
    ties count in the match's favour.
    """
    n_queries, n_items = queries.shape[0], index.shape[0]
    ranks = np.empty(n_queries, dtype=np.int64)
    chunk = chunk_n_rows(n_queries, n_items * (queries.itemsize + 1), batch_size)
    for rows in gen_batches(n_queries, chunk):
        similarities = queries[rows] @ index.T
        # The match's similarity is read from the same product, so that a row equal
        # to the match is an exact tie and not a rounding difference.
        own = similarities[
            np.arange(similarities.shape[0]), np.arange(rows.start, rows.stop)
        ]
        ranks[rows] = 1 + np.count_nonzero(similarities > own[:, None], axis=1)
        del similarities  # free this chunk before the next one is computed
    return ranks
