"""Claims that can fail: checks against chance and against a baseline, with repeats.

Every checked claim of the reproduction is built here, so that each states its rule
(the threshold and margin it is held to, appended to the claim) and reports the mean
and spread of its repeats. The rules are deliberately strict where the paper's claim
is strong: a claim that no plausible outcome could turn into "no" proves nothing.
Each function takes the per-repeat values (seeds, splits, encoder pairs or anchor
draws) and returns a :class:`~skrelrep.experiments.Finding`; :func:`stitching_claims`
returns the paper's stitching claims together, as the vision and text runs check them.
"""

import numpy as np

from ._result import Finding

__all__ = [
    "at_most",
    "close_to",
    "describe",
    "exceeds",
    "falls_to_chance",
    "far_above_chance",
    "no_better_than",
    "stitching_claims",
]


def describe(values):
    """``"mean ± std (n=...)"`` of per-repeat values (std with ``ddof=1``)."""
    values = _as_values(values)
    if len(values) == 1:
        return f"{values[0]:.3f} (n=1)"
    return f"{values.mean():.3f} ± {values.std(ddof=1):.3f} (n={len(values)})"


def falls_to_chance(claim, scores, chance, *, margin):
    """Holds when the mean score is at most ``chance + margin``.

    Parameters
    ----------
    claim : str
        The paper's claim; the rule is appended to it.
    scores : array-like of float
        One score per repeat.
    chance : float
        The chance level of the test labels (majority-class accuracy).
    margin : float
        How far above chance still counts as "at chance".
    """
    scores = _as_values(scores)
    limit = chance + margin
    return Finding(
        f"{claim} (mean ≤ chance + {margin:.2f})",
        bool(scores.mean() <= limit),
        f"{describe(scores)}; chance {chance:.3f}, limit {limit:.3f}",
    )


def far_above_chance(claim, scores, chance, *, margin):
    """Holds when every repeat scores at least ``chance + margin``."""
    scores = _as_values(scores)
    limit = chance + margin
    return Finding(
        f"{claim} (every repeat ≥ chance + {margin:.2f})",
        bool(scores.min() >= limit),
        f"{describe(scores)}, lowest {scores.min():.3f}; chance {chance:.3f}, "
        f"limit {limit:.3f}",
    )


def exceeds(claim, scores, baseline, *, margin=0.0, names=("ours", "baseline")):
    """Holds when ``scores`` beat the paired ``baseline`` by more than ``margin``.

    Both the mean paired difference must exceed ``margin`` and every repeat's
    difference must be positive, so that one lucky draw cannot carry the claim.

    Parameters
    ----------
    scores, baseline : array-like of float
        Paired per-repeat values (repeat ``i`` of both used the same split, seed or
        anchors). A scalar ``baseline`` is compared with every repeat.
    margin : float, default=0.0
        The smallest mean advantage that counts.
    names : tuple of str
        How the evidence names the two.
    """
    scores, baseline = _paired(scores, baseline)
    difference = scores - baseline
    return Finding(
        f"{claim} (mean advantage > {margin:.2f}, positive in every repeat)",
        bool(difference.mean() > margin and difference.min() > 0),
        f"{names[0]} {describe(scores)}, {names[1]} {describe(baseline)}; "
        f"difference {describe(difference)}",
    )


def no_better_than(claim, scores, baseline, *, margin, names=("ours", "baseline")):
    """Holds when ``scores`` do not beat the paired ``baseline`` by ``margin`` or more.

    The mirror of :func:`exceeds`: "X does not help" holds when the mean paired
    advantage of X stays below ``margin``.
    """
    scores, baseline = _paired(scores, baseline)
    difference = scores - baseline
    return Finding(
        f"{claim} (mean advantage < {margin:.2f})",
        bool(difference.mean() < margin),
        f"{names[0]} {describe(scores)}, {names[1]} {describe(baseline)}; "
        f"difference {describe(difference)}",
    )


def close_to(claim, scores, reference, *, tolerance, names=("ours", "reference")):
    """Holds when the mean of ``scores`` is within ``tolerance`` of ``reference``.

    ``reference`` is a number (a published value) or paired per-repeat values (then
    the mean paired difference is compared).
    """
    scores, reference = _paired(scores, reference)
    difference = scores - reference
    return Finding(
        f"{claim} (|mean difference| ≤ {tolerance:.2f})",
        bool(abs(difference.mean()) <= tolerance),
        f"{names[0]} {describe(scores)}, {names[1]} {describe(reference)}; "
        f"difference {describe(difference)}",
    )


def at_most(claim, values, limit, *, what="value"):
    """Holds when the mean of ``values`` is at most ``limit``."""
    values = _as_values(values)
    return Finding(
        f"{claim} (mean {what} ≤ {limit:.3g})",
        bool(values.mean() <= limit),
        f"{what} {describe(values)}, limit {limit:.3g}",
    )


def stitching_claims(
    label,
    absolute,
    relative,
    same,
    chance,
    *,
    chance_margin,
    above_chance,
    kept_tolerance,
    advantage=None,
    absolute_note=None,
    kept="keeps the same-model accuracy",
):
    """The paper's stitching claims for one data set or encoder pair.

    Parameters
    ----------
    label : str
        The data set or pair, prefixed to each claim (``"{label}: ..."``).
    absolute, relative : array-like of float
        Absolute and relative stitched scores, paired (one per stitched pair,
        split or seed pair).
    same : array-like of float
        The same-model score each relative stitched score should keep, paired with
        ``relative`` (its decoder on its own encoder).
    chance : float
        The chance level of the test labels.
    chance_margin : float
        Absolute stitching "falls to chance": mean ≤ ``chance + chance_margin``
        (:func:`falls_to_chance`).
    above_chance : float
        Relative stitching "far above chance": every value ≥ ``chance +
        above_chance`` (:func:`far_above_chance`).
    kept_tolerance : float
        Relative stitching keeps the same-model score: mean paired difference
        within this (:func:`close_to`).
    advantage : float, default=None
        With a number, a fourth claim: relative beats absolute stitching by more
        than this on average and in every pair (:func:`exceeds`).
    absolute_note : str, default=None
        A parenthesis after "absolute stitching" in the first claim.
    kept : str, default="keeps the same-model accuracy"
        What relative stitching does in the third claim.

    Returns
    -------
    findings : list of Finding
        Absolute at chance, relative far above chance, relative keeping the
        same-model score and, with ``advantage``, relative beating absolute.
    """
    note = f" ({absolute_note})" if absolute_note else ""
    findings = [
        falls_to_chance(
            f"{label}: absolute stitching{note} falls to chance",
            absolute,
            chance,
            margin=chance_margin,
        ),
        far_above_chance(
            f"{label}: relative stitching stays far above chance",
            relative,
            chance,
            margin=above_chance,
        ),
        close_to(
            f"{label}: relative stitching {kept}",
            relative,
            same,
            tolerance=kept_tolerance,
            names=("stitched", "same model"),
        ),
    ]
    if advantage is not None:
        findings.append(
            exceeds(
                f"{label}: relative stitching beats absolute stitching in every pair",
                relative,
                absolute,
                margin=advantage,
                names=("relative", "absolute"),
            )
        )
    return findings


def _as_values(values):
    values = np.atleast_1d(np.asarray(values, dtype=float)).ravel()
    if values.size == 0:
        raise ValueError("A claim needs at least one measured value.")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"A claim was given non-finite values: {values}.")
    return values


def _paired(scores, baseline):
    scores = _as_values(scores)
    baseline = _as_values(baseline)
    if baseline.size == 1:
        baseline = np.full_like(scores, baseline[0])
    if baseline.shape != scores.shape:
        raise ValueError(
            f"Paired values differ in length: {scores.size} and {baseline.size}."
        )
    return scores, baseline
