"""Neighbourhood agreement of two spaces (Jaccard, mutual k-NN) and match ranks (MRR).

Cosine similarities between all pairs of rows are computed a chunk of rows at a time,
so no ``n_samples x n_samples`` matrix is ever held whole. Ties follow the rule of
:mod:`skrelrep.metrics._knn`: tied rows are averaged over, never ordered by index.
"""

import numpy as np
from sklearn.utils import gen_batches

from ..utils._chunks import chunk_n_rows
from ..utils._norms import normalize_rows
from ._chance import warn_if_mrr_at_chance
from ._deprecation import deprecated
from ._knn import CHUNK_BYTES, ProductBuffer, tie_tolerance
from ._symmetric import symmetric_table
from ._validation import check_batch_size, check_k, check_pair

__all__ = [
    "jaccard_at_k",
    "mean_reciprocal_rank",
    "mutual_knn",
    "neighbourhood_jaccard",
    "space_table",
    "target_ranks",
]


def neighbourhood_jaccard(A, B, *, k=10, batch_size=None):
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
    the other. This is not the paper's Jaccard@k (Moschella et al., 2023, Table 1):
    that is cross-space retrieval, queries from ``A`` searched among the rows of
    ``B`` (:func:`retrieval_agreement`), which is about 0 for rotated absolute spaces.

    Rows tied at the ``k``-th place (duplicate or zero rows) are averaged over, not
    ordered by index: ``|N_A(i) & N_B(i)|`` is its mean over the orders of the tied
    rows, as if ties were broken at random independently in each space (see
    :ref:`metrics_ties`). A zero row is equally similar (0) to every row.

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
    mutual_knn : The same neighbour sets, scored by their overlap over ``k``.

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.metrics import neighbourhood_jaccard
    >>> A = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])

    A rotation (here by 90 degrees) keeps every neighbourhood:

    >>> neighbourhood_jaccard(A, A @ np.array([[0.0, 1.0], [-1.0, 0.0]]), k=1)
    1.0

    Swapping the roles of rows 1 and 2 in ``B`` changes the neighbours of every row.
    In ``A`` the nearest neighbours of rows 0, 1, 2, 3 are 1, 0, 3, 2; in ``B`` they
    are 2, 3, 0, 1, so the neighbour sets never overlap at ``k=1``. At ``k=2``, rows
    0, 1 and 2 keep one of their two neighbours (Jaccard 1/3; row 0 has ``{1, 3}`` in
    ``A`` and ``{2, 3}`` in ``B``) and row 3 keeps both (Jaccard 1):

    >>> B = A[[0, 2, 1, 3]]
    >>> neighbourhood_jaccard(A, B, k=1)
    0.0
    >>> neighbourhood_jaccard(A, B, k=2)
    0.5
    """
    shared = _shared_neighbours(A, B, k, batch_size)
    return float(np.mean(shared / (2 * k - shared)))


def jaccard_at_k(A, B, k=10, *, batch_size=None):
    """Deprecated: :func:`neighbourhood_jaccard`, under the paper's name of another measure.

    "Jaccard@k" is the paper's cross-space retrieval measure
    (:func:`retrieval_agreement`); this function computes each space's own
    neighbourhoods, :func:`neighbourhood_jaccard`. Deprecated since 0.1, removed in
    0.3.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_features_a)
        The items in the first space.
    B : array-like of shape (n_samples, n_features_b)
        The same items, in the same order, in the second space.
    k : int, default=10
        Number of neighbours, ``1 <= k < n_samples``.
    batch_size : int, default=None
        Rows whose similarities to all rows are held at once.

    Returns
    -------
    score : float
        :func:`neighbourhood_jaccard` of ``A`` and ``B``.
    """
    deprecated("jaccard_at_k", "use neighbourhood_jaccard(A, B, k=k)")
    return neighbourhood_jaccard(A, B, k=k, batch_size=batch_size)


def mutual_knn(A, B, *, k=10, batch_size=None):
    """Mutual k-nearest-neighbour alignment of two spaces of the same items.

    For every row ``i``, ``N_A(i)`` and ``N_B(i)`` are the ``k`` rows most similar to
    row ``i`` by cosine in ``A`` and in ``B``, row ``i`` itself excluded (ties
    averaged, as in :func:`neighbourhood_jaccard`). The score is the mean over rows
    of ``|N_A(i) & N_B(i)| / k`` (Huh et al., 2024): 1 when every item keeps its
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
    neighbourhood_jaccard : The same neighbour sets, scored by intersection over union.

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
    """Per row, the mean number of its ``k`` nearest neighbours the spaces share."""
    A, B = check_pair(A, B, same_width=False)
    k = check_k(k, A.shape[0])
    check_batch_size(batch_size)
    table_a = space_table(A, k, batch_size, name="A")
    return table_a.shared(space_table(B, k, batch_size, name="B"))


def space_table(X, k, batch_size=None, *, name="the space", show_progress=False):
    """Each row's ``k`` nearest other rows of ``X`` by cosine: a neighbour table."""
    return symmetric_table(
        normalize_rows(X, np),
        k=k,
        exclude_self=True,
        batch_size=batch_size,
        name=name,
        show_progress=show_progress,
    )


def mean_reciprocal_rank(A, B, *, batch_size=None):
    """Mean reciprocal rank of each item's own match, retrieved from ``A`` into ``B``.

    For every row ``i``, all rows of ``B`` are ranked by cosine similarity to
    ``A[i]``, and the match is ``B[i]``. Rows tied with the match are averaged over:
    with ``g`` rows more similar and ``t`` others tied, each rank from ``g + 1`` to
    ``g + t + 1`` is equally likely, and ``1 / rank`` is averaged over them (see
    :ref:`metrics_ties`). The score is the mean over items: 1 when every item
    retrieves itself first, about ``log(n_samples) / n_samples`` for unrelated
    spaces. It is directional (``A`` queries, ``B`` is searched) and needs spaces of
    the same width, such as relative representations on parallel anchors. A score
    within three standard errors of random ranks warns with a
    :class:`ChanceAgreementWarning`: that is what the raw embeddings of two encoders
    give.

    A zero row of ``A`` is equally similar (0) to every row of ``B``: its match is
    tied with every row, at the mean of all ranks.

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
    retrieval_scores : Recall@k and MRR@k of queries whose answers are any rows.

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
    above, tied = target_ranks(
        normalize_rows(A, np), normalize_rows(B, np), np.arange(n_samples), batch_size
    )
    harmonic = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, n_samples + 1))])
    reciprocal = (harmonic[above + tied] - harmonic[above]) / tied
    score = float(np.mean(reciprocal))
    warn_if_mrr_at_chance(score, n_samples)
    return score


def target_ranks(queries, index, targets, batch_size=None):
    """Per query, the rows more similar than its target, and the size of its tie.

    ``queries`` and ``index`` hold unit rows; query ``i``'s target is index row
    ``targets[i]``. Returns ``above`` (rows strictly more similar, beyond the tie
    tolerance) and ``tied`` (rows within it, the target included): the target's rank
    is equally likely to be each of ``above + 1 .. above + tied``.
    """
    n_queries, n_items = queries.shape[0], index.shape[0]
    tolerance = tie_tolerance(queries.dtype, queries.shape[1])
    above = np.empty(n_queries, dtype=np.int64)
    tied = np.empty(n_queries, dtype=np.int64)
    chunk = chunk_n_rows(
        n_queries, n_items * (queries.itemsize + 1), batch_size, max_bytes=CHUNK_BYTES
    )
    product = ProductBuffer(chunk, n_items, np.result_type(queries, index))
    for rows in gen_batches(n_queries, chunk):
        similarities = product(queries[rows], index)
        # The target's similarity is read from the same product.
        own = similarities[np.arange(similarities.shape[0]), targets[rows], None]
        mask = product.mask[: similarities.shape[0]]
        np.greater(similarities, own + tolerance, out=mask)
        above[rows] = np.count_nonzero(mask, axis=1)
        np.greater_equal(similarities, own - tolerance, out=mask)
        tied[rows] = np.count_nonzero(mask, axis=1)
    return above, tied - above
