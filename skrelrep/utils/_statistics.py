"""Statistics of a set of anchors that rounding cannot fool.

A feature constant over the anchors keeps a spread of about ``eps * |mean|`` after
rounding, a dead feature (at underflow scale beside the others) a spread below the
rounding of the others, and an anchor equal to the mean keeps a residue of that size
after centring: all must count as zero, not be divided by or normalised into
confident values.

Centring cannot overflow either: the mean of entries near the dtype's largest value is
summed in units that keep the sum in range, and a row whose difference with the mean
leaves the range is centred at half its scale (exact, a power of two), for callers
whose result does not depend on each row's scale (a cosine).
"""

import math

import numpy as np

from ._array_api import is_numpy_namespace, to_numpy
from ._norms import centring_residue, row_norms

__all__ = [
    "centre_rows",
    "centring_scale",
    "column_mean",
    "feature_scale",
    "near_mean_rows",
]


def feature_scale(X, xp):
    """Spread of each feature over the rows of ``X``; 1 where the feature is constant.

    A feature counts as constant when its spread is within the rounding error of the
    values it is computed from, with scikit-learn's ``StandardScaler`` tolerance
    (``n_rows * eps``, ``eps`` of the dtype of ``X``) relative to the largest of its
    own mean's magnitude and the largest magnitude of any feature. The second keeps
    dead features (values at underflow scale, such as 1e-32 beside features near
    0.05, or below float32's rounding of them) constant: a translation of the rows
    by their own scale erases them, so scaling them to unit spread would make the
    output depend on where the rows sit. Nothing overflows: each feature is divided
    by its largest entry before squaring, the mean is :func:`column_mean`, and the
    tolerance is a sum of terms each multiplied by ``n_rows * eps`` first.
    """
    n_rows = X.shape[0]
    largest = xp.max(xp.abs(X), axis=0)
    overall = xp.max(largest)
    largest = xp.where(largest > 0, largest, xp.ones_like(largest))
    mean = column_mean(X, xp)
    spread = xp.std(X / largest, axis=0) * largest
    # The rounding of the dtype the rows are computed in.
    tolerance = n_rows * float(xp.finfo(X.dtype).eps)
    constant = spread <= (
        tolerance * xp.abs(mean) + tolerance * spread + tolerance * overall
    )
    return xp.where(constant, xp.ones_like(spread), spread)


def near_mean_rows(centred, mean, xp):
    """Mask of the centred rows that are the mean up to rounding (see
    ``centring_residue``)."""
    return row_norms(centred, xp) <= centring_residue(mean, xp)


def _largest_float(dtype):
    return float(np.finfo(np.dtype(str(dtype).rsplit(".", 1)[-1])).max)


def column_mean(X, xp):
    """Mean of each column of ``X`` that cannot overflow, whatever the magnitude.

    The sum of ``n`` entries up to ``|x|`` stays below ``n * |x|``: only the
    columns whose largest entry exceeds ``max / n`` could overflow (float32 entries
    near 1e36 for 300 rows), and only those are summed in units of a power of two
    above ``2 n`` (exact), then kept between the column's extremes, where the mean
    lies. The other columns get ``xp.mean`` itself, bit for bit.
    """
    n_rows = X.shape[0]
    if n_rows == 0:
        return xp.mean(X, axis=0)
    largest = xp.max(xp.abs(X), axis=0)
    at_risk = largest > _largest_float(X.dtype) / n_rows
    if not bool(xp.any(at_risk)):
        return xp.mean(X, axis=0)
    zeros = xp.zeros_like(X)
    # Each column is summed on its own, so zeroing the others changes nothing in it.
    plain = xp.mean(xp.where(at_risk, zeros, X), axis=0)
    unit = 2.0 ** math.ceil(math.log2(2 * n_rows))
    divided = xp.sum(xp.where(at_risk, X / unit, zeros), axis=0)
    with np.errstate(over="ignore"):  # within rounding of the largest value: clipped
        divided = divided * (unit / n_rows)
    divided = xp.minimum(xp.maximum(divided, xp.min(X, axis=0)), xp.max(X, axis=0))
    return xp.where(at_risk, divided, plain)


def centring_scale(X, xp):
    """A power of two to multiply ``X`` by before centring it: 1 unless needed.

    Centred on any point between their extremes (their mean, for one), the rows of
    ``X`` and their norms stay below the norm of the vector of the columns' spans.
    When that bound exceeds half the dtype's largest value, the power of two that
    brings it below is returned (exact for every normal number); the cosine, which
    ignores the scale, can then be computed where the rows themselves could not be
    centred.
    """
    if X.shape[0] == 0 or X.shape[1] == 0:
        return 1.0
    # Half the span of each column cannot overflow; the bound is taken in float64
    # and in logarithms, which cannot overflow either.
    half_span = xp.max(X, axis=0) * 0.5 - xp.min(X, axis=0) * 0.5
    half_span = np.asarray(to_numpy(half_span), dtype=np.float64)
    top = float(half_span.max())
    if top == 0:
        return 1.0
    bound = math.log2(top) + 1 + 0.5 * math.log2(float(np.sum((half_span / top) ** 2)))
    limit = math.log2(_largest_float(X.dtype)) - 1
    return 1.0 if bound <= limit else 2.0 ** -math.ceil(bound - limit)


def centre_rows(X, mean, xp, *, scale_free):
    """``X - mean`` (finite rows and mean) without overflow.

    A row whose difference with ``mean`` exceeds the dtype's largest value has no
    representation in that dtype. With ``scale_free`` (the caller's result does not
    depend on each row's scale, as a cosine does not), such a row comes back halved,
    ``X / 2 - mean / 2``, which cannot overflow, and every other row exactly
    ``X - mean``. Without it, a ``ValueError`` says what to do.
    """
    if is_numpy_namespace(xp):
        overflowed = []
        with np.errstate(over="call", call=lambda *_: overflowed.append(True)):
            centred = X - mean
        if not overflowed:
            return centred
    else:
        centred = X - mean
    beyond = ~xp.all(xp.isfinite(centred), axis=1)
    if not bool(xp.any(beyond)):
        return centred
    if not scale_free:
        raise ValueError(
            f"X minus the anchors' mean leaves the range of {X.dtype} (entries up to "
            f"{float(xp.max(xp.abs(X))):.3g}): only a similarity that ignores the "
            "scale of each row (the cosine) can be computed there. Divide X by a "
            "power of two (and refit), or convert it to float64."
        )
    return xp.where(beyond[:, None], X * 0.5 - mean * 0.5, centred)
