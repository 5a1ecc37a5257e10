"""Relative representations: re-express samples by their similarity to anchors."""

import math
import numbers
import warnings

import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    clone,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from ._anchors import STRATEGIES, select_anchors
from ._compat import (
    Interval,
    RealNotInt,
    StrOptions,
    _fit_context,
    check_same_namespace,
    get_namespace_and_device,
    is_numpy_namespace,
    to_namespace,
    to_numpy,
    to_numpy_if_tensor,
)
from ._projections import SIMILARITIES, project
from ._similarity import normalize_rows

__all__ = ["RelativeTransformer"]

_ARRAY_ATTRIBUTES = ("anchors_", "anchor_mean_", "anchor_scale_", "anchor_indices_")


class RelativeTransformer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Project samples onto anchors: the relative representation of a latent space.

    Each sample ``x`` becomes the vector of its cosine similarities to ``n_anchors``
    anchor samples, ``r_x = (cos(x, a_1), ..., cos(x, a_K))`` (Moschella et al., 2023).
    The result does not change when the space is rotated, reflected or uniformly
    rescaled, so two encoders that learn the same space up to such a map give the same
    relative representation: this is what makes zero-shot model stitching work.

    ``fit`` chooses the anchors among the rows of ``X`` and keeps them, prepared for
    projection, in ``anchors_``; ``transform`` projects new rows onto them in chunks.
    To express *another* encoder's space relative to the same anchor items (parallel
    anchors), embed those items with that encoder and call :meth:`reanchor`.

    Read more in the :ref:`User Guide <relative_transformer>`.

    Parameters
    ----------
    n_anchors : int, float or None, default=300
        Number of anchors. A float in ``(0, 1]`` is a fraction of ``n_samples``
        (rounded up). ``None`` makes every row of ``X`` an anchor, in order: fit on the
        anchor embeddings themselves. When larger than ``n_samples``, every sample
        becomes an anchor and a warning is raised (as :class:`~sklearn.kernel_approximation.Nystroem`
        does). Ignored when ``anchor_selection`` is an array of indices.

    anchor_selection : {"random", "stratified", "fps", "kmeans"}, array-like or \
            callable, default="random"
        How anchors are chosen among the rows of ``X``:

        - ``"random"``: uniformly without replacement (the paper's default);
        - ``"stratified"``: as equal a number per class of ``y`` as the class sizes
          allow (``fit`` then needs ``y``);
        - ``"fps"``: farthest point sampling in cosine geometry, starting from a random
          row; spreads anchors over directions and never picks a direction twice.
          Exact, at about the cost of one product ``X @ anchors.T``;
        - ``"kmeans"``: the row nearest each centroid of k-means on the L2-normalised
          rows: Lloyd's algorithm started from farthest point sampling and stopped
          after at most 10 iterations, on a uniform sample of
          ``max(10 * n_anchors, n_samples // 10, 10_000)`` rows (every row when there
          are fewer), seeded by ``random_state``; the anchors are rows of that sample.
          About the cost of one product ``X @ anchors.T``; it keeps about half to
          three quarters of the coverage gain of full k-means over random anchors at
          a twentieth of its time (see ``benchmarks/RESULTS.md``);
        - array-like of distinct row indices: exactly these rows, in this order;
        - callable ``f(X, y, n_anchors=..., random_state=...)`` returning distinct row
          indices (``random_state`` is a :class:`numpy.random.RandomState`).

    center : bool, default=False
        Subtract the mean of the anchors (fitted on the anchors) from the anchors and
        from every sample before the cosine. Recommended for encoders whose cosines
        crowd in a narrow band; it adds invariance to translation. Needs at least two
        anchors.

    standardize : bool, default=False
        Divide every feature by its standard deviation over the anchors (after
        centring, if ``center``) before the projection: batch normalisation without
        affine parameters, the batch being the anchor set. It makes the output
        invariant to rescaling each latent dimension by its own factor, not only to
        isotropic rescaling. Features constant over the anchors are left unscaled.

    similarity : {"cosine", "euclidean", "l1", "linf"} or list of them, \
            default="cosine"
        How a sample is compared with each anchor. Distances become similarities by
        negation. Each one buys a different invariance: cosine to rotations,
        reflections and isotropic rescaling; Euclidean to rotations, reflections and
        translations (to rescaling too with ``output_normalization``); L1 and
        L-infinity to permutations and sign flips of the features and translations.
        A list computes each relative space and aggregates them (a product of
        invariances, Cannistraci et al., 2024).

    output_normalization : {"l2", "standard"}, default=None
        Per-row normalisation of each similarity's relative vector, before
        aggregation: unit L2 norm, or zero mean and unit spread across the anchors.
        Recommended when aggregating several similarities, whose scales differ.

    aggregation : {"concatenate", "sum", "mean"}, default="concatenate"
        How the relative spaces of several similarities are combined.

    exponent : float, default=1.0
        Sign-preserving power applied to the similarities (ASIF, Norelli et al.,
        2023, sharpen similarities with an exponent).

    top_k : int, default=None
        Keep only the ``top_k`` largest similarities of each row: the output is then
        a sparse CSR matrix (ASIF's sparsified relative representation). Computed
        chunk by chunk, so the dense output is never held whole.

    batch_size : int, default=None
        Rows projected per chunk in ``transform``. By default, as many as fit in
        scikit-learn's ``working_memory`` (see :func:`sklearn.set_config`). Only
        memory use depends on it: the result does not (up to floating-point
        rounding). On NumPy input without ``center`` no chunk copy is made at all
        (the working set is the output plus a vector of row norms); with
        ``center=True`` each chunk is centred into a reused buffer, by default of at
        most 64 MiB.

    random_state : int, RandomState instance or None, default=None
        Seeds the random choices of every selection strategy. Pass an int for
        reproducible anchors.

    Attributes
    ----------
    anchor_indices_ : array of shape (n_anchors_,)
        Rows of the ``X`` given to ``fit`` that became anchors, in anchor order (an
        integer array in the namespace of that ``X``).

    anchors_ : array of shape (n_anchors_, n_features_in_)
        The anchor embeddings prepared for projection: centred (if ``center``),
        divided by ``anchor_scale_`` (if ``standardize``) and, when ``similarity`` is
        ``"cosine"``, L2-normalised. Same namespace, device and dtype as the ``X``
        given to ``fit``.

    anchor_mean_ : array of shape (n_features_in_,)
        Mean of the anchor embeddings, subtracted before the cosine. Only present when
        ``center=True``.

    anchor_scale_ : array of shape (n_features_in_,)
        Standard deviation of each feature over the anchors (1 where it is zero),
        dividing every sample before the projection. Only present when
        ``standardize=True``.

    n_anchors_ : int
        Number of anchors; the number of output features, times the number of
        similarities when several are concatenated.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    StitchedPipeline : Encoder, relative projection and decoder, stitchable across
        encoders.
    sklearn.kernel_approximation.Nystroem : Landmark-based kernel features, the closest
        scikit-learn analogue.

    Notes
    -----
    The output of a row of zeros (or, with ``center=True``, a row equal to the anchor
    mean) is a row of zeros. Identical rows chosen as anchors give identical output
    columns; explicit or callable selections must not repeat an index.

    Array API inputs (for example torch tensors on a GPU) are projected in their own
    namespace and on their own device when ``sklearn.set_config(array_api_dispatch=True)``
    is set; as in scikit-learn, ``transform`` then needs the namespace and device used
    in ``fit``. Pickling stores the fitted arrays as NumPy arrays, so a transformer
    fitted on a GPU loads on a machine without one and transforms NumPy input there. To
    use an unpickled transformer on a GPU again, move it as scikit-learn's own
    estimators are moved: ``xp, _, device = get_namespace_and_device(X)`` then
    ``transformer = move_estimator_to(transformer, xp, device)``, which returns a
    moved copy (both in ``sklearn.utils._array_api``, scikit-learn >= 1.8), or refit
    it.

    References
    ----------
    .. [1] L. Moschella, V. Maiorca, M. Fumero, A. Norelli, F. Locatello and E. Rodolà,
       "Relative representations enable zero-shot latent space communication",
       ICLR 2023. https://arxiv.org/abs/2209.15430

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import ortho_group
    >>> from skrelrep import RelativeTransformer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(100, 8))
    >>> relative = RelativeTransformer(n_anchors=10, random_state=0).fit(X)
    >>> R = relative.transform(X)
    >>> R.shape
    (100, 10)

    A rotated and rescaled copy of the space has the same relative representation:

    >>> Q = ortho_group.rvs(8, random_state=0)
    >>> R_rotated = RelativeTransformer(n_anchors=10, random_state=0).fit_transform(
    ...     3.0 * X @ Q)
    >>> bool(np.allclose(R, R_rotated))
    True

    Another encoder's view of the same anchor items (parallel anchors):

    >>> X_other = 2.0 * X @ Q
    >>> relative_other = relative.reanchor(X_other[relative.anchor_indices_])
    >>> bool(np.allclose(relative_other.transform(X_other), R))
    True
    """

    _parameter_constraints: dict = {
        "n_anchors": [
            Interval(numbers.Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
            None,
        ],
        "anchor_selection": [StrOptions(set(STRATEGIES)), "array-like", callable],
        "center": ["boolean"],
        "standardize": ["boolean"],
        "similarity": [StrOptions(set(SIMILARITIES)), list, tuple],
        "output_normalization": [StrOptions({"l2", "standard"}), None],
        "aggregation": [StrOptions({"concatenate", "sum", "mean"})],
        "exponent": [Interval(numbers.Real, 0, None, closed="neither")],
        "top_k": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_anchors=300,
        *,
        anchor_selection="random",
        center=False,
        standardize=False,
        similarity="cosine",
        output_normalization=None,
        aggregation="concatenate",
        exponent=1.0,
        top_k=None,
        batch_size=None,
        random_state=None,
    ):
        self.n_anchors = n_anchors
        self.anchor_selection = anchor_selection
        self.center = center
        self.standardize = standardize
        self.similarity = similarity
        self.output_normalization = output_normalization
        self.aggregation = aggregation
        self.exponent = exponent
        self.top_k = top_k
        self.batch_size = batch_size
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Choose the anchors among the rows of ``X`` and prepare them for projection.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Embeddings from which anchors are chosen. NumPy, scipy sparse (CSR) or,
            with array API dispatch enabled, any Array API array (e.g. torch). A dask
            array is never materialised: random, stratified, explicit and callable
            selections read only the anchor rows (the same anchors as for NumPy
            input); FPS and k-means run on a uniform sample of
            ``min(n_samples, max(20 * n_anchors, 10_000))`` rows (see
            :ref:`dask`).

        y : array-like of shape (n_samples,), default=None
            Class labels; used only by ``anchor_selection="stratified"`` and passed to
            a callable selection.

        Returns
        -------
        self : object
            Fitted transformer.
        """
        if _is_dask_collection(X):
            from ._dask import fit_dask

            return fit_dask(self, X, y)
        self._similarities()
        X = self._validate_input(X, reset=True)
        xp, _, device = get_namespace_and_device(X)
        n_samples = X.shape[0]
        if y is not None:
            check_consistent_length(X, y)
        n_anchors = self._resolve_n_anchors(n_samples)
        rng = check_random_state(self.random_state)
        indices = select_anchors(X, y, n_anchors, self.anchor_selection, rng, xp)
        self._set_anchors(_take_rows(X, indices, xp))
        # Like every fitted array, the indices live in the namespace of X.
        self.anchor_indices_ = to_namespace(indices, xp, device)
        return self

    def transform(self, X):
        """Cosine similarity of each row of ``X`` to each anchor.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Embeddings from the same space as the anchors. A dask array gives a lazy
            dask array, projected block by block (see :ref:`dask`).

        Returns
        -------
        X_new : array of shape (n_samples, n_features_out)
            Relative representation, in the namespace, device and floating dtype of
            ``X`` (float32 stays float32; integers become float64). A CSR matrix when
            ``top_k`` is set.
        """
        check_is_fitted(self)
        if _is_dask_collection(X):
            from ._dask import transform_dask

            return transform_dask(self, X)
        X = self._validate_input(X, reset=False)
        check_same_namespace(X, self, attribute="anchors_", method="transform")
        xp, _, device = get_namespace_and_device(X)
        anchors, mean, scale = (
            _as_dtype(to_namespace(getattr(self, name, None), xp, device), X.dtype, xp)
            for name in ("anchors_", "anchor_mean_", "anchor_scale_")
        )
        return project(
            X,
            anchors,
            xp,
            mean=mean,
            scale=scale,
            options=self._projection_options(),
            batch_size=self.batch_size,
            device=device,
        )

    def reanchor(self, anchors):
        """Return a copy that projects onto another encoder's view of the same anchors.

        Use this for parallel anchors: ``anchors[i]`` must be the embedding, by a new
        encoder, of the item that was anchor ``i`` (for anchors chosen by ``fit``, the
        row ``anchor_indices_[i]`` of the original data, or its translation). The
        selection is not rerun; only the anchor embeddings (and, with ``center=True``,
        their mean) change. The number of features may differ from the fitted one.

        Parameters
        ----------
        anchors : {array-like, sparse matrix} of shape (n_anchors_, n_features_new)
            The anchor items embedded by the new encoder, in anchor order.

        Returns
        -------
        transformer : RelativeTransformer
            A new fitted transformer; ``self`` is left unchanged.
        """
        check_is_fitted(self)
        new = clone(self)
        anchors = new._validate_input(anchors, reset=True)
        if anchors.shape[0] != self.n_anchors_:
            raise ValueError(
                f"reanchor expects one embedding per anchor: got {anchors.shape[0]} "
                f"rows for {self.n_anchors_} anchors."
            )
        new.anchor_indices_ = self.anchor_indices_
        new._set_anchors(anchors)
        return new

    def _validate_input(self, X, *, reset):
        if not get_config()["array_api_dispatch"]:
            X = to_numpy_if_tensor(X)
        xp, _, _ = get_namespace_and_device(X)
        return validate_data(
            self,
            X,
            reset=reset,
            accept_sparse="csr",
            dtype=[xp.float64, xp.float32],
        )

    def _resolve_n_anchors(self, n_samples):
        """The number of anchors to select, or None for "every row, in order"."""
        if not isinstance(self.anchor_selection, str) and not callable(
            self.anchor_selection
        ):
            return None
        if self.n_anchors is None:
            return None
        if isinstance(self.n_anchors, numbers.Integral):
            n_anchors = int(self.n_anchors)
        else:
            n_anchors = max(1, math.ceil(self.n_anchors * n_samples))
        if n_anchors > n_samples:
            warnings.warn(
                f"n_anchors={n_anchors} is larger than n_samples={n_samples}: every "
                "sample becomes an anchor.",
                UserWarning,
                stacklevel=3,
            )
            n_anchors = n_samples
        return n_anchors

    def _set_anchors(self, anchors):
        """Prepare raw anchor embeddings (centre, normalise) and store them."""
        xp, _, _ = get_namespace_and_device(anchors)
        if sp.issparse(anchors):
            anchors = anchors.toarray()
        if self.center:
            if anchors.shape[0] < 2:
                raise ValueError(
                    "center=True needs at least 2 anchors, got n_samples=1 anchor "
                    "row: the only anchor minus the anchor mean is the zero vector."
                )
            self.anchor_mean_ = xp.mean(anchors, axis=0)
            anchors = anchors - self.anchor_mean_
        elif hasattr(self, "anchor_mean_"):
            del self.anchor_mean_
        if self.standardize:
            spread = xp.std(anchors, axis=0)
            self.anchor_scale_ = xp.where(spread > 0, spread, xp.ones_like(spread))
            anchors = anchors / self.anchor_scale_
        elif hasattr(self, "anchor_scale_"):
            del self.anchor_scale_
        if self._similarities() == ("cosine",):
            anchors = normalize_rows(anchors, xp)
        self.anchors_ = anchors
        self.n_anchors_ = anchors.shape[0]

    def _similarities(self):
        """``similarity`` as a tuple of distinct known names."""
        names = (
            (self.similarity,)
            if isinstance(self.similarity, str)
            else tuple(self.similarity)
        )
        unknown = [name for name in names if name not in SIMILARITIES]
        if not names or unknown or len(set(names)) != len(names):
            raise ValueError(
                f"similarity must be one of {SIMILARITIES} or a list of distinct ones, "
                f"got {self.similarity!r}."
            )
        return names

    def _projection_options(self):
        """Keyword arguments of the projection beyond the anchors."""
        return {
            "similarities": self._similarities(),
            "output_normalization": self.output_normalization,
            "aggregation": self.aggregation,
            "exponent": self.exponent,
            "top_k": self.top_k,
        }

    @property
    def _n_features_out(self):
        """Number of transformed output features (used by get_feature_names_out)."""
        n_spaces = len(self._similarities()) if self.aggregation == "concatenate" else 1
        return self.n_anchors_ * n_spaces

    def __getstate__(self):
        # Fitted arrays are pickled as NumPy so that an estimator fitted on a GPU loads
        # on any machine; transform moves them back to the input's device.
        state = dict(super().__getstate__())
        for name in _ARRAY_ATTRIBUTES:
            if name in state:
                state[name] = to_numpy(state[name])
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _take_rows(X, indices, xp):
    """Rows ``indices`` of ``X`` (NumPy, sparse or any namespace)."""
    if sp.issparse(X) or is_numpy_namespace(xp):
        return X[indices]
    _, _, device = get_namespace_and_device(X)
    return xp.take(X, xp.asarray(indices, device=device), axis=0)


def _is_dask_collection(X):
    """True for dask arrays (checked by module name: dask is an optional extra)."""
    return type(X).__module__.split(".", 1)[0] == "dask"


def _as_dtype(array, dtype, xp):
    """``array`` cast to ``dtype`` (None stays None)."""
    if array is None or array.dtype == dtype:
        return array
    return xp.astype(array, dtype)
