"""A permutation test for any measure of agreement between two spaces."""

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state, check_scalar

from ..utils._warnings import warn
from ._chance import ChanceAgreementWarning
from ._validation import check_pair

__all__ = ["PermutationTestResult", "permutation_pvalue", "permutation_test"]


@dataclass(frozen=True)
class PermutationTestResult:
    """What :func:`permutation_test` returns.

    Attributes
    ----------
    statistic : float
        The measure on the spaces as given.
    pvalue : float
        ``(1 + #{null >= statistic}) / (1 + n_permutations)``; NaN when the
        statistic or a value of the null is NaN.
    null_distribution : ndarray of shape (n_permutations,)
        The measure with the rows of ``B`` permuted, one value per permutation.
    """

    statistic: float
    pvalue: float
    null_distribution: np.ndarray


def permutation_test(
    measure, A, B, *, n_permutations=199, random_state=None, **measure_params
):
    """Is the agreement of two spaces more than chance? A one-sided permutation test.

    Under the null hypothesis, row ``i`` of ``A`` and row ``i`` of ``B`` are not the
    same item: permuting the rows of ``B`` leaves the distribution of the measure
    unchanged. The measure is computed on the spaces as given and on
    ``n_permutations`` random permutations of ``B``'s rows; the p-value is the share
    of values at least as high as the observed one, counting the observed one
    (Phipson and Smyth, 2010), so it is never 0 and a test at level ``alpha`` rejects
    a true null at most with probability ``alpha``. Every measure of
    :mod:`skrelrep.metrics` where higher means more agreement fits, and any callable
    ``measure(A, B, **measure_params)`` returning a float. The null values are at
    chance by construction, so :class:`ChanceAgreementWarning` is silenced while they
    are computed. A measure that returns NaN (on the spaces as given or on a
    permutation) has no p-value: it is NaN, with a ``RuntimeWarning``.

    Parameters
    ----------
    measure : callable
        ``measure(A, B, **measure_params) -> float``, higher meaning more agreement,
        such as :func:`linear_cka` or :func:`mutual_knn`.
    A : array-like of shape (n_samples, n_features_a)
        The items in the first space.
    B : array-like of shape (n_samples, n_features_b)
        The same items, in the same order, in the second space.
    n_permutations : int, default=199
        Permutations of ``B``'s rows; the smallest p-value is
        ``1 / (n_permutations + 1)``.
    random_state : int, RandomState instance or None, default=None
        Draws the permutations.
    **measure_params : dict
        Passed to ``measure`` (``k=10``, ``debiased=True``, ...).

    Returns
    -------
    result : PermutationTestResult
        ``statistic``, ``pvalue`` and ``null_distribution``.

    References
    ----------
    .. [1] B. Phipson, G. K. Smyth, "Permutation p-values should never be zero",
       Statistical Applications in Genetics and Molecular Biology 9, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from skrelrep.metrics import linear_cka, permutation_test
    >>> rng = np.random.RandomState(0)
    >>> A = rng.normal(size=(100, 8))
    >>> rotated = A @ np.linalg.qr(rng.normal(size=(8, 8)))[0]
    >>> result = permutation_test(linear_cka, A, rotated, random_state=0)
    >>> round(result.statistic, 3), result.pvalue
    (1.0, 0.005)
    >>> unrelated = permutation_test(
    ...     linear_cka, A, rng.normal(size=(100, 8)), random_state=0
    ... )
    >>> bool(unrelated.pvalue > 0.05)
    True
    """
    if not callable(measure):
        raise TypeError(
            f"measure must be a callable measure(A, B) -> float, such as "
            f"skrelrep.metrics.linear_cka; got {type(measure).__name__}."
        )
    check_scalar(n_permutations, "n_permutations", numbers.Integral, min_val=1)
    # Validated once here so that the permutations index arrays, not lists.
    A, B = check_pair(A, B, same_width=False)
    rng = check_random_state(random_state)
    statistic = float(measure(A, B, **measure_params))
    null = np.empty(n_permutations)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChanceAgreementWarning)
        for draw in range(n_permutations):
            null[draw] = measure(A, B[rng.permutation(B.shape[0])], **measure_params)
    return PermutationTestResult(statistic, permutation_pvalue(statistic, null), null)


def permutation_pvalue(statistic, null, name="the measure"):
    """``(1 + #{null >= statistic}) / (1 + len(null))``, or NaN (warned) with NaNs.

    A NaN compares false with everything: counted as it is, it would give the
    smallest p-value to a measure that returned nothing.
    """
    missing = np.count_nonzero(np.isnan(null))
    if np.isnan(statistic) or missing:
        where = (
            "on the spaces as given"
            if np.isnan(statistic)
            else f"on {missing} of {null.shape[0]} permutations"
        )
        warn(
            f"{name} is NaN {where}: no p-value (NaN). Check the measure on these "
            "spaces before testing it.",
            RuntimeWarning,
        )
        return float("nan")
    return float((1 + np.count_nonzero(null >= statistic)) / (1 + null.shape[0]))
