"""Relative spaces beyond the cosine: similarities, their invariances, aggregation, ASIF."""

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import ortho_group
from sklearn.metrics.pairwise import cosine_similarity, pairwise_distances

from skrelrep import RelativeTransformer

METRICS = {"euclidean": "euclidean", "l1": "manhattan", "linf": "chebyshev"}


@pytest.fixture
def X():
    return np.random.RandomState(0).normal(size=(200, 7))


def _reference(X, anchors, similarity):
    if similarity == "cosine":
        return cosine_similarity(X, anchors)
    return -pairwise_distances(X, anchors, metric=METRICS[similarity])


@pytest.mark.parametrize("similarity", ["cosine", "euclidean", "l1", "linf"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_each_similarity_against_scikit_learn(X, similarity, dtype):
    X = X.astype(dtype)
    relative = RelativeTransformer(12, similarity=similarity, random_state=0)
    R = relative.fit_transform(X)
    assert R.dtype == dtype and R.shape == (200, 12)
    anchors = X[relative.anchor_indices_].astype(np.float64)
    tolerance = 1e-4 if dtype == np.float32 else 1e-10
    if similarity == "euclidean" and dtype == np.float64:
        tolerance = 1e-7  # both sides expand |x - a|^2: sqrt(eps) error at distance 0
    assert_allclose(
        R, _reference(X.astype(np.float64), anchors, similarity), atol=tolerance
    )


@pytest.mark.parametrize("similarity", ["euclidean", "l1", "linf"])
def test_sparse_and_chunked_distances(X, similarity):
    X[X < 0.5] = 0
    dense = RelativeTransformer(9, similarity=similarity, random_state=0).fit(X)
    sparse = RelativeTransformer(
        9, similarity=similarity, random_state=0, batch_size=13
    )
    assert_allclose(
        sparse.fit_transform(sp.csr_matrix(X)), dense.transform(X), atol=1e-12
    )


def _moved(X, how, rng):
    n_features = X.shape[1]
    if how == "rotation":
        return X @ ortho_group.rvs(n_features, random_state=rng)
    if how == "scale":
        return 3.7 * X
    if how == "translation":
        return X + rng.normal(size=n_features) * 5
    if how == "permutation and sign flips":
        return X[:, rng.permutation(n_features)] * rng.choice([-1, 1], size=n_features)
    if how == "per-dimension scale":
        return X * rng.uniform(0.2, 5, size=n_features)
    raise ValueError(how)


# (parameters, invariant to, not invariant to)
INVARIANCES = [
    (
        {"similarity": "cosine"},
        ["rotation", "scale", "permutation and sign flips"],
        ["translation", "per-dimension scale"],
    ),
    (
        {"similarity": "cosine", "center": True},
        ["rotation", "scale", "translation"],
        ["per-dimension scale"],
    ),
    (
        {"similarity": "cosine", "center": True, "standardize": True},
        ["scale", "translation", "per-dimension scale", "permutation and sign flips"],
        ["rotation"],
    ),
    (
        {"similarity": "euclidean"},
        ["rotation", "translation", "permutation and sign flips"],
        ["scale", "per-dimension scale"],
    ),
    (
        {"similarity": "euclidean", "output_normalization": "standard"},
        ["rotation", "translation", "scale"],
        ["per-dimension scale"],
    ),
    (
        {"similarity": "l1"},
        ["translation", "permutation and sign flips"],
        ["rotation", "scale"],
    ),
    (
        {"similarity": "linf", "output_normalization": "l2"},
        ["translation", "permutation and sign flips", "scale"],
        ["rotation"],
    ),
    # A product of invariances holds only what every member holds.
    (
        {"similarity": ["cosine", "euclidean"], "output_normalization": "standard"},
        ["rotation", "scale"],
        ["translation"],
    ),
]


@pytest.mark.parametrize(
    ("params", "invariant", "variant"),
    INVARIANCES,
    ids=[str(p) for p, _, _ in INVARIANCES],
)
def test_invariances_claimed_and_not_claimed(X, params, invariant, variant):
    rng = np.random.RandomState(1)
    R = RelativeTransformer(15, random_state=0, **params).fit_transform(X)
    for how in invariant:
        moved = RelativeTransformer(15, random_state=0, **params).fit_transform(
            _moved(X, how, rng)
        )
        # Euclidean distances go through the GEMM expansion |x|^2 - 2x.a + |a|^2,
        # whose rounding shows as ~1e-8 at distance zero.
        assert_allclose(moved, R, atol=1e-7, err_msg=how)
    for how in variant:
        moved = RelativeTransformer(15, random_state=0, **params).fit_transform(
            _moved(X, how, rng)
        )
        assert not np.allclose(moved, R, atol=1e-3), how


def test_aggregations(X):
    names = ["cosine", "euclidean", "l1"]
    parts = [
        RelativeTransformer(
            10, similarity=name, output_normalization="standard", random_state=0
        ).fit_transform(X)
        for name in names
    ]
    concatenated = RelativeTransformer(
        10, similarity=names, output_normalization="standard", random_state=0
    )
    # 1e-7: the rounding of Euclidean distances near zero (see the invariance test).
    assert_allclose(concatenated.fit_transform(X), np.hstack(parts), atol=1e-7)
    assert concatenated.get_feature_names_out().shape == (30,)
    for how, expected in [("sum", sum(parts)), ("mean", sum(parts) / 3)]:
        aggregated = RelativeTransformer(
            10,
            similarity=names,
            output_normalization="standard",
            aggregation=how,
            random_state=0,
        ).fit_transform(X)
        assert_allclose(aggregated, expected, atol=1e-7)
    standard = parts[1]
    assert_allclose(standard.mean(axis=1), 0, atol=1e-12)
    assert_allclose(standard.std(axis=1), 1, atol=1e-12)


def test_top_k_and_exponent(X):
    dense = RelativeTransformer(20, random_state=0).fit_transform(X)
    relative = RelativeTransformer(
        20, top_k=3, exponent=3, random_state=0, batch_size=17
    )
    R = relative.fit_transform(X)
    assert sp.issparse(R) and R.format == "csr" and R.dtype == X.dtype
    assert_array_equal(np.diff(R.indptr), 3)
    powered = np.sign(dense) * np.abs(dense) ** 3
    top = np.sort(powered, axis=1)[:, -3:]
    assert_allclose(np.sort(R.toarray(), axis=1)[:, -3:], top, atol=1e-12)
    for row in range(len(X)):
        kept = set(R[row].indices.tolist())
        assert kept == set(np.argsort(-powered[row])[:3].tolist())
    # Whole rows are kept as they are, chunking aside.
    whole = RelativeTransformer(20, top_k=3, exponent=3, random_state=0).fit_transform(
        X
    )
    assert_allclose(whole.toarray(), R.toarray(), atol=1e-12)


def test_standardize_records_the_anchor_scale(X):
    X[:, 2] = 4.0  # constant over the anchors: left unscaled, no division by zero
    relative = RelativeTransformer(
        10, center=True, standardize=True, random_state=0
    ).fit(X)
    anchors = X[relative.anchor_indices_]
    expected = anchors.std(axis=0)
    expected[2] = 1
    assert_allclose(relative.anchor_scale_, expected)
    assert np.isfinite(relative.transform(X)).all()


@pytest.mark.parametrize("similarity", ["euclidean", "l1", "linf"])
def test_distances_on_torch_match_numpy(X, similarity):
    torch = pytest.importorskip("torch")
    params = dict(
        n_anchors=8,
        similarity=similarity,
        output_normalization="standard",
        random_state=0,
    )
    expected = RelativeTransformer(**params).fit_transform(X)
    with sklearn.config_context(array_api_dispatch=True):
        R = RelativeTransformer(**params, batch_size=50).fit_transform(torch.asarray(X))
    assert isinstance(R, torch.Tensor)
    assert_allclose(R.numpy(), expected, atol=1e-7)


@pytest.mark.parametrize(
    ("similarity", "match"),
    [(["cosine", "cosine"], "distinct"), (["cosine", "dot"], "one of"), ([], "one of")],
)
def test_bad_similarity_lists(X, similarity, match):
    with pytest.raises(ValueError, match=match):
        RelativeTransformer(5, similarity=similarity).fit(X)


def test_bad_option_values(X):
    from sklearn.utils._param_validation import InvalidParameterError

    for params in [
        {"similarity": "dot"},
        {"exponent": 0},
        {"top_k": 0},
        {"aggregation": "max"},
        {"output_normalization": "unit"},
    ]:
        with pytest.raises(InvalidParameterError):
            RelativeTransformer(5, **params).fit(X)
