"""Zero-shot model stitching: StitchedPipeline and stitch().

A :class:`StitchedPipeline` is an encoder, a relative projection and a decoder, fitted
together like a :class:`~sklearn.pipeline.Pipeline` (it composes one). :func:`stitch`
joins the encoder of one fitted pipeline to the decoder of another without training
anything: the anchors the decoder was trained against are re-embedded by the new
encoder, so the decoder sees the same relative representation.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils import TransformerTags, _safe_indexing, get_tags
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._compat import HasMethods, StrOptions, _fit_context
from ._translation import stitch_by_translation

__all__ = ["StitchedPipeline", "stitch"]

_STEPS = ("encoder", "relative", "decoder")


def _decoder_has(attr):
    """For available_if: the fitted decoder (or, before fit, the given one) has attr."""

    def check(self):
        decoder = self.pipeline_[-1] if hasattr(self, "pipeline_") else self.decoder
        getattr(decoder, attr)
        return True

    return check


def _is_passthrough(step):
    return isinstance(step, str) and step == "passthrough"


class StitchedPipeline(MetaEstimatorMixin, BaseEstimator):
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
    usually fails.

    Read more in the :ref:`User Guide <stitching>`.

    Parameters
    ----------
    encoder : estimator
        A transformer whose ``transform`` returns the latent code: PCA, an
        :class:`MLPEncoder`, a neural network, a pretrained model. It is cloned and
        refitted by ``fit``, unless wrapped in :class:`~sklearn.frozen.FrozenEstimator`,
        which keeps a fitted (for instance pretrained) encoder as it is.

    relative : RelativeTransformer or "passthrough"
        The relative projection fitted on the codes (``fit`` passes ``y`` to it, for
        ``anchor_selection="stratified"``), or ``"passthrough"`` for the absolute
        baseline. Any transformer with a ``reanchor`` method and an
        ``anchor_indices_`` attribute works.

    decoder : estimator
        A classifier or regressor fitted on the relative codes. The pipeline is a
        classifier or a regressor as the decoder is.

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
    >>> bool(abs_a.stitch(encoder_from=abs_b).score(X_test, y_test) < 0.5)
    True
    """

    _parameter_constraints: dict = {
        "encoder": [HasMethods(["fit", "transform"])],
        "relative": [
            StrOptions({"passthrough"}),
            HasMethods(["fit", "transform", "reanchor"]),
        ],
        "decoder": [HasMethods(["fit", "predict"])],
    }

    def __init__(self, encoder, relative, decoder):
        self.encoder = encoder
        self.relative = relative
        self.decoder = decoder

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
        pipeline = self._make_pipeline(clone)
        if _routing_enabled():
            routed = process_routing(self, "fit", **params)
            pipeline.fit(X, y, **routed.pipeline.fit)
        else:
            pipeline.fit(X, y, **params)
        self.pipeline_ = pipeline
        relative = pipeline.named_steps["relative"]
        if _is_passthrough(relative):
            self.anchor_indices_ = None
            self.anchor_inputs_ = None
            self.n_latent_features_ = getattr(pipeline[-1], "n_features_in_", None)
        else:
            self.anchor_indices_ = np.asarray(relative.anchor_indices_)
            self.anchor_inputs_ = _take_rows(X, self.anchor_indices_)
            self.n_latent_features_ = getattr(relative, "n_features_in_", None)
        return self

    @available_if(_decoder_has("predict"))
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
        check_is_fitted(self)
        return self.pipeline_.predict(X)

    @available_if(_decoder_has("predict_proba"))
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
        check_is_fitted(self)
        return self.pipeline_.predict_proba(X)

    @available_if(_decoder_has("predict_log_proba"))
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
        check_is_fitted(self)
        return self.pipeline_.predict_log_proba(X)

    @available_if(_decoder_has("decision_function"))
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
        check_is_fitted(self)
        return self.pipeline_.decision_function(X)

    @available_if(_decoder_has("score"))
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
        check_is_fitted(self)
        return self.pipeline_.score(X, y, sample_weight=sample_weight)

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
        check_is_fitted(self)
        return self.pipeline_[:-1].transform(X)

    def get_feature_names_out(self, input_features=None):
        """Names of the columns of :meth:`transform`.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names, passed to the encoder.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``relativetransformer0..`` (the encoder's names with passthrough).
        """
        check_is_fitted(self)
        return self.pipeline_[:-1].get_feature_names_out(input_features)

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

        via : {"relative", "translation"}, default="relative"
            How the spaces are joined, see :func:`stitch`.

        method : {"orthogonal", "linear", "affine"}, default="orthogonal"
            The translation's map, with ``via="translation"``.

        Returns
        -------
        stitched : StitchedPipeline or Pipeline
            A fitted pipeline; nothing is refitted (but the translator, with
            ``via="translation"``).
        """
        return stitch(
            encoder_from, self, anchor_inputs=anchor_inputs, via=via, method=method
        )

    @property
    def named_steps(self):
        """The fitted steps by name: ``encoder``, ``relative``, ``decoder``."""
        check_is_fitted(self)
        return self.pipeline_.named_steps

    @property
    def classes_(self):
        """The decoder's class labels."""
        return self.pipeline_[-1].classes_

    @property
    def n_features_in_(self):
        """Number of features seen by the encoder during fit."""
        return self.pipeline_.n_features_in_

    @property
    def feature_names_in_(self):
        """Names of features seen by the encoder during fit."""
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
            steps = [step if _is_passthrough(step) else prepare(step) for step in steps]
        return Pipeline(list(zip(_STEPS, steps, strict=True)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Invalid steps are reported by fit's parameter validation, not here.
        encoder_tags = _tags_or_none(self.encoder)
        decoder_tags = _tags_or_none(self.decoder)
        relative_tags = _tags_or_none(self.relative)
        if encoder_tags is not None:
            # The inputs are what the encoder reads.
            tags.input_tags = encoder_tags.input_tags
            tags.non_deterministic |= encoder_tags.non_deterministic
            # transform returns the relative codes: float dtypes kept by both steps.
            preserved = _preserved_dtypes(encoder_tags)
            if relative_tags is not None:
                kept = _preserved_dtypes(relative_tags)
                preserved = [dtype for dtype in preserved if dtype in kept]
            tags.transformer_tags = TransformerTags(preserves_dtype=preserved)
        if decoder_tags is not None:
            # Targets and estimator type are the decoder's.
            tags.estimator_type = decoder_tags.estimator_type
            tags.target_tags = decoder_tags.target_tags
            tags.classifier_tags = decoder_tags.classifier_tags
            tags.regressor_tags = decoder_tags.regressor_tags
            tags.non_deterministic |= decoder_tags.non_deterministic
        return tags


def _tags_or_none(step):
    """The tags of a step; None for "passthrough" or anything that is no estimator."""
    if _is_passthrough(step):
        return None
    try:
        return get_tags(step)
    except (AttributeError, TypeError, ValueError):
        return None


def _preserved_dtypes(tags):
    if tags.transformer_tags is None:
        return []
    return list(tags.transformer_tags.preserves_dtype)


def stitch(
    encoder_from,
    decoder_from,
    anchor_inputs=None,
    *,
    via="relative",
    method="orthogonal",
):
    """Join the encoder of one fitted pipeline to the decoder of another.

    The result encodes with ``encoder_from``'s encoder and decodes with
    ``decoder_from``'s decoder. With a relative projection, the decoder's anchors are
    re-embedded by the new encoder (``decoder_from``'s relative step, re-anchored with
    :meth:`RelativeTransformer.reanchor`), so the decoder keeps reading the same
    relative representation: zero-shot stitching. Nothing is refitted and neither
    input is modified; the fitted steps are shared with the sources, not copied.

    With ``relative="passthrough"`` pipelines the decoder reads the new encoder's codes
    as they are: the absolute-stitching baseline.

    Parameters
    ----------
    encoder_from : StitchedPipeline or transformer
        A fitted :class:`StitchedPipeline`, whose encoder is used, or a fitted encoder
        (a transformer or a :class:`~sklearn.frozen.FrozenEstimator`). A pipeline must
        be of the same kind as ``decoder_from`` (both relative or both passthrough).

    decoder_from : StitchedPipeline
        A fitted pipeline, whose relative projection and decoder are used.

    anchor_inputs : array-like of shape (n_anchors, ...), default=None
        Parallel anchors: row ``i`` is the item that was anchor ``i`` of
        ``decoder_from`` (the row ``decoder_from.anchor_indices_[i]`` of its training
        data), as ``encoder_from`` reads it, for instance its translation or another
        view of it. By default, ``decoder_from.anchor_inputs_``: both encoders read the
        same domain. Not used by passthrough pipelines (except with
        ``via="translation"``, where they are required).

    via : {"relative", "translation"}, default="relative"
        ``"relative"`` re-anchors the decoder's relative projection (zero-shot, the
        paper's method). ``"translation"`` instead fits a :class:`LatentTranslator`
        from the new encoder's space into the old one on the parallel anchors
        (Maiorca et al., 2023), see :func:`stitch_by_translation`; it then returns a
        plain :class:`~sklearn.pipeline.Pipeline`.

    method : {"orthogonal", "linear", "affine"}, default="orthogonal"
        The translation's map, with ``via="translation"``.

    Returns
    -------
    stitched : StitchedPipeline or Pipeline
        A fitted pipeline (a :class:`~sklearn.pipeline.Pipeline` with
        ``via="translation"``). Its parameters are ``encoder_from``'s encoder and
        ``decoder_from``'s relative and decoder, so refitting it trains that
        combination from scratch; its ``anchor_inputs_`` are the anchors in the new
        encoder's domain, so it can be stitched further.

    Raises
    ------
    NotFittedError
        If either source is not fitted.
    ValueError
        If the anchors do not match (count, or the new encoder's input width), if a
        relative pipeline is stitched to a passthrough one, or if absolute stitching
        joins codes of different widths.

    See Also
    --------
    StitchedPipeline : Encoder, relative projection and decoder.
    RelativeTransformer.reanchor : Re-express the anchors in another latent space.

    Examples
    --------
    Cross-domain stitching with parallel anchors: a second encoder reads the digits
    rotated by 180 degrees (pixel order reversed); the anchors are the same items,
    rotated.

    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skrelrep import RelativeTransformer, StitchedPipeline, stitch
    >>> X, y = load_digits(return_X_y=True)
    >>> X_rotated = X[:, ::-1]
    >>> def fitted_pipeline(X):
    ...     return StitchedPipeline(
    ...         PCA(n_components=20, random_state=0),
    ...         RelativeTransformer(n_anchors=50, random_state=0),
    ...         LogisticRegression(max_iter=1000),
    ...     ).fit(X[:1000], y[:1000])
    >>> upright, rotated = fitted_pipeline(X), fitted_pipeline(X_rotated)
    >>> stitched = stitch(
    ...     rotated, upright, anchor_inputs=X_rotated[upright.anchor_indices_]
    ... )
    >>> accuracy = stitched.score(X_rotated[1000:], y[1000:])
    >>> bool(abs(accuracy - upright.score(X[1000:], y[1000:])) < 0.02)
    True
    """
    if via not in ("relative", "translation"):
        raise ValueError(f'via must be "relative" or "translation", got {via!r}.')
    if via == "translation":
        return stitch_by_translation(
            encoder_from, decoder_from, anchor_inputs, method=method
        )
    _check_decoder_from(decoder_from)
    encoder, code_width, encoder_relative = _fitted_encoder(encoder_from)
    relative = decoder_from.pipeline_.named_steps["relative"]
    absolute = _is_passthrough(relative)
    if encoder_relative is not None and encoder_relative == absolute:
        raise ValueError(
            "Cannot stitch a relative pipeline to a passthrough (absolute) one: "
            f"decoder_from is {_kind(not absolute)}, encoder_from is "
            f"{_kind(encoder_relative)}. To reuse an encoder across kinds on purpose, "
            'pass the fitted encoder itself: encoder_from.named_steps["encoder"].'
        )

    if absolute:
        if anchor_inputs is not None:
            raise ValueError(
                "anchor_inputs are not used to stitch passthrough (absolute) "
                "pipelines: the decoder reads the new encoder's codes as they are."
            )
        expected = decoder_from.n_latent_features_
        if None not in (code_width, expected) and code_width != expected:
            raise ValueError(
                f"Absolute stitching needs codes of the same width: encoder_from's "
                f"encoder outputs {code_width} features, decoder_from's decoder reads "
                f"{expected}. Use a relative projection to stitch spaces of different "
                "widths."
            )
        new_relative, anchors = relative, None
    else:
        if anchor_inputs is None:
            anchors = decoder_from.anchor_inputs_
            _check_domain(encoder, anchors, hint=_PARALLEL_HINT)
        else:
            anchors = anchor_inputs
            _check_domain(encoder, anchors, hint="")
        n_rows, n_anchors = _n_rows(anchors), len(decoder_from.anchor_indices_)
        if n_rows != n_anchors:
            raise ValueError(
                f"anchor_inputs must hold one row per anchor of decoder_from, in "
                f"anchor order (decoder_from.anchor_indices_): expected "
                f"{n_anchors} rows, got {n_rows}."
            )
        new_relative = relative.reanchor(encoder.transform(anchors))
        code_width = getattr(new_relative, "n_features_in_", code_width)

    stitched = StitchedPipeline(
        encoder=(
            encoder_from.encoder
            if isinstance(encoder_from, StitchedPipeline)
            else encoder_from
        ),
        relative=decoder_from.relative,
        decoder=decoder_from.decoder,
    )
    stitched.pipeline_ = Pipeline(
        [
            ("encoder", encoder),
            ("relative", new_relative),
            ("decoder", decoder_from.pipeline_[-1]),
        ]
    )
    stitched.anchor_indices_ = decoder_from.anchor_indices_
    stitched.anchor_inputs_ = anchors
    stitched.n_latent_features_ = code_width
    return stitched


_PARALLEL_HINT = (
    " The encoders read different domains: pass anchor_inputs, the anchor items as "
    "encoder_from reads them (row i = the item decoder_from.anchor_indices_[i])."
)


def _require_fitted(estimator, name):
    try:
        check_is_fitted(estimator)
    except NotFittedError as error:
        raise NotFittedError(
            f"{name} is not fitted: fit it before stitching. {error}"
        ) from None


def _kind(relative):
    return "relative" if relative else "passthrough (absolute)"


def _check_decoder_from(decoder_from):
    """decoder_from must be a fitted StitchedPipeline."""
    if not isinstance(decoder_from, StitchedPipeline):
        raise TypeError(
            "decoder_from must be a fitted StitchedPipeline, got "
            f"{type(decoder_from).__name__}."
        )
    _require_fitted(decoder_from, "decoder_from")


def _fitted_encoder(encoder_from):
    """(fitted encoder, its code width or None, whether it came with a relative step).

    The last item is None for a bare encoder, which can serve either kind.
    """
    if isinstance(encoder_from, StitchedPipeline):
        _require_fitted(encoder_from, "encoder_from")
        relative = encoder_from.pipeline_.named_steps["relative"]
        return (
            encoder_from.pipeline_[0],
            encoder_from.n_latent_features_,
            not _is_passthrough(relative),
        )
    if not hasattr(encoder_from, "transform"):
        raise TypeError(
            "encoder_from must be a fitted StitchedPipeline or a fitted transformer, "
            f"got {type(encoder_from).__name__}."
        )
    _require_fitted(encoder_from, "encoder_from")
    return encoder_from, _n_features_out(encoder_from), None


def _n_features_out(encoder):
    """The encoder's code width, where it can tell without data."""
    try:
        return len(encoder.get_feature_names_out())
    except (AttributeError, TypeError, ValueError, NotFittedError):
        return None


def _check_domain(encoder, anchors, hint):
    """Anchors must have as many features as the encoder reads (where both are known)."""
    n_features_in = getattr(encoder, "n_features_in_", None)
    shape = getattr(anchors, "shape", None)
    if n_features_in is None or shape is None or len(shape) != 2:
        return
    if shape[1] != n_features_in:
        raise ValueError(
            f"The anchor inputs have {shape[1]} features but encoder_from's encoder "
            f"reads {n_features_in}.{hint}"
        )


def _take_rows(X, indices):
    """Rows of ``X`` in its own container: array, sparse, DataFrame, list, ..."""
    if sp.issparse(X) and X.format not in ("csr", "csc"):
        X = X.tocsr()  # COO, DIA, ... cannot be indexed by rows
    elif not hasattr(X, "__getitem__") and hasattr(X, "__array__"):
        X = np.asarray(X)
    return _safe_indexing(X, indices, axis=0)


def _n_rows(X):
    shape = getattr(X, "shape", None)
    return shape[0] if shape is not None else len(X)
