"""Relative representations: re-express samples by their similarity to anchors.

:class:`RelativeTransformer` orchestrates: ``fit`` chooses anchors with
:mod:`skrelrep.anchors` and prepares them for the similarity of
:mod:`skrelrep.similarity`; ``transform`` hands the rows to that similarity's chunked
kernel. Dask arrays go through the blockwise functions of :mod:`skrelrep.utils._dask`.
"""

import numbers

from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    clone,
)
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
)

from ..anchors._reservoir import StreamSample, stream_problem
from ..anchors._selection import (
    ANCHOR_SELECTION_CONSTRAINT,
    N_ANCHORS_CONSTRAINT,
    resolve_n_anchors,
    select_anchors,
)
from ..similarity import Similarity
from ..similarity._combined import SIMILARITIES, resolve_similarity
from ..similarity._projection import relative_projection
from ..utils._array_api import (
    as_dtype,
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
from ._anchor_preparation import prepare_anchors
from ._dask import fit_dask, transform_dask
from ._input_space import InputSpace, scale_dependence
from ._validation import HINT, validate_input

__all__ = ["RelativeTransformer"]

_ARRAY_ATTRIBUTES = ("anchors_", "anchor_mean_", "anchor_scale_", "anchor_indices_")


def _streams(estimator):
    """Whether ``partial_fit`` can serve this configuration (else say why)."""
    problem = stream_problem(estimator.anchor_selection, estimator.n_anchors)
    if problem:
        raise AttributeError(problem)
    return True


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
        does). With an array of indices as ``anchor_selection``, the first
        ``n_anchors`` of them (all of them when ``None`` or when there are fewer), so
        that a grid search over ``n_anchors`` can walk a ranked list of anchors.

    anchor_selection : {"random", "stratified", "fps", "kmeans"}, array-like or \
            callable, default="random"
        How anchors are chosen among the rows of ``X``:

        - ``"random"``: uniformly without replacement (the paper's default);
        - ``"stratified"``: as equal a number per class of ``y`` as the class sizes
          allow (``fit`` then needs ``y``);
        - ``"fps"``: farthest point sampling in cosine geometry, starting from a random
          row; spreads anchors over directions and never picks a direction twice.
          Exact, at about the cost of one product ``X @ anchors.T``. With fewer
          distinct directions than anchors (every row left within rounding of an
          anchor's direction), it warns and draws the remaining anchors uniformly at
          random among the other rows;
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
          indices (``random_state`` is a :class:`numpy.random.RandomState`); a
          callable that takes ``X_parallel`` (such as :class:`GreedyAnchorSelector`)
          also receives the ``X_parallel`` given to :meth:`fit`.

    center : bool, default=True
        Subtract the mean of the anchors (fitted on the anchors) from the anchors and
        from every sample before the cosine. It adds invariance to translation, and
        it is what makes encoders whose codes crowd in a narrow cone usable: without
        it, a decoder trained on MiniLM codes reads multilingual-e5 codes at chance
        (0.12 against 0.70 centred, 8 topics) and cross-model retrieval finds nothing
        (R@1 0.003 against 0.88). Measured on every encoder that ships here, centring
        wins or ties everywhere but one direction of EfficientNet-Lite0/Lite2
        retrieval (see :ref:`centring_evidence`). ``center=False`` is the paper's
        setting; when the anchors then crowd (mean pairwise cosine above 0.5), ``fit``
        warns. Needs at least two anchors.

    standardize : bool, default=False
        Divide every feature by its standard deviation over the anchors (after
        centring, if ``center``) before the projection: batch normalisation without
        affine parameters, the batch being the anchor set. It makes the output
        invariant to rescaling each latent dimension by its own factor, not only to
        isotropic rescaling. Features constant over the anchors (a spread within the
        rounding error of their mean or of the largest feature, as scikit-learn's
        ``StandardScaler`` judges it) are left unscaled.

    similarity : Similarity, {"cosine", "euclidean", "l1", "linf"} or list, \
            default="cosine"
        How a sample is compared with each anchor: an object of
        :mod:`skrelrep.similarity` or its short name. Each buys a different
        invariance: cosine (:class:`~skrelrep.similarity.CosineSimilarity`) to
        rotations, reflections and isotropic rescaling; Euclidean to rotations,
        reflections and translations; L1 and L-infinity to permutations and sign
        flips of the features and translations. Distances become similarities by
        negation. A list is a shortcut for a
        :class:`~skrelrep.similarity.CombinedSimilarity`, which computes each
        relative space and aggregates them (a product of invariances, Cannistraci
        et al., 2024). A subclass of :class:`~skrelrep.similarity.Similarity` plugs
        in a similarity of your own. Its parameters are nested parameters of the
        transformer (``similarity__normalization``), searchable by
        :class:`~sklearn.model_selection.GridSearchCV`.

    exponent : float, default=1.0
        Sign-preserving power ``sign(r) |r|^exponent`` applied to every entry of the
        relative representation, after the similarity (and, for a
        :class:`~skrelrep.similarity.CombinedSimilarity`, after its aggregation) and
        before ``top_k``. Exponents above 1 sharpen the similarities (ASIF, Norelli
        et al., 2023).

    top_k : int, default=None
        Keep only the ``top_k`` largest entries of each row and return them as a
        sparse CSR matrix, whatever the input: ASIF's sparsified relative
        representation. It is computed chunk by chunk, so the dense output is never
        held whole: the memory used beyond the input is the sparse output plus at
        most 64 MiB (whatever ``working_memory``; ``batch_size`` overrides it).
        Ties go to the lowest anchor. ``None`` keeps every entry and returns a dense
        array.

    batch_size : int, default=None
        At most this many rows projected at once in ``transform``. By default, on
        NumPy input, pieces of up to 4,096 rows (at most 16 MiB of input) that stay
        in cache from their norms (and centring) to their product, shared evenly
        among as many threads as the BLAS uses (the working set beyond the output
        is a piece per thread); in other namespaces, as many rows as fit in
        scikit-learn's ``working_memory`` (see :func:`sklearn.set_config`), which
        also caps the NumPy pieces. Only memory use and speed depend on it: the
        result does not (up to floating-point rounding).

    random_state : int, RandomState instance or None, default=None
        Seeds the random choices of every selection strategy. Pass an int for
        reproducible anchors.

    check_input_space : bool, default=True
        Refuse (``ValueError``) a batch that no rows of the anchors' space could
        form: rows pointing away from the anchors' mean direction, or outside their
        principal directions, further than any single row of that space (input from
        another encoder of the same width); with centring or a distance, whose
        typical norm is off (rescaled or L2-normalised rows). Any batch of rows of
        the space passes, however related its rows (see :ref:`input_space_guard`).
        Not checked for dask arrays, nor for fewer than 20 anchors.

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
    every anchor is the same row) give zero columns and a warning. Norms are computed
    so that they neither overflow nor underflow: the output does not depend on the
    magnitude of the input, from 1e-30 to 1e30 in float32 and 1e-300 to 1e300 in
    float64 (see :ref:`hostile_inputs`).

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
        self.similarity_ = resolve_similarity(self.similarity, self)
        for name in ("_stream", "_stream_rng"):  # fit starts afresh, as a new stream
            self.__dict__.pop(name, None)
        if is_dask_collection(X):
            return fit_dask(self, X, y, X_parallel)
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
        self._set_anchors(take_rows(X, indices))
        # Like every fitted array, the indices live in the namespace of X.
        self.anchor_indices_ = to_namespace(indices, xp, device)
        self.n_samples_seen_ = n_samples
        return self

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
        anchors held. :meth:`fit` starts a new stream.

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
            Fitted transformer. ``anchor_indices_`` count rows across all calls:
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
            For a batch of another width, or ``"stratified"`` without class labels.

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
        if first_call:
            self.similarity_ = resolve_similarity(self.similarity, self)
            stream = StreamSample(self.anchor_selection, self.n_anchors)
        if is_dask_collection(X):
            raise TypeError(
                "partial_fit takes in-memory batches; for a dask array, call fit (it "
                "reads only the anchor rows) or pass each computed block in turn."
            )
        X = self._validate_input(X, reset=first_call)
        xp, _, device = get_namespace_and_device(X)
        if y is not None:
            check_consistent_length(X, y)
        if first_call:
            self._stream = stream
            self._stream_rng = check_random_state(self.random_state)
        self._stream.offer(X, y, self._stream_rng)
        anchors, indices = self._stream.anchors(self._stream_rng)
        self._set_anchors(anchors)
        self.anchor_indices_ = to_namespace(indices, xp, device)
        self.n_samples_seen_ = self._stream.n_seen
        return self

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
        check_is_fitted(self)
        if is_dask_collection(X):
            return transform_dask(self, X)
        X = self._validate_input(X, reset=False, projecting=True)
        check_same_namespace(X, self, attribute="anchors_", method="transform")
        xp, _, device = get_namespace_and_device(X)
        if self.check_input_space:
            self._input_space.check(X, xp, device=device, estimator=self, hint=HINT)
        anchors, mean, scale = (
            as_dtype(to_namespace(getattr(self, name, None), xp, device), X.dtype, xp)
            for name in ("anchors_", "anchor_mean_", "anchor_scale_")
        )
        return relative_projection(
            X,
            anchors,
            self.similarity_,
            xp,
            mean=mean,
            scale=scale,
            exponent=self.exponent,
            top_k=self.top_k,
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
        new.similarity_ = clone(self.similarity_)
        new.anchor_indices_ = self.anchor_indices_
        new._set_anchors(anchors)
        return new

    def _validate_input(self, X, *, reset, projecting=False):
        return validate_input(self, X, reset=reset, projecting=projecting)

    def _set_anchors(self, anchors):
        """Prepare raw anchor embeddings (centre, scale, the similarity's own step)."""
        xp, _, _ = get_namespace_and_device(anchors)
        self._input_space = InputSpace.from_anchors(
            anchors, norms=scale_dependence(self.center, self.similarity_)
        )
        prepared, mean, scale = prepare_anchors(
            anchors,
            center=self.center,
            standardize=self.standardize,
            measures_angles=self.similarity_.measures_angles,
            xp=xp,
        )
        for name, value in [("anchor_mean_", mean), ("anchor_scale_", scale)]:
            if value is not None:
                setattr(self, name, value)
            elif hasattr(self, name):
                delattr(self, name)
        self.anchors_ = self.similarity_.prepare_anchors(prepared, xp)
        self.n_anchors_ = prepared.shape[0]

    @property
    def _n_features_out(self):
        """Number of transformed output features (used by get_feature_names_out)."""
        return self.similarity_.n_outputs(self.n_anchors_)

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
