"""QueryBridge: search an index built by one model with another model's queries.

:class:`QueryBridge` checks its inputs, prepares them, hands the choices to
cross-validation (:mod:`._fitting`) and keeps the fitted map, the index and each
document's hubness term; :meth:`QueryBridge.kneighbors` searches the index in blocks
(:mod:`._search`).
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..relative._input_space import InputSpace, width_hint
from ..utils._array_api import to_numpy
from ..utils._compat import Interval, StrOptions, _fit_context
from ._fitting import Problem, build, choose, final_margins
from ._forecast import forecast
from ._maps import NewSide, unit
from ._search import sweep

__all__ = ["QueryBridge"]

_HINT = (
    "QueryBridge maps the new model's queries into the old model's index: fit takes "
    "the anchors embedded by the new model (X) and by the old one (y), index= the "
    "old model's index and unpaired_queries= queries of the new model; transform "
    "and kneighbors take queries of the new model."
)
# Cosine of an anchor's old row with an index row above which they are one item.
_SAME_ROW = 1 - 1e-4


class QueryBridge(TransformerMixin, BaseEstimator):
    """Search an index embedded by an old model with a new model's queries.

    A vector index holds a corpus embedded by an old model; a new model embeds the
    queries. Instead of re-embedding the corpus, the bridge maps the new model's
    queries into the old space, learnt from *parallel anchors* (corpus items embedded
    by both models) and, optionally, from *unpaired queries* (a log of the new
    model's queries, with no known answer). It

    - maps with :class:`~skrelrep.LatentTranslator` (orthogonal Procrustes, linear
      least squares; each scaling), or starts from relative representations when
      they do better, as they do with few anchors;
    - grows its anchors by self-training: each unpaired query is paired with the
      index documents it is nearest to under CSLS (softly, weighted by their
      scores, or only with a mutual nearest neighbour), round after round;
    - refines the map for retrieval with a contrastive loss over hard negatives;
    - corrects hubness at search time with CSLS, from statistics of the index and
      the mapped queries taken at fit.

    Each choice (start, rounds, epochs, CSLS or cosine) is made by cross-validation
    on the anchors: held-out anchors serve as queries that must find their own
    document in the index. See :ref:`migration`.

    Parameters
    ----------
    method : {"auto", "orthogonal", "linear", "affine"}, default="auto"
        The translation's map (see :class:`~skrelrep.LatentTranslator`); ``"auto"``
        compares orthogonal and (with more anchors than features) linear.

    scaling : {"auto", "isotropic", "per_feature"} or None, default="auto"
        The translation's scaling; ``"auto"`` compares them for the orthogonal map.

    start : {"auto", "translation", "relative"}, default="auto"
        What self-training starts from. ``"relative"`` needs unpaired queries.

    hubness : {"auto", "csls"} or None, default="auto"
        The search's correction: CSLS, none (plain cosine), or the better of both
        by cross-validation.

    pairing : {"soft", "mutual"}, default="soft"
        How self-training pairs unpaired queries with documents: each query with
        the softmax-weighted mean of its 10 best documents under CSLS, or mutual
        nearest neighbours only (see :ref:`migration`).

    max_rounds : int, default=15
        Most self-training rounds; fewer are run when held-out anchors stop
        improving. Used only with unpaired queries.

    max_epochs : int, default=6
        Most epochs of contrastive refinement; 0 for none.

    n_hub_neighbors : int, default=10
        Neighbours ``k`` of CSLS.

    cv : int, default=3
        Folds of the anchors' cross-validation.

    random_state : int, RandomState instance or None, default=None
        Folds and refinement batches.

    check_input_space : bool, default=True
        Refuse unpaired queries, queries (``transform``) or an index that cannot come
        from the space of the matching anchors (see :ref:`input_space_guard`).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features_in_, n_features_out_)
        The map applied to prepared queries: ``transform(X)`` is the unit rows of
        ``prepare(X) @ coef_ + intercept_``.

    intercept_ : ndarray of shape (n_features_out_,)

    index_ : ndarray of shape (n_index, n_features_out_)
        The index, as unit rows.

    penalty_ : ndarray of shape (n_index,)
        What the search subtracts from each document's cosine: CSLS's ``r_d / 2``
        (zeros with plain cosine). Store it with the index to search elsewhere.

    start_ : {"translation", "relative"}
    method_, scaling_ : str
        The translation used.
    n_rounds_ : int
        Self-training rounds run.
    n_epochs_ : int
        Contrastive epochs run.
    hubness_ : {"csls"} or None
    n_pairs_ : int
        Pairs the final map was fitted on: anchors and self-training pairs.
    cv_results_ : dict
        Cross-validated Recall@10 of held-out anchors of every setting tried.
    cv_score_ : float
        That of the chosen settings.
    forecast_ : dict
        ``{"recall@10": f, "interval": (low, high)}``: the predicted fraction of
        re-embedding's Recall@10 for the new model's queries (see
        :ref:`migration`).
    n_features_in_ : int
        Width of the new model's space.
    n_features_out_ : int
        Width of the old model's space.

    See Also
    --------
    LatentTranslator : The map alone, from anchors.

    References
    ----------
    .. [1] A. Conneau, G. Lample, M. Ranzato, L. Denoyer and H. Jégou, "Word
       translation without parallel data", ICLR 2018.
    .. [2] M. Artetxe, G. Labaka and E. Agirre, "A robust self-learning method for
       fully unsupervised cross-lingual mappings of word embeddings", ACL 2018.
    .. [3] I. Cannistraci et al., "Bootstrapping parallel anchors for relative
       representations", 2023.

    Examples
    --------
    Two spaces of the same items, one a rotated, noisy copy of the other:

    >>> import numpy as np
    >>> from skrelrep.retrieval import QueryBridge
    >>> rng = np.random.RandomState(0)
    >>> old = rng.normal(size=(500, 16))
    >>> rotation = np.linalg.qr(rng.normal(size=(16, 16)))[0]
    >>> new = old @ rotation + 0.1 * rng.normal(size=old.shape)
    >>> bridge = QueryBridge(random_state=0).fit(new[:100], old[:100], index=old)
    >>> ids = bridge.kneighbors(new[100:110], n_neighbors=1, return_distance=False)
    >>> ids.ravel().tolist() == list(range(100, 110))
    True
    """

    _parameter_constraints: dict = {
        "method": [StrOptions({"auto", "orthogonal", "linear", "affine"})],
        "scaling": [StrOptions({"auto", "isotropic", "per_feature"}), None],
        "start": [StrOptions({"auto", "translation", "relative"})],
        "hubness": [StrOptions({"auto", "csls"}), None],
        "pairing": [StrOptions({"soft", "mutual"})],
        "max_rounds": [Interval(numbers.Integral, 0, None, closed="left")],
        "max_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
        "n_hub_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
        "cv": [Interval(numbers.Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
        "check_input_space": ["boolean"],
    }

    def __init__(
        self,
        *,
        method="auto",
        scaling="auto",
        start="auto",
        hubness="auto",
        pairing="soft",
        max_rounds=15,
        max_epochs=6,
        n_hub_neighbors=10,
        cv=3,
        random_state=None,
        check_input_space=True,
    ):
        self.method = method
        self.scaling = scaling
        self.start = start
        self.hubness = hubness
        self.pairing = pairing
        self.max_rounds = max_rounds
        self.max_epochs = max_epochs
        self.n_hub_neighbors = n_hub_neighbors
        self.cv = cv
        self.random_state = random_state
        self.check_input_space = check_input_space

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, *, index=None, unpaired_queries=None):
        """Learn the bridge from parallel anchors, the index and unpaired queries.

        Parameters
        ----------
        X : array-like of shape (n_anchors, n_features_new)
            The anchors embedded by the new model.

        y : array-like of shape (n_anchors, n_features_old)
            The same anchors, in the same order, embedded by the old model.

        index : array-like of shape (n_index, n_features_old), default=None
            The old model's index, searched by :meth:`kneighbors`; its rows need not
            include the anchors. By default the anchors ``y`` alone.

        unpaired_queries : array-like of shape (n_queries, n_features_new), \
                default=None
            Queries embedded by the new model, with no known answer (a query log),
            for self-training and the hubness statistics.

        Returns
        -------
        self : object
            Fitted bridge.
        """
        state = _fit_state(self, X, y, index, unpaired_queries)
        # Everything was computed before anything is set: an error leaves the
        # estimator as it was.
        for name in list(vars(self)):
            if name.endswith("_") and not name.startswith("__"):
                delattr(self, name)
        for name, value in state.items():
            setattr(self, name, value)
        return self

    def transform(self, X):
        """Map new-model queries into the old model's space (unit rows).

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features_in_)
            Queries embedded by the new model.

        Returns
        -------
        X_new : ndarray of shape (n_queries, n_features_out_)
            The queries in the old space, unit rows, in the floating dtype of
            ``X``. Search them by cosine (inner product) among the unit index rows;
            subtract :attr:`penalty_` from each document's score for the hubness
            correction.
        """
        check_is_fitted(self)
        with width_hint(_HINT):
            X = validate_data(
                self, to_numpy(X), reset=False, dtype=[np.float64, np.float32]
            )
        if self.check_input_space:
            self._query_space.check(
                X, np, device=None, estimator=self, hint=_HINT, anchors="new queries"
            )
        prepared = self._new_side.queries(X)
        return unit(
            prepared @ self.coef_.astype(X.dtype) + self.intercept_.astype(X.dtype)
        )

    def kneighbors(self, X, n_neighbors=10, return_distance=True):
        """The index rows nearest to each query, best first.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features_in_)
            Queries embedded by the new model.

        n_neighbors : int, default=10
            Rows to return per query, at most the index's.

        return_distance : bool, default=True
            Return the distances too.

        Returns
        -------
        distances : ndarray of shape (n_queries, n_neighbors)
            ``1 - cos(q, d) + penalty_[d]``, ascending. Only with
            ``return_distance=True``.

        indices : ndarray of shape (n_queries, n_neighbors)
            Rows of the index.
        """
        check_is_fitted(self)
        n_index = self.index_.shape[0]
        if (
            isinstance(n_neighbors, bool)
            or not isinstance(n_neighbors, numbers.Integral)
            or not 1 <= n_neighbors <= n_index
        ):
            raise ValueError(
                f"n_neighbors must be an integer from 1 to the {n_index} rows of the "
                f"index; got {n_neighbors!r}."
            )
        mapped = self.transform(X).astype(self.index_.dtype, copy=False)
        (scores, ids), _ = sweep(
            mapped,
            self.index_,
            row_k=int(n_neighbors),
            col_penalty=self.penalty_ if self.hubness_ else None,
        )
        if return_distance:
            return (1 - scores).astype(mapped.dtype, copy=False), ids
        return ids

    @property
    def _n_features_out(self):
        return self.n_features_out_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # y is the old model's view of the anchors: required, and 2-D.
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _checked(array, name, dtype=None):
    """A finite 2-D float array, or a ValueError that names it."""
    array = to_numpy(array)
    if np.ndim(array) != 2:
        raise ValueError(
            f"{name} must be a 2-D array of embeddings, one row per item; got an "
            f"array of shape {np.shape(array)}. {_HINT}"
        )
    return check_array(
        array,
        dtype=[np.float64, np.float32] if dtype is None else dtype,
        input_name=name,
        ensure_min_samples=1,
    )


def _fit_state(bridge, X, y, index, unpaired_queries):
    """Every fitted attribute, as a dict; raises before anything is set."""
    if y is None:
        raise ValueError(
            "QueryBridge requires y to be passed, but the target y is None: y is the "
            f"old model's embeddings of the anchors. {_HINT}"
        )
    # Validated on a clone, which records n_features_in_ (and feature names): the
    # bridge itself is changed only once everything succeeded.
    shadow = clone(bridge)
    X = validate_data(
        shadow,
        to_numpy(X),
        reset=True,
        dtype=[np.float64, np.float32],
        ensure_min_samples=2,
    )
    y = to_numpy(y)
    if np.ndim(y) != 2:
        raise ValueError(
            "y must hold the old model's embeddings of the anchors, a 2-D array of "
            "shape (n_anchors, n_features_old), one row per row of X; got an array "
            f"of shape {np.shape(y)}. {_HINT}"
        )
    if X.shape[0] != np.shape(y)[0]:
        raise ValueError(
            f"The anchors have {X.shape[0]} rows in X (new model) and "
            f"{np.shape(y)[0]} in y (old model): row i of both must be the same item."
        )
    Y = _checked(y, "y (the old model's anchors)")
    index = Y if index is None else _checked(index, "index")
    if index.shape[1] != Y.shape[1]:
        raise ValueError(
            f"The index has {index.shape[1]} features and the old model's anchors y "
            f"{Y.shape[1]}: the index must be embedded by the anchors' old model."
        )
    queries = None
    if unpaired_queries is not None:
        queries = _checked(unpaired_queries, "unpaired_queries")
        if queries.shape[1] != X.shape[1]:
            raise ValueError(
                f"unpaired_queries have {queries.shape[1]} features and the new "
                f"model's anchors X {X.shape[1]}: they must be embedded by the "
                "anchors' new model."
            )
    if bridge.start == "relative" and (queries is None or not bridge.max_rounds):
        raise ValueError(
            'start="relative" bootstraps from unpaired queries: pass '
            'unpaired_queries= and max_rounds >= 1, or use start="auto".'
        )
    query_space = InputSpace.from_anchors(X if queries is None else queries)
    if bridge.check_input_space:
        if queries is not None:
            InputSpace.from_anchors(X).check(
                queries,
                np,
                device=None,
                estimator=bridge,
                hint=_HINT,
                anchors="new model's anchors (X)",
            )
        InputSpace.from_anchors(Y).check(
            index,
            np,
            device=None,
            estimator=bridge,
            hint=_HINT,
            anchors="old model's anchors (y)",
        )
    # float32 stays float32: the work runs in the index's dtype if every input has it.
    dtype = np.result_type(X.dtype, Y.dtype, index.dtype)
    rng = check_random_state(bridge.random_state)
    new_side = NewSide.fit(X, queries)
    docs = unit(index.astype(dtype, copy=False))
    anchors_old = unit(Y.astype(dtype, copy=False))
    (values, found), _ = sweep(anchors_old, docs, row_k=1)
    in_index = values[:, 0] >= _SAME_ROW
    extra = np.flatnonzero(~in_index)
    targets = np.where(in_index, found[:, 0], 0)
    targets[extra] = docs.shape[0] + np.arange(extra.size)
    problem = Problem(
        anchors_new=new_side.anchors(X.astype(dtype, copy=False)),
        anchors_old=anchors_old,
        targets=targets,
        queries=None if queries is None else new_side.queries(queries.astype(dtype)),
        docs=np.vstack([docs, anchors_old[extra]]) if extra.size else docs,
        doc_mean=docs.mean(axis=0),
        k=bridge.n_hub_neighbors,
    )
    plan = choose(
        problem,
        method=bridge.method,
        scaling=bridge.scaling,
        start=bridge.start,
        hubness=bridge.hubness,
        pairing=bridge.pairing,
        max_rounds=bridge.max_rounds,
        max_epochs=bridge.max_epochs,
        cv=bridge.cv,
        rng=rng,
    )
    stage = build(problem, plan, rng)
    margins = final_margins(problem, plan, stage)
    n_index = docs.shape[0]
    penalty = stage.r_d[:n_index] / 2 if plan.hubness else np.zeros(n_index, dtype)
    method, scaling = plan.translation
    return {
        "coef_": stage.searcher.coef.astype(X.dtype),
        "intercept_": stage.searcher.intercept.astype(X.dtype),
        "index_": docs,
        "penalty_": penalty.astype(dtype),
        "start_": "relative" if plan.start == ("relative",) else "translation",
        "method_": method,
        "scaling_": scaling,
        "n_rounds_": plan.n_rounds,
        "n_epochs_": plan.n_epochs,
        "hubness_": "csls" if plan.hubness else None,
        "n_pairs_": int(
            X.shape[0] + (0 if stage.extra is None else len(stage.extra[0]))
        ),
        "cv_results_": plan.cv_results,
        "cv_score_": plan.cv_score,
        "forecast_": forecast(plan, n_index=n_index, has_queries=queries is not None),
        "n_features_out_": Y.shape[1],
        **{
            name: value
            for name, value in vars(shadow).items()
            if name in ("n_features_in_", "feature_names_in_")
        },
        "_new_side": new_side,
        "_cv_margins": plan.margins,
        "_final_margins": margins,
        "_query_space": query_space,
    }
