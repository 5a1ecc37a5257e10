"""Which space a decoder reads, and a guard against codes from another one.

A decoder with no relative step before it reads the codes of the encoder it was
trained with, as they are; fed another encoder's codes, it predicts at about chance
level with no error (the absolute baseline). :class:`CodeOrigin` records, for a
passthrough :class:`StitchedPipeline`, that encoder and the fingerprint of its codes
(:class:`~skrelrep.relative._input_space.InputSpace`, the statistics the relative
projection's input guard keeps of its anchors), computed on the training codes.
:func:`stitch` compares the new encoder with the recorded one
(:func:`same_encoder`), and a pipeline stitched across encoders without asking for
the baseline checks its codes against the fingerprint (:func:`check_codes`).
"""

from dataclasses import dataclass

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.frozen import FrozenEstimator

from ..relative._input_space import InputSpace
from ..utils._array_api import to_numpy
from ._cache import is_stateless

__all__ = ["CodeOrigin", "check_codes", "code_origin", "same_encoder"]

# Rows of the training codes (evenly spaced) that the fingerprint is computed on.
_FINGERPRINT_ROWS = 4096
REMEDY = (
    "To stitch these encoders, fit a translation on parallel anchors "
    '(via="translation"), or give the decoder a relative step; to score the absolute '
    'baseline on purpose, stitch with via="absolute".'
)


@dataclass(frozen=True)
class CodeOrigin:
    """The encoder whose codes a passthrough decoder reads, and their fingerprint.

    ``space`` is None where no fingerprint could be taken (codes that are not
    numeric arrays, or pipelines fitted before it was recorded).
    """

    encoder: object
    space: InputSpace = None


def code_origin(pipeline):
    """The :class:`CodeOrigin` of a fitted StitchedPipeline's decoder."""
    origin = getattr(pipeline, "_origin", None)
    return origin if origin is not None else CodeOrigin(pipeline.pipeline_[0])


def fingerprint(codes):
    """The :class:`InputSpace` of training codes, or None if they are not numeric."""
    try:
        rows = _host_rows(codes)
        return None if rows is None else InputSpace.from_anchors(rows)
    except (TypeError, ValueError):
        return None


def check_codes(space, codes, estimator):
    """Raise a ``ValueError`` when ``codes`` cannot come from the space ``space``."""
    rows = _host_rows(codes)
    if rows is None:
        return
    try:
        space.check(
            rows,
            np,
            device=None,
            estimator=estimator,
            hint=REMEDY,
            anchors="decoder's training codes",
            remedy="",  # the fixes are in REMEDY: this guard has no switch
        )
    except ValueError as error:
        raise ValueError(
            "This pipeline's decoder was trained on the codes of another encoder "
            "than the one it now reads, with no relative step or translation "
            "between them, and the codes of X do not match those: " + str(error)
        ) from None


def _host_rows(codes, max_rows=_FINGERPRINT_ROWS):
    """At most ``max_rows`` evenly spaced rows of ``codes`` as a 2-D float array."""
    if hasattr(codes, "to_numpy") and not hasattr(codes, "__array_namespace__"):
        codes = codes.to_numpy()  # pandas or polars
    shape = getattr(codes, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] == 0:
        return None
    if sp.issparse(codes):
        codes = codes.tocsr()
    step = -(-shape[0] // max_rows)
    rows = codes[::step] if step > 1 else codes
    if sp.issparse(rows):
        return rows.astype(np.float64)
    rows = np.asarray(to_numpy(rows))
    if rows.dtype.kind not in "fiub":
        return None
    return rows.astype(np.float64, copy=False)


def same_encoder(a, b):
    """Whether two fitted encoders compute the same codes for the same inputs.

    The same object, or equal objects: equal parameters for encoders that learn
    nothing from data (pretrained ones), equal fitted state otherwise. Anything that
    cannot be compared counts as different.
    """
    a, b = _unwrap(a), _unwrap(b)
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        if is_stateless(a) and is_stateless(b):
            return joblib.hash(a.get_params()) == joblib.hash(b.get_params())
        return joblib.hash(a) == joblib.hash(b)
    except Exception:  # unpicklable state: nothing proves them equal
        return False


def _unwrap(encoder):
    while isinstance(encoder, FrozenEstimator):
        encoder = encoder.estimator
    return encoder
