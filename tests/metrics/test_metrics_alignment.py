"""Mutual k-NN, debiased CKA, the permutation test and the chance warnings."""

import warnings

import numpy as np
import pytest
from scipy.stats import binom, ortho_group
from sklearn.neighbors import NearestNeighbors

from skrelrep.metrics import (
    ChanceAgreementWarning,
    PermutationTestResult,
    cosine_agreement,
    linear_cka,
    mean_reciprocal_rank,
    mutual_knn,
    neighbourhood_jaccard,
    permutation_test,
)


def _related(n_samples=120, width=6, noise=0.3, seed=0):
    rng = np.random.RandomState(seed)
    A = rng.normal(size=(n_samples, width))
    return A, A + noise * rng.normal(size=A.shape)


# --- mutual k-NN ----------------------------------------------------------------------


def _mutual_knn_reference(A, B, k):
    """Neighbour sets from scikit-learn's brute-force cosine search."""

    def neighbours(X):
        search = NearestNeighbors(n_neighbors=k + 1, metric="cosine").fit(X)
        found = search.kneighbors(X, return_distance=False)
        # Drop each row itself (random data: no ties with it).
        return [set(row) - {i} for i, row in enumerate(found)]

    pairs = zip(neighbours(A), neighbours(B), strict=True)
    return np.mean([len(a & b) / k for a, b in pairs])


@pytest.mark.parametrize("k", [1, 5, 20])
def test_mutual_knn_against_nearest_neighbors(k):
    A, B = _related(noise=1.0)
    B = B @ np.random.RandomState(3).normal(size=(6, 9))  # another width
    expected = _mutual_knn_reference(A, B, k)
    assert 0 < expected < 1  # neither trivial end
    assert mutual_knn(A, B, k=k) == pytest.approx(expected)
    assert mutual_knn(A, B, k=k, batch_size=7) == pytest.approx(expected)


def test_mutual_knn_invariances_and_chance():
    A, _ = _related()
    rotation = ortho_group.rvs(6, random_state=0)
    assert mutual_knn(A, 3 * A @ rotation, k=10) == 1.0
    # Unrelated spaces: about k / (n - 1), over repeats.
    rng = np.random.RandomState(1)
    scores = [
        mutual_knn(rng.normal(size=(200, 8)), rng.normal(size=(200, 8)), k=10)
        for _ in range(10)
    ]
    assert np.mean(scores) == pytest.approx(10 / 199, abs=0.01)
    # Related by twice as many shared neighbours as the Jaccard index's union counts.
    A, B = _related(noise=0.8)
    shared = mutual_knn(A, B, k=10)
    assert neighbourhood_jaccard(A, B, k=10) == pytest.approx(
        np.mean(list(_shared_over_union(A, B, 10))), abs=1e-12
    )
    assert shared > neighbourhood_jaccard(A, B, k=10)


def _shared_over_union(A, B, k):
    search = [
        NearestNeighbors(n_neighbors=k + 1, metric="cosine").fit(X).kneighbors(X)[1]
        for X in (A, B)
    ]
    for i, (a, b) in enumerate(zip(*search, strict=True)):
        a, b = set(a) - {i}, set(b) - {i}
        yield len(a & b) / len(a | b)


def test_mutual_knn_errors():
    A, B = _related(n_samples=20)
    with pytest.raises(ValueError, match="must be smaller than the number of rows"):
        mutual_knn(A, B, k=20)
    with pytest.raises(ValueError, match="same number of rows"):
        mutual_knn(A, B[:-1])


# --- debiased CKA ---------------------------------------------------------------------


def _debiased_cka_reference(A, B):
    """Song et al.'s unbiased HSIC on the n x n Gram matrices, then the CKA ratio."""

    def hsic(K, L):
        n = K.shape[0]
        K, L = K - np.diag(np.diag(K)), L - np.diag(np.diag(L))
        ones = np.ones(n)
        value = (
            np.trace(K @ L)
            + (ones @ K @ ones) * (ones @ L @ ones) / ((n - 1) * (n - 2))
            - 2 / (n - 2) * (ones @ K @ L @ ones)
        )
        return value / (n * (n - 3))

    K, L = A @ A.T, B @ B.T
    return hsic(K, L) / np.sqrt(hsic(K, K) * hsic(L, L))


@pytest.mark.parametrize("noise", [0.1, 1.0, 10.0])
def test_debiased_cka_against_gram_matrices(noise):
    A, B = _related(n_samples=50, noise=noise)
    B = np.hstack([B, B[:, :2] ** 2])  # another width, a non-linear part
    expected = _debiased_cka_reference(A, B)
    assert linear_cka(A, B, debiased=True) == pytest.approx(expected, rel=1e-9)
    assert linear_cka(A, B, debiased=True, batch_size=7) == pytest.approx(
        expected, rel=1e-9
    )
    # The same invariances as the plain estimator.
    rotation = ortho_group.rvs(6, random_state=0)
    moved = linear_cka(5 * A @ rotation + 3, B, debiased=True)
    assert moved == pytest.approx(expected, rel=1e-9)
    assert linear_cka(A.astype(np.float32), B, debiased=True) == pytest.approx(
        expected, rel=1e-5
    )


def test_debiased_cka_is_near_zero_on_independent_spaces():
    """n=64: where the plain estimator sees structure, the debiased one does not."""
    rng = np.random.RandomState(0)
    biased, debiased = [], []
    for _ in range(30):
        A, B = rng.normal(size=(64, 32)), rng.normal(size=(64, 32))
        biased.append(linear_cka(A, B))
        debiased.append(linear_cka(A, B, debiased=True))
    assert np.mean(biased) > 0.3
    assert abs(np.mean(debiased)) < 0.01
    assert np.std(debiased) < 0.05
    # Identical spaces still score 1.
    assert linear_cka(A, A, debiased=True) == pytest.approx(1.0)


def test_debiased_cka_needs_four_rows():
    A = np.eye(3)
    assert np.isfinite(linear_cka(A, A))
    with pytest.raises(ValueError, match="at least 4 rows"):
        linear_cka(A, A, debiased=True)


# --- the permutation test -------------------------------------------------------------


def test_permutation_test_detects_related_spaces():
    A, B = _related()
    result = permutation_test(mutual_knn, A, B, k=5, n_permutations=99, random_state=0)
    assert isinstance(result, PermutationTestResult)
    assert result.statistic == mutual_knn(A, B, k=5)
    assert result.pvalue == 0.01  # the smallest possible: no permutation reached it
    assert result.null_distribution.shape == (99,)
    assert result.null_distribution.max() < 0.2 < result.statistic
    again = permutation_test(mutual_knn, A, B, k=5, n_permutations=99, random_state=0)
    np.testing.assert_array_equal(again.null_distribution, result.null_distribution)


def test_permutation_pvalues_are_calibrated_on_null_data():
    """Under the null, P(p <= alpha) = alpha for alpha a multiple of 1/(m + 1)."""
    rng = np.random.RandomState(0)
    n_tests, n_permutations = 400, 19
    pvalues = np.array(
        [
            permutation_test(
                linear_cka,
                rng.normal(size=(25, 3)),
                rng.normal(size=(25, 2)),
                n_permutations=n_permutations,
                random_state=rng,
            ).pvalue
            for _ in range(n_tests)
        ]
    )
    for alpha in (0.05, 0.2, 0.5):
        # Within the central 99.9 % of the binomial count under exact calibration.
        low, high = binom.ppf([0.0005, 0.9995], n_tests, alpha)
        assert low <= np.count_nonzero(pvalues <= alpha + 1e-12) <= high, alpha
    assert pvalues.min() >= 1 / (n_permutations + 1)


def test_permutation_test_silences_the_null_chance_warnings():
    A, B = _related()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = permutation_test(
            mean_reciprocal_rank, A, B, n_permutations=20, random_state=0
        )
    assert result.pvalue == pytest.approx(1 / 21)


def test_permutation_test_errors():
    A, B = _related()
    with pytest.raises(TypeError, match="measure must be a callable"):
        permutation_test("linear_cka", A, B)
    with pytest.raises(ValueError, match="n_permutations"):
        permutation_test(linear_cka, A, B, n_permutations=0)
    with pytest.raises(ValueError, match="same number of rows"):
        permutation_test(linear_cka, A, B[:-1])


# --- warnings of the measures that compare coordinates ---------------------------------


def test_raw_spaces_of_two_encoders_warn():
    """Coordinates in another order (another encoder's basis): chance, and said so.

    A cyclic shift of the coordinates is a rotation of trace 0: a rotation near the
    identity would keep some real agreement, which is rightly not called chance.
    """
    A, B = _related(n_samples=200)
    rotated = np.roll(B, 1, axis=1)
    with pytest.warns(ChanceAgreementWarning, match="relative representations"):
        mean_reciprocal_rank(A, rotated)
    with pytest.warns(ChanceAgreementWarning, match="no more than with other items"):
        cosine_agreement(A, rotated)
    # Matching coordinates: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mean_reciprocal_rank(A, B) > 0.5
        assert cosine_agreement(A, B) > 0.8


def test_a_shared_offset_is_no_agreement():
    """Crowded unrelated spaces give a high cosine agreement that is only an offset."""
    rng = np.random.RandomState(0)
    A = rng.normal(size=(300, 16)) + 4
    B = rng.normal(size=(300, 16)) + 4
    with pytest.warns(ChanceAgreementWarning) as record:
        score = cosine_agreement(A, B)
    assert score > 0.9  # the plausible wrong number the warning is about
    assert f"{score:.3g}" in str(record[0].message)
    assert record[0].filename == __file__


def test_too_few_items_to_tell_give_no_warning():
    rng = np.random.RandomState(0)
    A, B = rng.normal(size=(19, 4)), rng.normal(size=(19, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean_reciprocal_rank(A, B)
        cosine_agreement(A, B)
