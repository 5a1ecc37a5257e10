"""Self-training: grow parallel pairs from unpaired queries and the index.

Start from a map (or the relative representation) fitted on the parallel anchors;
map the unpaired queries; pair each with the index document that is its nearest
neighbour under CSLS when that query is also the document's nearest (mutual nearest
neighbours); refit on the anchors and the most confident of these pairs; repeat
(Artetxe et al., 2017 and 2018; Cannistraci et al., 2023). The pairs kept double
each round, from twice the number of anchors, so that a few anchors are not drowned
by the first, noisy pairs.
"""

import numpy as np

from ._hubness import csls_statistics
from ._maps import RelativeStart
from ._search import best_pairs

__all__ = ["Stage", "mutual_pairs", "self_training"]


def mutual_pairs(mapped_queries, docs, r_q, r_d, *, max_bytes=None):
    """Mutual nearest neighbours under CSLS, given its statistics.

    Returns ``(query_ids, doc_ids, scores)``: the pairs and their CSLS scores
    ``2 cos - r_q - r_d``.
    """
    best_doc, best_score, best_query = best_pairs(
        mapped_queries,
        docs,
        row_penalty=r_q / 2,
        col_penalty=r_d / 2,
        max_bytes=max_bytes,
    )
    queries = np.arange(mapped_queries.shape[0])
    mutual = best_query[best_doc] == queries
    scores = 2 * best_score - r_q
    return queries[mutual], best_doc[mutual], scores[mutual]


class Stage:
    """One round's searcher: how queries and documents meet, and the penalty.

    ``queries(X)`` maps prepared new-model rows into the space ``docs`` lives in
    (the old space, or the relative one); ``r_d`` is each document's CSLS term there;
    ``pairs`` the mined ``(query_ids, doc_ids)`` the searcher was fitted on besides
    the anchors (none at round 0).
    """

    def __init__(self, searcher, docs, r_d, pairs):
        self.searcher, self.docs, self.r_d, self.pairs = searcher, docs, r_d, pairs

    def queries(self, X):
        if isinstance(self.searcher, RelativeStart):
            return self.searcher.new(X)
        return self.searcher(X)


def self_training(
    anchors_new,
    anchors_old,
    queries,
    docs,
    start,
    *,
    fit,
    k,
    max_rounds,
    max_bytes=None,
):
    """Yield the :class:`Stage` of each round: 0 (the start), 1, 2, ...

    Parameters
    ----------
    anchors_new, anchors_old : ndarray
        The seed pairs (prepared new rows, unit old rows).
    queries : ndarray of shape (n_queries, n_new)
        Prepared unpaired queries.
    docs : ndarray of shape (n_docs, n_old)
        Unit index rows.
    start : AffineMap or RelativeStart
        Round 0's searcher.
    fit : callable
        ``fit(X, Y)`` returns the map of the next round from pairs.
    k : int
        Neighbours of CSLS.
    max_rounds : int
        Rounds after the start.

    The consumer may stop early: a round's pairs are mined only when the next stage
    is asked for, and a stage costs one pass over the product of the queries and
    the documents (its CSLS statistics), mining one more.
    """
    searcher = start
    space_docs = start.old(docs) if isinstance(start, RelativeStart) else docs
    n_seed = anchors_new.shape[0]
    pairs = (np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp))
    for round_ in range(max_rounds + 1):
        mapped = (
            searcher.new(queries)
            if isinstance(searcher, RelativeStart)
            else searcher(queries)
        )
        r_q, r_d = csls_statistics(mapped, space_docs, k=k, max_bytes=max_bytes)
        yield Stage(searcher, space_docs, r_d, pairs)
        if round_ == max_rounds:
            return
        query_ids, doc_ids, scores = mutual_pairs(
            mapped, space_docs, r_q, r_d, max_bytes=max_bytes
        )
        # The most confident pairs, twice as many as the seed pairs, then doubling.
        n_kept = min(query_ids.shape[0], n_seed * 2 ** (round_ + 1))
        keep = np.argsort(-scores, kind="stable")[:n_kept]
        pairs = (query_ids[keep], doc_ids[keep])
        searcher = fit(
            np.vstack([anchors_new, queries[pairs[0]]]),
            np.vstack([anchors_old, docs[pairs[1]]]),
        )
        space_docs = docs
