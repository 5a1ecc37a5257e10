"""Anchors from a stream: uniform samples of rows seen over several batches.

``RelativeTransformer.partial_fit`` keeps a reservoir (Vitter's Algorithm R): after
``n`` rows, it holds a uniform random sample without replacement of ``min(n,
capacity)`` of them, whatever the batch sizes. A row is offered once, and the sample
costs ``capacity`` rows of memory, never the stream. ``"stratified"`` keeps one
reservoir per class and cuts the anchors from them with the quota rule of
:func:`~skrelrep.anchors._selection.class_quota`, applied to the class counts seen so
far.
"""

import numbers

import numpy as np
import scipy.sparse as sp

from ..utils._array_api import take_rows
from ..utils._compat import get_namespace_and_device
from ._selection import check_class_labels, class_quota

__all__ = ["STREAM_STRATEGIES", "StreamSample", "stream_problem"]

#: The strategies that a stream can serve: each needs one pass and bounded memory.
STREAM_STRATEGIES = ("random", "stratified")


def stream_problem(strategy, n_anchors):
    """Why a stream cannot give these anchors (a message), or ``None``."""
    if not (isinstance(strategy, str) and strategy in STREAM_STRATEGIES):
        described = repr(strategy) if isinstance(strategy, str) else "this one"
        return (
            f"partial_fit supports anchor_selection in {list(STREAM_STRATEGIES)}: "
            "each needs one pass over the rows and memory for the anchors only. "
            f"anchor_selection={described} needs every row at once: call fit on "
            "the data (or on a sample of it), or use anchor_selection='random'."
        )
    if not isinstance(n_anchors, numbers.Integral):
        return (
            "partial_fit needs an integer n_anchors: a stream's length is unknown, so "
            f"a fraction or None cannot be resolved (got n_anchors={n_anchors!r})."
        )
    return None


class RowReservoir:
    """A uniform sample without replacement of at most ``capacity`` rows of a stream.

    Attributes
    ----------
    indices : ndarray of int
        Positions in the whole stream of the rows held, in slot order.
    rows : array or CSR matrix, or None
        Those rows, in the container and namespace of the first batch offered (rows
        of a later batch are converted: dense rows become CSR, or the reverse).
    n_seen : int
        Rows offered so far.
    """

    def __init__(self, capacity):
        self.capacity = capacity
        self.indices = np.empty(0, dtype=np.intp)
        self.rows = None
        self.n_seen = 0

    def offer(self, X, positions, offset, rng):
        """Offer rows ``X[positions]``, whose indices in the stream are ``offset + positions``.

        The rows are offered in order, as Algorithm R offers them one at a time:
        the first ``capacity`` fill the reservoir, and the row seen ``t``-th
        (0-based) replaces a uniformly chosen slot with probability
        ``capacity / (t + 1)``. Every draw is made at once, and only the rows that
        end in the reservoir are copied.

        Returns the reservoir's next state, for :meth:`commit`: nothing changes
        until then, so that a batch refused by any reservoir leaves none changed.
        """
        positions = np.asarray(positions, dtype=np.intp)
        n_fill = int(np.clip(self.capacity - self.n_seen, 0, positions.size))
        fill, rest = positions[:n_fill], positions[n_fill:]
        seen_before = self.n_seen + n_fill + np.arange(rest.size)
        slots = rng.randint(0, seen_before + 1) if rest.size else rest
        accepted = slots < self.capacity
        slots, rest = slots[accepted], rest[accepted]
        # A slot written twice in this batch keeps the last row written to it.
        winners, last = np.unique(slots[::-1], return_index=True)
        winning_rows = rest[::-1][last]
        n_old = self.indices.size
        kept = np.setdiff1d(np.arange(n_old + n_fill), winners, assume_unique=True)
        kept_old, kept_fill = kept[kept < n_old], fill[kept[kept >= n_old] - n_old]
        new_rows = np.concatenate([kept_fill, winning_rows])
        indices = np.concatenate([self.indices[kept_old], offset + new_rows])
        rows = _stack(
            None if self.rows is None else take_rows(self.rows, kept_old),
            take_rows(X, new_rows),
        )
        return indices, rows, self.n_seen + positions.size

    def commit(self, state):
        """Take the state returned by :meth:`offer`."""
        self.indices, self.rows, self.n_seen = state


#: The key of the one reservoir of ``"random"``.
ALL_ROWS = "all rows"


class StreamSample:
    """The anchors of a stream: one reservoir, or one per class.

    A batch is checked before any reservoir changes: a refused batch (rows of
    another namespace, labels that cannot be compared with those seen before)
    leaves the sample as it was.

    Parameters
    ----------
    strategy : {"random", "stratified"}
    n_anchors : int
        Anchors wanted once enough rows have been seen.
    """

    def __init__(self, strategy, n_anchors):
        problem = stream_problem(strategy, n_anchors)
        if problem:
            raise ValueError(problem)
        self.strategy = strategy
        self.n_anchors = int(n_anchors)
        self.n_seen = 0
        # Class label -> RowReservoir; "random" keeps one, under ALL_ROWS (a string,
        # which skops saves and loads as data: None's type it cannot load).
        self.reservoirs = {}

    def offer(self, X, y, rng):
        """Offer a batch of rows (and, for ``"stratified"``, their class labels)."""
        self._check_container(X)
        if self.strategy == "random":
            groups = {ALL_ROWS: np.arange(X.shape[0])}
        else:
            y = check_class_labels(y, method="partial_fit(X, y)")
            labels = self._check_labels(y)
            groups = {
                label: np.flatnonzero(y == value) for label, value in labels.items()
            }
        reservoirs = {
            label: self.reservoirs.get(label) or RowReservoir(self.n_anchors)
            for label in groups
        }
        # Every reservoir's next state first, then all of them at once.
        states = {
            label: reservoirs[label].offer(X, members, self.n_seen, rng)
            for label, members in groups.items()
        }
        for label, state in states.items():
            reservoirs[label].commit(state)
            # A class may receive every anchor, when the others are small.
            self.reservoirs[label] = reservoirs[label]
        self.n_seen += X.shape[0]

    def anchors(self, rng):
        """The anchor rows and their indices in the stream.

        Returns
        -------
        rows : array or CSR matrix of shape (n_anchors_, n_features)
        indices : ndarray of int of shape (n_anchors_,)
            Sorted for ``"random"``; grouped by class for ``"stratified"``.
        """
        if self.strategy == "random":
            reservoir = self.reservoirs[ALL_ROWS]
            order = np.argsort(reservoir.indices, kind="stable")
            return take_rows(reservoir.rows, order), reservoir.indices[order]
        labels = sorted(self.reservoirs)
        sizes = np.array([self.reservoirs[label].n_seen for label in labels])
        quota = class_quota(sizes, min(self.n_anchors, int(sizes.sum())), rng)
        rows, indices = None, []
        for label, count in zip(labels, quota, strict=True):
            if count == 0:
                continue
            reservoir = self.reservoirs[label]
            # A uniform subset of a uniform sample of the class is uniform over it.
            picks = np.sort(rng.choice(reservoir.indices.size, count, replace=False))
            rows = _stack(rows, take_rows(reservoir.rows, picks))
            indices.append(reservoir.indices[picks])
        return rows, np.concatenate(indices)

    def _check_container(self, X):
        """Refuse rows that cannot join those held: another array namespace."""
        held = next(
            (r.rows for r in self.reservoirs.values() if r.rows is not None), None
        )
        if held is None or (_host(held) and _host(X)):
            return
        held_space, batch_space = _namespace_name(held), _namespace_name(X)
        if held_space != batch_space:
            raise ValueError(
                f"partial_fit got a batch of {batch_space} arrays after batches of "
                f"{held_space} arrays: the anchors are held in the namespace of the "
                "first batch. Convert the batch to it (NumPy and SciPy sparse mix "
                "freely), or call fit to start a new stream."
            )

    def _check_labels(self, y):
        """``{label: value in y}`` for the classes of ``y``, or a ``ValueError``
        when they cannot be sorted together with the classes seen before."""
        try:
            values = np.unique(y)
            labels = {value.item(): value for value in values}
            sorted([*self.reservoirs, *labels])
        except TypeError as error:
            seen = sorted({type(label).__name__ for label in self.reservoirs})
            new = sorted(
                {type(label).__name__ for label in np.asarray(y).ravel().tolist()}
            )
            raise ValueError(
                "anchor_selection='stratified' needs class labels of one kind over "
                f"the stream: this batch has labels of type {', '.join(new)}, the "
                f"batches before had {', '.join(seen) or 'none'} (they cannot be "
                "ordered together). Encode the labels the same way in every batch "
                "(for instance with one LabelEncoder fitted on every class)."
            ) from error
        return labels


def _host(X):
    return sp.issparse(X) or isinstance(X, np.ndarray)


def _namespace_name(X):
    if _host(X):
        return "NumPy/SciPy"
    xp, _, _ = get_namespace_and_device(X)
    return getattr(xp, "__name__", type(X).__name__)


def _stack(first, second):
    """``first`` above ``second``, in the container of ``first`` (which may be
    None): dense rows below CSR ones become CSR, CSR rows below dense ones dense."""
    if first is None:
        return second
    if sp.issparse(first):
        return sp.vstack([first, sp.csr_matrix(second)], format="csr")
    if isinstance(first, np.ndarray):
        second = second.toarray() if sp.issparse(second) else second
        return np.concatenate([first, second])
    xp, _, _ = get_namespace_and_device(first)
    return xp.concat([first, second], axis=0)
