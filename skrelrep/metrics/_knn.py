"""Each row's k most similar rows, computed once and reused: the neighbour tables.

Every neighbourhood and retrieval measure of :mod:`skrelrep.metrics` follows one rule
for ties. Two cosine similarities closer than the rounding error of their computation
(``4 sqrt(width)`` units of the dtype's precision) are tied, and a measure is its
average over every order of the tied rows, as if ties were broken at random
independently in each space (McSherry and Najork, 2008). A row tied at the ``k``-th
place is then a fraction of a neighbour: when ``t`` rows tie for the last ``m``
places, each is a neighbour with weight ``m / t``. No measure depends on the order of
the rows, so relabelling a table is the same as searching the relabelled rows again:
a permutation null costs a relabelling, not a search.

A table stores, per query row, a background weight that every column has, and
explicit entries whose weight differs from it. Rows without ties store their ``k``
neighbours with weight 1 on a background of 0. A row whose tie covers most of the
columns (a zero row, a constant space) stores the columns outside the tie instead, on
a background of ``m / t``, so that its storage stays below ``n_columns / 2`` entries.
"""

import numpy as np
from sklearn import get_config
from sklearn.utils import gen_batches

from ..utils._chunks import chunk_n_rows
from ..utils._progress import progress

__all__ = [
    "NeighbourTable",
    "ProductBuffer",
    "dense_table",
    "exact_table",
    "format_bytes",
    "harmonic_numbers",
    "tie_tolerance",
    "tied_reciprocal",
]

# Similarities closer than this many units of rounding (times sqrt(width)) are tied.
TIE_ULPS = 4.0
# Chunks of similarities larger than this are no faster to compute.
CHUNK_BYTES = 256 * 2**20
# Bytes per stored entry: column, weight and reciprocal rank.
ENTRY_BYTES = 24


def column_dtype(n_columns):
    """The smallest integer dtype of column numbers: int32 up to 2**31 columns."""
    return np.int32 if n_columns < 2**31 else np.int64


def format_bytes(n_bytes):
    """``n_bytes`` in the largest binary unit that keeps it above 1."""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n_bytes < 1024:
            return f"{n_bytes:.0f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.0f} TiB"


def tie_tolerance(dtype, width):
    """The largest difference between two similarities that counts as a tie."""
    return TIE_ULPS * np.sqrt(max(int(width), 1)) * float(np.finfo(dtype).eps)


def harmonic_numbers(n):
    """``H[m] = 1 + 1/2 + ... + 1/m`` for ``m = 0..n``, in float64."""
    return np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, n + 1))])


def tied_reciprocal(above, tied, cut, harmonic):
    """Mean of ``1 / rank`` (0 beyond ``cut``) over ranks ``above + 1 .. above + tied``.

    The rank of an item with ``above`` rows strictly more similar and ``tied - 1``
    others tied with it, over the orders of the tie: each rank equally likely.
    """
    above, tied = np.asarray(above), np.asarray(tied)
    high = np.minimum(above + tied, cut)
    low = np.minimum(above, cut)
    return (harmonic[high] - harmonic[low]) / tied


class NeighbourTable:
    """Each query row's ``k`` nearest rows among ``n_columns``, ties averaged.

    The weight of column ``j`` in row ``i`` (the probability that ``j`` is among the
    ``k`` nearest rows of ``i`` when ties are broken at random) is
    ``background[i] + delta[e]`` for an explicit entry ``e = (i, j)`` and
    ``background[i]`` for every other column (``i`` itself excluded when
    ``self_excluded``). ``reciprocal`` holds, when the ranks were kept, the mean of
    ``1 / rank`` (0 beyond rank ``k``) of each explicit entry, and
    ``background_reciprocal`` that of the other columns.
    """

    def __init__(
        self,
        indptr,
        indices,
        delta,
        background,
        *,
        k,
        n_columns,
        self_excluded,
        reciprocal=None,
        background_reciprocal=None,
    ):
        self.indptr, self.indices, self.delta = indptr, indices, delta
        self.background = background
        self.reciprocal, self.background_reciprocal = reciprocal, background_reciprocal
        self.k, self.n_columns, self.self_excluded = k, n_columns, self_excluded
        self.n_rows = indptr.shape[0] - 1
        self.n_valid = n_columns - 1 if self_excluded else n_columns
        lengths = np.diff(indptr)
        row_of = self.row_of()
        self.delta_sums = np.bincount(row_of, delta, minlength=self.n_rows)
        # Rows of exactly k neighbours of weight 1 (no ties): an (n_rows, k) array,
        # compared with another table's such rows without a search.
        ties = np.bincount(row_of, delta != 1, minlength=self.n_rows)
        del row_of
        self.regular = (lengths == k) & (ties == 0) & (background == 0)
        if np.all(self.regular):  # no copy: the entries themselves
            self.dense_indices = indices.reshape(self.n_rows, k)
        else:
            self.dense_indices = np.full((self.n_rows, k), -1, dtype=indices.dtype)
            entries = np.repeat(self.regular, lengths)
            self.dense_indices[self.regular] = indices[entries].reshape(-1, k)
        self._keys = None

    @property
    def keys(self):
        """``row * n_columns + column`` of each entry, increasing: made when searched."""
        if self._keys is None:
            self._keys = self.row_of() * np.int64(self.n_columns) + self.indices
        return self._keys

    def row_of(self):
        """The row of each entry."""
        return np.repeat(np.arange(self.n_rows), np.diff(self.indptr))

    @property
    def nbytes(self):
        arrays = [self.indptr, self.indices, self.delta, self.background, self.keys]
        arrays += [self.delta_sums, self.regular]
        if self.dense_indices.base is not self.indices:
            arrays.append(self.dense_indices)
        arrays += [
            a for a in (self.reciprocal, self.background_reciprocal) if a is not None
        ]
        return sum(a.nbytes for a in arrays)

    def weights(self, row):
        """Row ``row``'s weight on every column, dense (for checks)."""
        dense = np.full(self.n_columns, self.background[row])
        if self.self_excluded:
            dense[row] = 0.0
        entries = slice(self.indptr[row], self.indptr[row + 1])
        dense[self.indices[entries]] += self.delta[entries]
        return dense

    def shared(self, other, rows=None, relabel=None):
        """Per row ``i``, the mean number of neighbours row ``i`` shares with another.

        ``sum_j w(i, j) w'(rows[i], j')``, where ``w'`` is ``other``'s weights and
        ``j = relabel[j']`` maps its columns to these (identity when ``None``). With
        ties broken independently in the two tables, it is the mean size of the
        intersection of the two neighbour sets.
        """
        if other.n_valid != self.n_valid:
            raise ValueError("tables over different numbers of columns")
        rows = np.arange(self.n_rows) if rows is None else rows
        shared = np.empty(self.n_rows)
        slow = np.arange(self.n_rows)
        if self.k <= 64:
            fast = self.regular & other.regular[rows]
            slow = np.flatnonzero(~fast)
            fast = np.flatnonzero(fast)
            shared[fast] = self._shared_regular(other, fast, rows[fast], relabel)
        if slow.size:
            shared[slow] = self._shared_any(other, slow, rows[slow], relabel)
        return shared

    def _shared_any(self, other, mine, theirs, relabel):
        """``shared`` for rows ``mine`` of this table and ``theirs`` of the other."""
        starts = other.indptr[theirs]
        lengths = other.indptr[theirs + 1] - starts
        position = np.repeat(np.arange(mine.shape[0]), lengths)
        offsets = np.cumsum(lengths) - lengths
        entries = np.repeat(starts - offsets, lengths) + np.arange(lengths.sum())
        columns = other.indices[entries]
        if relabel is not None:
            columns = relabel[columns]
        found, hit = self._find(mine[position] * np.int64(self.n_columns) + columns)
        both = np.bincount(
            position[hit],
            self.delta[found[hit]] * other.delta[entries[hit]],
            minlength=mine.shape[0],
        )
        background, their_background = self.background[mine], other.background[theirs]
        return (
            both
            + background * other.delta_sums[theirs]
            + their_background * self.delta_sums[mine]
            + self.n_valid * background * their_background
        )

    def _shared_regular(self, other, mine, theirs, relabel):
        """``shared`` for rows without ties in both tables: common columns."""
        k = self.k
        counts = np.empty(mine.shape[0])
        step = max(1, 2**22 // (k * k))
        for start in range(0, mine.shape[0], step):
            chunk = slice(start, start + step)
            columns = other.dense_indices[theirs[chunk]]
            if relabel is not None:
                columns = relabel[columns]
            equal = self.dense_indices[mine[chunk], :, None] == columns[:, None, :]
            counts[chunk] = np.count_nonzero(equal, axis=(1, 2))
        return counts

    def reciprocal_at(self, targets):
        """Per row ``i``, the mean of ``1 / rank`` of column ``targets[i]`` (0 beyond k)."""
        found, hit = self._find(
            np.arange(self.n_rows) * np.int64(self.n_columns) + targets
        )
        reciprocal = self.background_reciprocal.copy()
        reciprocal[hit] = self.reciprocal[found[hit]]
        return reciprocal

    def _find(self, keys):
        """Where each ``row * n_columns + column`` key is stored, and whether it is."""
        if not self.keys.size:
            return np.zeros(keys.shape, np.intp), np.zeros(keys.shape, bool)
        found = np.searchsorted(self.keys, keys)
        found[found == self.keys.shape[0]] = 0
        return found, self.keys[found] == keys

    def label_share(self, codes, counts):
        """Per row, the mean share of its ``k`` neighbours with the row's own label.

        ``codes`` are the rows' labels as integers ``0..n_labels-1`` (rows and columns
        are the same items) and ``counts`` the number of items of each label.
        """
        row_of = self.row_of()
        same = codes[self.indices] == codes[row_of]
        explicit = np.bincount(row_of[same], self.delta[same], self.n_rows)
        others = counts[codes] - (1 if self.self_excluded else 0)
        return (explicit + self.background * others) / self.k


def dense_table(columns, *, n_columns, self_excluded, ranked):
    """A table from an ``(n_rows, k)`` array of distinct columns, nearest first."""
    n_rows, k = columns.shape
    order = np.argsort(columns, axis=1, kind="stable")
    reciprocal = None
    if ranked:
        reciprocal = np.take_along_axis(
            np.broadcast_to(1.0 / np.arange(1, k + 1), columns.shape), order, axis=1
        ).ravel()
    return NeighbourTable(
        np.arange(0, n_rows * k + 1, k, dtype=np.int64),
        np.take_along_axis(columns, order, axis=1)
        .ravel()
        .astype(column_dtype(n_columns)),
        np.ones(n_rows * k),
        np.zeros(n_rows),
        k=k,
        n_columns=n_columns,
        self_excluded=self_excluded,
        reciprocal=reciprocal,
        background_reciprocal=np.zeros(n_rows) if ranked else None,
    )


class ProductBuffer:
    """``queries @ index.T`` for chunks of queries, always into the same memory.

    A fresh output of a few hundred MiB is paged in by the kernel on first write,
    which costs as much as the product itself on some machines; one buffer, written
    again for every chunk, is paged in once.
    """

    def __init__(self, n_rows, n_columns, dtype):
        self.buffer = np.empty((n_rows, n_columns), dtype=dtype)
        # Scratch for a comparison of the chunk, kept for the same reason.
        self.mask = np.empty((n_rows, n_columns), dtype=bool)

    def __call__(self, queries, index):
        return np.matmul(queries, index.T, out=self.buffer[: queries.shape[0]])


def exact_table(
    queries,
    index,
    *,
    k,
    exclude_self,
    ranked=False,
    batch_size=None,
    name="the space",
    show_progress=False,
):
    """The exact table of ``queries`` (unit rows) against ``index`` (unit rows).

    With ``exclude_self``, ``queries`` is ``index`` and row ``i`` is not its own
    neighbour. Computed a chunk of query rows at a time: one GEMM and a selection of
    the ``k`` largest values per chunk, within ``working_memory`` (and
    ``CHUNK_BYTES``).
    """
    n_rows, n_columns = queries.shape[0], index.shape[0]
    tolerance = tie_tolerance(queries.dtype, queries.shape[1])
    harmonic = harmonic_numbers(k)
    chunk = chunk_n_rows(
        n_rows, n_columns * (queries.itemsize + 2), batch_size, max_bytes=CHUNK_BYTES
    )
    limit = max(4 * n_rows * k, get_config()["working_memory"] * 2**20 // ENTRY_BYTES)
    pieces, stored = [], 0
    batches = list(gen_batches(n_rows, chunk))
    product = ProductBuffer(chunk, n_columns, np.result_type(queries, index))
    for rows in progress(
        batches, description=f"neighbours of {name}", enabled=show_progress
    ):
        similarities = product(queries[rows], index)
        self_columns = None
        if exclude_self:
            self_columns = np.arange(rows.start, rows.stop)
            similarities[np.arange(similarities.shape[0]), self_columns] = -np.inf
        piece = _select(
            similarities, k, tolerance, ranked, harmonic, self_columns, product.mask
        )
        pieces.append(piece)
        stored += piece[1].shape[0]
        if stored > limit:
            raise ValueError(
                f"{name}: too many rows tie at the {k}th-nearest place (duplicate, "
                "constant or zero rows): their tied neighbours need more than "
                f"{format_bytes(limit * ENTRY_BYTES)}. Remove duplicate rows, or "
                "raise scikit-learn's working_memory (sklearn.set_config)."
            )
    lengths, indices, delta, background, reciprocal, background_reciprocal = (
        np.concatenate(part) for part in zip(*pieces, strict=True)
    )
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return NeighbourTable(
        indptr,
        indices,
        delta,
        background,
        k=k,
        n_columns=n_columns,
        self_excluded=exclude_self,
        reciprocal=reciprocal if ranked else None,
        background_reciprocal=background_reciprocal if ranked else None,
    )


def _candidates(similarities, k, tolerance, mask=None):
    """Each row's values that may be among its ``k`` largest (or tied with the k-th).

    The k-th largest value of a strided sample of a row is a lower bound of the row's
    k-th largest, so only the values reaching it (less the tie tolerance) are kept:
    left-aligned in a narrow block, in increasing column order, padded with
    ``-inf``. Short rows, or rows the bound does not thin out (heavy ties), are
    returned whole.
    """
    n_rows, n_columns = similarities.shape
    step = n_columns // max(8 * k, n_columns // 16)
    if step >= 2:
        sample = similarities[:, ::step]
        n_sampled = sample.shape[1]
        bound = np.partition(sample, n_sampled - k, axis=1)[:, n_sampled - k, None]
        out = None
        if mask is not None:  # scratch of at least this size, viewed in this shape
            out = mask.ravel()[: similarities.size].reshape(similarities.shape)
        candidates = np.greater_equal(similarities, bound - tolerance, out=out)
        # A whole count first (fast), so that heavy ties never list most of a chunk.
        if 4 * np.count_nonzero(candidates) <= candidates.size:
            flat = np.flatnonzero(candidates)
            counts = np.bincount(flat // n_columns, minlength=n_rows)
            width = counts.max()
            if 2 * width <= n_columns:
                starts = np.cumsum(counts) - counts
                in_rows = np.repeat(np.arange(n_rows), counts)
                positions = np.arange(flat.shape[0]) - np.repeat(starts, counts)
                values = np.full((n_rows, width), -np.inf, dtype=similarities.dtype)
                values[in_rows, positions] = similarities.ravel()[flat]
                columns = np.zeros((n_rows, width), dtype=np.intp)
                columns[in_rows, positions] = flat % n_columns
                return values, columns
    return similarities, np.broadcast_to(np.arange(n_columns), similarities.shape)


def _select(similarities, k, tolerance, ranked, harmonic, self_columns, mask=None):
    """The table entries of one chunk of rows: lengths, columns, weights, ranks.

    ``mask``, a boolean array of at least the chunk's shape, is used as scratch.
    """
    n_rows, width_all = similarities.shape
    values, columns = _candidates(similarities, k, tolerance, mask)
    width = values.shape[1]
    kth = np.partition(values, width - k, axis=1)[:, width - k]
    top = values >= (kth - tolerance)[:, None]
    regular = np.count_nonzero(top, axis=1) == k
    top_values = values[regular][top[regular]].reshape(-1, k)
    top_columns = columns[regular][top[regular]].reshape(-1, k)
    ranks = None
    if ranked:
        by_value = np.argsort(-top_values, axis=1, kind="stable")
        ordered = np.take_along_axis(top_values, by_value, axis=1)
        close = np.any(ordered[:, :-1] - ordered[:, 1:] <= tolerance, axis=1)
        ranks = np.empty_like(by_value)
        np.put_along_axis(ranks, by_value, np.arange(1, k + 1)[None, :], axis=1)
        # Ties among the k themselves: their ranks are averaged, row by row below.
        keep = ~close
        regular[np.flatnonzero(regular)[close]] = False
        top_columns, ranks = top_columns[keep], ranks[keep]
    n_regular = top_columns.shape[0]
    parts = {
        "lengths": [np.full(n_rows, k, dtype=np.int64)],
        "indices": [],
        "delta": [],
        "background": np.zeros(n_rows),
        "reciprocal": [],
        "background_reciprocal": np.zeros(n_rows),
    }
    rows_regular = np.flatnonzero(regular)
    entry_rows = [np.repeat(rows_regular, k)]
    parts["indices"].append(top_columns.ravel().astype(column_dtype(width_all)))
    parts["delta"].append(np.ones(n_regular * k))
    if ranked:
        parts["reciprocal"].append(1.0 / ranks.ravel())
    for row in np.flatnonzero(~regular):
        self_column = None if self_columns is None else self_columns[row]
        found = _tied_row(
            similarities[row], kth[row], k, tolerance, ranked, harmonic, self_column
        )
        indices, delta, background, reciprocal, background_reciprocal = found
        parts["lengths"][0][row] = indices.shape[0]
        entry_rows.append(np.full(indices.shape[0], row))
        parts["indices"].append(indices)
        parts["delta"].append(delta)
        parts["background"][row] = background
        if ranked:
            parts["reciprocal"].append(reciprocal)
            parts["background_reciprocal"][row] = background_reciprocal
    # Entries in row order (a stable sort keeps each row's columns increasing).
    order = np.argsort(np.concatenate(entry_rows), kind="stable")
    indices = np.concatenate(parts["indices"])[order]
    delta = np.concatenate(parts["delta"])[order]
    reciprocal = np.concatenate(parts["reciprocal"])[order] if ranked else np.empty(0)
    return (
        parts["lengths"][0],
        indices,
        delta,
        parts["background"],
        reciprocal,
        parts["background_reciprocal"],
    )


def _tied_row(values, kth, k, tolerance, ranked, harmonic, self_column):
    """The entries of one row with ties at (or above) its k-th place."""
    valid = np.isfinite(values)
    if self_column is not None:
        valid[self_column] = False
    above = valid & (values > kth + tolerance)
    tied = valid & (np.abs(values - kth) <= tolerance)
    n_above, n_tied = int(np.count_nonzero(above)), int(np.count_nonzero(tied))
    share = (k - n_above) / n_tied
    n_valid = int(np.count_nonzero(valid))
    tied_reciprocal_value = float(tied_reciprocal(n_above, n_tied, k, harmonic))
    if n_above + n_tied <= n_valid - n_tied:
        indices = np.flatnonzero(above | tied)
        delta = np.where(above[indices], 1.0, share)
        background, background_reciprocal = 0.0, 0.0
    else:  # most columns tie: store the others, on a background of the tie's share
        indices = np.flatnonzero(valid & ~tied)
        delta = np.where(above[indices], 1.0 - share, -share)
        background, background_reciprocal = share, tied_reciprocal_value
    reciprocal = None
    if ranked:
        reciprocal = np.zeros(indices.shape[0])
        in_tie = tied[indices]
        reciprocal[in_tie] = tied_reciprocal_value
        higher = above[indices]
        if np.any(higher):
            # Each row above the k-th place: ranks averaged over its own ties.
            ordered = np.sort(values[above | tied])
            own = values[indices[higher]]
            upper = np.searchsorted(ordered, own + tolerance, side="right")
            lower = np.searchsorted(ordered, own - tolerance, side="left")
            n_higher = ordered.shape[0] - upper
            reciprocal[higher] = tied_reciprocal(n_higher, upper - lower, k, harmonic)
    indices = indices.astype(column_dtype(values.shape[0]))
    return indices, delta, background, reciprocal, background_reciprocal
