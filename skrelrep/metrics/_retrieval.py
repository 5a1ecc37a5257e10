"""Retrieval across spaces: queries of one model searched in an index of another.

What a vector store needs to know before it mixes or migrates embeddings: does each
query find its own item in the index, and how close does a mapping of the new model's
queries come to re-embedding the whole corpus with the new model? And the paper's
cross-space retrieval of its word embedding experiment (Jaccard@k and MRR@k).
"""

import numpy as np

from ..utils._norms import normalize_rows
from ._knn import exact_table, harmonic_numbers, tied_reciprocal
from ._neighbourhoods import target_ranks
from ._results import MigrationScores, RetrievalAgreement, RetrievalScores
from ._symmetric import symmetric_table
from ._validation import (
    check_batch_size,
    check_k,
    check_ks,
    check_pair,
    check_rows,
    check_targets,
)

__all__ = [
    "migration_scores",
    "retrieval_agreement",
    "retrieval_scores",
    "retrieval_tables",
]


def retrieval_scores(queries, index, *, targets=None, ks=(1, 10), batch_size=None):
    """Recall@k and MRR@k of each query retrieving its answer from an index.

    Query ``i``'s answer is row ``targets[i]`` of ``index`` (by default row ``i``:
    rows after the last query's are then distractors, a corpus larger than the
    queries). Every row of the index is ranked by cosine similarity to the query.
    Rows tied with the answer are averaged over: with ``g`` rows more similar and
    ``t`` others tied, each rank from ``g + 1`` to ``g + t + 1`` is equally likely
    (see :ref:`metrics_ties`). ``recall@k`` is the mean probability that the answer
    ranks at most ``k``; ``mrr@k`` the mean of ``1 / rank``, counting 0 beyond rank
    ``k`` (the largest of ``ks``).

    Parameters
    ----------
    queries : array-like of shape (n_queries, n_features)
        The query vectors, in the index's space (mapped there if need be).
    index : array-like of shape (n_items, n_features)
        The indexed vectors.
    targets : array-like of int of shape (n_queries,), default=None
        The index row of each query's answer. ``None``: row ``i`` for query ``i``
        (then ``n_items >= n_queries``).
    ks : sequence of int, default=(1, 10)
        The cut-offs of ``recall@k``; MRR is cut at the largest.
    batch_size : int, default=None
        Queries whose similarities to the whole index are held at once. By default as
        many as scikit-learn's ``working_memory`` allows.

    Returns
    -------
    scores : RetrievalScores
        ``recall`` (a dict by cut-off), ``mrr`` and ``k``; ``as_dict()`` gives
        ``{"recall@1": ..., "recall@10": ..., "mrr@10": ...}``.

    See Also
    --------
    migration_scores : The same scores as a fraction of re-embedding the corpus.

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.metrics import retrieval_scores
    >>> index = np.eye(4)
    >>> queries = np.array([[1.0, 0.1, 0, 0], [0.9, 1.0, 0, 0], [0, 0, 0.5, 1.0]])

    The first two queries find their item first; the third is closest to item 3, and
    its own item (2) ranks second among the four, so MRR@2 is (1 + 1 + 1/2) / 3:

    >>> scores = retrieval_scores(queries, index, ks=(1, 2))
    >>> scores
    RetrievalScores(recall@1=0.6667, recall@2=1, mrr@2=0.8333)
    >>> scores.recall[2], round(scores.mrr, 3)
    (1.0, 0.833)

    With ``targets``, the answers are any rows, here items 0, 1 and 3:

    >>> retrieval_scores(queries, index, targets=[0, 1, 3], ks=(1,)).recall[1]
    1.0

    The third query is as similar (0) to items 0 and 1: when one of them is its
    answer, it ranks third or fourth, each with probability 1/2 (see
    :ref:`metrics_ties`), so recall@3 is 1/2 and MRR@3 is (1/3 + 0) / 2:

    >>> tied = retrieval_scores(queries[2:], index, targets=[0], ks=(3,))
    >>> tied.recall[3], round(tied.mrr, 4)
    (0.5, 0.1667)
    """
    queries = check_rows(queries, "queries")
    index = check_rows(index, "index")
    n_queries, n_items = queries.shape[0], index.shape[0]
    if queries.shape[1] != index.shape[1]:
        raise ValueError(
            f"queries have {queries.shape[1]} features and the index "
            f"{index.shape[1]}: map the queries into the index's space first "
            "(LatentTranslator, or relative representations on parallel anchors)."
        )
    targets = check_targets(targets, n_queries, n_items)
    ks = check_ks(ks, n_items)
    check_batch_size(batch_size)
    dtype = np.result_type(queries.dtype, index.dtype)
    queries = normalize_rows(queries.astype(dtype, copy=False), np)
    index = normalize_rows(index.astype(dtype, copy=False), np)
    above, tied = target_ranks(queries, index, targets, batch_size)
    recall = {k: float(np.mean(np.clip(k - above, 0, tied) / tied)) for k in ks}
    cut = ks[-1]
    reciprocal = tied_reciprocal(above, tied, cut, harmonic_numbers(cut))
    return RetrievalScores(
        recall=recall, mrr=float(np.mean(reciprocal)), k=cut, n_queries=n_queries
    )


def migration_scores(
    mapped_queries,
    index,
    reembedded_queries,
    reembedded_index,
    *,
    targets=None,
    ks=(1, 10),
    batch_size=None,
):
    """Retrieval with mapped queries, as a fraction of re-embedding the corpus.

    An index built with model A, queries embedded by a new model B: either re-embed
    the whole corpus with B (the reference), or map B's queries into A's space (a
    :class:`~skrelrep.LatentTranslator` fitted on parallel anchors, or relative
    representations of both) and keep the index. This scores both with
    :func:`retrieval_scores` and gives the mapping's share of the reference. Row
    ``j`` of ``index`` and of ``reembedded_index`` is the same item, and query ``i``
    the same query in both.

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
    targets : array-like of int of shape (n_queries,), default=None
        The index row of each query's answer; ``None``: row ``i`` for query ``i``.
    ks : sequence of int, default=(1, 10)
        The cut-offs of ``recall@k``; MRR is cut at the largest.
    batch_size : int, default=None
        Queries whose similarities to a whole index are held at once.

    Returns
    -------
    scores : MigrationScores
        ``mapped`` and ``reembedded`` (each a :class:`RetrievalScores`),
        ``fraction`` (mapped over re-embedded, NaN where the reference is 0), and
        ``to_frame()``: one row per measure, columns ``mapped``, ``re-embedded``
        and ``fraction``.

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
    >>> scores.to_frame()["fraction"].round(3).tolist()
    [1.0, 1.0, 1.0]
    """
    pairs = [
        ("index", index, "reembedded_index", reembedded_index),
        ("mapped_queries", mapped_queries, "reembedded_queries", reembedded_queries),
    ]
    for first_name, first, second_name, second in pairs:
        first_rows, second_rows = len(first), len(second)
        if first_rows != second_rows:
            raise ValueError(
                f"{first_name} has {first_rows} rows and {second_name} "
                f"{second_rows}: row j of both must be the same item (or query), "
                "searched once in each space."
            )
    options = dict(targets=targets, ks=ks, batch_size=batch_size)
    return MigrationScores(
        mapped=retrieval_scores(mapped_queries, index, **options),
        reembedded=retrieval_scores(reembedded_queries, reembedded_index, **options),
    )


def retrieval_agreement(A, B, *, k=10, batch_size=None):
    """The paper's Jaccard@k and MRR@k of queries from ``A`` searched among ``B``.

    Row ``i`` of ``A`` and ``B`` is the same item. The ``k`` rows of ``B`` nearest
    (by cosine) to ``A[i]`` are compared with the ``k`` rows of ``B`` nearest to
    ``B[i]`` (row ``i`` itself included, as a search of the whole index returns it):
    Jaccard@k is the mean Jaccard index of the two sets, MRR@k the mean of
    ``1 / rank`` of row ``i`` among the rows retrieved by ``A[i]`` (0 when it is not
    among them). This is the measure of the paper's word embedding experiment
    (Moschella et al., 2023, Table 1). It compares ``A[i]`` with rows of ``B``
    directly, so the columns of the two spaces must mean the same thing: relative
    representations on parallel anchors. Tied rows are averaged over, as in
    :func:`retrieval_scores` (see :ref:`metrics_ties`): duplicates of an item share
    its place.

    Parameters
    ----------
    A : array-like of shape (n_samples, n_features)
        The queries.
    B : array-like of shape (n_samples, n_features)
        The same items, in the same order: the index searched.
    k : int, default=10
        Rows retrieved per query, ``1 <= k <= n_samples``.
    batch_size : int, default=None
        Queries whose similarities to all of ``B`` are held at once. By default as
        many as scikit-learn's ``working_memory`` allows.

    Returns
    -------
    agreement : RetrievalAgreement
        ``jaccard`` and ``mrr``, each in ``[0, 1]``, and ``k``.

    See Also
    --------
    neighbourhood_jaccard : Each space's own neighbourhoods, for spaces of any width.
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
    RetrievalAgreement(jaccard=1, mrr=1, k=1)

    In ``B`` the first two items have swapped vectors: ``A[0]`` retrieves ``B[1]``
    and ``A[1]`` retrieves ``B[0]``, so only the third item is found:

    >>> agreement = retrieval_agreement(A, A[[1, 0, 2]], k=1)
    >>> round(agreement.jaccard, 3), round(agreement.mrr, 3)
    (0.333, 0.333)
    """
    A, B = check_pair(A, B, same_width=True)
    k = check_k(k, A.shape[0], others=False)
    check_batch_size(batch_size)
    truth, found = retrieval_tables(A, B, k=k, batch_size=batch_size)
    jaccard, mrr = agreement_scores(truth, found, np.arange(A.shape[0]))
    return RetrievalAgreement(
        jaccard=float(np.mean(jaccard)), mrr=float(np.mean(mrr)), k=k
    )


def retrieval_tables(A, B, *, k, batch_size=None, show_progress=False):
    """The ``k`` rows of ``B`` nearest to each ``B[i]`` and to each ``A[i]``."""
    A, B = normalize_rows(A, np), normalize_rows(B, np)
    options = dict(k=k, exclude_self=False, batch_size=batch_size)
    # B's codes among themselves: a symmetric search, half the products.
    truth = symmetric_table(B, name="B's codes", show_progress=show_progress, **options)
    found = exact_table(
        A, B, ranked=True, name="A's codes in B", show_progress=show_progress, **options
    )
    return truth, found


def agreement_scores(truth, found, targets):
    """Per query, its Jaccard@k and reciprocal rank@k.

    Query ``i`` should find row ``targets[i]``, whose own ``k`` nearest rows are row
    ``targets[i]`` of ``truth``. With ``targets`` a permutation, this scores the
    index with its rows permuted, without searching it again.
    """
    k = found.k
    shared = found.shared(truth, rows=targets)
    return shared / (2 * k - shared), found.reciprocal_at(targets)
