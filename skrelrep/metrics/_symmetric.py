"""The neighbour table of a space within itself, from half of its similarities.

A space searched within itself has a symmetric similarity matrix: the block of rows
``I`` against columns ``J`` is the transpose of rows ``J`` against columns ``I``. So
each pair of row blocks is multiplied once, from the diagonal on: the block of rows
gives its rows' candidates among the later columns, and its transpose the later rows'
candidates among the block's columns. Each row keeps its ``RUNNING`` largest values
seen so far. At the end, a row whose ``k``-th place is not tied (exactly ``k`` kept
values within the tie tolerance of the ``k``-th or above) has its neighbours; a row
with ties there is searched again in full, so that the tie rule of
:mod:`skrelrep.metrics._knn` applies unchanged. Half the products of a full search,
for the same table.
"""

import numpy as np
from sklearn import get_config
from sklearn.utils import gen_batches

from ..utils._chunks import chunk_n_rows
from ..utils._progress import progress
from ._knn import (
    CHUNK_BYTES,
    ENTRY_BYTES,
    NeighbourTable,
    ProductBuffer,
    _candidates,
    _select,
    column_dtype,
    format_bytes,
    harmonic_numbers,
    tie_tolerance,
)

__all__ = ["symmetric_table"]


def _running_width(k):
    """Values kept per row while the blocks stream in: room for a few ties."""
    return 2 * k + 2


def symmetric_table(
    unit, *, k, exclude_self, batch_size=None, name="the space", show_progress=False
):
    """The exact table of the rows of ``unit`` (unit rows) among themselves.

    The same table as ``exact_table(unit, unit, ...)``, from half the products.
    """
    n, width = unit.shape
    tolerance = tie_tolerance(unit.dtype, width)
    # Per row of a block: its products, their transpose and a comparison mask.
    chunk = chunk_n_rows(
        n, n * (2 * unit.itemsize + 2), batch_size, max_bytes=CHUNK_BYTES
    )
    running = min(_running_width(k), n)
    values = np.full((n, running), -np.inf, dtype=unit.dtype)
    columns = np.full((n, running), -1, dtype=column_dtype(n))
    product = ProductBuffer(chunk, n, unit.dtype)
    transposed = np.empty(chunk * n, dtype=unit.dtype)
    batches = list(gen_batches(n, chunk))
    for rows in progress(
        batches, description=f"neighbours of {name}", enabled=show_progress
    ):
        start, stop = rows.start, rows.stop
        later = n - start
        block = np.matmul(
            unit[rows],
            unit[start:].T,
            out=product.buffer.ravel()[: (stop - start) * later].reshape(-1, later),
        )
        if exclude_self:
            block[np.arange(stop - start), np.arange(stop - start)] = -np.inf
        found, where = _candidates(block, k, tolerance, product.mask)
        _merge(values, columns, rows, found, where + start, k)
        if stop < n:
            # The transpose: rows after the block, among the block's columns.
            after = block[:, stop - start :]
            flipped = transposed[: after.size].reshape(after.shape[::-1])
            np.copyto(flipped, after.T)
            # In pieces of a block's height: the merge's scratch stays that small.
            for piece in gen_batches(n - stop, stop - start):
                found, where = _candidates(flipped[piece], k, tolerance, product.mask)
                target = slice(stop + piece.start, stop + piece.stop)
                _merge(values, columns, target, found, where + start, k)
    del product, transposed
    regular, kept = _kept(values, columns, k, tolerance)
    del values, columns
    return _finish(unit, regular, kept, k, tolerance, exclude_self, batch_size, name)


def _merge(values, columns, rows, found, where, k):
    """Keep, for ``rows``, the largest values among the kept and the ``found``.

    The ``running``-th largest value of each row is a threshold (a partition of the
    values alone, several times faster than an argument partition); the values above
    it, then those equal to it, are packed to the left. Values equal to the
    threshold beyond ``running`` are dropped: such a row keeps ``running`` values
    at least as large, so if they reach its ``k``-th place it has more than ``k``
    there and is searched again in full at the end.
    """
    running = values.shape[1]
    both = np.concatenate([values[rows], found], axis=1)
    n_rows, total = both.shape
    threshold = np.partition(both, total - running, axis=1)[:, total - running, None]
    # Above the threshold first, then the values equal to it, row by row.
    flat = np.concatenate(
        [np.flatnonzero(both > threshold), np.flatnonzero(both == threshold)]
    )
    flat = flat[np.argsort(flat // total, kind="stable")]
    row_of = flat // total
    counts = np.bincount(row_of, minlength=n_rows)
    position = np.arange(flat.shape[0]) - (np.cumsum(counts) - counts)[row_of]
    fits = position < running
    flat, row_of, position = flat[fits], row_of[fits], position[fits]
    both_columns = np.concatenate(
        [columns[rows], np.broadcast_to(where, found.shape)], axis=1
    )
    kept_values = np.full((n_rows, running), -np.inf, dtype=values.dtype)
    kept_columns = np.full((n_rows, running), -1, dtype=columns.dtype)
    kept_values[row_of, position] = both.ravel()[flat]
    kept_columns[row_of, position] = both_columns.ravel()[flat]
    values[rows], columns[rows] = kept_values, kept_columns


def _kept(values, columns, k, tolerance):
    """Which rows have no tie at their k-th place, and their k columns, sorted."""
    running = values.shape[1]
    kth = np.partition(values, running - k, axis=1)[:, running - k]
    top = values >= (kth - tolerance)[:, None]
    regular = np.count_nonzero(top, axis=1) == k
    kept = np.sort(columns[regular][top[regular]].reshape(-1, k), axis=1).ravel()
    return regular, kept


def _finish(unit, regular, kept, k, tolerance, exclude_self, batch_size, name):
    """The table: the kept columns of rows without ties, a full search for the others."""
    n = unit.shape[0]
    lengths = np.full(n, k, dtype=np.int64)
    entry_rows = [np.repeat(np.flatnonzero(regular), k)]
    indices = [kept]
    delta = [np.ones(indices[0].shape[0])]
    background = np.zeros(n)
    tied = np.flatnonzero(~regular)
    limit = max(4 * n * k, get_config()["working_memory"] * 2**20 // ENTRY_BYTES)
    stored = indices[0].shape[0]
    if tied.size:
        harmonic = harmonic_numbers(k)
        chunk = chunk_n_rows(
            tied.shape[0], n * (unit.itemsize + 2), batch_size, max_bytes=CHUNK_BYTES
        )
        product = ProductBuffer(chunk, n, unit.dtype)
        for part in gen_batches(tied.shape[0], chunk):
            rows = tied[part]
            similarities = product(unit[rows], unit)
            if exclude_self:
                similarities[np.arange(rows.shape[0]), rows] = -np.inf
            piece = _select(
                similarities,
                k,
                tolerance,
                False,
                harmonic,
                rows if exclude_self else None,
                product.mask,
            )
            piece_lengths, piece_indices, piece_delta, piece_background = piece[:4]
            lengths[rows] = piece_lengths
            background[rows] = piece_background
            entry_rows.append(np.repeat(rows, piece_lengths))
            indices.append(piece_indices)
            delta.append(piece_delta)
            stored += piece_indices.shape[0]
            if stored > limit:
                raise ValueError(
                    f"{name}: too many rows tie at the {k}th-nearest place "
                    "(duplicate, constant or zero rows): their tied neighbours need "
                    f"more than {format_bytes(limit * ENTRY_BYTES)}. Remove duplicate "
                    "rows, or raise scikit-learn's working_memory (sklearn.set_config)."
                )
    # Entries in row order (a stable sort keeps each row's columns increasing).
    order = np.argsort(np.concatenate(entry_rows), kind="stable")
    return NeighbourTable(
        np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        np.concatenate(indices)[order].astype(column_dtype(n), copy=False),
        np.concatenate(delta)[order],
        background,
        k=k,
        n_columns=n,
        self_excluded=exclude_self,
    )
