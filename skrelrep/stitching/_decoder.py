"""Read a decoder fitted outside any pipeline through a new encoder.

:func:`stitch_decoder` is the commonest case of stitching: a classifier (or
regressor) was fitted on the codes of one encoder, and should now read another's.
It wraps the decoder and the encoder it was trained with in a fitted
:class:`StitchedPipeline`, without encoding the training set again, and hands over to
:func:`stitch_by_translation`, which encodes only the parallel anchors, once by each
encoder.
"""

from ._checks import is_passthrough, require_fitted
from ._guard import CodeOrigin
from ._pipeline import StitchedPipeline
from ._stitch import stitch_by_translation

__all__ = ["stitch_decoder"]


def stitch_decoder(
    decoder,
    old_encoder,
    new_encoder,
    anchor_inputs,
    *,
    old_anchor_inputs=None,
    relative="passthrough",
    method="orthogonal",
    scaling="isotropic",
    memory=None,
    verbose=False,
):
    """Read a fitted decoder through a new encoder, by a translation on anchors.

    ``decoder`` was fitted on the codes of ``old_encoder`` (projected by ``relative``
    when it was trained on relative codes). A :class:`LatentTranslator` fitted on
    parallel anchors maps ``new_encoder``'s codes into ``old_encoder``'s space, and
    the result runs

    ``new_encoder -> translator -> relative -> decoder``.

    Only the anchors are encoded, once by each encoder: the decoder's training data
    are not needed. Nothing but the translator is fitted. Read more in the
    :ref:`User Guide <reuse_decoder>`.

    Parameters
    ----------
    decoder : estimator
        A fitted classifier or regressor (or a fitted pipeline ending in one) that
        reads ``old_encoder``'s codes, or ``relative``'s projection of them.

    old_encoder : transformer
        The fitted encoder whose codes ``decoder`` was trained on.

    new_encoder : transformer or StitchedPipeline
        The fitted encoder the result reads inputs with (a pipeline's encoder, if a
        :class:`StitchedPipeline` is given).

    anchor_inputs : array-like of shape (n_anchors, ...)
        The anchor items as ``new_encoder`` reads them. A few hundred items that
        cover the task's domain are usually enough.

    old_anchor_inputs : array-like of shape (n_anchors, ...), default=None
        The same items, row by row, as ``old_encoder`` reads them (their translation,
        another view of them). By default ``anchor_inputs``: both encoders read the
        same domain.

    relative : RelativeTransformer or "passthrough", default="passthrough"
        The fitted relative projection between ``old_encoder`` and ``decoder``, if the
        decoder was trained on relative codes; its anchors stay as they are, in
        ``old_encoder``'s space, where the translated codes live.

    method : {"orthogonal", "linear", "affine"}, default="orthogonal"
        The translation's map, see :class:`LatentTranslator`.

    scaling : {"isotropic", "per_feature"} or None, default="isotropic"
        The translation's scaling, see :class:`LatentTranslator`.

    memory : str, object with a ``cache`` method or None, default=None
        The result's cache of encoder outputs, as in :class:`StitchedPipeline`; the
        codes of the anchors go through it too.

    verbose : bool, default=False
        The result's ``verbose``, as in :class:`StitchedPipeline`.

    Returns
    -------
    stitched : StitchedPipeline
        A fitted pipeline, as :func:`stitch_by_translation` returns it: its encoder
        step is ``[("encoder", new_encoder), ("translator", translator)]``, its
        relative and decoder steps are ``relative`` and ``decoder`` themselves
        (shared, not copied). As parameters, refitting it trains ``relative`` and
        ``decoder`` anew on the translated codes of the new training data.

    Raises
    ------
    TypeError
        If ``decoder`` cannot predict, or an encoder cannot transform.
    NotFittedError
        If ``decoder``, an encoder or ``relative`` is not fitted.
    ValueError
        If the two views of the anchors have different numbers of rows, or if
        ``old_encoder``'s codes are not as wide as what the decoder (or ``relative``)
        reads.

    See Also
    --------
    stitch_by_translation : The same, from one StitchedPipeline to another.
    stitch : Relative stitching, through the decoder's own anchors.
    LatentTranslator : The translation.

    Examples
    --------
    A classifier fitted on the codes of a PCA of the digits reads the codes of
    another, wider PCA of the digits rotated by 180 degrees (pixel order reversed),
    fitted on other images, through 100 parallel anchors: the same digits, upright and
    rotated.

    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skrelrep import stitch_decoder
    >>> X, y = load_digits(return_X_y=True)
    >>> X_rotated = X[:, ::-1]
    >>> old_encoder = PCA(n_components=20, random_state=0).fit(X[:1000])
    >>> classifier = LogisticRegression(max_iter=1000).fit(
    ...     old_encoder.transform(X[:1000]), y[:1000]
    ... )
    >>> new_encoder = PCA(n_components=30, random_state=0).fit(X_rotated[1000:])
    >>> stitched = stitch_decoder(
    ...     classifier, old_encoder, new_encoder, X_rotated[:100],
    ...     old_anchor_inputs=X[:100],
    ... )
    >>> own = classifier.score(old_encoder.transform(X[1000:]), y[1000:])
    >>> bool(abs(stitched.score(X_rotated[1000:], y[1000:]) - own) < 0.02)
    True
    """
    for name, encoder in (("old_encoder", old_encoder), ("new_encoder", new_encoder)):
        if not hasattr(encoder, "transform"):
            raise TypeError(
                f"{name} must be a fitted transformer, got {type(encoder).__name__}."
            )
    if not hasattr(decoder, "predict"):
        raise TypeError(
            "decoder must be a fitted classifier or regressor (with predict), got "
            f"{type(decoder).__name__}."
        )
    require_fitted(decoder, "decoder")
    require_fitted(old_encoder, "old_encoder")
    reads = decoder
    if not is_passthrough(relative):
        if not hasattr(relative, "transform"):
            raise TypeError(
                'relative must be a fitted relative projection or "passthrough", '
                f"got {type(relative).__name__}."
            )
        require_fitted(relative, "relative")
        reads = relative
    expected = getattr(reads, "n_features_in_", None)
    home = StitchedPipeline._assemble(
        params=(old_encoder, relative, decoder),
        fitted=(old_encoder, relative, decoder),
        anchor_indices=getattr(relative, "anchor_indices_", None),
        anchor_inputs=None,
        n_latent_features=expected,
        memory=memory,
        verbose=verbose,
        origin=CodeOrigin(old_encoder),
    )
    stitched = stitch_by_translation(
        new_encoder,
        home,
        anchor_inputs,
        target_anchor_inputs=(
            anchor_inputs if old_anchor_inputs is None else old_anchor_inputs
        ),
        method=method,
        scaling=scaling,
    )
    width = stitched.n_latent_features_
    if expected is not None and width != expected:
        what = "decoder" if is_passthrough(relative) else "relative"
        raise ValueError(
            f"old_encoder's codes have {width} features, but {what} reads "
            f"{expected}: old_encoder must be the encoder whose codes the decoder "
            "was trained on."
        )
    return stitched
