"""skrelrep.metrics on hostile inputs: an honest score or a clear error, each case.

The table is shown in the user guide (:ref:`hostile_inputs`); ``tests/hostile.py``
describes the format.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
import sklearn
from hostile import case, check_every_case_is_tested

from skrelrep.metrics import (
    ChanceAgreementWarning,
    compare_spaces,
    cosine_agreement,
    linear_cka,
    mean_reciprocal_rank,
    migration_scores,
    mutual_knn,
    neighbourhood_jaccard,
    permutation_test,
    retrieval_agreement,
    retrieval_scores,
)

METRICS = {
    "neighbourhood_jaccard": lambda A, B: neighbourhood_jaccard(A, B, k=5),
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
        "scores at chance level, as unscaled (not a 'perfect' 1.0 from overflowed "
        "norms, nor NaN); mean_reciprocal_rank and cosine_agreement, "
        "which compare coordinates, warn that the agreement is at chance",
    ),
    (
        "zero-and-identical-rows",
        "zero rows, and rows repeated many times",
        "finite scores that do not depend on the order of the rows: tied rows are "
        "averaged over, never ordered by index; a zero row is equally similar (0) to "
        "every row",
    ),
    (
        "tied-rows-null",
        "compare_spaces on two independent spaces of binary rows (200 x 3), and on "
        "two constant spaces",
        "mutual_knn's null is exactly permutation_test's (recomputed on each "
        "permutation), so the p-values are not small; constant spaces score chance "
        "with p = 1 (ties ordered by index would make both p = 0.01)",
    ),
    (
        "no-variance-cka",
        "linear_cka of spaces whose rows are all equal (any offset), or nearly so",
        "0, plain and debiased, and no score above 1 (the centring's rounding residue "
        "is not structure)",
    ),
    (
        "nan-statistic",
        "permutation_test with a measure that returns NaN, on the data or on some "
        "permutations",
        "p-value NaN with a RuntimeWarning, not the smallest p-value",
    ),
    (
        "wide-spaces",
        "linear_cka of 20 items x 200,000 float32 columns",
        "computed through the 20 x 20 Gram matrices, in a few MB (the 200,000 x "
        "200,000 feature form would need 298 GiB)",
    ),
    (
        "retrieval-ties",
        "retrieval_agreement and retrieval_scores on identical spaces with "
        "duplicated rows",
        "one rule: the answer's rank averaged over its ties, the same MRR from both",
    ),
    (
        "ties-beyond-memory",
        "a space whose rows tie by the hundreds at the k-th place, with little "
        "working_memory",
        "ValueError naming the space and what to do (remove duplicates, raise "
        "working_memory)",
    ),
    (
        "migration-lengths",
        "migration_scores with an index and a re-embedded index (or queries) of "
        "different lengths",
        "ValueError: row j must be the same item in both",
    ),
    (
        "fractional-k",
        "ks=(1.7,), k=2.0 or k=True",
        "TypeError, not a cut-off truncated to 1",
    ),
    (
        "labels-continuous-or-missing",
        "compare_spaces labels that are continuous floats, or hold NaN or None",
        "ValueError saying labels must be classes, or where the first missing one "
        "is; integral floats (1.0, 2.0) are classes",
    ),
    (
        "permutations-too-many",
        "compare_spaces with n_permutations=10**12",
        "ValueError before any work (the nulls alone would need 44 TiB)",
    ),
    (
        "row-mismatch",
        "spaces with different numbers of rows, or widths where the metric compares "
        "columns",
        "ValueError saying what must match",
    ),
    (
        "k-too-large",
        "neighbourhood_jaccard with k not smaller than the number of rows",
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
    assert neighbourhood_jaccard(A * large, B * large, k=10) < 0.1
    with pytest.warns(ChanceAgreementWarning):
        assert mean_reciprocal_rank(A * large, B * large) < 0.1


@case("zero-and-identical-rows")
def test_zero_and_identical_rows():
    A, B = _pair()
    A[:10], B[5:15] = 0, 0
    A[20:60], B[20:60] = A[20], B[20]
    order = np.random.RandomState(1).permutation(A.shape[0])
    for name, metric in METRICS.items():
        score = metric(A, B)
        assert np.isfinite(score), name
        assert metric(A[order], B[order]) == pytest.approx(score, abs=1e-12), name


def _binary(seed):
    rng = np.random.RandomState(seed)
    return (rng.rand(200, 3) > 0.5) * 1.0


@case("tied-rows-null")
def test_tied_rows_null():
    pvalues = []
    for seed in range(3):
        A, B = _binary(seed), _binary(seed + 100)
        result = compare_spaces(A, B, n_anchors=50, n_permutations=39, random_state=0)
        reference = permutation_test(
            mutual_knn, A, B, k=10, n_permutations=39, random_state=0
        )
        np.testing.assert_allclose(
            result.nulls["mutual_knn@10"], reference.null_distribution, rtol=1e-12
        )
        assert result.metrics["mutual_knn@10"] == pytest.approx(reference.statistic)
        assert result.metrics["mutual_knn@10_pvalue"] == reference.pvalue
        pvalues.append(reference.pvalue)
    assert max(pvalues) > 0.1  # index-ordered ties give 0.025 every time
    # Constant spaces: every row ties with every other; chance (k / (n - 1)), p = 1.
    rng = np.random.RandomState(0)
    P = np.tile(rng.normal(size=8), (40, 1))
    Q = np.tile(rng.normal(size=5), (40, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the anchors' collapse
        result = compare_spaces(P, Q, n_anchors=10, n_permutations=19)
    assert result.metrics["mutual_knn@10"] == pytest.approx(10 / 39)
    assert result.measures["pvalue"].min() == 1.0


@case("no-variance-cka")
def test_no_variance_cka():
    rng = np.random.RandomState(0)
    for offset in (1e-3, 1.0, 1e6):
        P = np.tile(rng.normal(size=8) * offset, (40, 1))
        Q = np.tile(rng.normal(size=5) * offset, (40, 1))
        assert linear_cka(P, Q) == 0.0
        assert linear_cka(P, Q, debiased=True) == 0.0
        assert linear_cka(P.astype(np.float32), Q) == 0.0
        # One varying space against a constant one.
        assert linear_cka(rng.normal(size=(40, 3)), Q) == 0.0
    # A constant column beside varying ones is ignored, not a source of structure.
    X = rng.normal(size=(50, 4))
    Y = X @ rng.normal(size=(4, 4)) + rng.normal(size=(50, 4))
    with_constant = np.hstack([Y, np.full((50, 1), 12345.678)])
    assert linear_cka(X, with_constant) == pytest.approx(linear_cka(X, Y), rel=1e-12)
    for seed in range(20):  # copies of a space score 1 and never more
        Z = np.random.RandomState(seed).normal(size=(30, 7)) + 1e3
        assert linear_cka(Z, Z) <= 1.0
        assert linear_cka(Z, Z, debiased=True) <= 1.0


@case("nan-statistic")
def test_nan_statistic():
    A, B = _pair()
    with pytest.warns(RuntimeWarning, match="NaN on the spaces as given"):
        result = permutation_test(lambda a, b: np.nan, A, B, n_permutations=99)
    assert np.isnan(result.pvalue)
    calls = []

    def sometimes(a, b):
        calls.append(1)
        return np.nan if len(calls) % 7 == 0 else 0.5

    with pytest.warns(RuntimeWarning, match="on 14 of 99 permutations"):
        result = permutation_test(sometimes, A, B, n_permutations=99)
    assert result.statistic == 0.5
    assert np.isnan(result.pvalue)


@case("wide-spaces")
def test_wide_spaces():
    rng = np.random.RandomState(0)
    A = rng.normal(size=(20, 200_000)).astype(np.float32)
    B = (A[:, :5000] @ rng.normal(size=(5000, 30))).astype(np.float32)
    tracemalloc.start()
    try:
        score = linear_cka(A, B)
        debiased = linear_cka(A, B, debiased=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * A.nbytes  # a few copies of blocks of columns, no d x d matrix
    # The item-space form, by hand: centred Gram matrices.
    X = A.astype(np.float64) - A.mean(axis=0, dtype=np.float64)
    Y = B.astype(np.float64) - B.mean(axis=0, dtype=np.float64)
    K, L = X @ X.T, Y @ Y.T
    expected = np.sum(K * L) / np.sqrt(np.sum(K * K) * np.sum(L * L))
    assert score == pytest.approx(expected, rel=1e-6)
    assert -1 <= debiased <= 1


@case("retrieval-ties")
def test_retrieval_ties():
    rng = np.random.RandomState(0)
    A = rng.normal(size=(60, 5))
    A[10:20] = A[10]  # ten copies of one row
    agreement = retrieval_agreement(A, A, k=10)
    scores = retrieval_scores(A, A, ks=(10,))
    assert agreement.mrr == pytest.approx(scores.mrr)
    # Each copy ranks 1 to 10 with equal probability: H(10) / 10; the others first.
    copies = np.mean(1 / np.arange(1, 11))
    assert agreement.mrr == pytest.approx((50 + 10 * copies) / 60)
    # Rows whose 10th place falls among the copies choose them independently in the
    # two searches (identical rows carry no neighbourhood): below 1, whatever the
    # order of the rows.
    order = rng.permutation(60)
    again = retrieval_agreement(A[order], A[order], k=10)
    assert again.jaccard == pytest.approx(agreement.jaccard, abs=1e-12)
    assert 0.5 < agreement.jaccard < 1
    assert retrieval_agreement(A[20:], A[20:], k=10).jaccard == 1.0  # no copies
    # Ties on the wrong side of the cut: recall@1 of a copy is 1/10.
    assert scores.recall[10] == 1.0
    assert retrieval_scores(A, A, ks=(1,)).recall[1] == pytest.approx((50 + 1) / 60)


@case("ties-beyond-memory")
def test_ties_beyond_memory():
    rng = np.random.RandomState(0)
    A = (rng.rand(2000, 3) > 0.5) * 1.0  # 8 directions: ties by the hundreds
    with sklearn.config_context(working_memory=1):
        with pytest.raises(ValueError, match=r"^A: too many rows tie at the 5th"):
            mutual_knn(A, rng.normal(size=(2000, 3)), k=5)


@case("migration-lengths")
def test_migration_lengths():
    rng = np.random.RandomState(0)
    index, queries = rng.normal(size=(50, 4)), rng.normal(size=(20, 4))
    with pytest.raises(ValueError, match="index has 50 rows and reembedded_index 49"):
        migration_scores(queries, index, queries, index[:49])
    with pytest.raises(ValueError, match="mapped_queries has 20 rows"):
        migration_scores(queries, index, queries[:19], index)


@case("fractional-k")
def test_fractional_k():
    A, B = _pair()
    with pytest.raises(TypeError, match="k must be an instance of int"):
        retrieval_scores(A, B, ks=(1.7,))
    with pytest.raises(TypeError, match="k must be an instance of int"):
        mutual_knn(A, B, k=2.0)
    with pytest.raises(TypeError, match="not bool"):
        retrieval_agreement(A, B, k=True)
    assert retrieval_scores(A, B, ks=(np.int64(3),)).k == 3


@case("labels-continuous-or-missing")
def test_labels_continuous_or_missing():
    A, B = _pair()
    rng = np.random.RandomState(0)
    options = dict(n_anchors=20, n_permutations=0)
    with pytest.raises(ValueError, match=r"must be classes.*numpy\.digitize"):
        compare_spaces(A, B, labels=rng.normal(size=150), **options)
    labels = rng.randint(3, size=150).astype(float)
    labels[7] = np.nan
    with pytest.raises(ValueError, match=r"1 of 150 are NaN or None .*item 7"):
        compare_spaces(A, B, labels=labels, **options)
    names = np.array(["x", "y", None], dtype=object)[rng.randint(3, size=150)]
    with pytest.raises(ValueError, match="NaN or None"):
        compare_spaces(A, B, labels=names, **options)
    integral = rng.randint(3, size=150)
    result = compare_spaces(A, B, labels=integral.astype(float), **options)
    expected = compare_spaces(A, B, labels=integral, **options)
    assert result.metrics == expected.metrics


@case("permutations-too-many")
def test_permutations_too_many():
    A, B = _pair()
    with pytest.raises(ValueError, match="n_permutations=1000000000000"):
        compare_spaces(A, B, n_permutations=10**12)


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
        neighbourhood_jaccard(A, B, k=150)
