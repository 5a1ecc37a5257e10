"""Statistics of a set of anchors that rounding cannot fool.

A feature constant over the anchors keeps a spread of about ``eps * |mean|`` after
rounding, and an anchor equal to the mean keeps a residue of that size after centring:
both must count as zero, not be divided by or normalised into confident values.
"""

import numpy as np

from ._norms import centring_residue, row_norms

__all__ = ["feature_scale", "near_mean_rows"]


def feature_scale(X, xp):
    """Spread of each feature over the rows of ``X``; 1 where the feature is constant.

    A feature counts as constant when its spread is within the rounding error of its
    mean, with scikit-learn's ``StandardScaler`` tolerance (``n_rows * eps`` relative
    to the mean's magnitude). Each feature is divided by its largest entry before
    squaring, so that no magnitude overflows.
    """
    n_rows = X.shape[0]
    largest = xp.max(xp.abs(X), axis=0)
    largest = xp.where(largest > 0, largest, xp.ones_like(largest))
    mean = xp.mean(X, axis=0)
    spread = xp.std(X / largest, axis=0) * largest
    eps = float(np.finfo(np.float64).eps)
    constant = spread <= n_rows * eps * (xp.abs(mean) + spread)
    return xp.where(constant, xp.ones_like(spread), spread)


def near_mean_rows(centred, mean, xp):
    """Mask of the centred rows that are the mean up to rounding (see
    ``centring_residue``)."""
    return row_norms(centred, xp) <= centring_residue(mean, xp)
