"""skrelrep.metrics on hostile inputs: an honest score or a clear error, each case.

The table is shown in the user guide (:ref:`hostile_inputs`); ``tests/hostile.py``
describes the format.
"""

import warnings

import numpy as np
import pytest
from hostile import case, check_every_case_is_tested

from skrelrep.metrics import (
    ChanceAgreementWarning,
    cosine_agreement,
    jaccard_at_k,
    linear_cka,
    mean_reciprocal_rank,
    mutual_knn,
)

METRICS = {
    "jaccard_at_k": lambda A, B: jaccard_at_k(A, B, k=5),
    "mutual_knn": lambda A, B: mutual_knn(A, B, k=5),
    "mean_reciprocal_rank": mean_reciprocal_rank,
    "cosine_agreement": cosine_agreement,
    "linear_cka": linear_cka,
    "debiased_cka": lambda A, B: linear_cka(A, B, debiased=True),
}

CASES = [
    (
        "magnitudes",
        "both spaces scaled by 1e-30 to 1e30 (float32) or 1e-300 to 1e300 (float64)",
        "the same score as unscaled (norms cannot overflow; CKA divides each space by "
        "its largest entry); never NaN",
    ),
    (
        "unrelated-large",
        "two independent float32 spaces scaled by 1e20",
        "scores at chance level, as unscaled (they used to be a 'perfect' 1.0, and "
        "NaN for the cosine agreement); mean_reciprocal_rank and cosine_agreement, "
        "which compare coordinates, warn that the agreement is at chance",
    ),
    (
        "zero-and-identical-rows",
        "zero rows, and rows repeated many times",
        "finite scores; ties broken by index, zero rows similar to nothing",
    ),
    (
        "row-mismatch",
        "spaces with different numbers of rows, or widths where the metric compares "
        "columns",
        "ValueError saying what must match",
    ),
    (
        "k-too-large",
        "jaccard_at_k with k not smaller than the number of rows",
        "ValueError",
    ),
]


def test_every_case_is_tested():
    check_every_case_is_tested(globals(), CASES)


def _pair(dtype=np.float64, seed=0):
    rng = np.random.RandomState(seed)
    A = rng.normal(size=(150, 12))
    # Related coordinates (not only related structure): every metric is above chance.
    B = A + 0.5 * rng.normal(size=(150, 12))
    return A.astype(dtype), B.astype(dtype)


@case("magnitudes")
@pytest.mark.parametrize("name", list(METRICS))
@pytest.mark.parametrize(
    ("dtype", "factors"),
    [(np.float32, [1e-30, 1e30]), (np.float64, [1e-300, 1e300])],
)
def test_magnitudes(name, dtype, factors):
    metric = METRICS[name]
    A, B = _pair(dtype)
    expected = metric(A, B)
    for factor in factors:
        score = metric(A * dtype(factor), B * dtype(factor))
        assert np.isfinite(score)
        assert score == pytest.approx(expected, abs=1e-5)


@case("unrelated-large")
def test_unrelated_large():
    rng = np.random.RandomState(0)
    A = rng.normal(size=(200, 16)).astype(np.float32)
    B = rng.normal(size=(200, 16)).astype(np.float32)
    large = np.float32(1e20)
    for name, metric in METRICS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ChanceAgreementWarning)
            expected = metric(A, B)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            score = metric(A * large, B * large)
        assert score == pytest.approx(expected, abs=1e-5), name
        # The measures that compare coordinates say that this is chance.
        warned = [w.category for w in record] == [ChanceAgreementWarning]
        assert warned == (name in ("mean_reciprocal_rank", "cosine_agreement")), name
    assert jaccard_at_k(A * large, B * large, k=10) < 0.1
    with pytest.warns(ChanceAgreementWarning):
        assert mean_reciprocal_rank(A * large, B * large) < 0.1


@case("zero-and-identical-rows")
def test_zero_and_identical_rows():
    A, B = _pair()
    A[:10], B[5:15] = 0, 0
    A[20:60], B[20:60] = A[20], B[20]
    for name, metric in METRICS.items():
        assert np.isfinite(metric(A, B)), name


@case("row-mismatch")
def test_row_mismatch():
    A, B = _pair()
    for metric in METRICS.values():
        with pytest.raises(ValueError, match="same number of rows"):
            metric(A, B[:-1])
    for metric in (mean_reciprocal_rank, cosine_agreement):
        with pytest.raises(ValueError, match="same number of columns"):
            metric(A, B[:, :5])


@case("k-too-large")
def test_k_too_large():
    A, B = _pair()
    with pytest.raises(ValueError, match="must be smaller than the number of rows"):
        jaccard_at_k(A, B, k=150)
