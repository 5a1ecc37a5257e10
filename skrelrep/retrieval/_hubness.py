"""Hubness correction: cross-domain similarity local scaling (CSLS).

In high dimensions a few documents are the nearest neighbour of many queries, and a
map from one space into another makes this worse: mapped queries crowd where the map
sends them, near the same few documents. CSLS (Conneau et al., ICLR 2018) scores a
mapped query ``q`` against a document ``d`` as ``2 cos(q, d) - r_q - r_d``, where
``r_d`` is the mean cosine of ``d`` with its ``k`` nearest mapped queries and
``r_q`` the mean cosine of ``q`` with its ``k`` nearest documents. ``r_q`` does not
change a query's ranking, so a search ranks by ``cos(q, d) - r_d / 2``, and ``r_d``
is one number per document, taken at fit from a sample of mapped queries and stored
with the index.
"""

from ._search import top_k_mean

__all__ = ["csls_statistics"]


def csls_statistics(mapped_queries, docs, *, k, max_bytes=None, product=None):
    """``(r_q, r_d)``: each query's mean cosine with its ``k`` nearest documents and
    each document's with its ``k`` nearest queries (unit rows both)."""
    return top_k_mean(mapped_queries, docs, k, max_bytes=max_bytes, product=product)
