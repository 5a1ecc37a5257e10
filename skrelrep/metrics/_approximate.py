"""Approximate neighbour tables from a FAISS HNSW index, with their measured recall.

For a million items an exact search (``n^2 d`` operations) takes hours; an HNSW
graph (Malkov and Yashunin, 2018) finds most of the ``k`` nearest rows in
``O(n log n)``. FAISS is imported only when asked for. Rows enter the index in a
random order, drawn anew for each table: FAISS keeps the first of tied rows it meets,
so ties are then broken at random and independently in each space, never by index.
The recall is measured against an exact search of a sample of rows, counting a found
row as correct when it is at least as similar as the exact ``k``-th (ties included).
"""

import numpy as np
from sklearn.utils import check_random_state, gen_batches

from ..utils._progress import progress
from ._knn import dense_table, tie_tolerance

__all__ = ["faiss_table"]

# HNSW links per node and search breadths: recall above 0.95 on embeddings.
HNSW_LINKS = 32
EF_CONSTRUCTION = 80
EF_SEARCH = 128
# Rows whose recall is measured by exact search.
RECALL_SAMPLE = 1000
SEARCH_ROWS = 16384


def _import_faiss():
    try:
        import faiss
    except ImportError as error:
        raise ImportError(
            "knn_algorithm='faiss' needs FAISS: pip install faiss-cpu "
            "(or use knn_algorithm='exact')."
        ) from error
    return faiss


def faiss_table(
    queries,
    index,
    *,
    k,
    exclude_self,
    ranked,
    random_state=None,
    name="the space",
    show_progress=False,
):
    """The approximate table of ``queries`` against ``index`` (unit rows), and recall.

    With ``exclude_self``, ``queries`` is ``index`` and row ``i`` is not its own
    neighbour.
    """
    faiss = _import_faiss()
    rng = check_random_state(random_state)
    n_queries, n_items = queries.shape[0], index.shape[0]
    order = rng.permutation(n_items)
    graph = faiss.IndexHNSWFlat(index.shape[1], HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = EF_CONSTRUCTION
    for rows in progress(
        list(gen_batches(n_items, SEARCH_ROWS)),
        description=f"indexing {name}",
        enabled=show_progress,
    ):
        graph.add(np.ascontiguousarray(index[order[rows]], dtype=np.float32))
    graph.hnsw.efSearch = max(EF_SEARCH, 2 * (k + 1))
    wanted = k + 1 if exclude_self else k
    columns = np.empty((n_queries, k), dtype=np.intp)
    for rows in progress(
        list(gen_batches(n_queries, SEARCH_ROWS)),
        description=f"searching {name}",
        enabled=show_progress,
    ):
        found = graph.search(
            np.ascontiguousarray(queries[rows], dtype=np.float32), wanted
        )[1]
        missing = np.any(found < 0, axis=1)
        found = np.where(found < 0, 0, order[found])
        if exclude_self:
            found = _drop_self(found, np.arange(rows.start, rows.stop))
        if np.any(missing):  # too few rows reached: search those exactly
            lost = np.flatnonzero(missing)
            found[lost] = _exact_rows(
                queries, index, rows.start + lost, k, exclude_self
            )
        columns[rows] = found
    table = dense_table(
        columns, n_columns=n_items, self_excluded=exclude_self, ranked=ranked
    )
    return table, _recall(queries, index, columns, k, exclude_self, rng)


def _drop_self(found, own):
    """Each row's ``k`` results other than the row itself (``k + 1`` given)."""
    is_self = found == own[:, None]
    # Rows without themselves among the results drop the last one.
    is_self[~is_self.any(axis=1), -1] = True
    is_self[np.cumsum(is_self, axis=1) > 1] = False
    return found[~is_self].reshape(found.shape[0], found.shape[1] - 1)


def _exact_rows(queries, index, rows, k, exclude_self):
    similarities = queries[rows] @ index.T
    if exclude_self:
        similarities[np.arange(rows.shape[0]), rows] = -np.inf
    top = np.argpartition(similarities, -k, axis=1)[:, -k:]
    by_value = np.argsort(-np.take_along_axis(similarities, top, axis=1), axis=1)
    return np.take_along_axis(top, by_value, axis=1)


def _recall(queries, index, columns, k, exclude_self, rng):
    """Share of found rows at least as similar as the exact k-th, on a sample."""
    n_queries = queries.shape[0]
    sample = np.sort(rng.choice(n_queries, min(n_queries, RECALL_SAMPLE), False))
    similarities = queries[sample] @ index.T
    if exclude_self:
        similarities[np.arange(sample.shape[0]), sample] = -np.inf
    kth = np.partition(similarities, -k, axis=1)[:, -k, None]
    tolerance = tie_tolerance(queries.dtype, queries.shape[1])
    found = np.take_along_axis(similarities, columns[sample], axis=1)
    return float(np.mean(found >= kth - tolerance))
