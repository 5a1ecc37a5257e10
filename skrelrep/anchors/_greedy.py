"""Anchor search: choose fewer, better anchors by optimising cross-space agreement.

:class:`GreedyAnchorSelector` is an ``anchor_selection`` callable for
:class:`RelativeTransformer`. Given the same items embedded by a second encoder
(parallel data), it adds anchors one at a time, each time the candidate that most
improves the agreement of the two spaces' relative representations on a sample of the
items. Candidates are a fresh random subsample at every step (stochastic greedy), so
the search costs ``n_anchors * n_candidates`` cheap rank-one updates instead of a pass
over every row.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_array, check_random_state, gen_batches

from ..utils._array_api import to_numpy
from ..utils._compat import Interval, StrOptions
from ..utils._finite import quiet_finite_check
from ..utils._norms import inverse_norms, normalize_rows
from ..utils._statistics import centring_scale, column_mean

__all__ = ["GreedyAnchorSelector"]

# Bytes of scratch memory per chunk of candidates scored together (MRR, Jaccard).
_CHUNK_BYTES = 2**26


class GreedyAnchorSelector(BaseEstimator):
    """Greedy anchor selection that maximises agreement across two parallel spaces.

    Use an instance as ``RelativeTransformer(anchor_selection=...)`` and fit the
    transformer with the parallel data: ``fit(X, X_parallel=Z)``, where ``Z`` holds the
    same rows as ``X`` embedded by a second encoder. The parallel data is data, not a
    hyperparameter: it travels with the rows, so cross-validation and grid searches
    split it together with ``X`` (see Examples). The transformer calls the selector as
    ``selector(X, y, n_anchors=..., random_state=..., X_parallel=Z)`` and keeps the
    row indices it returns. Starting from no anchor, every
    step draws ``n_candidates`` unused rows at random and keeps the one whose addition
    makes the relative representations of ``n_eval`` sample rows agree best between the
    two spaces, as measured by ``metric``. The anchors chosen this way make the
    relative space of one encoder a better stand-in for the other's, which is what
    zero-shot stitching needs, so fewer of them reach the quality of many random ones.

    Parameters
    ----------
    metric : {"mrr", "jaccard", "cosine"}, default="mrr"
        The agreement maximised on the sample rows, computed as in
        :mod:`skrelrep.metrics` on their relative representations ``R`` (first space)
        and ``R_parallel``:

        - ``"mrr"``: mean reciprocal rank of each row's match when its ``R`` row is
          ranked against all ``R_parallel`` rows
          (:func:`~skrelrep.metrics.mean_reciprocal_rank`);
        - ``"jaccard"``: mean Jaccard index of each row's ``k`` nearest neighbours in
          the two relative spaces (:func:`~skrelrep.metrics.neighbourhood_jaccard`);
        - ``"cosine"``: mean cosine between each row's two relative representations
          (:func:`~skrelrep.metrics.cosine_agreement`), the cheapest.

    n_candidates : int, default=50
        Rows drawn, without replacement among the rows not yet chosen, as candidates
        at each step. The search costs ``O(n_anchors * n_candidates * n_eval**2)``
        for ``"mrr"`` and ``"jaccard"``, ``O(n_anchors * n_candidates * n_eval)`` for
        ``"cosine"``.

    n_eval : int, default=300
        Rows sampled once (at random, among all rows) on which the agreement is
        measured. All rows when larger than ``n_samples``.

    k : int, default=10
        Number of neighbours of ``metric="jaccard"`` (clipped to ``n_eval - 1``).
        Ignored by the other metrics.

    center : bool, default=True
        Centre each space on the mean of all its rows before the cosines. Set it as the
        :class:`RelativeTransformer`'s ``center``: the transformer centres on the
        anchors' mean, which the data mean approximates during the search.

    See Also
    --------
    RelativeTransformer : The relative projection whose anchors are chosen.
    skrelrep.metrics.mean_reciprocal_rank : The default objective.

    Notes
    -----
    Greedy selection with random candidate subsets is the "stochastic greedy"
    algorithm of Mirzasoleiman et al. (2015). The objectives here are not submodular,
    so no approximation guarantee carries over; the gain is measured, not promised.
    The selection needs parallel data at fit time only: the fitted transformer is an
    ordinary :class:`RelativeTransformer` whose anchors happen to be well chosen. The
    agreement is measured on cosine relative representations, the transformer's
    default similarity; anchors chosen this way for another similarity are untested.

    The random generator passed by :class:`RelativeTransformer` (from its own
    ``random_state``) draws the sample rows and the candidates, so a fixed
    ``random_state`` gives the same anchors. Ties are broken towards the candidate
    drawn first.

    References
    ----------
    .. [1] B. Mirzasoleiman, A. Badanidiyuru, A. Karbasi, J. Vondrák and A. Krause,
       "Lazier Than Lazy Greedy", AAAI 2015. https://arxiv.org/abs/1409.7938
    .. [2] L. Moschella et al., "Relative representations enable zero-shot latent
       space communication", ICLR 2023. https://arxiv.org/abs/2209.15430

    Examples
    --------
    Two noisy views of the same items; anchors chosen greedily for agreement:

    >>> import numpy as np
    >>> from skrelrep import GreedyAnchorSelector, RelativeTransformer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(500, 16))
    >>> X_parallel = X @ rng.normal(size=(16, 16)) + rng.normal(size=(500, 16))
    >>> selector = GreedyAnchorSelector(n_eval=200)
    >>> relative = RelativeTransformer(
    ...     n_anchors=10, anchor_selection=selector, random_state=0
    ... ).fit(X, X_parallel=X_parallel)
    >>> relative.anchor_indices_.shape
    (10,)

    The selector is a plain callable too:

    >>> indices = selector(X, None, n_anchors=10, random_state=0, X_parallel=X_parallel)
    >>> bool(np.array_equal(indices, relative.anchor_indices_))
    True

    In a pipeline, the parallel rows are fit metadata, split with ``X`` by
    cross-validation (here without metadata routing, as a step parameter):

    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn.pipeline import make_pipeline
    >>> y = (X[:, 0] > 0).astype(int)
    >>> pipe = make_pipeline(
    ...     RelativeTransformer(10, anchor_selection=selector, random_state=0),
    ...     LogisticRegression(),
    ... )
    >>> scores = cross_val_score(
    ...     pipe, X, y, cv=2, params={"relativetransformer__X_parallel": X_parallel}
    ... )
    >>> scores.shape
    (2,)
    """

    _parameter_constraints: dict = {
        "metric": [StrOptions({"mrr", "jaccard", "cosine"})],
        "n_candidates": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_eval": [Interval(numbers.Integral, 2, None, closed="left")],
        "k": [Interval(numbers.Integral, 1, None, closed="left")],
        "center": ["boolean"],
    }

    def __init__(
        self,
        *,
        metric="mrr",
        n_candidates=50,
        n_eval=300,
        k=10,
        center=True,
    ):
        self.metric = metric
        self.n_candidates = n_candidates
        self.n_eval = n_eval
        self.k = k
        self.center = center

    def __call__(self, X, y=None, *, n_anchors, random_state=None, X_parallel=None):
        """Choose ``n_anchors`` rows of ``X`` greedily.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The embeddings anchors are chosen from (first space).

        y : None
            Ignored; present for the ``anchor_selection`` callable signature.

        n_anchors : int or None
            Number of anchors; None returns every row, in order.

        random_state : int, RandomState instance or None, default=None
            Draws the sample rows and the candidates.

        X_parallel : array-like of shape (n_samples, n_features_parallel)
            The rows of ``X``, in the same order, embedded by the second encoder.
            Widths may differ. Required.

        Returns
        -------
        indices : ndarray of shape (n_anchors,)
            Distinct row indices of ``X``, in the order they were chosen.
        """
        self._validate_params()
        if X_parallel is None:
            raise ValueError(
                "GreedyAnchorSelector needs the parallel embeddings of the rows: fit "
                "the transformer with fit(X, X_parallel=Z), Z holding the same rows "
                "embedded by the second encoder (in a pipeline, a fit parameter "
                "relativetransformer__X_parallel=Z, or routed metadata)."
            )
        A = _prepare(X, self.center, "X")
        B = _prepare(X_parallel, self.center, "X_parallel")
        n_samples = A.shape[0]
        if B.shape[0] != n_samples:
            raise ValueError(
                "X_parallel must hold the same rows as X, embedded by the second "
                f"encoder: X has {n_samples} rows, X_parallel {B.shape[0]}."
            )
        if n_anchors is None:
            return np.arange(n_samples)
        if not 1 <= n_anchors <= n_samples:
            raise ValueError(
                f"n_anchors must be between 1 and n_samples={n_samples}, got "
                f"{n_anchors}."
            )
        rng = check_random_state(random_state)
        rows = rng.choice(n_samples, size=min(self.n_eval, n_samples), replace=False)
        sample_a, sample_b = A[rows], B[rows]
        objective = _OBJECTIVES[self.metric](len(rows), k=min(self.k, len(rows) - 1))
        available = np.ones(n_samples, dtype=bool)
        chosen = []
        for _ in range(n_anchors):
            pool = np.flatnonzero(available)
            candidates = rng.choice(
                pool, size=min(self.n_candidates, pool.size), replace=False
            )
            # Cosines of the sample rows to each candidate: its relative column.
            columns_a = sample_a @ A[candidates].T
            columns_b = sample_b @ B[candidates].T
            best = int(np.argmax(objective.scores(columns_a, columns_b)))
            objective.add(columns_a[:, best], columns_b[:, best])
            chosen.append(candidates[best])
            available[candidates[best]] = False
        return np.asarray(chosen, dtype=np.intp)


def _prepare(X, center, name):
    with quiet_finite_check():
        X = check_array(to_numpy(X), dtype=[np.float64, np.float32], input_name=name)
    X = X.astype(np.float64, copy=False)
    if center:
        # Centred where the rows cannot overflow: the cosines ignore the scale.
        X = X * centring_scale(X, np)
        X = X - column_mean(X, np)
    return normalize_rows(X, np)


class _CosineAgreement:
    """Mean cosine between each sample row's two relative vectors, kept incrementally.

    Only the per-row dot product and squared norms change when a column is added.
    """

    def __init__(self, n_rows, k):
        self.dot = np.zeros(n_rows)
        self.norm_a = np.zeros(n_rows)
        self.norm_b = np.zeros(n_rows)

    def scores(self, columns_a, columns_b):
        dot = self.dot[:, None] + columns_a * columns_b
        norms = np.sqrt(
            (self.norm_a[:, None] + columns_a**2)
            * (self.norm_b[:, None] + columns_b**2)
        )
        cosines = np.zeros_like(dot)
        np.divide(dot, norms, out=cosines, where=norms > 0)
        return cosines.mean(axis=0)

    def add(self, column_a, column_b):
        self.dot += column_a * column_b
        self.norm_a += column_a**2
        self.norm_b += column_b**2


class _MeanReciprocalRank:
    """MRR of each sample row's match, from ``R`` into ``R_parallel``.

    Keeps the cross products ``R R_parallel^T`` and the norms of ``R_parallel``'s rows;
    a row's own norm scales its whole row of similarities, so it never changes a rank.
    """

    def __init__(self, n_rows, k):
        self.cross = np.zeros((n_rows, n_rows))
        self.norm_b = np.zeros(n_rows)

    def scores(self, columns_a, columns_b):
        n_rows, n_candidates = columns_a.shape
        out = np.empty(n_candidates)
        diagonal = np.arange(n_rows)
        for chunk in gen_batches(n_candidates, _chunk(n_rows)):
            a, b = columns_a[:, chunk].T, columns_b[:, chunk].T  # (c, n_rows)
            # In place: the (c, n, n) arrays are the whole cost of a step.
            similarities = a[:, :, None] * b[:, None, :]
            similarities += self.cross
            similarities *= inverse_norms(np.sqrt(self.norm_b + b**2), np)[:, None, :]
            own = similarities[:, diagonal, diagonal]
            ranks = 1 + np.count_nonzero(similarities > own[:, :, None], axis=2)
            out[chunk] = np.mean(1.0 / ranks, axis=1)
        return out

    def add(self, column_a, column_b):
        self.cross += np.outer(column_a, column_b)
        self.norm_b += column_b**2


class _JaccardAtK:
    """Mean Jaccard index of the k nearest sample rows in the two relative spaces.

    Keeps each space's Gram matrix ``R R^T``; a neighbour's norm divides its column,
    a row's own norm its whole row (which never changes the row's neighbours).
    """

    def __init__(self, n_rows, k):
        self.k = k
        self.gram_a = np.zeros((n_rows, n_rows))
        self.gram_b = np.zeros((n_rows, n_rows))

    def scores(self, columns_a, columns_b):
        n_rows, n_candidates = columns_a.shape
        out = np.empty(n_candidates)
        for chunk in gen_batches(n_candidates, _chunk(n_rows)):
            in_a = self._neighbours(self.gram_a, columns_a[:, chunk].T)
            in_b = self._neighbours(self.gram_b, columns_b[:, chunk].T)
            shared = np.count_nonzero(in_a & in_b, axis=2)
            out[chunk] = np.mean(shared / (2 * self.k - shared), axis=1)
        return out

    def _neighbours(self, gram, columns):
        """Boolean masks (c, n, n) of each row's k nearest rows, itself excluded."""
        n_rows = gram.shape[0]
        # Negated similarities, so that argpartition's smallest are the nearest.
        similarities = columns[:, :, None] * -columns[:, None, :]
        similarities -= gram
        diagonal = np.arange(n_rows)
        similarities *= inverse_norms(
            np.sqrt(-similarities[:, diagonal, diagonal]), np
        )[:, None, :]
        similarities[:, diagonal, diagonal] = np.inf
        top = np.argpartition(similarities, self.k - 1, axis=2)[:, :, : self.k]
        mask = np.zeros(similarities.shape, dtype=bool)
        np.put_along_axis(mask, top, True, axis=2)
        return mask

    def add(self, column_a, column_b):
        self.gram_a += np.outer(column_a, column_a)
        self.gram_b += np.outer(column_b, column_b)


_OBJECTIVES = {
    "cosine": _CosineAgreement,
    "mrr": _MeanReciprocalRank,
    "jaccard": _JaccardAtK,
}


def _chunk(n_rows):
    """Candidates scored at once: a few (n_rows, n_rows) float64 arrays each."""
    return max(1, _CHUNK_BYTES // (4 * 8 * n_rows * n_rows))
