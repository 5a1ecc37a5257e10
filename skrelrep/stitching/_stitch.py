"""Join the encoder of one fitted pipeline to the decoder of another.

:func:`stitch` re-expresses the decoder's anchors in the new encoder's latent space
(relative stitching, Moschella et al., 2023) or, with ``via="translation"``, hands
over to :func:`stitch_by_translation`, which maps the new encoder's codes into the old
space (Maiorca et al., 2023). Both return a fitted :class:`StitchedPipeline`, built
by its private constructor.
"""

from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from .._translation import LatentTranslator
from ..utils._warnings import warn
from ._auto import stitch_auto
from ._cache import EncoderCache
from ._checks import (
    PARALLEL_HINT,
    check_anchor_count,
    check_decoder_from,
    check_domain,
    fitted_encoder,
    is_passthrough,
    is_stitched_pipeline,
    n_rows,
)
from ._guard import REMEDY, code_origin, same_encoder

__all__ = ["stitch", "stitch_by_translation"]

_VIAS = ("relative", "translation", "absolute", "auto")


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
    as they are: the absolute-stitching baseline, which usually scores near chance
    across encoders. It warns unless asked for with ``via="absolute"``; to stitch such
    a decoder, use ``via="translation"``, or :func:`stitch_decoder` for a decoder
    trained outside a pipeline. See :ref:`absolute_baseline`.

    Parameters
    ----------
    encoder_from : StitchedPipeline or transformer
        A fitted :class:`StitchedPipeline` of the same kind as ``decoder_from``
        (relative or passthrough), whose encoder is used, or a fitted encoder.

    decoder_from : StitchedPipeline
        A fitted pipeline, whose relative projection and decoder are used.

    anchor_inputs : array-like of shape (n_anchors, ...), default=None
        Parallel anchors: row ``i`` is ``decoder_from``'s anchor ``i`` as
        ``encoder_from`` reads it; by default ``decoder_from.anchor_inputs_`` (one
        domain). See :ref:`cross_domain_stitching`.

    via : {"relative", "translation", "absolute", "auto"}, default="relative"
        Re-anchor the decoder's relative step, fit a translation on the anchors
        (:func:`stitch_by_translation`), ask for the absolute baseline of
        passthrough pipelines (:ref:`absolute_baseline`), or, with ``"auto"``, pick
        the bridge that best agrees with ``decoder_from`` on the anchors (out of
        fold); the result then has ``stitch_choice_`` and ``stitch_cv_scores_``.

    method : {"orthogonal", "linear", "affine"}, default="orthogonal"
        The translation's map, with ``via="translation"``.

    Returns
    -------
    stitched : StitchedPipeline
        A fitted pipeline, whatever ``via``. Its parameters are ``encoder_from``'s
        encoder (with ``via="translation"``, followed by the fitted translator and
        frozen) and ``decoder_from``'s relative and decoder, so refitting it trains
        that combination from scratch; its ``anchor_inputs_`` are the anchors in the
        new encoder's domain, so it can be stitched further. It takes
        ``decoder_from``'s ``memory`` and ``verbose``: with a memory, the new
        encoder's codes of the anchors, and of what the result encodes later, are
        cached (a stitching matrix then encodes each input once per encoder).

        An absolute stitch across encoders without ``via="absolute"`` also guards
        its decoder: codes that do not look like those it was trained on (as the
        :ref:`input-space guard <input_space_guard>` judges them) raise a
        ``ValueError`` in ``predict``, ``score`` and the other methods.

    Warns
    -----
    UserWarning
        When a passthrough ``decoder_from`` is given another encoder than its own
        and ``via`` is not ``"absolute"``: the result is the absolute baseline.

    Raises
    ------
    NotFittedError
        If either source is not fitted.
    ValueError
        If the anchors do not match (count, or the new encoder's input width), if a
        relative pipeline is stitched to a passthrough one, if absolute stitching
        joins codes of different widths, if ``anchor_inputs`` are given to a
        passthrough ``decoder_from`` without ``via="translation"``, or if
        ``via="absolute"`` is asked of a relative ``decoder_from``.

    See Also
    --------
    StitchedPipeline : Encoder, relative projection and decoder.
    RelativeTransformer.reanchor : Re-express the anchors in another latent space.
    stitch_decoder : A decoder fitted outside a pipeline, read through a new encoder.

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
    if via not in _VIAS:
        raise ValueError(
            f"via must be one of {', '.join(map(repr, _VIAS))}; got {via!r}."
        )
    if via == "auto":
        return stitch_auto(
            stitch, stitch_by_translation, encoder_from, decoder_from, anchor_inputs
        )
    if via == "translation":
        return stitch_by_translation(
            encoder_from, decoder_from, anchor_inputs, method=method
        )
    check_decoder_from(decoder_from)
    encoder, code_width, encoder_relative = fitted_encoder(encoder_from)
    relative = decoder_from.pipeline_.named_steps["relative"]
    absolute = is_passthrough(relative)
    if via == "absolute" and not absolute:
        raise ValueError(
            'via="absolute" joins a decoder that reads codes as they are, and '
            "decoder_from has a relative step: its anchors live in its own "
            'encoder\'s space. Stitch it with via="relative" (its anchors '
            're-embedded by the new encoder) or via="translation".'
        )
    if encoder_relative is not None and encoder_relative == absolute:
        raise ValueError(
            "Cannot stitch a relative pipeline to a passthrough (absolute) one: "
            f"decoder_from is {_kind(not absolute)}, encoder_from is "
            f"{_kind(encoder_relative)}. To reuse an encoder across kinds on purpose, "
            'pass the fitted encoder itself: encoder_from.named_steps["encoder"].'
        )

    origin, guard = None, None
    if absolute:
        if anchor_inputs is not None:
            raise ValueError(
                "decoder_from has no relative step (relative='passthrough'), so "
                "anchor_inputs have nothing to re-anchor. To join the two spaces "
                'through these parallel anchors, pass via="translation": a '
                "LatentTranslator fitted on them maps the new encoder's codes into "
                "the space the decoder was trained on."
            )
        expected = decoder_from.n_latent_features_
        if None not in (code_width, expected) and code_width != expected:
            raise ValueError(
                f"Absolute stitching needs codes of the same width: encoder_from's "
                f"encoder outputs {code_width} features, decoder_from's decoder reads "
                f"{expected}. Use a relative projection to stitch spaces of different "
                'widths, or via="translation".'
            )
        origin = code_origin(decoder_from)
        if via != "absolute" and not same_encoder(encoder, origin.encoder):
            warn(
                "stitch: decoder_from has no relative step, so its decoder will read "
                "the codes of another encoder than the one it was trained on, as "
                "they are. That is the absolute baseline, which usually scores near "
                "chance. " + REMEDY
            )
            guard = origin.space
        new_relative, anchors = relative, None
    else:
        anchors = _anchor_inputs(decoder_from, encoder, anchor_inputs)
        check_anchor_count(anchors, len(decoder_from.anchor_indices_), "anchor_inputs")
        # Cached with decoder_from's memory: a stitching matrix embeds the same
        # anchors with the same encoder once per decoder otherwise.
        cache = EncoderCache(decoder_from.memory)
        new_relative = relative.reanchor(cache.transform(encoder, anchors))
        code_width = getattr(new_relative, "n_features_in_", code_width)

    return type(decoder_from)._assemble(
        params=(
            encoder_from.encoder
            if is_stitched_pipeline(encoder_from)
            else encoder_from,
            decoder_from.relative,
            decoder_from.decoder,
        ),
        fitted=(encoder, new_relative, decoder_from.pipeline_[-1]),
        anchor_indices=decoder_from.anchor_indices_,
        anchor_inputs=anchors,
        n_latent_features=code_width,
        memory=decoder_from.memory,
        verbose=decoder_from.verbose,
        origin=origin,
        guard=guard,
    )


def _kind(relative):
    return "relative" if relative else "passthrough (absolute)"


def _anchor_inputs(decoder_from, encoder, anchor_inputs):
    """The decoder's anchor items as the new encoder reads them, checked."""
    if anchor_inputs is not None:
        check_domain(encoder, anchor_inputs, hint="")
        return anchor_inputs
    anchors = decoder_from.anchor_inputs_
    if anchors is None:
        raise ValueError(
            "decoder_from does not know its anchor items in its encoder's domain "
            "(it was stitched by translation on other items): pass anchor_inputs."
        )
    check_domain(encoder, anchors, hint=PARALLEL_HINT)
    return anchors


def stitch_by_translation(
    encoder_from,
    decoder_from,
    anchor_inputs=None,
    *,
    target_anchor_inputs=None,
    method="orthogonal",
    scaling="isotropic",
):
    """Join one encoder to another pipeline's decoder through a latent translation.

    The alternative to relative stitching (:func:`stitch`): instead of re-expressing
    the decoder's anchors in the new encoder's space, a :class:`LatentTranslator`
    fitted on parallel anchors maps the new encoder's codes into the space of the
    encoder the decoder was trained with. The result runs

    ``encoder_from's encoder -> translator -> decoder_from's relative step -> decoder``

    where the relative step is ``decoder_from``'s own fitted projection, unchanged: a
    decoder trained on relative codes reads relative codes, and the translated codes
    live in the space its anchors were embedded in. With a passthrough (absolute)
    ``decoder_from`` there is no relative step and the decoder reads the translated
    codes directly. Nothing but the translator is fitted.

    Parameters
    ----------
    encoder_from : StitchedPipeline or transformer
        A fitted :class:`StitchedPipeline`, whose encoder is used, or a fitted encoder.

    decoder_from : StitchedPipeline
        A fitted pipeline, relative or passthrough, whose decoder is used.

    anchor_inputs : array-like of shape (n_anchors, ...), default=None
        The anchor items as ``encoder_from`` reads them, row ``i`` being the item of
        row ``i`` of the target anchors (below). By default, the target anchors
        themselves: both encoders read the same domain.

    target_anchor_inputs : array-like of shape (n_anchors, ...), default=None
        The same items as ``decoder_from``'s encoder reads them; by default
        ``decoder_from.anchor_inputs_`` for a relative pipeline, ``anchor_inputs``
        for a passthrough one (which stores no anchors).

    method : {"orthogonal", "linear", "affine"}, default="orthogonal"
        The translation's ``method``, see :class:`LatentTranslator`.

    scaling : {"isotropic", "per_feature"} or None, default="isotropic"
        The translation's ``scaling``, see :class:`LatentTranslator`.

    Returns
    -------
    stitched : StitchedPipeline
        A fitted :class:`StitchedPipeline` whose encoder step is the pipeline
        ``[("encoder", encoder), ("translator", translator)]``: its ``named_steps``
        are ``"encoder"``, ``"relative"`` (``"passthrough"`` for an absolute
        ``decoder_from``) and ``"decoder"``, and the translator is
        ``stitched.named_steps["encoder"].named_steps["translator"]``. The fitted
        steps are shared with the sources, not copied. As a parameter, the encoder
        and translator are wrapped in :class:`~sklearn.frozen.FrozenEstimator`:
        refitting the stitched pipeline (in cross-validation, say) retrains the
        relative step and the decoder on the translated codes but never refits the
        translator to the task's labels.

    Raises
    ------
    NotFittedError
        If either source is not fitted.
    ValueError
        If no anchors are given for a passthrough ``decoder_from``, or if the two
        views of the anchors have different numbers of rows.

    See Also
    --------
    stitch : Relative stitching, through the decoder's anchors.
    stitch_decoder : The same for a decoder fitted outside any pipeline.
    LatentTranslator : The translation.

    References
    ----------
    .. [1] V. Maiorca, L. Moschella, A. Norelli, M. Fumero, F. Locatello and E. Rodolà,
       "Latent Space Translation via Semantic Alignment", NeurIPS 2023.
       https://arxiv.org/abs/2311.00664

    Examples
    --------
    Two absolute pipelines on the digits, whose encoders are PCAs of the images and of
    the same images rotated by 180 degrees (pixel order reversed):

    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skrelrep import StitchedPipeline, stitch_by_translation
    >>> X, y = load_digits(return_X_y=True)
    >>> X_rotated = X[:, ::-1]
    >>> def fitted_pipeline(X):
    ...     return StitchedPipeline(
    ...         PCA(n_components=20, random_state=0),
    ...         "passthrough",
    ...         LogisticRegression(max_iter=1000),
    ...     ).fit(X[:1000], y[:1000])
    >>> upright, rotated = fitted_pipeline(X), fitted_pipeline(X_rotated)

    Decode the rotated encoder's codes with the upright decoder, translating on 100
    parallel anchors:

    >>> stitched = stitch_by_translation(
    ...     rotated, upright, X_rotated[:100], target_anchor_inputs=X[:100]
    ... )
    >>> list(stitched.named_steps["encoder"].named_steps)
    ['encoder', 'translator']
    >>> accuracy = stitched.score(X_rotated[1000:], y[1000:])
    >>> bool(abs(accuracy - upright.score(X[1000:], y[1000:])) < 0.02)
    True
    """
    check_decoder_from(decoder_from)
    encoder, _, _ = fitted_encoder(encoder_from)

    steps = decoder_from.pipeline_.named_steps
    relative = steps["relative"]
    absolute = is_passthrough(relative)
    own_anchors = target_anchor_inputs is None and not absolute
    if target_anchor_inputs is None:
        target_anchor_inputs = (
            anchor_inputs if absolute else decoder_from.anchor_inputs_
        )
    if target_anchor_inputs is None:
        raise ValueError(
            "A passthrough (absolute) decoder_from stores no anchors: pass "
            "anchor_inputs (and target_anchor_inputs when the encoders read "
            "different domains), the items the translation is fitted on."
        )
    if anchor_inputs is None:
        anchor_inputs = target_anchor_inputs
    n_source, n_target = n_rows(anchor_inputs), n_rows(target_anchor_inputs)
    if n_source != n_target:
        raise ValueError(
            "anchor_inputs and target_anchor_inputs must be two views of the same "
            f"items, row by row; got {n_source} and {n_target} rows."
        )

    # The target codes are those the step after the encoder reads: a relative
    # step's anchors were embedded by the current encoder, a passthrough decoder
    # was trained on its origin's codes (another encoder's, if it was stitched).
    origin = code_origin(decoder_from) if absolute else None
    target_encoder = origin.encoder if absolute else steps["encoder"]
    cache = EncoderCache(decoder_from.memory)
    translator = LatentTranslator(method=method, scaling=scaling).fit(
        cache.transform(encoder, anchor_inputs),
        cache.transform(target_encoder, target_anchor_inputs),
    )
    translated = Pipeline([("encoder", encoder), ("translator", translator)])
    return type(decoder_from)._assemble(
        params=(
            FrozenEstimator(translated),
            decoder_from.relative,
            decoder_from.decoder,
        ),
        fitted=(translated, relative, steps["decoder"]),
        anchor_indices=decoder_from.anchor_indices_,
        # The relative step's anchors, as the new encoder reads them, where known.
        anchor_inputs=anchor_inputs if own_anchors else None,
        n_latent_features=translator.n_features_out_,
        memory=decoder_from.memory,
        verbose=decoder_from.verbose,
        origin=origin,
    )
