"""skrelrep.similarity: each similarity, its invariances, aggregation, ASIF, the API."""

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import ortho_group
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import cosine_similarity, pairwise_distances
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skrelrep import RelativeTransformer
from skrelrep.similarity import (
    ChebyshevSimilarity,
    CombinedSimilarity,
    CosineSimilarity,
    EuclideanSimilarity,
    ManhattanSimilarity,
    Similarity,
    _cosine,
)

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
    relative = RelativeTransformer(
        12, similarity=similarity, center=False, random_state=0
    )
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
        {"similarity": "cosine", "center": False},
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
        {"similarity": "euclidean", "center": False},
        ["rotation", "translation", "permutation and sign flips"],
        ["scale", "per-dimension scale"],
    ),
    (
        {"similarity": EuclideanSimilarity(normalization="standard"), "center": False},
        ["rotation", "translation", "scale"],
        ["per-dimension scale"],
    ),
    (
        {"similarity": "l1", "center": False},
        ["translation", "permutation and sign flips"],
        ["rotation", "scale"],
    ),
    (
        {"similarity": ChebyshevSimilarity(normalization="l2"), "center": False},
        ["translation", "permutation and sign flips", "scale"],
        ["rotation"],
    ),
    # A product of invariances holds only what every member holds.
    (
        {
            "similarity": CombinedSimilarity(
                [
                    CosineSimilarity(normalization="standard"),
                    EuclideanSimilarity(normalization="standard"),
                ]
            ),
            "center": False,
        },
        ["rotation", "scale"],
        ["translation"],
    ),
]


@pytest.mark.parametrize(
    ("params", "invariant", "variant"),
    INVARIANCES,
    ids=[str(p) for p, _, _ in INVARIANCES],
)
# Translated uncentred anchors crowd, and the cosine warns of it: expected here.
@pytest.mark.filterwarnings("ignore:The anchors crowd:UserWarning")
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


def _standardised(*classes):
    return [cls(normalization="standard") for cls in classes]


def test_aggregations(X):
    classes = [CosineSimilarity, EuclideanSimilarity, ManhattanSimilarity]
    parts = [
        RelativeTransformer(10, similarity=similarity, random_state=0).fit_transform(X)
        for similarity in _standardised(*classes)
    ]
    concatenated = RelativeTransformer(
        10, similarity=CombinedSimilarity(_standardised(*classes)), random_state=0
    )
    # 1e-7: the rounding of Euclidean distances near zero (see the invariance test).
    assert_allclose(concatenated.fit_transform(X), np.hstack(parts), atol=1e-7)
    assert concatenated.get_feature_names_out().shape == (30,)
    for how, expected in [("sum", sum(parts)), ("mean", sum(parts) / 3)]:
        aggregated = RelativeTransformer(
            10,
            similarity=CombinedSimilarity(_standardised(*classes), aggregation=how),
            random_state=0,
        ).fit_transform(X)
        assert aggregated.shape == (200, 10)
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


@pytest.mark.parametrize(
    "similarity", [EuclideanSimilarity, ManhattanSimilarity, ChebyshevSimilarity]
)
def test_distances_on_torch_match_numpy(X, similarity):
    torch = pytest.importorskip("torch")
    params = dict(
        n_anchors=8,
        similarity=similarity(normalization="standard"),
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
    with pytest.raises(InvalidParameterError, match=match):
        RelativeTransformer(5, similarity=similarity).fit(X)


def test_bad_option_values(X):
    for params in [
        {"similarity": "dot"},
        {"similarity": 3},
        {"exponent": 0},
        {"top_k": 0},
        {"similarity": CombinedSimilarity(["cosine", "l1"], aggregation="max")},
        {"similarity": CosineSimilarity(normalization="unit")},
        {"similarity": CombinedSimilarity(["cosine"])},
        {"similarity": CombinedSimilarity(["cosine", "dot"])},
        {"similarity": CombinedSimilarity(["cosine", EuclideanSimilarity("unit")])},
    ]:
        with pytest.raises(InvalidParameterError):
            RelativeTransformer(5, **params).fit(X)
    # The parameters of the similarity papers have moved into the similarity.
    for removed in ("output_normalization", "aggregation"):
        with pytest.raises(TypeError, match=removed):
            RelativeTransformer(5, **{removed: None})


def test_strings_are_shortcuts_for_the_objects(X):
    for name, similarity in [
        ("cosine", CosineSimilarity()),
        ("euclidean", EuclideanSimilarity()),
        ("l1", ManhattanSimilarity()),
        ("linf", ChebyshevSimilarity()),
        (["cosine", "l1"], CombinedSimilarity([CosineSimilarity(), "l1"])),
        (["euclidean"], EuclideanSimilarity()),
    ]:
        by_name = RelativeTransformer(9, similarity=name, random_state=0).fit(X)
        by_object = RelativeTransformer(9, similarity=similarity, random_state=0)
        assert_array_equal(by_name.transform(X), by_object.fit_transform(X))
        assert type(by_name.similarity_) is type(similarity)
    # The fitted similarity is a clone: the parameter is never modified.
    given = EuclideanSimilarity()
    relative = RelativeTransformer(5, similarity=given, random_state=0).fit(X)
    assert relative.similarity_ is not given


def test_cosine_fast_path_is_chosen_by_type(X, monkeypatch):
    calls = []
    original = _cosine.cosine_projection

    def recording(X, anchors, xp, **kwargs):
        calls.append(kwargs.get("batch_size"))
        return original(X, anchors, xp, **kwargs)

    monkeypatch.setattr(_cosine, "cosine_projection", recording)
    RelativeTransformer(5, random_state=0).fit(X).transform(X)
    assert calls == [None]  # one call over the whole input: the fused kernel
    calls.clear()

    class MyCosine(CosineSimilarity):
        pass

    RelativeTransformer(5, similarity=MyCosine(), random_state=0).fit_transform(X)
    assert calls == [None]  # a subclass inherits the fast path
    calls.clear()
    # Anything after the similarity (here an exponent) goes chunk by chunk.
    RelativeTransformer(5, exponent=2.0, random_state=0).fit_transform(X)
    assert calls == [len(X)]


def test_a_similarity_of_ones_own(X):
    class NegativeSquaredDistance(Similarity):
        def pairwise(self, X, anchors, xp):
            return -pairwise_distances(X, anchors, metric="sqeuclidean")

    relative = RelativeTransformer(
        7,
        similarity=NegativeSquaredDistance(),
        center=False,
        random_state=0,
        batch_size=33,
    )
    R = relative.fit_transform(X)
    anchors = X[relative.anchor_indices_]
    assert_allclose(R, -pairwise_distances(X, anchors, metric="sqeuclidean"))
    assert_allclose(relative.anchors_, anchors)  # prepared as they are by default
    # Sparse input is densified chunk by chunk for a similarity that does not say
    # it reads CSR blocks.
    assert_allclose(relative.transform(sp.csr_matrix(X)), R)

    class Unfinished(Similarity):
        pass

    with pytest.raises(NotImplementedError, match="must implement pairwise"):
        RelativeTransformer(7, similarity=Unfinished()).fit_transform(X)


def test_nested_parameters_are_searchable(X):
    y = (X[:, 0] > 0).astype(int)
    pipe = make_pipeline(
        RelativeTransformer(
            10,
            similarity=CombinedSimilarity(
                [CosineSimilarity(), EuclideanSimilarity()], aggregation="sum"
            ),
            random_state=0,
        ),
        LogisticRegression(),
    )
    params = pipe.get_params()
    for name in [
        "relativetransformer__similarity__aggregation",
        "relativetransformer__similarity__cosine",
        "relativetransformer__similarity__euclidean__normalization",
    ]:
        assert name in params
    search = GridSearchCV(
        pipe,
        {
            "relativetransformer__similarity__euclidean__normalization": [None, "l2"],
            "relativetransformer__similarity__aggregation": ["sum", "concatenate"],
        },
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_[0].similarity_
    assert (
        best.aggregation
        == search.best_params_["relativetransformer__similarity__aggregation"]
    )
    # The searched pipeline itself is left as it was.
    assert pipe[0].similarity.similarities[1].normalization is None


def test_combined_similarity_params_clone_and_names():
    combined = CombinedSimilarity(["cosine", CosineSimilarity("l2"), "l1"])
    assert [name for name, _ in combined._named_parts()] == [
        "cosine-1",
        "cosine-2",
        "l1",
    ]
    combined.set_params(**{"cosine-2__normalization": "standard"})
    assert combined.similarities[1].normalization == "standard"
    # Setting a parameter of a part named by a string makes the part an object.
    combined.set_params(l1__normalization="l2")
    assert isinstance(combined.similarities[2], ManhattanSimilarity)
    assert combined.similarities[2].normalization == "l2"
    combined.set_params(**{"cosine-1": EuclideanSimilarity()})
    assert isinstance(combined.similarities[0], EuclideanSimilarity)
    copy = clone(combined)
    assert copy.similarities[1] is not combined.similarities[1]
    assert copy.similarities[1].get_params() == {"normalization": "standard"}


def test_similarity_list_is_checked_once_per_fit(X, monkeypatch):
    from skrelrep.relative import _transformer as _relative

    calls = []
    original = _relative.resolve_similarity

    def counting(spec, owner):
        calls.append(spec)
        return original(spec, owner)

    monkeypatch.setattr(_relative, "resolve_similarity", counting)
    relative = RelativeTransformer(5, similarity=["cosine", "l1"], random_state=0)
    relative.fit(X).transform(X)
    relative.get_feature_names_out()
    assert len(calls) == 1


def test_the_similarity_contract_is_narrow():
    """A similarity implements pairwise, may prepare anchors, and declares three
    attributes; everything else (kernels, chunking, post-processing) is the
    projection's."""
    from sklearn.base import BaseEstimator

    def public(cls):
        return {name for name in dir(cls) if not name.startswith("_")}

    assert public(Similarity) - public(BaseEstimator) == {
        "pairwise",
        "prepare_anchors",
        "accepts_sparse",
        "measures_angles",
        "outputs_per_anchor",
    }
    for cls in (CosineSimilarity, EuclideanSimilarity, CombinedSimilarity):
        assert public(cls) - public(Similarity) <= {"name"}, cls


def test_a_cosine_subclass_that_overrides_pairwise_runs_its_own_code(X):
    class DoubledCosine(CosineSimilarity):
        def pairwise(self, X, anchors, xp):
            return 2 * super().pairwise(X, anchors, xp)

    plain = RelativeTransformer(6, random_state=0).fit_transform(X)
    doubled = RelativeTransformer(6, similarity=DoubledCosine(), random_state=0)
    assert_allclose(doubled.fit_transform(X), 2 * plain, atol=1e-12)


def test_several_outputs_per_anchor(X):
    class SignedDot(Similarity):
        outputs_per_anchor = 2

        def pairwise(self, X, anchors, xp):
            product = X @ anchors.T
            return xp.concat([product, -product], axis=1)

    relative = RelativeTransformer(
        5, similarity=SignedDot(), center=False, random_state=0
    )
    R = relative.fit_transform(X)
    product = X @ X[relative.anchor_indices_].T
    assert_allclose(R, np.hstack([product, -product]))
    assert relative.get_feature_names_out().shape == (10,)
    combined = RelativeTransformer(
        5, similarity=["cosine", SignedDot()], center=False, random_state=0
    )
    assert combined.fit_transform(X).shape == (200, 15)
    assert combined.get_feature_names_out().shape == (15,)
    with pytest.raises(InvalidParameterError, match="one column per anchor"):
        RelativeTransformer(
            5, similarity=CombinedSimilarity(["cosine", SignedDot()], aggregation="sum")
        ).fit(X)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"exponent": 2.0},
        {"top_k": 3},
        {"standardize": True},
        {"similarity": CosineSimilarity("l2")},
        {"similarity": "euclidean"},
        {"similarity": ["cosine", "l1"]},
    ],
    ids=str,
)
@pytest.mark.parametrize("sparse", [False, True])
def test_non_finite_rows_are_refused_whichever_path_projects(X, params, sparse):
    """Validation skips its finiteness pass only where the projection finds NaN and
    infinity itself."""
    relative = RelativeTransformer(6, random_state=0, **params).fit(X)
    for value in (np.nan, np.inf):
        bad = X.copy()
        bad[7, 3] = value
        with pytest.raises(ValueError, match=r"Input X contains (NaN|infinity)"):
            relative.transform(sp.csr_matrix(bad) if sparse else bad)


def test_projection_says_where_it_finds_non_finite_values(X):
    from skrelrep.similarity._projection import Projection

    anchors = CosineSimilarity().prepare_anchors(X[:4], np)
    fused = Projection(anchors, CosineSimilarity())
    assert fused.finds_non_finite(np)
    for projection in [
        Projection(anchors, CosineSimilarity(), exponent=2.0),
        Projection(anchors, CosineSimilarity(), top_k=2),
        Projection(anchors, CosineSimilarity(), scale=np.ones(7)),
        Projection(anchors, CosineSimilarity("standard")),
        Projection(anchors, EuclideanSimilarity()),
    ]:
        assert not projection.finds_non_finite(np)
    torch = pytest.importorskip("torch")
    from sklearn.utils._array_api import get_namespace

    with sklearn.config_context(array_api_dispatch=True):
        xp, _ = get_namespace(torch.asarray(X))
    assert not fused.finds_non_finite(xp)


@pytest.mark.parametrize("similarity", ["l1", "linf"])
def test_broadcast_distances_stay_within_working_memory(X, similarity):
    """Outside NumPy, L1 and L-infinity broadcast (rows, anchors, features): a few
    rows at a time, with the same result."""
    torch = pytest.importorskip("torch")
    params = dict(n_anchors=30, similarity=similarity, random_state=0)
    expected = RelativeTransformer(**params).fit_transform(X)
    rows_seen = []
    original = torch.Tensor.__sub__

    def recording(self, other):
        result = original(self, other)
        if result.ndim == 3:
            rows_seen.append(result.shape[0])
        return result

    with (
        sklearn.config_context(array_api_dispatch=True, working_memory=0.01),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr(torch.Tensor, "__sub__", recording)
        R = RelativeTransformer(**params).fit_transform(torch.asarray(X))
    assert_allclose(R.numpy(), expected, atol=1e-12)
    # 0.01 MiB holds 6 rows of 30 anchors x 7 float64 features.
    assert max(rows_seen) == 6 and sum(rows_seen) == len(X)
