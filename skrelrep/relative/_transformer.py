"""Relative representations: re-express samples by their similarity to anchors.

:class:`RelativeTransformer` orchestrates: ``fit`` chooses anchors with
:mod:`skrelrep.anchors` and prepares them for the similarity of
:mod:`skrelrep.similarity`; ``transform`` hands the rows to that similarity's chunked
kernel. Dask arrays go through the blockwise functions of :mod:`skrelrep.utils._dask`.
"""

import copy
import numbers

from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    clone,
)
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_consistent_length, check_is_fitted

from ..anchors._reservoir import StreamSample, stream_problem
from ..anchors._selection import (
    ANCHOR_SELECTION_CONSTRAINT,
    N_ANCHORS_CONSTRAINT,
    resolve_n_anchors,
    select_anchors,
)
from ..similarity import Similarity
from ..similarity._combined import (
    SIMILARITIES,
    NamedSimilarityParamsMixin,
    resolve_similarity,
)
from ..similarity._projection import Projection, n_outputs
from ..utils._array_api import (
    is_dask_collection,
    take_rows,
    to_namespace,
    to_numpy,
)
from ..utils._compat import (
    Interval,
    StrOptions,
    _fit_context,
    check_same_namespace,
    get_namespace_and_device,
)
from ._dask import dask_anchors, dask_projection
from ._fitted_state import ARRAY_ATTRIBUTES, FITTED_STATE, anchor_state
from ._validation import HINT, validate_dask, validate_input

__all__ = ["RelativeTransformer"]


def _streams(estimator):
    """Whether ``partial_fit`` can serve this configuration (else say why)."""
    problem = stream_problem(estimator.anchor_selection, estimator.n_anchors)
    if problem:
        raise AttributeError(problem)
    return True


class RelativeTransformer(
    NamedSimilarityParamsMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
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
        Number of anchors: a count, a fraction of ``n_samples`` (a float in ``(0,
        1]``, rounded up), or ``None`` for every row of ``X``, in order. See
        :ref:`relative_parameters`.

    anchor_selection : {"random", "stratified", "fps", "kmeans"}, array-like or \
            callable, default="random"
        How anchors are chosen among the rows of ``X``: a strategy, distinct row
        indices, or a callable ``f(X, y, n_anchors=..., random_state=...)`` returning
        them. See :ref:`anchors`.

    center : bool, default=True
        Subtract the anchors' mean from the anchors and from every sample first:
        invariance to translation, and contrast for codes that crowd in a narrow cone
        (see :ref:`centring_evidence`). Needs at least two anchors.

    standardize : bool, default=False
        Divide every feature by its spread over the anchors (constant features left
        unscaled): invariance to rescaling each feature. See :ref:`variants`.

    similarity : Similarity, {"cosine", "euclidean", "l1", "linf"} or list, \
            default="cosine"
        How a sample is compared with each anchor: a similarity object, its name, or
        a list of them to aggregate. Its parameters are nested parameters
        (``similarity__normalization``). See :ref:`variants`.

    exponent : float, default=1.0
        Sign-preserving power ``sign(r) |r|^exponent`` of every entry, after the
        similarity and before ``top_k``: above 1 it sharpens (see :ref:`asif`).

    top_k : int, default=None
        Keep the ``top_k`` largest entries of each row, returned as a sparse CSR
        matrix built chunk by chunk (see :ref:`asif`). ``None`` keeps every entry.

    batch_size : int, default=None
        At most this many rows projected at once in ``transform``; by default sized
        for the cache and ``working_memory``. The result does not depend on it (see
        :ref:`relative_parameters`).

    random_state : int, RandomState instance or None, default=None
        Seeds the random choices of every selection strategy. Pass an int for
        reproducible anchors.

    check_input_space : bool, default=True
        Refuse (``ValueError``) a batch that no rows of the anchors' space could form
        (another encoder's rows, or rescaled rows where scale matters); any batch of
        the space's own rows passes. See :ref:`input_space_guard`.

    Attributes
    ----------
    anchor_indices_ : array of shape (n_anchors_,)
        Rows of the ``X`` given to ``fit`` that became anchors, in anchor order (an
        integer array in the namespace of that ``X``).

    anchors_ : array of shape (n_anchors_, n_features_in_)
        The anchor embeddings prepared for projection: centred (if ``center``),
        divided by ``anchor_scale_`` (if ``standardize``) and prepared by the
        similarity (L2-normalised for the cosine). Same namespace, device and dtype
        as the ``X`` given to ``fit``.

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

    similarity_ : Similarity
        The similarity used by ``transform``: the ``similarity`` parameter as an
        object (a string or list resolved, an object cloned).

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
    mean, up to rounding) is a row of zeros. Identical rows chosen as anchors give
    identical output columns; explicit or callable selections must not repeat an
    index. With ``center=True``, anchors equal to the anchors' mean (all of them, when
    every anchor is the same row) give zero columns and a warning. Norms and centring
    are computed so that they neither overflow nor underflow: the cosine does not
    depend on the magnitude of the input (see :ref:`hostile_inputs`).

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
        "n_anchors": N_ANCHORS_CONSTRAINT,
        "anchor_selection": ANCHOR_SELECTION_CONSTRAINT,
        "center": ["boolean"],
        "standardize": ["boolean"],
        # A list's contents are checked once per fit, by resolve_similarity.
        "similarity": [StrOptions(set(SIMILARITIES)), Similarity, list, tuple],
        "exponent": [Interval(numbers.Real, 0, None, closed="neither")],
        "top_k": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "check_input_space": ["boolean"],
    }

    def __init__(
        self,
        n_anchors=300,
        *,
        anchor_selection="random",
        center=True,
        standardize=False,
        similarity="cosine",
        exponent=1.0,
        top_k=None,
        batch_size=None,
        random_state=None,
        check_input_space=True,
    ):
        self.n_anchors = n_anchors
        self.anchor_selection = anchor_selection
        self.center = center
        self.standardize = standardize
        self.similarity = similarity
        self.exponent = exponent
        self.top_k = top_k
        self.batch_size = batch_size
        self.random_state = random_state
        self.check_input_space = check_input_space

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, X_parallel=None):
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

        X_parallel : array-like of shape (n_samples, n_features_parallel), \
                default=None
            The same rows embedded by a second encoder (parallel data), for an
            ``anchor_selection`` that reads it, such as
            :class:`GreedyAnchorSelector`. Sample-aligned fit metadata: in a
            pipeline, pass it as ``relativetransformer__X_parallel`` or route it
            with ``set_fit_request(X_parallel=True)``, and cross-validation splits
            it together with ``X``.

        Returns
        -------
        self : object
            Fitted transformer.
        """
        similarity = resolve_similarity(self.similarity, self)
        if is_dask_collection(X):
            X = validate_dask(self, X, reset=True)
            anchors, indices = dask_anchors(
                X,
                y,
                X_parallel,
                n_anchors=self.n_anchors,
                anchor_selection=self.anchor_selection,
                random_state=self.random_state,
                estimator=self,
            )
            return self._set_fitted(similarity, anchors, indices, X.shape[0])
        X = self._validate_input(X, reset=True)
        xp, _, device = get_namespace_and_device(X)
        n_samples = X.shape[0]
        if y is not None:
            check_consistent_length(X, y)
        if X_parallel is not None:
            check_consistent_length(X, X_parallel)
        n_anchors = resolve_n_anchors(self.n_anchors, self.anchor_selection, n_samples)
        rng = check_random_state(self.random_state)
        indices = select_anchors(
            X, y, n_anchors, self.anchor_selection, rng, xp, X_parallel=X_parallel
        )
        # Like every fitted array, the indices live in the namespace of X.
        return self._set_fitted(
            similarity,
            take_rows(X, indices),
            to_namespace(indices, xp, device),
            n_samples,
        )

    @available_if(_streams)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Update the anchors with one batch of a stream of rows.

        The anchors are a uniform sample of every row seen so far, whatever the batch
        sizes: ``"random"`` keeps a reservoir of ``n_anchors`` rows (Vitter's
        Algorithm R), ``"stratified"`` one reservoir per class, cut by the quota rule
        of :meth:`fit` applied to the class counts seen so far. Memory holds the
        reservoirs (``n_anchors`` rows, or that many per class), never the stream.
        Until ``n_anchors`` rows have been seen, every row seen is an anchor. After
        each call the transformer is fitted: the anchors, their mean and scale (with
        ``center`` or ``standardize``) and the input-space fingerprint come from the
        anchors held. With ``center=True`` one anchor has nothing to be centred on:
        a first batch of one row is kept, and :meth:`transform` raises
        ``NotFittedError`` until a second row arrives. A call that raises leaves the
        transformer as it was. :meth:`fit` starts a new stream.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The next rows of the stream (NumPy, CSR, or any Array API array with
            array API dispatch enabled; not dask: pass its computed blocks).
        y : array-like of shape (n_samples,), default=None
            Class labels of these rows; needed by ``anchor_selection="stratified"``.

        Returns
        -------
        self : object
            This transformer. ``anchor_indices_`` count rows across all calls:
            row ``i`` of a batch that follows 1,000 rows is index ``1000 + i``;
            ``n_samples_seen_`` is the number of rows seen.

        Raises
        ------
        AttributeError
            ``partial_fit`` exists only where a stream can give the anchors: not for
            a strategy that needs every row at once (``"fps"``, ``"kmeans"``,
            explicit indices, a callable), nor for a ``n_anchors`` that is not an
            integer (a stream's length is unknown). The exception's cause (shown in
            the traceback) says which.
        ValueError
            For a batch of another width, with NaN or infinity, or in another
            namespace than the first batch (torch after NumPy, say; NumPy and
            SciPy sparse mix freely); ``"stratified"`` without class labels, or
            with labels of another kind than earlier batches' (str after int);
            ``center=True`` with ``n_anchors=1``.
        TypeError
            For a dask array: call ``fit``, or pass its computed blocks.

        Examples
        --------
        >>> import numpy as np
        >>> from skrelrep import RelativeTransformer
        >>> rng = np.random.RandomState(0)
        >>> relative = RelativeTransformer(n_anchors=20, random_state=0)
        >>> for batch in np.array_split(rng.normal(size=(1000, 8)), 10):
        ...     relative = relative.partial_fit(batch)
        >>> relative.n_samples_seen_, relative.anchors_.shape
        (1000, (20, 8))
        >>> bool(relative.anchor_indices_.max() >= 100)
        True
        """
        first_call = not hasattr(self, "_stream")
        if is_dask_collection(X):
            raise TypeError(
                "partial_fit takes in-memory batches; for a dask array, call fit (it "
                "reads only the anchor rows) or pass each computed block in turn."
            )
        if self.center and self.n_anchors < 2:
            raise ValueError(
                f"center=True needs at least 2 anchors, got n_anchors="
                f"{self.n_anchors}: the only anchor minus the anchor mean is the "
                "zero vector. Choose more anchors, or set center=False."
            )
        widths = {
            name: self.__dict__[name]
            for name in ("n_features_in_", "feature_names_in_")
            if name in self.__dict__
        }
        try:
            X = self._validate_input(X, reset=first_call)
            xp, _, device = get_namespace_and_device(X)
            if y is not None:
                check_consistent_length(X, y)
            # The stream is updated on copies, kept only if the whole call succeeds.
            if first_call:
                similarity = resolve_similarity(self.similarity, self)
                stream = StreamSample(self.anchor_selection, self.n_anchors)
                rng = check_random_state(self.random_state)
            else:
                similarity = self.similarity_
                stream = copy.deepcopy(self._stream)
                rng = copy.deepcopy(self._stream_rng)
            stream.offer(X, y, rng)
            anchors, indices = stream.anchors(rng)
            if self.center and anchors.shape[0] < 2:
                # Nothing to centre on yet: the row is kept, the transformer is
                # fitted from the second anchor on (transform says so until then).
                anchors = indices = None
            else:
                indices = to_namespace(indices, xp, device)
            return self._set_fitted(
                similarity, anchors, indices, stream.n_seen, stream=(stream, rng)
            )
        except BaseException:
            if first_call:  # the widths that validation recorded go too
                for name in ("n_features_in_", "feature_names_in_"):
                    self.__dict__.pop(name, None)
                self.__dict__.update(widths)
            raise

    def transform(self, X):
        """Similarity of each row of ``X`` to each anchor.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Embeddings from the same space as the anchors. A dask array gives a lazy
            dask array, projected block by block (see :ref:`dask`).

        Returns
        -------
        X_new : array of shape (n_samples, n_features_out)
            Relative representation, in the namespace, device and floating dtype of
            ``X`` (float32 stays float32; float16 and bfloat16 give float32, see
            :ref:`half_precision`; integers become float64). A CSR matrix when
            ``top_k`` is set.
        """
        self._check_fitted()
        projection = self._projection()
        if is_dask_collection(X):
            X = validate_dask(self, X, reset=False)
            return dask_projection(X, projection, estimator=self)
        X = self._validate_input(
            X, reset=False, finds_non_finite=projection.finds_non_finite
        )
        check_same_namespace(X, self, attribute="anchors_", method="transform")
        xp, _, device = get_namespace_and_device(X)
        if self.check_input_space:
            self._input_space.check(X, xp, device=device, estimator=self, hint=HINT)
        return projection(X, xp, device)

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
        self._check_fitted()
        new = clone(self)
        anchors = new._validate_input(anchors, reset=True)
        if anchors.shape[0] != self.n_anchors_:
            raise ValueError(
                f"reanchor expects one embedding per anchor: got {anchors.shape[0]} "
                f"rows for {self.n_anchors_} anchors."
            )
        return new._set_fitted(
            clone(self.similarity_),
            anchors,
            self.anchor_indices_,
            getattr(self, "n_samples_seen_", None),
        )

    def _validate_input(self, X, *, reset, finds_non_finite=None):
        return validate_input(self, X, reset=reset, finds_non_finite=finds_non_finite)

    def _set_fitted(self, similarity, anchors, indices, n_samples_seen, stream=None):
        """The tail of every fit path: compute the fitted state, then set it whole.

        ``anchors`` are the raw anchor rows (``None``: not fitted yet, a stream
        without enough anchors to centre), ``indices`` their positions, ``stream``
        the ``(sample, random state)`` of ``partial_fit``. Everything is computed
        before anything is set, so a call that raises leaves the transformer as it
        was.
        """
        state = dict.fromkeys(FITTED_STATE)
        if anchors is not None:
            state.update(
                anchor_state(
                    anchors,
                    similarity,
                    center=self.center,
                    standardize=self.standardize,
                )
            )
            state["anchor_indices_"] = indices
        state["similarity_"] = similarity
        state["n_samples_seen_"] = n_samples_seen
        state["_stream"], state["_stream_rng"] = stream or (None, None)
        for name, value in state.items():
            if value is None:
                self.__dict__.pop(name, None)
            else:
                setattr(self, name, value)
        return self

    def _projection(self):
        """The fitted projection that ``transform`` applies."""
        return Projection(
            self.anchors_,
            self.similarity_,
            mean=getattr(self, "anchor_mean_", None),
            scale=getattr(self, "anchor_scale_", None),
            exponent=self.exponent,
            top_k=self.top_k,
            batch_size=self.batch_size,
        )

    def _check_fitted(self):
        """``check_is_fitted``, with why a stream is not fitted yet."""
        if hasattr(self, "_stream") and not hasattr(self, "anchors_"):
            raise NotFittedError(
                f"This {type(self).__name__} has seen {self.n_samples_seen_} row "
                "through partial_fit, and center=True needs at least 2 anchors: it "
                "is fitted once partial_fit has seen a second row (or with "
                "center=False)."
            )
        check_is_fitted(self)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "anchors_")

    @property
    def _n_features_out(self):
        """Number of transformed output features (used by get_feature_names_out)."""
        return n_outputs(self.similarity_, self.n_anchors_)

    def __getstate__(self):
        # Fitted arrays are pickled as NumPy so that an estimator fitted on a GPU loads
        # on any machine; transform moves them back to the input's device.
        state = dict(super().__getstate__())
        for name in ARRAY_ATTRIBUTES:
            if name in state:
                state[name] = to_numpy(state[name])
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
