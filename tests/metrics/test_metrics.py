"""Tests for skrelrep.metrics: hand-computed cases, brute-force references, invariances."""

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from scipy.spatial.distance import cdist
from scipy.stats import ortho_group
from sklearn.metrics import f1_score
from sklearn.neighbors import NearestNeighbors

from skrelrep.metrics import (
    ChanceAgreementWarning,
    cosine_agreement,
    linear_cka,
    mean_reciprocal_rank,
    mutual_knn,
    neighbourhood_jaccard,
    pivot_stitching_matrix,
    stitching_matrix,
)

# ---------------------------------------------------------------------------
# Independent references


def _cosines(A, B):
    """All-pairs cosine similarity in float64, 0 for zero rows (not via skrelrep).

    Rows are normalised before the dot products, so rows of the same direction give
    exactly equal cosines (exact ties), as they do in the metrics.
    """

    def unit(X):
        X = np.asarray(X, dtype=np.float64)
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        return np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)

    A, B = unit(A), unit(B)
    return np.array([[float(np.dot(a, b)) for b in B] for a in A])


# Similarities closer than this are tied: the exact-tie spaces below give cosines
# that are exactly equal or apart by at least 0.1.
_TIE = 1e-9


def _neighbour_weights(X, k):
    """Each row's weight on every other row: 1 above the k-th value, and the free
    places shared equally among the rows tied with the k-th (by sorting)."""
    similarities = _cosines(X, X)
    weights = np.zeros_like(similarities)
    for i, row in enumerate(similarities):
        others = sorted((j for j in range(len(row)) if j != i), key=lambda j: -row[j])
        kth = row[others[k - 1]]
        above = [j for j in others if row[j] > kth + _TIE]
        tied = [j for j in others if abs(row[j] - kth) <= _TIE]
        weights[i, above] = 1.0
        weights[i, tied] = (k - len(above)) / len(tied)
    return weights


def _jaccard_reference(A, B, k):
    shared = np.sum(_neighbour_weights(A, k) * _neighbour_weights(B, k), axis=1)
    return np.mean(shared / (2 * k - shared))


def _mrr_reference(A, B):
    """1 / rank averaged over the ranks the match's ties allow (by counting)."""
    similarities = _cosines(A, B)
    reciprocal = []
    for i, row in enumerate(similarities):
        above = np.sum(row > row[i] + _TIE)
        tied = np.sum(np.abs(row - row[i]) <= _TIE)
        reciprocal.append(np.mean(1.0 / np.arange(above + 1, above + tied + 1)))
    return np.mean(reciprocal)


def _cka_reference(A, B):
    """The n x n HSIC form of linear CKA (Kornblith et al., 2019, eq. 3)."""
    n = len(A)
    H = np.eye(n) - np.ones((n, n)) / n
    K, L = A @ A.T, B @ B.T

    def hsic(K, L):
        return np.trace(K @ H @ L @ H)

    return hsic(K, L) / np.sqrt(hsic(K, K) * hsic(L, L))


def _exact_tie_space(rng, n):
    """Rows whose cosines are exactly 0 or +-1: axis directions, scaled, and zeros."""
    directions = np.vstack([np.eye(3), -np.eye(3), np.zeros((1, 3))])
    return directions[rng.randint(len(directions), size=n)] * rng.randint(1, 4, (n, 1))


def _pair(seed=0, n=40, width_a=6, width_b=4):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(n, width_a)), rng.normal(size=(n, width_b))


# ---------------------------------------------------------------------------
# neighbourhood_jaccard


def test_jaccard_hand_computed():
    A = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    B = A[[0, 2, 1, 3]]
    assert neighbourhood_jaccard(A, A, k=1) == 1.0
    assert neighbourhood_jaccard(A, B, k=1) == 0.0
    # Row 0: {1, 3} vs {2, 3}; row 1: {0, 3} vs {2, 3}; row 2: {1, 3} vs {0, 3};
    # row 3: {1, 2} vs {1, 2}.
    assert neighbourhood_jaccard(A, B, k=2) == pytest.approx((3 * (1 / 3) + 1) / 4)
    # With k = n - 1 every row's neighbours are all the other rows.
    assert neighbourhood_jaccard(A, B, k=3) == 1.0


def test_jaccard_ties_are_averaged_not_ordered_by_index():
    # Rows 0, 1 and 2 point the same way; row 3 is orthogonal to all of them.
    A = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [0.0, 1.0]])
    A = np.hstack([A, np.zeros((4, 1))])
    # B has no ties and its nearest neighbours are 0 -> 1, 1 -> 0, 2 -> 0, 3 -> 0.
    B = np.array([[1.0, 0.0, 0.0], [1.0, 0.1, 0.0], [1.0, 0.0, 0.3], [1.0, 0.0, -0.3]])
    # At k=1, rows 0, 1 and 2 of A each have two tied neighbours (weight 1/2 each)
    # and row 3 three (1/3 each): the lowest-index choice would score 1.0, the
    # highest-index one 0.0. B's neighbour is among them for every row.
    shared = np.array([1 / 2, 1 / 2, 1 / 2, 1 / 3])
    expected = np.mean(shared / (2 - shared))
    assert neighbourhood_jaccard(A, B, k=1) == pytest.approx(expected)
    assert neighbourhood_jaccard(A, B, k=1) == pytest.approx(
        _jaccard_reference(A, B, 1)
    )
    # The score does not depend on the order of the rows, ties or not.
    rng = np.random.RandomState(0)
    for _ in range(5):
        order = rng.permutation(4)
        assert neighbourhood_jaccard(A[order], B[order], k=1) == pytest.approx(expected)
        assert neighbourhood_jaccard(A[order], B[order], k=2) == pytest.approx(
            neighbourhood_jaccard(A, B, k=2)
        )


def test_tie_averaging_is_the_mean_over_random_tie_breaks():
    """Shared counts equal their mean over independent random orders of the ties."""
    rng = np.random.RandomState(1)
    A, B = _exact_tie_space(rng, 12), _exact_tie_space(rng, 12)
    k = 3

    draws = 4000

    def random_sets(X):
        """Per draw and row, a mask of its k nearest, ties in a random order."""
        # The cosines here are exactly -1, 0 or 1: scaled by 10, the noise in
        # [0, 1) orders equal values only.
        order = -10 * np.round(_cosines(X, X), 9)
        np.fill_diagonal(order, np.inf)
        keys = order + rng.uniform(size=(draws, *order.shape))
        nearest = np.argsort(keys, axis=2)[:, :, :k]
        mask = np.zeros(keys.shape, bool)
        np.put_along_axis(mask, nearest, True, axis=2)
        return mask

    total = np.sum(random_sets(A) & random_sets(B), axis=(0, 2))
    expected = np.sum(_neighbour_weights(A, k) * _neighbour_weights(B, k), axis=1)
    # Each mean of 4000 draws of a count in [0, 3] is within 0.1 of its expectation
    # (more than 6 standard errors).
    np.testing.assert_allclose(total / draws, expected, atol=0.1)
    assert mutual_knn(A, B, k=k) == pytest.approx(np.mean(expected) / k)


@pytest.mark.parametrize("k", [1, 3, 10])
def test_jaccard_matches_sklearn_neighbours(k):
    A, B = _pair(seed=k)
    sets = []
    for X in (A, B):
        nn = NearestNeighbors(n_neighbors=k + 1, metric="cosine").fit(X)
        indices = nn.kneighbors(X, return_distance=False)
        sets.append([set(row) - {i} for i, row in enumerate(indices)])
    expected = np.mean([len(a & b) / len(a | b) for a, b in zip(*sets, strict=True)])
    assert neighbourhood_jaccard(A, B, k=k) == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [1, 4, 12])
def test_jaccard_with_exact_ties_and_zero_rows_matches_sorting(seed, k):
    rng = np.random.RandomState(seed)
    A = _exact_tie_space(rng, 30)
    B = np.vstack([_exact_tie_space(rng, 15), rng.normal(size=(15, 3))])
    assert neighbourhood_jaccard(A, B, k=k) == pytest.approx(
        _jaccard_reference(A, B, k)
    )
    assert not np.isnan(neighbourhood_jaccard(np.zeros((5, 2)), np.zeros((5, 3)), k=2))


def test_jaccard_sampled_bound_path_matches_sorting():
    # Rows long enough (n >= 32 k) for the strided-sample bound, with clustered data
    # ordered by cluster so that the sample is uneven, plus duplicated rows.
    rng = np.random.RandomState(0)
    centres = rng.normal(size=(4, 5))
    A = np.repeat(centres, 60, axis=0) + 0.3 * rng.normal(size=(240, 5))
    A[200:210] = A[0]
    B = A @ rng.normal(size=(5, 3)) + 0.3 * rng.normal(size=(240, 3))
    assert neighbourhood_jaccard(A, B, k=5) == pytest.approx(
        _jaccard_reference(A, B, 5)
    )
    # Mostly one repeated row: the bound filters out too little, so whole rows are
    # partitioned instead.
    A[:150] = A[0]
    assert neighbourhood_jaccard(A, B, k=5) == pytest.approx(
        _jaccard_reference(A, B, 5)
    )


def test_jaccard_invariances():
    A, B = _pair(seed=1, n=60)
    expected = neighbourhood_jaccard(A, B, k=5)
    rotation_a = ortho_group.rvs(A.shape[1], random_state=0)
    rotation_b = ortho_group.rvs(B.shape[1], random_state=1)
    scales = np.random.RandomState(2).uniform(0.1, 10, size=(len(A), 1))
    # Each space on its own: rotations, positive rescaling of rows, the order of the
    # arguments.
    assert neighbourhood_jaccard(A @ rotation_a, B @ rotation_b, k=5) == expected
    assert neighbourhood_jaccard(scales * A, B, k=5) == expected
    assert neighbourhood_jaccard(B, A, k=5) == expected
    # Relabelling the items in both spaces at once changes nothing either.
    perm = np.random.RandomState(3).permutation(len(A))
    assert neighbourhood_jaccard(A[perm], B[perm], k=5) == pytest.approx(expected)
    # A translation is not a similarity of cosine geometry: it does matter.
    assert neighbourhood_jaccard(A + 3.0, B, k=5) != expected


# ---------------------------------------------------------------------------
# mean_reciprocal_rank


def test_mrr_hand_computed():
    A = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    B = np.array([[0.6, 0.8], [0.8, 0.6], [-1.0, 0.0]])
    assert mean_reciprocal_rank(A, A) == 1.0
    assert mean_reciprocal_rank(A, B) == pytest.approx((1 / 2 + 1 / 2 + 1) / 3)
    # Reversed order: every match ranks last among three except the middle one.
    assert mean_reciprocal_rank(A, A[::-1]) == pytest.approx((1 / 3 + 1 + 1 / 3) / 3)


def test_mrr_ties_are_averaged_and_zero_rows_are_defined():
    # B[0] and B[1] are the same direction: the match is first or second, 1/2 each.
    A = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert mean_reciprocal_rank(A, 2 * A) == pytest.approx((0.75 + 0.75 + 1) / 3)
    # A zero query ties with every row: 1/rank averaged over ranks 1 to 3. A zero
    # match (similarity 0) ranks after the two rows of positive similarity.
    A = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    B = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    zero_query = (1 + 1 / 2 + 1 / 3) / 3
    assert mean_reciprocal_rank(A, B) == pytest.approx((zero_query + 1 / 3 + 1) / 3)
    assert mean_reciprocal_rank(A, B) == pytest.approx(_mrr_reference(A, B))


@pytest.mark.parametrize("seed", range(3))
def test_mrr_matches_brute_force(seed):
    rng = np.random.RandomState(seed)
    A = rng.normal(size=(50, 5))
    B = A + rng.normal(scale=1.0, size=A.shape)
    assert mean_reciprocal_rank(A, B) == pytest.approx(_mrr_reference(A, B))
    T = _exact_tie_space(rng, 30)
    # Duplicated directions: each match shares its place with its copies.
    assert mean_reciprocal_rank(T, T) == pytest.approx(_mrr_reference(T, T))
    assert mean_reciprocal_rank(T, T) < 1
    with warnings.catch_warnings():  # unrelated orders: chance, as it is
        warnings.simplefilter("ignore", ChanceAgreementWarning)
        score = mean_reciprocal_rank(T, T[::-1])
    assert score == pytest.approx(_mrr_reference(T, T[::-1]))


def test_mrr_invariances_and_direction():
    rng = np.random.RandomState(0)
    A = rng.normal(size=(50, 5))
    B = A + rng.normal(scale=1.5, size=A.shape)
    expected = mean_reciprocal_rank(A, B)
    rotation = ortho_group.rvs(5, random_state=0)
    scales = rng.uniform(0.1, 10, size=(50, 1))
    assert mean_reciprocal_rank(A @ rotation, B @ rotation) == pytest.approx(expected)
    assert mean_reciprocal_rank(scales * A, B[::-1][::-1] * scales) == pytest.approx(
        expected
    )
    # Rotating one space only breaks the correspondence of coordinates: chance, warned.
    with pytest.warns(ChanceAgreementWarning, match="at chance level for 50 items"):
        assert mean_reciprocal_rank(A @ rotation, B) < expected
    # The metric is directional.
    assert mean_reciprocal_rank(B, A) != expected


# ---------------------------------------------------------------------------
# cosine_agreement


def test_cosine_agreement_hand_computed_and_zero_rows():
    A = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
    B = np.array([[2.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    assert cosine_agreement(A, B) == pytest.approx((1 + 1 / np.sqrt(2) + 0) / 3)
    assert cosine_agreement(A, -A) == pytest.approx(-1.0)
    assert cosine_agreement(np.zeros((3, 2)), np.zeros((3, 2))) == 0.0


# Two unrelated random spaces: the score is at chance, which the metric warns of.
@pytest.mark.filterwarnings("ignore::skrelrep.metrics.ChanceAgreementWarning")
def test_cosine_agreement_matches_scipy_and_is_rotation_invariant():
    rng = np.random.RandomState(0)
    A, B = rng.normal(size=(30, 4)), rng.normal(size=(30, 4))
    expected = np.mean(1 - np.diag(cdist(A, B, metric="cosine")))
    assert cosine_agreement(A, B) == pytest.approx(expected)
    rotation = ortho_group.rvs(4, random_state=0)
    assert cosine_agreement(A @ rotation, B @ rotation) == pytest.approx(expected)
    assert cosine_agreement(A @ rotation, B) != pytest.approx(expected)


# ---------------------------------------------------------------------------
# linear_cka


def test_linear_cka_hand_computed():
    A = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    assert linear_cka(A, A[:, :1]) == pytest.approx(1 / np.sqrt(2))
    assert linear_cka(A, A) == pytest.approx(1.0)
    # Orthogonal one-dimensional signals share nothing.
    assert linear_cka(A[:, :1], A[:, 1:]) == pytest.approx(0.0)


@pytest.mark.parametrize("seed", range(3))
def test_linear_cka_matches_hsic_form(seed):
    A, B = _pair(seed=seed, n=30, width_a=7, width_b=3)
    B = B + A[:, :3]
    assert linear_cka(A, B) == pytest.approx(_cka_reference(A, B))
    assert linear_cka(A, B, batch_size=4) == pytest.approx(_cka_reference(A, B))


def test_linear_cka_invariances_and_degenerate_spaces():
    A, B = _pair(seed=0, n=40, width_a=5, width_b=5)
    B = B + A
    expected = linear_cka(A, B)
    rotation = ortho_group.rvs(5, random_state=0)
    assert linear_cka(7.0 * A @ rotation - 2.0, B + 11.0) == pytest.approx(expected)
    assert linear_cka(B, A) == pytest.approx(expected)
    assert 0 < expected < 1
    # No variance in one space: defined as 0.
    assert linear_cka(A, np.ones((40, 3))) == 0.0
    # Not invariant to an anisotropic rescaling.
    assert linear_cka(A * np.array([10, 1, 1, 1, 1]), B) != pytest.approx(expected)


# ---------------------------------------------------------------------------
# Shared behaviour: chunking, dtypes, containers, errors


@pytest.mark.parametrize(
    "metric",
    [
        lambda A, B, **kw: neighbourhood_jaccard(A, B, k=4, **kw),
        mean_reciprocal_rank,
        linear_cka,
    ],
)
def test_chunking_does_not_change_the_result(metric):
    rng = np.random.RandomState(0)
    A = rng.normal(size=(57, 5))
    B = A + rng.normal(size=A.shape)
    expected = metric(A, B)
    for batch_size in (1, 7, 57, 1000):
        assert metric(A, B, batch_size=batch_size) == pytest.approx(expected)
    with sklearn.config_context(working_memory=0.001):
        assert metric(A, B) == pytest.approx(expected)


@pytest.mark.parametrize(
    "metric",
    [
        lambda A, B: neighbourhood_jaccard(A, B, k=5),
        mean_reciprocal_rank,
        cosine_agreement,
        linear_cka,
    ],
)
def test_float32_and_list_and_tensor_inputs(metric):
    rng = np.random.RandomState(0)
    A = rng.normal(size=(80, 6))
    B = A + 0.5 * rng.normal(size=A.shape)
    expected = metric(A, B)
    assert metric(A.astype(np.float32), B.astype(np.float32)) == pytest.approx(
        expected, abs=1e-5
    )
    assert metric(A.tolist(), B.tolist()) == expected
    torch = pytest.importorskip("torch")
    assert metric(torch.from_numpy(A), torch.from_numpy(B)) == pytest.approx(expected)


@pytest.mark.parametrize(
    "metric",
    [neighbourhood_jaccard, mean_reciprocal_rank, cosine_agreement, linear_cka],
)
def test_bad_input_errors(metric):
    A = np.ones((5, 3))
    with pytest.raises(ValueError, match="same number of rows"):
        metric(A, np.ones((4, 3)))
    with pytest.raises(ValueError, match="minimum of 2"):
        metric(A[:1], A[:1])
    with pytest.raises(ValueError, match="NaN"):
        metric(np.full((5, 3), np.nan), A)
    with pytest.raises(ValueError, match="2D array"):
        metric(np.ones(5), np.ones(5))


@pytest.mark.parametrize("metric", [mean_reciprocal_rank, cosine_agreement])
def test_same_width_metrics_reject_different_widths(metric):
    with pytest.raises(ValueError, match="same number of columns"):
        metric(np.ones((5, 3)), np.ones((5, 4)))


def test_jaccard_rejects_bad_k_and_batch_size():
    A = np.random.RandomState(0).normal(size=(5, 2))
    with pytest.raises(ValueError, match="smaller than the number of rows"):
        neighbourhood_jaccard(A, A, k=5)
    with pytest.raises(ValueError, match="k == 0"):
        neighbourhood_jaccard(A, A, k=0)
    with pytest.raises(TypeError, match="k must be an instance of int"):
        neighbourhood_jaccard(A, A, k=2.0)
    with pytest.raises(ValueError, match="batch_size == 0"):
        neighbourhood_jaccard(A, A, k=2, batch_size=0)


def _peak_bytes(function, *args, **kwargs):
    tracemalloc.start()
    try:
        function(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _check_bounded_memory(n_samples, n_features, working_memory_mib):
    rng = np.random.RandomState(0)
    A = rng.normal(size=(n_samples, n_features)).astype(np.float32)
    B = (A + rng.normal(size=A.shape)).astype(np.float32)
    all_pairs = n_samples**2 * 4  # one float32 similarity matrix
    budget = working_memory_mib * 2**20 + 3 * A.nbytes  # the chunk + row copies
    with sklearn.config_context(working_memory=working_memory_mib):
        for metric in (
            lambda: neighbourhood_jaccard(A, B, k=10),
            lambda: mean_reciprocal_rank(A, B),
            lambda: linear_cka(A, B),
            lambda: cosine_agreement(A, B),
        ):
            peak = _peak_bytes(metric)
            assert peak < budget
            assert peak < all_pairs / 4


def test_memory_stays_bounded():
    _check_bounded_memory(3000, 100, working_memory_mib=2)


@pytest.mark.slow
def test_memory_stays_bounded_at_20k_items():
    _check_bounded_memory(20_000, 300, working_memory_mib=128)


# ---------------------------------------------------------------------------
# stitching_matrix


class _Model:
    def __init__(self, value):
        self.value = value


class _Stitched:
    def __init__(self, encoder, decoder, anchor_inputs):
        self.encoder, self.decoder, self.anchor_inputs = encoder, decoder, anchor_inputs

    def score(self, X, y):
        # Encodes which models were combined and what data they saw.
        return 10 * self.encoder.value + self.decoder.value + 0.01 * np.sum(X)


def _fake_stitch(calls):
    def stitch(encoder_from, decoder_from, **kwargs):
        calls.append((encoder_from.value, decoder_from.value, kwargs))
        return _Stitched(encoder_from, decoder_from, kwargs.get("anchor_inputs"))

    return stitch


def test_stitching_matrix_is_a_tidy_table_of_every_pair():
    calls = []
    models = {"b": _Model(2), "a": _Model(1)}
    frame = stitching_matrix(
        models, X=np.zeros(3), y=np.zeros(3), stitch=_fake_stitch(calls)
    )
    assert frame.columns.tolist() == ["encoder", "decoder", "score", "stitched"]
    assert list(zip(frame.encoder, frame.decoder, strict=True)) == [
        ("b", "b"),
        ("b", "a"),
        ("a", "b"),
        ("a", "a"),
    ]
    assert frame.score.tolist() == [22.0, 21.0, 12.0, 11.0]
    assert frame.stitched.tolist() == [False, True, True, False]
    # Without anchor inputs, stitch re-embeds the decoder's own anchors.
    assert all(kwargs == {} for *_, kwargs in calls)
    matrix = pivot_stitching_matrix(frame)
    assert matrix.index.tolist() == ["b", "a"]
    assert matrix.columns.tolist() == ["b", "a"]
    assert matrix.loc["a", "b"] == 12.0


def test_stitching_matrix_separate_decoders_and_sequences():
    calls = []
    frame = stitching_matrix(
        [_Model(1), _Model(2)],
        {"d": _Model(5)},
        X=np.zeros(2),
        y=np.zeros(2),
        stitch=_fake_stitch(calls),
    )
    assert frame.encoder.tolist() == [0, 1]
    assert frame.decoder.tolist() == ["d", "d"]
    assert frame.score.tolist() == [15.0, 25.0]


def test_stitching_matrix_routes_inputs_and_anchors_by_name():
    calls = []
    models = {"en": _Model(1), "it": _Model(2)}
    X = {"en": np.ones(2), "it": np.full(2, 100.0)}  # each encoder reads its language
    anchors = {("it", "en"): "it-for-en", "en": "en-anchors"}
    frame = stitching_matrix(
        models, X=X, y=np.zeros(2), anchor_inputs=anchors, stitch=_fake_stitch(calls)
    )
    assert frame.score.tolist() == [11.02, 12.02, 23.0, 24.0]
    assert [kwargs.get("anchor_inputs") for *_, kwargs in calls] == [
        "en-anchors",
        "en-anchors",
        "it-for-en",
        None,
    ]
    calls.clear()
    stitching_matrix(
        models,
        X=X,
        y=np.zeros(2),
        anchor_inputs=lambda e, d: f"{e}>{d}",
        stitch=_fake_stitch(calls),
    )
    assert [kwargs["anchor_inputs"] for *_, kwargs in calls] == [
        "en>en",
        "en>it",
        "it>en",
        "it>it",
    ]
    with pytest.raises(KeyError, match="no inputs for encoder 'fr'"):
        stitching_matrix(
            {"fr": _Model(3)}, X=X, y=np.zeros(2), stitch=_fake_stitch(calls)
        )


def test_stitching_matrix_scoring_with_real_estimators():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    models = {
        seed: make_pipeline(StandardScaler(), LogisticRegression()).fit(
            X[seed::2], y[seed::2]
        )
        for seed in (0, 1)
    }

    def stitch(encoder_from, decoder_from, anchor_inputs=None):
        return make_pipeline(encoder_from[0], decoder_from[-1])

    accuracy = stitching_matrix(models, X=X, y=y, stitch=stitch)
    weighted = stitching_matrix(models, X=X, y=y, stitch=stitch, scoring="f1_weighted")
    stitched = stitch(models[1], models[0])
    assert accuracy.score.iloc[2] == stitched.score(X, y)
    assert weighted.score.iloc[2] == pytest.approx(
        f1_score(y, stitched.predict(X), average="weighted")
    )


def test_stitching_matrix_with_a_score_callable():
    frame = stitching_matrix(["x", "y"], ["u"], score=lambda e, d: len(e + d))
    assert frame.to_dict("list") == {
        "encoder": ["x", "y"],
        "decoder": ["u", "u"],
        "score": [2.0, 2.0],
        "stitched": [True, True],
    }
    frame = stitching_matrix({"p": None, "q": None}, score=lambda e, d: e == d)
    assert frame.score.tolist() == [1.0, 0.0, 0.0, 1.0]


def test_stitching_matrix_uses_skrelrep_stitch_by_default(monkeypatch):
    from skrelrep.metrics import _stitching_matrix

    calls = []
    monkeypatch.setattr(_stitching_matrix, "stitch_pipelines", _fake_stitch(calls))
    frame = stitching_matrix({"a": _Model(1)}, X=np.zeros(1), y=np.zeros(1))
    assert frame.score.tolist() == [11.0]


def test_stitching_matrix_with_real_stitched_pipelines():
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression

    from skrelrep import RelativeTransformer, StitchedPipeline

    X, y = load_digits(return_X_y=True)
    X = X / 16  # small features: the absolute decoders converge quickly
    X_test, y_test = X[1200:], y[1200:]

    def fitted(relative, rows):
        return StitchedPipeline(
            PCA(n_components=16, random_state=0),
            relative,
            LogisticRegression(max_iter=500),
        ).fit(X[rows], y[rows])

    for relative in (RelativeTransformer(n_anchors=60, random_state=0), "passthrough"):
        models = {
            "a": fitted(relative, slice(0, 600)),
            "b": fitted(relative, slice(600, 1200)),
        }
        via = "absolute" if relative == "passthrough" else "relative"
        frame = stitching_matrix(models, X=X_test, y=y_test, via=via)
        # The diagonal is each model as it is.
        for name, model in models.items():
            own = frame[(frame.encoder == name) & (frame.decoder == name)].score
            assert own.item() == pytest.approx(model.score(X_test, y_test))
        assert frame.stitched.sum() == 2
        matrix = pivot_stitching_matrix(frame)
        if relative == "passthrough":
            # PCA on different halves: the axes differ, absolute stitching suffers.
            assert matrix.loc["a", "b"] < matrix.loc["b", "b"] - 0.1
        else:
            assert matrix.loc["a", "b"] > matrix.loc["b", "b"] - 0.1


def test_stitching_matrix_bad_arguments():
    with pytest.raises(ValueError, match="leave X, stitch unset"):
        stitching_matrix(["a"], X=[1], stitch=print, score=lambda e, d: 0)
    with pytest.raises(ValueError, match="Pass the test data X and y"):
        stitching_matrix({"a": _Model(1)}, X=[1])
    with pytest.raises(ValueError, match="encoders is empty"):
        stitching_matrix({}, X=[1], y=[1], stitch=print)
    with pytest.raises(TypeError, match="mapping of names to models"):
        stitching_matrix("ab", score=lambda e, d: 0)


def test_pivot_keeps_order_and_other_columns():
    frame = pd.DataFrame(
        {
            "encoder": ["z", "z", "y", "y"],
            "decoder": ["z", "y", "z", "y"],
            "score": [1.0, 2.0, 3.0, 4.0],
            "f1": [5.0, 6.0, 7.0, 8.0],
        }
    )
    matrix = pivot_stitching_matrix(frame, values="f1")
    assert matrix.to_numpy().tolist() == [[5.0, 6.0], [7.0, 8.0]]
    assert matrix.index.name == "encoder"
    assert matrix.columns.name == "decoder"
