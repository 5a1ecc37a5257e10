"""Self-training: grow parallel pairs from unpaired queries and the index.

Start from a map (or the relative representation) fitted on the parallel anchors;
map the unpaired queries; pair them with index documents under CSLS; refit on the
anchors and these pairs; repeat (Artetxe et al., 2017 and 2018; Cannistraci et al.,
2023). Two pairings:

- ``"soft"``: every query is paired with the mean of its ``n_candidates`` best
  documents, weighted by a softmax of their CSLS scores at ``temperature``. A query
  whose best documents are close calls spreads its weight among them, so an
  uncertain pair pulls the map towards what its candidates share, never firmly
  towards a wrong one. From few anchors this keeps the first, mostly wrong, pairs
  from locking the map in.
- ``"mutual"``: a query and a document that are each other's nearest neighbour
  become a pair; the most confident pairs are kept, twice as many as the seed
  pairs, then doubling each round.

Either way the refit is a :class:`~skrelrep.LatentTranslator` on the anchors and
the pairs (the soft pairs' targets are their weighted means).
"""

import numpy as np

from ._hubness import csls_statistics
from ._maps import RelativeStart
from ._search import best_pairs, sweep

__all__ = ["Stage", "mutual_pairs", "self_training", "soft_pairs"]


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


def soft_pairs(mapped_queries, docs, r_d, *, n_candidates, temperature, max_bytes=None):
    """Each query's best documents under CSLS and their softmax weights.

    Returns ``(doc_ids, weights)`` of shape ``(n_queries, n_candidates)``, best
    first. CSLS is ``2 (cos - r_d / 2) - r_q`` and ``r_q`` is one number per query,
    so the softmax needs only the penalised cosines.
    """
    (values, ids), _ = sweep(
        mapped_queries,
        docs,
        row_k=n_candidates,
        col_penalty=r_d / 2,
        max_bytes=max_bytes,
    )
    logits = 2 * (values - values[:, :1]) / temperature
    weights = np.exp(logits)
    weights /= weights.sum(axis=1, keepdims=True)
    return ids, weights


class Stage:
    """One round's searcher: how queries and documents meet, and what it was fit on.

    ``queries(X)`` maps prepared new-model rows into the space ``docs`` lives in
    (the old space, or the relative one); ``r_d`` is each document's CSLS term there.
    ``extra`` holds the rows ``(X, Y)`` the searcher was fitted on besides the
    anchors, and ``positives`` the ``(query_ids, doc_ids)`` of its confident pairs
    (none at round 0); ``growing`` says whether the next round will pair more
    queries than this one did (the schedule held them, not the supply of pairs).
    """

    def __init__(self, searcher, docs, r_d, extra=None, positives=None, growing=False):
        self.searcher, self.docs, self.r_d = searcher, docs, r_d
        empty = np.zeros(0, dtype=np.intp)
        self.extra = extra
        self.positives = (empty, empty) if positives is None else positives
        self.growing = growing

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
    pairing="soft",
    n_candidates=10,
    temperature=0.1,
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
    pairing : {"soft", "mutual"}, default="soft"
    n_candidates : int, default=10
        Documents a soft pair spreads over.
    temperature : float, default=0.1
        Of the soft pairs' softmax, in units of CSLS score.

    The consumer may stop early: a round's pairs are found only when the next stage
    is asked for, and a stage costs one pass over the product of the queries and
    the documents (its CSLS statistics), pairing one more.
    """
    searcher = start
    space_docs = start.old(docs) if isinstance(start, RelativeStart) else docs
    n_seed = anchors_new.shape[0]
    extra = positives = None
    growing = True
    for round_ in range(max_rounds + 1):
        mapped = (
            searcher.new(queries)
            if isinstance(searcher, RelativeStart)
            else searcher(queries)
        )
        r_q, r_d = csls_statistics(mapped, space_docs, k=k, max_bytes=max_bytes)
        yield Stage(searcher, space_docs, r_d, extra, positives, growing)
        if round_ == max_rounds:
            return
        if pairing == "soft":
            ids, weights = soft_pairs(
                mapped,
                space_docs,
                r_d,
                n_candidates=n_candidates,
                temperature=temperature,
                max_bytes=max_bytes,
            )
            targets = np.empty((queries.shape[0], docs.shape[1]), dtype=docs.dtype)
            for start_row in range(0, queries.shape[0], 1024):  # bounded memory
                rows = slice(start_row, start_row + 1024)
                targets[rows] = np.einsum("qc,qcd->qd", weights[rows], docs[ids[rows]])
            extra = (queries, targets)
            # The confident pairs: most of the weight on one document.
            confident = np.flatnonzero(weights[:, 0] >= 0.5)
            positives = (confident, ids[confident, 0])
            growing = False
        else:
            query_ids, doc_ids, scores = mutual_pairs(
                mapped, space_docs, r_q, r_d, max_bytes=max_bytes
            )
            # The most confident pairs, twice as many as the seed pairs, then
            # doubling.
            n_kept = min(query_ids.shape[0], n_seed * 2 ** (round_ + 1))
            growing = n_kept < query_ids.shape[0]
            keep = np.argsort(-scores, kind="stable")[:n_kept]
            positives = (query_ids[keep], doc_ids[keep])
            extra = (queries[positives[0]], docs[positives[1]])
        searcher = fit(
            np.vstack([anchors_new, extra[0]]), np.vstack([anchors_old, extra[1]])
        )
        space_docs = docs
