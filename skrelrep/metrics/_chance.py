"""Warnings for measures that compare coordinates and got spaces that agree by chance.

:func:`mean_reciprocal_rank` and :func:`cosine_agreement` compare ``A[i]`` with rows
of ``B`` coordinate by coordinate, so they are meaningful only when the columns of the
two spaces mean the same thing (relative representations on parallel anchors). Given
the raw embeddings of two encoders, whose coordinates are unrelated, they return a
number near chance that reads like a finding; they warn instead of staying silent.
"""

import numpy as np

from ..utils._warnings import warn

__all__ = [
    "ChanceAgreementWarning",
    "warn_if_cosines_at_chance",
    "warn_if_mrr_at_chance",
]

# How many standard errors above chance a score must be not to be called chance.
MARGIN = 3.0
# Below this many items the check has no power (at 3 items, chance plus three
# standard errors is above a perfect score): no warning.
MIN_SAMPLES = 20

_ADVICE = (
    "If A and B are the raw embeddings of two encoders, their coordinates are "
    "unrelated: compare relative representations on parallel anchors "
    "(RelativeTransformer, then reanchor), or use a measure for raw spaces of any "
    "widths (mutual_knn, neighbourhood_jaccard, linear_cka)."
)


class ChanceAgreementWarning(UserWarning):
    """A measure that compares coordinates found no more agreement than chance.

    Filter it (``warnings.simplefilter("ignore", ChanceAgreementWarning)``) where
    scores at chance are expected, as in a permutation test's null.
    """


def warn_if_mrr_at_chance(score, n_samples):
    """Warn when a mean reciprocal rank is within chance of uniform random ranks.

    With ranks uniform over ``1..n``, ``1 / rank`` has mean ``H_n / n`` and variance
    ``sum(1 / r^2) / n - (H_n / n)^2``; the mean over ``n`` queries has that variance
    divided by ``n``.
    """
    if n_samples < MIN_SAMPLES:
        return
    reciprocal = 1.0 / np.arange(1, n_samples + 1)
    chance = reciprocal.mean()
    spread = np.sqrt(max(np.mean(reciprocal**2) - chance**2, 0.0) / n_samples)
    if score <= chance + MARGIN * spread:
        warn(
            f"mean_reciprocal_rank is {score:.3g}, at chance level for {n_samples} "
            f"items (random ranks give {chance:.3g}). {_ADVICE}",
            ChanceAgreementWarning,
        )


def warn_if_cosines_at_chance(matched, mismatched):
    """Warn when items agree with themselves no better than with other items.

    ``matched[i]`` is ``cos(A[i], B[i])``, ``mismatched[i]`` the cosine of ``A[i]``
    with another item of ``B``: a paired comparison, so a constant offset shared by
    every pair (crowded spaces) does not count as agreement.
    """
    difference = matched - mismatched
    n_samples = difference.shape[0]
    if n_samples < MIN_SAMPLES:
        return
    error = np.std(difference) / np.sqrt(n_samples)
    if np.mean(difference) <= MARGIN * error:
        warn(
            f"cosine_agreement is {np.mean(matched):.3g}, and items agree with "
            f"themselves no more than with other items ({np.mean(mismatched):.3g}): "
            f"agreement at chance level. {_ADVICE}",
            ChanceAgreementWarning,
        )
