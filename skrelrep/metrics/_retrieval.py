"""Retrieval across spaces: queries of one model searched in an index of another.

What a vector store needs to know before it mixes or migrates embeddings: does each
query find its own item in the index, and how close does a mapping of the new model's
queries come to re-embedding the whole corpus with the new model? And the paper's
cross-space retrieval of its word embedding experiment (Jaccard@k and MRR@k).
"""

import numbers

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_array, check_scalar

from ..utils._array_api import to_numpy
from ..utils._norms import normalize_rows
from ._neighbourhoods import match_ranks
from ._validation import check_batch_size, check_pair

__all__ = ["migration_scores", "retrieval_agreement", "retrieval_scores"]


def retrieval_scores(queries, index, *, ks=(1, 10), batch_size=None):
    """Recall@k and MRR@k of each query retrieving its own item from an index.

    Query ``i``'s match is row ``i`` of ``index``; rows of ``index`` after the last
    query's are distractors (a corpus larger than the queries). Every row of the
    index is ranked by cosine similarity to the query; the match's rank is one plus
    the number of rows strictly more similar (ties count in the match's favour, as in
    :func:`mean_reciprocal_rank`). ``recall@k`` is the share of queries whose match
    ranks at most ``k``; ``mrr@k`` the mean of ``1 / rank``, counting 0 beyond rank
    ``k`` (the largest of ``ks``).

    Parameters
    ----------
    queries : array-like of shape (n_queries, n_features)
        The query vectors, in the index's space (mapped there if need be).
    index : array-like of shape (n_items, n_features)
        The indexed vectors, ``n_items >= n_queries``.
    ks : sequence of int, default=(1, 10)
        The cut-offs of ``recall@k``; MRR is cut at the largest.
    batch_size : int, default=None
        Queries whose similarities to the whole index are held at once. By default as
        many as scikit-learn's ``working_memory`` allows.

    Returns
    -------
    scores : dict of str to float
        ``{"recall@1": ..., "recall@10": ..., "mrr@10": ...}`` for the default ``ks``.

    See Also
    --------
    migration_scores : The same scores as a fraction of re-embedding the corpus.

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.metrics import retrieval_scores
    >>> index = np.eye(4)
    >>> queries = np.array([[1.0, 0.1, 0, 0], [0.9, 1.0, 0, 0], [0, 0, 0, 1.0]])

    The first two queries find their item first; the third is closest to item 3, and
    its own item (2) ranks second among the four, so MRR@2 is (1 + 1 + 1/2) / 3:

    >>> scores = retrieval_scores(queries, index, ks=(1, 2))
    >>> {name: round(value, 3) for name, value in scores.items()}
    {'recall@1': 0.667, 'recall@2': 1.0, 'mrr@2': 0.833}
    """
    queries = check_array(to_numpy(queries), dtype=[np.float64, np.float32])
    index = check_array(to_numpy(index), dtype=[np.float64, np.float32])
    n_queries, n_items = queries.shape[0], index.shape[0]
    if queries.shape[1] != index.shape[1]:
        raise ValueError(
            f"queries have {queries.shape[1]} features and the index "
            f"{index.shape[1]}: map the queries into the index's space first "
            "(LatentTranslator, or relative representations on parallel anchors)."
        )
    if n_items < n_queries:
        raise ValueError(
            f"The index has {n_items} rows for {n_queries} queries: query i's match "
            "is index row i, so the index needs at least as many rows."
        )
    ks = sorted({int(k) for k in ks})
    if not ks:
        raise ValueError("ks must hold at least one cut-off.")
    for k in ks:
        check_scalar(k, "k", numbers.Integral, min_val=1, max_val=n_items)
    check_batch_size(batch_size)
    dtype = np.result_type(queries.dtype, index.dtype)
    queries = normalize_rows(queries.astype(dtype, copy=False), np)
    index = normalize_rows(index.astype(dtype, copy=False), np)
    ranks = match_ranks(queries, index, batch_size)
    scores = {f"recall@{k}": float(np.mean(ranks <= k)) for k in ks}
    cut = ks[-1]
    scores[f"mrr@{cut}"] = float(np.mean(np.where(ranks <= cut, 1.0 / ranks, 0.0)))
    return scores


def migration_scores(
    mapped_queries,
    index,
    reembedded_queries,
    reembedded_index,
    *,
    ks=(1, 10),
    batch_size=None,
):
    """Retrieval with mapped queries, as a fraction of re-embedding the corpus.

    An index built with model A, queries embedded by a new model B: either re-embed
    the whole corpus with B (the reference), or map B's queries into A's space (a
    :class:`~skrelrep.LatentTranslator` fitted on parallel anchors, or relative
    representations of both) and keep the index. This scores both with
    :func:`retrieval_scores` and gives the mapping's share of the reference.

    Parameters
    ----------
    mapped_queries : array-like of shape (n_queries, n_features)
        B's queries mapped into the index's space.
    index : array-like of shape (n_items, n_features)
        The index the mapped queries search (A's, or its relative codes).
    reembedded_queries : array-like of shape (n_queries, n_features_b)
        B's queries as they are.
    reembedded_index : array-like of shape (n_items, n_features_b)
        The corpus re-embedded with B.
    ks : sequence of int, default=(1, 10)
    batch_size : int, default=None

    Returns
    -------
    scores : pandas.DataFrame
        One row per measure (``recall@k``, ``mrr@k``), columns ``mapped``,
        ``re-embedded`` and ``fraction`` (mapped over re-embedded; NaN where the
        reference is 0).

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.metrics import migration_scores
    >>> rng = np.random.RandomState(0)
    >>> corpus_b = rng.normal(size=(200, 16))
    >>> queries_b = corpus_b + 0.5 * rng.normal(size=corpus_b.shape)
    >>> rotation = np.linalg.qr(rng.normal(size=(16, 16)))[0]
    >>> corpus_a = corpus_b @ rotation  # model A: another basis

    Mapped by the exact rotation, the queries do as well as re-embedding:

    >>> scores = migration_scores(queries_b @ rotation, corpus_a, queries_b, corpus_b)
    >>> scores["fraction"].round(3).tolist()
    [1.0, 1.0, 1.0]
    """
    mapped = retrieval_scores(mapped_queries, index, ks=ks, batch_size=batch_size)
    reference = retrieval_scores(
        reembedded_queries, reembedded_index, ks=ks, batch_size=batch_size
    )
    frame = pd.DataFrame({"mapped": mapped, "re-embedded": reference})
    frame["fraction"] = frame["mapped"] / frame["re-embedded"].where(
        frame["re-embedded"] > 0
    )
    frame.index.name = "measure"
    return frame


def retrieval_agreement(A, B, *, k=10):
    """The paper's Jaccard@k and MRR@k of queries from ``A`` searched among ``B``.

    Row ``i`` of ``A`` and ``B`` is the same item. The ``k`` rows of ``B`` nearest
    (by cosine) to ``A[i]`` are compared with the ``k`` rows of ``B`` nearest to
    ``B[i]`` (row ``i`` itself included, as a search of the whole index returns it):
    Jaccard@k is the mean Jaccard index of the two sets, MRR@k the mean of
    ``1 / rank`` of row ``i`` among the rows retrieved by ``A[i]`` (0 when it is not
    among them). This is the measure of the paper's word embedding experiment
    (Moschella et al., 2023, Table 1). It compares ``A[i]`` with rows of ``B``
    directly, so the columns of the two spaces must mean the same thing: relative
    representations on parallel anchors.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_features)
        The queries.
    B : array-like of shape (n_samples, n_features)
        The same items, in the same order: the index searched.
    k : int, default=10
        Rows retrieved per query, ``1 <= k <= n_samples``.

    Returns
    -------
    jaccard : float
        Mean Jaccard index of the two sets, in ``[0, 1]``.
    mrr : float
        Mean reciprocal rank of each item among the rows its query retrieves, in
        ``[0, 1]``.

    See Also
    --------
    mean_reciprocal_rank : The rank among all rows, not cut at ``k``.

    References
    ----------
    .. [1] L. Moschella et al., "Relative representations enable zero-shot latent
       space communication", ICLR 2023 (Table 1).

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.metrics import retrieval_agreement
    >>> A = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.1]])
    >>> retrieval_agreement(A, A, k=1)
    (1.0, 1.0)

    In ``B`` the first two items have swapped vectors: ``A[0]`` retrieves ``B[1]``
    and ``A[1]`` retrieves ``B[0]``, so only the third item is found:

    >>> jaccard, mrr = retrieval_agreement(A, A[[1, 0, 2]], k=1)
    >>> round(jaccard, 3), round(mrr, 3)
    (0.333, 0.333)
    """
    truth, found = retrieval_neighbours(A, B, k=k)
    return agreement_of_neighbours(truth, found, np.arange(truth.shape[0]))


def retrieval_neighbours(A, B, *, k):
    """Per row, the ``k`` rows of ``B`` nearest to ``B[i]`` and to ``A[i]``, in order."""
    A, B = check_pair(A, B, same_width=True)
    check_scalar(k, "k", numbers.Integral, min_val=1, max_val=A.shape[0])
    index = NearestNeighbors(n_neighbors=k, metric="cosine", algorithm="brute")
    index.fit(B)
    return index.kneighbors(B, return_distance=False), index.kneighbors(
        A, return_distance=False
    )


def agreement_of_neighbours(truth, found, targets):
    """Jaccard@k and MRR@k of queries whose ``k`` hits are ``found``.

    Query ``i`` should find ``targets[i]``, and ``truth[i]`` holds the ``k`` rows
    nearest to that target. With ``targets`` a permutation and ``truth`` reordered by
    it, this scores the index with its rows permuted, without searching it again.
    """
    k = found.shape[1]
    # Both sets hold distinct rows: a row in both appears twice, side by side.
    both = np.sort(np.hstack([truth, found]), axis=1)
    shared = np.count_nonzero(both[:, 1:] == both[:, :-1], axis=1)
    hits = found == targets[:, None]
    ranks = np.argmax(hits, axis=1) + 1
    reciprocal = np.where(hits.any(axis=1), 1.0 / ranks, 0.0)
    return float(np.mean(shared / (2 * k - shared))), float(np.mean(reciprocal))
