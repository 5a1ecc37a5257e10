"""Statistics of a set of anchors that rounding cannot fool.

A feature constant over the anchors keeps a spread of about ``eps * |mean|`` after
rounding, a dead feature (at underflow scale beside the others) a spread below the
rounding of the others, and an anchor equal to the mean keeps a residue of that size
after centring: all must count as zero, not be divided by or normalised into
confident values.
"""

from ._norms import centring_residue, row_norms

__all__ = ["feature_scale", "near_mean_rows"]


def feature_scale(X, xp):
    """Spread of each feature over the rows of ``X``; 1 where the feature is constant.

    A feature counts as constant when its spread is within the rounding error of the
    values it is computed from, with scikit-learn's ``StandardScaler`` tolerance
    (``n_rows * eps``, ``eps`` of the dtype of ``X``) relative to the largest of its
    own mean's magnitude and the largest magnitude of any feature. The second keeps
    dead features (values at underflow scale, such as 1e-32 beside features near
    0.05, or below float32's rounding of them) constant: a translation of the rows
    by their own scale erases them, so scaling them to unit spread would make the
    output depend on where the rows sit. Each feature is divided by its largest entry before
    squaring, so that no magnitude overflows.
    """
    n_rows = X.shape[0]
    largest = xp.max(xp.abs(X), axis=0)
    overall = xp.max(largest)
    largest = xp.where(largest > 0, largest, xp.ones_like(largest))
    mean = xp.mean(X, axis=0)
    spread = xp.std(X / largest, axis=0) * largest
    # The rounding of the dtype the rows are computed in.
    eps = float(xp.finfo(X.dtype).eps)
    constant = spread <= n_rows * eps * (xp.abs(mean) + spread + overall)
    return xp.where(constant, xp.ones_like(spread), spread)


def near_mean_rows(centred, mean, xp):
    """Mask of the centred rows that are the mean up to rounding (see
    ``centring_residue``)."""
    return row_norms(centred, xp) <= centring_residue(mean, xp)
