"""The checks that stitch() and stitch_by_translation() share, and only these.

A StitchedPipeline is recognised by the private constructor it offers to the
stitching functions (``_assemble``), so that this module needs nothing from the
module that defines the class.
"""

from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "check_anchor_count",
    "check_decoder_from",
    "check_domain",
    "fitted_encoder",
    "is_passthrough",
    "is_stitched_pipeline",
    "n_rows",
    "require_fitted",
]

PARALLEL_HINT = (
    " The encoders read different domains: pass anchor_inputs, the anchor items as "
    "encoder_from reads them (row i = the item decoder_from.anchor_indices_[i])."
)


def is_passthrough(step):
    """Whether a step is the string ``"passthrough"`` (the absolute baseline)."""
    return isinstance(step, str) and step == "passthrough"


def is_stitched_pipeline(obj):
    """Whether ``obj`` is a StitchedPipeline (of any subclass)."""
    return callable(getattr(type(obj), "_assemble", None))


def require_fitted(estimator, name):
    """Raise NotFittedError naming the argument when ``estimator`` is not fitted."""
    try:
        check_is_fitted(estimator)
    except NotFittedError as error:
        raise NotFittedError(
            f"{name} is not fitted: fit it before stitching. {error}"
        ) from None


def check_decoder_from(decoder_from):
    """decoder_from must be a fitted StitchedPipeline."""
    if not is_stitched_pipeline(decoder_from):
        raise TypeError(
            "decoder_from must be a fitted StitchedPipeline, got "
            f"{type(decoder_from).__name__}."
        )
    require_fitted(decoder_from, "decoder_from")


def fitted_encoder(encoder_from):
    """(fitted encoder, its code width or None, whether it came with a relative step).

    The last item is None for a bare encoder, which can serve either kind.
    """
    if is_stitched_pipeline(encoder_from):
        require_fitted(encoder_from, "encoder_from")
        relative = encoder_from.pipeline_.named_steps["relative"]
        return (
            encoder_from.pipeline_[0],
            encoder_from.n_latent_features_,
            not is_passthrough(relative),
        )
    if not hasattr(encoder_from, "transform"):
        raise TypeError(
            "encoder_from must be a fitted StitchedPipeline or a fitted transformer, "
            f"got {type(encoder_from).__name__}."
        )
    require_fitted(encoder_from, "encoder_from")
    return encoder_from, code_width(encoder_from), None


def code_width(encoder):
    """The width of a fitted encoder's code, where it can tell without data."""
    try:
        return len(encoder.get_feature_names_out())
    except (AttributeError, TypeError, ValueError, NotFittedError):
        return None


def check_domain(encoder, anchors, hint):
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


def check_anchor_count(anchors, n_anchors, what):
    """``anchors`` must hold one row per anchor."""
    count = n_rows(anchors)
    if count != n_anchors:
        raise ValueError(
            f"{what} must hold one row per anchor of decoder_from, in anchor order "
            f"(decoder_from.anchor_indices_): expected {n_anchors} rows, got {count}."
        )


def n_rows(X):
    """Number of rows of an array, a sparse matrix, a DataFrame or a list."""
    shape = getattr(X, "shape", None)
    return shape[0] if shape is not None else len(X)
