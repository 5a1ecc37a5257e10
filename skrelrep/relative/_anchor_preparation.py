"""Anchor embeddings prepared for the projection: centred, scaled, checked.

What ``RelativeTransformer.fit`` (and ``reanchor``) does to the raw anchor embeddings
before the similarity prepares them in its own way: subtract their mean (anchors that
are the mean up to rounding become exact zeros, with a warning), divide each feature
by its spread (constant features left alone), and, without centring, warn when the
anchors crowd in a narrow cone and the similarity reads angles.
"""

import scipy.sparse as sp

from ..utils._norms import normalize_rows
from ..utils._statistics import column_mean, feature_scale, near_mean_rows
from ..utils._warnings import warn

__all__ = ["CROWDING_THRESHOLD", "prepare_anchors"]


def prepare_anchors(anchors, *, center, standardize, measures_angles, xp):
    """``(prepared anchors, mean or None, scale or None)`` for the projection.

    Parameters
    ----------
    anchors : array of shape (n_anchors, n_features) or CSR matrix
        The raw anchor embeddings (densified here: there are few of them).
    center, standardize : bool
        As ``RelativeTransformer``'s parameters.
    measures_angles : bool
        Whether the similarity reads angles from the origin (a cosine): only then do
        uncentred anchors that crowd get a warning.
    xp : namespace of ``anchors``
    """
    if sp.issparse(anchors):
        anchors = anchors.toarray()
    mean = scale = None
    if center:
        if anchors.shape[0] < 2:
            raise ValueError(
                "center=True needs at least 2 anchors, got n_samples=1 anchor "
                "row: the only anchor minus the anchor mean is the zero vector. "
                "Choose more anchors, or set center=False."
            )
        mean = column_mean(anchors, xp)  # cannot overflow
        anchors = _collapse_residue(anchors - mean, mean, xp)
    elif measures_angles:
        _warn_if_crowded(anchors, xp)
    if standardize:
        scale = feature_scale(anchors, xp)
        anchors = anchors / scale
    return anchors, mean, scale


def _collapse_residue(centred, mean, xp):
    """Centred anchors that are the mean up to rounding become exact zeros, warned.

    Normalising rounding residue would give unit vectors pointing nowhere in
    particular, and confident similarities to them; a zero anchor gives the documented
    zero column instead.
    """
    collapsed = near_mean_rows(centred, mean, xp)
    n_collapsed = int(xp.sum(xp.astype(collapsed, xp.int64)))
    if n_collapsed == 0:
        return centred
    n_anchors = centred.shape[0]
    which = "All" if n_collapsed == n_anchors else f"{n_collapsed} of"
    warn(
        f"{which} {n_anchors} anchors equal the anchors' mean (up to rounding): "
        "centred, they are the zero vector, and their columns of the relative "
        "representation are zero. Choose distinct anchors, or set center=False."
    )
    return xp.where(collapsed[:, None], xp.zeros_like(centred), centred)


# Without centring, anchors whose mean pairwise cosine exceeds this crowd in a narrow
# cone: multilingual-e5 scores 0.80-0.84 here, the other shipped encoders 0.07-0.42.
CROWDING_THRESHOLD = 0.5


def _warn_if_crowded(anchors, xp):
    """Warn when uncentred anchors crowd in a narrow cone (mean pairwise cosine)."""
    unit = normalize_rows(anchors, xp)
    n_nonzero = int(xp.sum(xp.astype(xp.sum(unit * unit, axis=1) > 0.5, xp.int64)))
    if n_nonzero < 2:
        return
    total = xp.sum(unit, axis=0)
    # The sum of all pairwise cosines, minus the diagonal, over the pairs.
    crowding = (float(xp.sum(total * total)) - n_nonzero) / (
        n_nonzero * (n_nonzero - 1)
    )
    if crowding > CROWDING_THRESHOLD:
        warn(
            f"The anchors crowd in a narrow cone: their mean pairwise cosine is "
            f"{crowding:.2f}, so cosines to them differ little and relative "
            "representations of different encoders may not agree (stitching can fall "
            "to chance). Set center=True, the default, to measure angles from the "
            "anchors' mean."
        )
