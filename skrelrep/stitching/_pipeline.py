"""StitchedPipeline: encoder, relative projection and decoder, with swappable parts.

A :class:`StitchedPipeline` is fitted together like a
:class:`~sklearn.pipeline.Pipeline` (it composes one). :func:`~skrelrep.stitch` joins
the encoder of one fitted pipeline to the decoder of another without training
anything, and builds its result with this class's private constructor
:meth:`StitchedPipeline._assemble`, the only other way the fitted state is set.
"""

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, TransformerMixin, clone
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..utils._array_api import take_rows
from ..utils._compat import HasMethods, StrOptions, _fit_context
from . import _steps, _stitch
from ._cache import EncoderCache
from ._checks import is_passthrough
from ._guard import CodeOrigin, check_codes, fingerprint
from ._steps import STEPS as _STEPS
from ._steps import anchor_feature_names, fit_steps, step_tags

__all__ = ["StitchedPipeline"]


class StitchedPipeline(TransformerMixin, MetaEstimatorMixin, BaseEstimator):
    """Encoder, relative projection and decoder: a pipeline whose parts can be swapped.

    ``fit`` fits the three steps in order, like
    ``Pipeline([("encoder", encoder), ("relative", relative), ("decoder", decoder)])``
    (it builds exactly this pipeline, with clones of the steps, in ``pipeline_``), and
    remembers the input rows that became anchors (``anchor_inputs_``). Those rows let
    :func:`stitch` (or :meth:`stitch`) re-express the decoder's anchors in the latent
    space of any other encoder, so that the decoder runs on that encoder with no
    training: zero-shot model stitching (Moschella et al., 2023).

    With ``relative="passthrough"`` the decoder reads the encoder's codes directly:
    the absolute baseline, whose stitching across independently trained encoders
    usually fails (:func:`stitch` gives it with ``via="absolute"``, and warns
    otherwise).

    Read more in the :ref:`User Guide <stitching>`.

    Parameters
    ----------
    encoder : estimator
        A transformer whose ``transform`` returns the latent code. Cloned and refitted
        by ``fit``, unless wrapped in :class:`~sklearn.frozen.FrozenEstimator`, which
        keeps a fitted or pretrained encoder as it is.

    relative : RelativeTransformer or "passthrough"
        The relative projection fitted on the codes (with ``y``), or ``"passthrough"``
        for the absolute baseline; any transformer with ``reanchor`` and
        ``anchor_indices_`` works.

    decoder : estimator
        A classifier or regressor fitted on the relative codes; the pipeline is a
        classifier or a regressor as the decoder is.

    memory : str, object with a ``cache`` method or None, default=None
        Where the encoder's outputs are cached (as ``Pipeline(memory=...)`` takes it),
        for ``fit`` and for the other methods too; None caches nothing. See Notes and
        :ref:`pipelines`.

    verbose : bool, default=False
        Print the time each step of ``fit`` takes, as ``Pipeline(verbose=True)``.

    Attributes
    ----------
    pipeline_ : Pipeline
        The fitted steps, named ``"encoder"``, ``"relative"`` and ``"decoder"``. In a
        stitched pipeline these are the fitted steps of the source pipelines, shared,
        not copied.

    anchor_indices_ : ndarray of shape (n_anchors,) or None
        Rows of the ``X`` given to ``fit`` that became anchors, in anchor order (the
        rows to take from a parallel data set for :func:`stitch`). None with
        ``relative="passthrough"``.

    anchor_inputs_ : array-like of shape (n_anchors, ...) or None
        The anchor items as the encoder reads them: ``X[anchor_indices_]`` (the same
        container as ``X``: array, sparse matrix, DataFrame rows, list of strings). In a
        stitched pipeline, the anchors in the new encoder's domain. None with
        ``relative="passthrough"``.

    n_latent_features_ : int or None
        Width of the encoder's code (None if it cannot be known).

    classes_ : ndarray of shape (n_classes,)
        The decoder's class labels (classifier decoders only).

    n_features_in_ : int
        Number of features seen by the encoder during :term:`fit` (if the encoder
        defines it).

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when the encoder
        defines it.

    See Also
    --------
    stitch : Join one pipeline's encoder to another's decoder.
    RelativeTransformer : The relative projection.
    MLPEncoder : A scikit-learn encoder to stitch.

    Notes
    -----
    What each step costs: the encoder usually dominates (a pretrained text encoder
    embeds tens of texts a second on a CPU); the relative projection is one matrix
    product with the anchors. A grid search over the relative step or the decoder
    re-encodes every fold for every candidate, although the codes never change.

    The cost model of ``memory``: ``fit`` hashes the encoder's parameters, ``X``,
    ``y`` and the fit parameters, and on a miss fits the encoder and writes it with
    the codes (a hit refits nothing); the other methods hash the fitted encoder (all
    its fitted attributes) and ``X``, and encode ``X`` only on a miss. Hashing costs
    time in proportion to the size of ``X`` and of the encoder's pickle (little for
    the encoders of :mod:`skrelrep.encoders`, which hold only their parameters).
    ``GridSearchCV(cv=k)`` over ``c`` candidates then encodes ``(k + 1) * n`` rows
    instead of ``(c * k + 1) * n``. A stateless encoder (a
    :class:`~sklearn.frozen.FrozenEstimator`, or ``requires_fit=False`` in its tags,
    as the pretrained encoders) keeps its codes row by row, for texts and NumPy
    arrays: each row is encoded once in all (``n`` rows), and a batched network's
    codes may differ from uncached ones by float rounding. skrelrep never clears the
    cache. With a pretrained encoder that is not searched, embedding once and
    searching a plain pipeline on the codes costs less still: see :ref:`pipelines`.

    ``set_output`` sets the container of this pipeline's ``transform`` and
    ``fit_transform`` output (pandas or polars, columns named by anchor). Unlike
    :meth:`Pipeline.set_output <sklearn.pipeline.Pipeline.set_output>`, it leaves the
    steps' own outputs alone: their fitted objects are shared with the pipelines
    stitched from this one, which would change with them. Set a step's output on the
    step itself.

    Metadata routing: ``fit`` forwards extra parameters to the inner
    :class:`~sklearn.pipeline.Pipeline`. Without metadata routing they are named
    ``<step>__<param>`` (for instance ``decoder__sample_weight``); with
    ``sklearn.set_config(enable_metadata_routing=True)`` they are routed to the steps
    that request them (``decoder.set_fit_request(sample_weight=True)``). ``predict``,
    ``predict_proba``, ``decision_function`` and ``transform`` take no extra
    parameters.

    References
    ----------
    .. [1] L. Moschella, V. Maiorca, M. Fumero, A. Norelli, F. Locatello and E. Rodolà,
       "Relative representations enable zero-shot latent space communication",
       ICLR 2023. https://arxiv.org/abs/2209.15430

    Examples
    --------
    Two encoders trained with different seeds, each with its own decoder:

    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import train_test_split
    >>> from skrelrep import MLPEncoder, RelativeTransformer, StitchedPipeline
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> def fitted_pipeline(seed, relative):
    ...     encoder = MLPEncoder((32,), tol=1e-2, random_state=seed)
    ...     decoder = LogisticRegression(max_iter=1000)
    ...     return StitchedPipeline(encoder, relative, decoder).fit(X_train, y_train)
    >>> relative = RelativeTransformer(n_anchors=100, random_state=0)
    >>> pipe_a, pipe_b = fitted_pipeline(0, relative), fitted_pipeline(1, relative)
    >>> bool(pipe_a.score(X_test, y_test) > 0.9)
    True

    Encoder B with decoder A, no training: relative stitching keeps the accuracy.

    >>> stitched = pipe_a.stitch(encoder_from=pipe_b)
    >>> bool(stitched.score(X_test, y_test) > 0.85)
    True

    The absolute baseline does not survive the swap:

    >>> abs_a = fitted_pipeline(0, "passthrough")
    >>> abs_b = fitted_pipeline(1, "passthrough")
    >>> absolute = abs_a.stitch(encoder_from=abs_b, via="absolute")
    >>> bool(absolute.score(X_test, y_test) < 0.5)
    True
    """

    _parameter_constraints: dict = {
        "encoder": [HasMethods(["fit", "transform"])],
        "relative": [
            StrOptions({"passthrough"}),
            HasMethods(["fit", "transform", "reanchor"]),
        ],
        "decoder": [HasMethods(["fit", "predict"])],
        "memory": [None, str, HasMethods(["cache"])],
        "verbose": ["boolean"],
    }

    def __init__(self, encoder, relative, decoder, *, memory=None, verbose=False):
        self.encoder = encoder
        self.relative = relative
        self.decoder = decoder
        self.memory = memory
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **params):
        """Fit the encoder (unless frozen), the relative projection and the decoder.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs, in any form the encoder reads (array, sparse matrix, DataFrame,
            list of strings, ...).

        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Targets of the decoder, also passed to the encoder and to the relative
            projection.

        **params : dict
            Fit parameters of the steps: named ``<step>__<param>`` without metadata
            routing, routed by request with it (see Notes).

        Returns
        -------
        self : object
            Fitted pipeline.
        """
        pipeline, codes = fit_steps(self, self._make_pipeline(clone), X, y, params)
        relative = pipeline.named_steps["relative"]
        if is_passthrough(relative):
            # The decoder reads these codes as they are: what stitch() compares
            # another encoder's codes with.
            return self._set_fitted(
                pipeline,
                anchor_indices=None,
                anchor_inputs=None,
                n_latent_features=getattr(pipeline[-1], "n_features_in_", None),
                origin=CodeOrigin(pipeline[0], fingerprint(codes)),
            )
        anchor_indices = np.asarray(relative.anchor_indices_)
        return self._set_fitted(
            pipeline,
            anchor_indices=anchor_indices,
            anchor_inputs=take_rows(X, anchor_indices),
            n_latent_features=getattr(relative, "n_features_in_", None),
        )

    def _encode(self, X):
        """The fitted encoder's codes of ``X``, through the cache (and the guard)."""
        check_is_fitted(self)
        codes = EncoderCache(self.memory).transform(self.pipeline_[0], X)
        guard = getattr(self, "_code_guard", None)
        if guard is not None:
            check_codes(guard, codes, self)
        return codes

    @classmethod
    def _assemble(
        cls,
        *,
        params,
        fitted,
        anchor_indices,
        anchor_inputs,
        n_latent_features,
        memory=None,
        verbose=False,
        origin=None,
        guard=None,
    ):
        """A fitted pipeline built from fitted steps, without training: stitching.

        ``params`` are the (encoder, relative, decoder) parameters, which a refit
        trains; ``fitted`` the fitted steps, shared, not copied. ``origin`` is the
        :class:`~._guard.CodeOrigin` of a passthrough decoder; ``guard`` a
        fingerprint that the codes must match (absolute stitching across encoders).
        """
        return cls(*params, memory=memory, verbose=verbose)._set_fitted(
            Pipeline(list(zip(_STEPS, fitted, strict=True))),
            anchor_indices=anchor_indices,
            anchor_inputs=anchor_inputs,
            n_latent_features=n_latent_features,
            origin=origin,
            guard=guard,
        )

    def _set_fitted(
        self,
        pipeline,
        *,
        anchor_indices,
        anchor_inputs,
        n_latent_features,
        origin=None,
        guard=None,
    ):
        """Set every fitted attribute at once (``fit`` and ``_assemble`` only)."""
        self.pipeline_ = pipeline
        self.anchor_indices_ = anchor_indices
        self.anchor_inputs_ = anchor_inputs
        self.n_latent_features_ = n_latent_features
        self._origin = origin
        self._code_guard = guard
        return self

    @available_if(_steps.decoder_has("predict"))
    def predict(self, X):
        """Encode, project and predict with the decoder.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs the encoder reads.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            The decoder's predictions.
        """
        codes = self._encode(X)
        return self.pipeline_[1:].predict(codes)

    @available_if(_steps.decoder_has("predict_proba"))
    def predict_proba(self, X):
        """Encode, project and return the decoder's class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs the encoder reads.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The decoder's class probabilities, columns in the order of ``classes_``.
        """
        codes = self._encode(X)
        return self.pipeline_[1:].predict_proba(codes)

    @available_if(_steps.decoder_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Encode, project and return the decoder's log class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs the encoder reads.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The decoder's log class probabilities.
        """
        codes = self._encode(X)
        return self.pipeline_[1:].predict_log_proba(codes)

    @available_if(_steps.decoder_has("decision_function"))
    def decision_function(self, X):
        """Encode, project and return the decoder's decision function.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs the encoder reads.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The decoder's decision function.
        """
        codes = self._encode(X)
        return self.pipeline_[1:].decision_function(codes)

    @available_if(_steps.decoder_has("score"))
    def score(self, X, y, sample_weight=None):
        """The decoder's score (accuracy, R², ...) on the encoded and projected ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs the encoder reads.

        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            True targets.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, passed to the decoder's ``score``.

        Returns
        -------
        score : float
            The decoder's score.
        """
        codes = self._encode(X)
        return self.pipeline_[1:].score(codes, y, sample_weight=sample_weight)

    def fit_transform(self, X, y=None, **params):
        """Fit, then return the representation the decoder reads.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs the encoder reads.

        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Targets of the decoder.

        **params : dict
            Fit parameters of the steps, as in :meth:`fit`.

        Returns
        -------
        X_new : array of shape (n_samples, n_anchors) or (n_samples, n_latent_features_)
            The relative representation of ``X``, as :meth:`transform` returns it.
        """
        return self.fit(X, y, **params).transform(X)

    def transform(self, X):
        """The representation the decoder reads: relative codes (absolute with passthrough).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs the encoder reads.

        Returns
        -------
        X_new : array of shape (n_samples, n_anchors) or (n_samples, n_latent_features_)
            The relative representation of ``X`` (its code, with
            ``relative="passthrough"``).
        """
        codes = self._encode(X)
        relative = self.pipeline_[1]
        return codes if is_passthrough(relative) else relative.transform(codes)

    def get_feature_names_out(self, input_features=None):
        """Names of the columns of :meth:`transform`.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names, passed to the encoder.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``relative_anchor<i>`` for the column of the anchor that was row ``i`` of
            the data the anchors were chosen from (``anchor_indices_``);
            ``relative_similarity<s>_anchor<i>`` when ``s = 0, 1, ...`` concatenated
            similarities compare each row with each anchor. The relative step's own
            names where anchors repeat, the encoder's names with passthrough.
        """
        check_is_fitted(self)
        names = self.pipeline_[:-1].get_feature_names_out(input_features)
        if is_passthrough(self.pipeline_[1]) or self.anchor_indices_ is None:
            return names
        return anchor_feature_names(names, self.anchor_indices_)

    def stitch(
        self, encoder_from, *, anchor_inputs=None, via="relative", method="orthogonal"
    ):
        """This pipeline's decoder, reading the latent space of another encoder.

        Equivalent to ``stitch(encoder_from, self, anchor_inputs, via=via,
        method=method)``; see :func:`stitch`.

        Parameters
        ----------
        encoder_from : StitchedPipeline or transformer
            A fitted pipeline whose encoder is used, or a fitted encoder.

        anchor_inputs : array-like of shape (n_anchors, ...), default=None
            This pipeline's anchor items as ``encoder_from`` reads them, when it reads
            another domain (parallel anchors). By default, ``self.anchor_inputs_``.

        via : {"relative", "translation", "absolute", "auto"}, default="relative"
            How the spaces are joined, see :func:`stitch`.

        method : {"orthogonal", "linear", "affine"}, default="orthogonal"
            The translation's map, with ``via="translation"``.

        Returns
        -------
        stitched : StitchedPipeline
            A fitted pipeline; nothing is refitted (but the translator, with
            ``via="translation"``).
        """
        return _stitch.stitch(
            encoder_from, self, anchor_inputs=anchor_inputs, via=via, method=method
        )

    def set_params(self, **params):
        """Set the parameters of this pipeline and of its steps.

        On a fitted pipeline, a step's guard switch (``relative__check_input_space``,
        see :ref:`input_space_guard`) applies to the fitted step at once, on a copy:
        pipelines that share the step keep their guard. Other step parameters take
        effect at the next :meth:`fit`.

        Parameters
        ----------
        **params : dict
            Parameters of the pipeline, and of its steps as ``<step>__<parameter>``.

        Returns
        -------
        self : object
        """
        super().set_params(**params)
        if hasattr(self, "pipeline_"):
            self.pipeline_ = _steps.switch_guards(self.pipeline_, params)
        return self

    @property
    def steps(self):
        """``(name, step)`` pairs: the fitted steps after fit, the parameters before.

        Names are ``"encoder"``, ``"relative"`` and ``"decoder"``. Read-only: set the
        steps with :meth:`set_params`.
        """
        if hasattr(self, "pipeline_"):
            return list(self.pipeline_.steps)
        return self._make_pipeline().steps

    @property
    def named_steps(self):
        """The steps by name (:attr:`steps` as a :class:`~sklearn.utils.Bunch`)."""
        return Bunch(**dict(self.steps))

    def __len__(self):
        """The number of steps: 3."""
        return len(_STEPS)

    def __getitem__(self, ind):
        """A step by position or name, or a slice of :attr:`steps` as a Pipeline.

        ``pipe[0]`` and ``pipe["encoder"]`` are the encoder (fitted after fit);
        ``pipe[:-1]`` is a Pipeline sharing the encoder and relative steps.
        """
        if isinstance(ind, slice):
            if ind.step not in (1, None):
                raise ValueError("StitchedPipeline slicing only supports a step of 1")
            return Pipeline(self.steps[ind], verbose=self.verbose)
        if isinstance(ind, str):
            return self.named_steps[ind]
        return self.steps[ind][1]

    def _sk_visual_block_(self):
        # Drawn as the sequence it runs, like a Pipeline of the same steps.
        return Pipeline(self.steps)._sk_visual_block_()

    @property
    def classes_(self):
        """The decoder's class labels."""
        check_is_fitted(self)
        return self.pipeline_[-1].classes_

    @property
    def n_features_in_(self):
        """Number of features seen by the encoder during fit."""
        check_is_fitted(self)
        return self.pipeline_.n_features_in_

    @property
    def feature_names_in_(self):
        """Names of features seen by the encoder during fit."""
        check_is_fitted(self)
        return self.pipeline_.feature_names_in_

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        Please check :ref:`User Guide <metadata_routing>` on how the routing
        mechanism works.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter` encapsulating
            routing information.
        """
        return MetadataRouter(owner=self).add(
            pipeline=self._make_pipeline(),
            method_mapping=MethodMapping()
            .add(caller="fit", callee="fit")
            .add(caller="fit_transform", callee="fit")
            .add(caller="score", callee="score"),
        )

    def _make_pipeline(self, prepare=None):
        """The steps as a Pipeline; ``prepare`` (e.g. clone) is applied to each."""
        steps = [self.encoder, self.relative, self.decoder]
        if prepare is not None:
            steps = [step if is_passthrough(step) else prepare(step) for step in steps]
        return Pipeline(list(zip(_STEPS, steps, strict=True)))

    def __sklearn_tags__(self):
        return step_tags(
            super().__sklearn_tags__(), self.encoder, self.relative, self.decoder
        )
