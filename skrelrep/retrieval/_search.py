"""Exact nearest neighbours by inner product, in blocks bounded by ``working_memory``.

Every search of the bridge is one pass over the blocks of a product ``A @ B.T`` of two
sets of unit rows (queries and documents, either way round). A block holds a chunk of
rows of ``A`` against a chunk of rows of ``B``, sized so that it fits scikit-learn's
``working_memory``; each row of ``A`` keeps its best ``k`` columns so far, and each
row of ``B`` its best ``k`` rows of ``A``, merged block after block. A million-row
index is searched without ever holding a million-column matrix, and the result is
the brute-force one: ties are broken towards the lower index.
"""

import numpy as np
from sklearn import get_config

__all__ = ["best_pairs", "sweep", "top_k_mean", "whole_product"]


# Blocks are kept small whatever working_memory allows: the allocator hands large
# arrays back to the system when they are freed, and every new one then pays a page
# fault per page, which cost more than the product itself. Blocks this small come
# from memory that is already mapped.
BLOCK_BYTES = 8 * 2**20


def _block_shape(n_rows, n_cols, itemsize, max_bytes=None):
    """Rows and columns of a block of ``A @ B.T`` within the memory budget.

    Whole rows of the product when at least a few fit, otherwise column chunks too.
    The budget counts the block and the merge buffers (about three blocks' worth).
    """
    budget = min(get_config()["working_memory"] * 2**20, 3 * BLOCK_BYTES)
    if max_bytes is not None:
        budget = min(budget, max_bytes)
    cells = max(1, int(budget // (3 * itemsize)))
    if n_rows * n_cols <= cells:
        return n_rows, n_cols
    rows = cells // max(n_cols, 1)
    if rows >= 16:
        return min(rows, n_rows), n_cols
    rows = min(n_rows, 16)
    return rows, max(1, min(n_cols, cells // rows))


def _row_best(values, ids, k):
    """Each row's ``k`` largest values and their ids, best first; equal values in
    increasing id order (``ids`` may be one row broadcast to all).

    The largest values are found without sorting whole rows: the ``k``-th largest of
    an evenly spaced sample of a row bounds the row's ``k``-th largest from below,
    so only the values that reach it (about ``4 k``) are sorted.
    """
    n_rows, n_cols = values.shape
    if k == 1:  # argmax returns the first of equal values: the lowest id
        best = np.argmax(values, axis=1)[:, None]
        return (
            np.take_along_axis(values, best, 1),
            np.take_along_axis(np.broadcast_to(ids, values.shape), best, 1),
        )
    if n_cols > 2 * k:
        # A lower bound of each row's k-th largest value: that of an evenly spaced
        # sample of a long row, or the exact one of a short row.
        sample = values[:, ::4] if n_cols > 64 * k else values
        n_sample = sample.shape[1]
        bound = np.partition(sample, n_sample - k, axis=1)[:, n_sample - k]
        keep = values >= bound[:, None]
        counts = np.count_nonzero(keep, axis=1)
        width = int(counts.max())
        if 2 * width <= n_cols:
            rows, cols = np.nonzero(keep)
            starts = np.cumsum(counts) - counts
            slots = np.arange(rows.size) - np.repeat(starts, counts)
            narrow = np.full((n_rows, width), -np.inf, dtype=values.dtype)
            narrow[rows, slots] = values[rows, cols]
            narrow_ids = np.full((n_rows, width), np.iinfo(np.intp).max, dtype=np.intp)
            narrow_ids[rows, slots] = np.broadcast_to(ids, values.shape)[rows, cols]
            values, ids = narrow, narrow_ids
    ids = np.broadcast_to(ids, values.shape)
    order = np.lexsort((ids, -values), axis=1)[:, :k]
    return np.take_along_axis(values, order, 1), np.take_along_axis(ids, order, 1)


def sweep(
    A,
    B,
    *,
    row_k=0,
    col_k=0,
    row_penalty=None,
    col_penalty=None,
    max_bytes=None,
    product=None,
):
    """One pass over the blocks of ``A @ B.T``: each row's and each column's best.

    Parameters
    ----------
    A : ndarray of shape (n_a, n_features)
    B : ndarray of shape (n_b, n_features)
        Same dtype as ``A``.
    row_k : int, default=0
        For each row of ``A``, the ``row_k`` columns (rows of ``B``) with the largest
        ``A[i] @ B[j] - col_penalty[j]``; 0 for none.
    col_k : int, default=0
        For each row of ``B``, the ``col_k`` rows of ``A`` with the largest
        ``A[i] @ B[j] - row_penalty[i]``; 0 for none.
    row_penalty : ndarray of shape (n_a,), default=None
    col_penalty : ndarray of shape (n_b,), default=None
    max_bytes : int, default=None
        A cap on the block size in bytes, below ``working_memory``.
    product : ndarray of shape (n_a, n_b), default=None
        ``A @ B.T`` when already at hand (see :func:`whole_product`).

    Returns
    -------
    rows : tuple (values, ids) of ndarrays of shape (n_a, row_k), best first, or None
    cols : tuple (values, ids) of ndarrays of shape (n_b, col_k), best first, or None
    """
    n_a, n_b = A.shape[0], B.shape[0]
    row_k, col_k = min(row_k, n_b), min(col_k, n_a)
    dtype = A.dtype
    block_rows, block_cols = _block_shape(n_a, n_b, dtype.itemsize, max_bytes)
    row_values = np.empty((n_a, row_k), dtype=dtype)
    row_ids = np.empty((n_a, row_k), dtype=np.intp)
    col_values = np.full((n_b, col_k), -np.inf, dtype=dtype)
    col_ids = np.full((n_b, col_k), np.iinfo(np.intp).max, dtype=np.intp)
    for start in range(0, n_a, block_rows):
        stop = min(start + block_rows, n_a)
        best_values = np.empty((stop - start, 0), dtype=dtype)
        best_ids = np.empty((stop - start, 0), dtype=np.intp)
        for col_start in range(0, n_b, block_cols):
            col_stop = min(col_start + block_cols, n_b)
            if product is not None:
                block = product[start:stop, col_start:col_stop]
            else:
                block = A[start:stop] @ B[col_start:col_stop].T
            if row_k:
                scores = block
                if col_penalty is not None:
                    scores = block - col_penalty[col_start:col_stop]
                values, ids = _row_best(
                    scores, np.arange(col_start, col_stop)[None], row_k
                )
                best_values, best_ids = _row_best(
                    np.hstack([best_values, values]), np.hstack([best_ids, ids]), row_k
                )
            if col_k:
                # Transposed first (one copy), then penalised in place.
                scores = np.ascontiguousarray(block.T)
                if row_penalty is not None:
                    scores -= row_penalty[start:stop]
                values, ids = _row_best(scores, np.arange(start, stop)[None], col_k)
                cols = slice(col_start, col_stop)
                col_values[cols], col_ids[cols] = _row_best(
                    np.hstack([col_values[cols], values]),
                    np.hstack([col_ids[cols], ids]),
                    col_k,
                )
        if row_k:
            row_values[start:stop], row_ids[start:stop] = best_values, best_ids
    rows = (row_values, row_ids) if row_k else None
    cols = (col_values, col_ids) if col_k else None
    return rows, cols


def whole_product(A, B, max_bytes=None):
    """``A @ B.T`` if it fits in one block of the budget (to be swept several times
    without computing it again), else None."""
    rows, cols = _block_shape(A.shape[0], B.shape[0], A.dtype.itemsize, max_bytes)
    if (rows, cols) == (A.shape[0], B.shape[0]):
        return A @ B.T
    return None


def _top_values(values, k):
    """Each row's ``k`` largest values, in no order (no ids: cheaper)."""
    if values.shape[1] <= k:
        return values
    return np.partition(values, values.shape[1] - k, axis=1)[:, -k:]


def top_k_mean(A, B, k, *, max_bytes=None, product=None):
    """Mean inner product of each row of ``A`` with its ``k`` best rows of ``B``, and
    of each row of ``B`` with its ``k`` best rows of ``A`` (CSLS's ``r_q``, ``r_d``).

    The same blocks as :func:`sweep`, keeping values only.
    """
    n_a, n_b = A.shape[0], B.shape[0]
    block_rows, block_cols = _block_shape(n_a, n_b, A.dtype.itemsize, max_bytes)
    row_means = np.empty(n_a, dtype=A.dtype)
    col_best = np.empty((n_b, 0), dtype=A.dtype)
    for start in range(0, n_a, block_rows):
        stop = min(start + block_rows, n_a)
        row_best = np.empty((stop - start, 0), dtype=A.dtype)
        col_parts = []
        for col_start in range(0, n_b, block_cols):
            col_stop = min(col_start + block_cols, n_b)
            if product is not None:
                block = product[start:stop, col_start:col_stop]
            else:
                block = A[start:stop] @ B[col_start:col_stop].T
            row_best = _top_values(np.hstack([row_best, _top_values(block, k)]), k)
            col_parts.append(_top_values(np.ascontiguousarray(block.T), k))
        col_block = np.vstack(col_parts)
        if col_best.shape[1]:
            col_block = np.hstack([col_best, col_block])
        col_best = _top_values(col_block, k)
        row_means[start:stop] = row_best.mean(axis=1)
    return row_means, col_best.mean(axis=1)


def best_pairs(A, B, *, row_penalty, col_penalty, max_bytes=None, product=None):
    """Each row's best column and each column's best row, each side penalised.

    Returns ``(best_col, best_col_score, best_row)``: ``best_col[i]`` maximises
    ``A[i] @ B[j] - col_penalty[j]``, ``best_row[j]`` maximises
    ``A[i] @ B[j] - row_penalty[i]``.
    """
    rows, cols = sweep(
        A,
        B,
        row_k=1,
        col_k=1,
        row_penalty=row_penalty,
        col_penalty=col_penalty,
        max_bytes=max_bytes,
        product=product,
    )
    return rows[1][:, 0], rows[0][:, 0], cols[1][:, 0]
