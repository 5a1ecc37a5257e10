"""What a fit computes from the raw anchors, before the transformer sets any of it.

Every fit path of ``RelativeTransformer`` (``fit``, ``partial_fit``, ``fit`` on a dask
array, ``reanchor``) ends in one tail, ``RelativeTransformer._set_fitted``: it calls
:func:`anchor_state` and only then sets ``FITTED_STATE`` at once, so that a call that
raises leaves the transformer as it was.
"""

import numpy as np
import scipy.sparse as sp

from ..similarity._projection import is_cosine
from ..utils._compat import get_namespace_and_device
from ..utils._statistics import centring_scale
from ._anchor_preparation import prepare_anchors
from ._input_space import InputSpace, scale_dependence

__all__ = ["ARRAY_ATTRIBUTES", "FITTED_STATE", "anchor_state"]

#: The fitted arrays, stored in the namespace and on the device of the fitted X.
ARRAY_ATTRIBUTES = ("anchors_", "anchor_mean_", "anchor_scale_", "anchor_indices_")
#: Everything a fit sets: all of it, or (when a call raises) none of it.
FITTED_STATE = (
    *ARRAY_ATTRIBUTES,
    "n_anchors_",
    "similarity_",
    "n_samples_seen_",
    "_input_space",
    "_stream",
    "_stream_rng",
)


def anchor_state(anchors, similarity, *, center, standardize):
    """The attributes that the raw ``anchors`` give, as a dict (nothing is set).

    The anchors are centred (``center``), divided by their spread
    (``standardize``) and prepared by ``similarity``; the input-space fingerprint is
    taken from them as they are. Centring cannot overflow: anchors whose centred
    rows (or their norms) could leave the dtype's range are centred at a smaller
    scale, a power of two (exact; see ``centring_scale``), which only a similarity
    blind to the scale of each row, the cosine, can use; with any other the
    ``ValueError`` says what to do.
    """
    xp, _, _ = get_namespace_and_device(anchors)
    if sp.issparse(anchors):  # few rows: dense from here on
        anchors = anchors.toarray()
    factor = centring_scale(anchors, xp) if center else 1.0
    if factor != 1.0 and not is_cosine(similarity):
        raise ValueError(
            f"Centred, these anchors leave the range of {anchors.dtype} (entries up "
            f"to {float(xp.max(xp.abs(anchors))):.3g}): only the cosine, which "
            "ignores the scale, can be computed on them. Divide X by a power of two "
            "(or convert it to float64), or use similarity='cosine'."
        )
    prepared, mean, scale = prepare_anchors(
        anchors * factor if factor != 1.0 else anchors,
        center=center,
        standardize=standardize,
        measures_angles=similarity.measures_angles,
        xp=xp,
    )
    if factor != 1.0:  # the statistics in the units of the anchors (exact)
        mean = mean / factor
        if scale is not None:  # a spread is at most the largest value, to rounding
            largest = float(np.finfo(str(scale.dtype).rsplit(".", 1)[-1]).max)
            scale = xp.clip(scale, max=largest * factor) / factor
    return {
        "anchors_": similarity.prepare_anchors(prepared, xp),
        "anchor_mean_": mean,
        "anchor_scale_": scale,
        "n_anchors_": prepared.shape[0],
        "_input_space": InputSpace.from_anchors(
            anchors, norms=scale_dependence(center, similarity)
        ),
    }
