"""Serve a bridge from FAISS, with its hubness correction.

A fitted :class:`QueryBridge` ranks document ``d`` for a mapped query ``q`` by
``cos(q, d) - penalty_[d]`` (CSLS's per-document term; zeros without the
correction). FAISS ranks by inner product only, so the correction is stored as one
extra coordinate: each document is ``[d, -penalty_[d]]`` (``d`` a unit row) and each
query ``[q, 1]``, whose inner product is that very score. This is exact for every
query and every ``k``, and works with any FAISS index over inner product (flat, IVF,
HNSW), approximate ones searching the corrected score itself. Re-ranking FAISS's top
candidates by cosine would instead miss every document that the correction lifts
from beyond the candidates, and the loss would depend on how many were fetched.

``faiss`` (``pip install "skrelrep[migrate]"``) is imported when these are called.
"""

import numbers

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["faiss_index", "search_faiss"]


def _faiss():
    try:
        import faiss
    except ImportError:
        raise ImportError(
            'Serving a bridge from FAISS needs faiss: pip install "skrelrep[migrate]"'
        ) from None
    return faiss


def faiss_index(bridge, factory="Flat"):
    """A FAISS index of the bridge's index that ranks by its corrected score.

    Parameters
    ----------
    bridge : QueryBridge
        A fitted bridge.

    factory : str, default="Flat"
        A :func:`faiss.index_factory` description ("Flat", "HNSW32",
        "IVF256,Flat", ...); built over inner product. An index that needs training
        is trained on the documents.

    Returns
    -------
    index : faiss.Index
        ``bridge.n_features_out_ + 1`` wide: row ``i`` is ``[index_[i],
        -penalty_[i]]`` in float32. Search it with :func:`search_faiss`.

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.retrieval import QueryBridge, faiss_index, search_faiss
    >>> rng = np.random.RandomState(0)
    >>> old = rng.normal(size=(300, 8))
    >>> bridge = QueryBridge(max_epochs=0, random_state=0).fit(
    ...     old[:100], old[:100], index=old)
    >>> index = faiss_index(bridge)
    >>> _, ids = search_faiss(bridge, index, old[:5], n_neighbors=3)
    >>> bool((ids == bridge.kneighbors(old[:5], 3, return_distance=False)).all())
    True
    """
    faiss = _faiss()
    check_is_fitted(bridge)
    rows = np.hstack([bridge.index_, -bridge.penalty_[:, None]]).astype(np.float32)
    index = faiss.index_factory(rows.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        index.train(rows)
    index.add(rows)
    return index


def search_faiss(bridge, index, X, n_neighbors=10):
    """Search a :func:`faiss_index` with new-model queries, as ``kneighbors`` does.

    Parameters
    ----------
    bridge : QueryBridge
        The fitted bridge the index was built from.

    index : faiss.Index
        What :func:`faiss_index` returned (or the same rows, stored elsewhere).

    X : array-like of shape (n_queries, n_features_in_)
        Queries embedded by the new model.

    n_neighbors : int, default=10
        Rows to return per query.

    Returns
    -------
    distances : ndarray of shape (n_queries, n_neighbors)
        ``1 - cos(q, d) + penalty_[d]``, ascending (float32).

    indices : ndarray of shape (n_queries, n_neighbors)
        Rows of the index; ``-1`` where an approximate index found fewer.
    """
    check_is_fitted(bridge)
    width = bridge.n_features_out_ + 1
    if index.d != width:
        raise ValueError(
            f"The FAISS index is {index.d} wide; a bridge's index is "
            f"{width} (n_features_out_ + 1, the hubness term): build it with "
            "faiss_index(bridge)."
        )
    if (
        isinstance(n_neighbors, bool)
        or not isinstance(n_neighbors, numbers.Integral)
        or not 1 <= n_neighbors <= index.ntotal
    ):
        raise ValueError(
            f"n_neighbors must be an integer from 1 to the {index.ntotal} rows of "
            f"the index; got {n_neighbors!r}."
        )
    mapped = bridge.transform(X).astype(np.float32)
    queries = np.hstack([mapped, np.ones((mapped.shape[0], 1), np.float32)])
    scores, ids = index.search(np.ascontiguousarray(queries), int(n_neighbors))
    return 1 - scores, ids
