"""RelativeTransformer on hostile inputs: a correct result or a clear error, each case.

The table is shown in the user guide (:ref:`hostile_inputs`); ``tests/hostile.py``
describes the format.
"""

import contextlib
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hostile import case, check_every_case_is_tested
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

from skrelrep import RelativeTransformer

CASES = [
    (
        "magnitudes",
        "rows of any magnitude the dtype can represent: scaled by 1e-30 to 1e30 "
        "(float32) or 1e-300 to 1e300 (float64), with or without centring or "
        "standardisation, sparse or dense",
        "the same relative representation as the unscaled rows, to rounding (norms "
        "are taken after scaling each row by its largest entry when squaring would "
        "overflow or underflow)",
    ),
    (
        "zero-rows",
        "rows of zeros; with centring, rows equal to the anchors' mean",
        "rows of zeros, never NaN",
    ),
    (
        "mean-up-to-rounding",
        "with centring, rows equal to the anchors' mean up to rounding",
        "rows of zeros, as for rows exactly equal to it (the rounding residue is not "
        "normalised into a unit vector)",
    ),
    (
        "identical-anchors",
        "with centring, anchors that are all the same row (or some equal to their "
        "mean)",
        "zero columns for those anchors and a warning saying how many, never "
        "confident similarities to rounding residue",
    ),
    (
        "constant-feature",
        "standardize=True with a feature constant over the anchors (0.1 everywhere), "
        "without centring",
        "the feature is left unscaled (its spread is rounding, within scikit-learn's "
        "StandardScaler tolerance); the output is not collapsed to 1.0",
    ),
    (
        "crowded-uncentred",
        "center=False on codes that crowd in a narrow cone (a large shared "
        "component, mean pairwise cosine above 0.5, as multilingual-e5's 0.80)",
        "a UserWarning at fit with the mean pairwise cosine and the fix (center=True, "
        "the default); none with centring, or on uncrowded codes",
    ),
    (
        "non-finite",
        "NaN or infinite entries in X, at fit or at transform",
        "ValueError naming the input",
    ),
    (
        "empty-or-wrong-width",
        "no rows, no columns, or another width at transform than at fit",
        "ValueError with the counts",
    ),
    (
        "too-many-anchors",
        "n_anchors larger than the number of rows",
        "every row becomes an anchor, with a UserWarning that points at the caller's "
        "line",
    ),
    (
        "string-indices",
        "anchor_selection given as strings, or a callable returning strings",
        "ValueError asking for integer positions, with how to look them up",
    ),
    (
        "bad-indices",
        "explicit indices that repeat, fall out of range, are fractional or empty",
        "ValueError saying which",
    ),
    (
        "stratified-continuous",
        'anchor_selection="stratified" with a continuous or 2-D y',
        "ValueError naming the type of y and what to do",
    ),
    (
        "parallel-data-unread",
        "X_parallel passed to fit with a selection that does not read it",
        "ValueError (the data would otherwise be silently ignored)",
    ),
    (
        "bad-similarity",
        "an unknown similarity name, a repeated or empty list, or a combination of "
        "one similarity",
        "InvalidParameterError naming the parameter",
    ),
    (
        "another-encoder",
        "rows from another encoder of the same width (MiniLM codes on e5 anchors; "
        "here the crowded anchors' space with its features permuted)",
        "ValueError naming the statistic (the mean cosine with the anchors' mean "
        "direction, or the share of the rows' length in their principal "
        "directions), its value for the rows and for rows of the space, and the "
        "fixes (reanchor, check_input_space=False); held-out rows of the fitted "
        "space, from one row up, pass (see Input from another encoder, above)",
    ),
    (
        "bfloat16",
        "a torch bfloat16 tensor without array API dispatch",
        "computed in float32 (NumPy has no bfloat16), not an error",
    ),
    (
        "related-rows",
        "rows of the fitted space in batches whose rows are not independent: one "
        "class of the training rows (here one pointing away from the anchors' mean "
        "direction), fifty copies of one row, the rows least like the anchors",
        "never refused: a batch is refused only beyond what a single row of the "
        "space may have, whatever the number of rows",
    ),
    (
        "rescaled-centred",
        "with centring (the default), queries L2-normalised or multiplied by 3 on "
        "anchors that crowd (a rescaled row is a translated one once centred: a "
        "decoder reads L2-normalised queries at chance)",
        "ValueError naming the typical norm of the rows and of the anchors, why "
        "the scale matters and what to do; without centring, the same output as "
        "for the unscaled rows",
    ),
    (
        "dead-features",
        "center=True, standardize=True on codes with dead features (values at "
        "underflow scale, about 1e-32, beside features near 0.05; in float32, also "
        "1e-8), fitted as they are and translated",
        "the same output (translation invariance): a feature whose spread is below "
        "the dtype's rounding of the largest feature counts as constant, as one "
        "within the rounding of its own mean does, and is left unscaled",
    ),
    (
        "partial-fit-mixed-containers",
        "partial_fit with dense batches, then a CSR batch (or the reverse)",
        "accepted: the rows join the stream in the container of the first batch, "
        "with the anchors and indices that dense batches give",
    ),
    (
        "partial-fit-label-kinds",
        'partial_fit with anchor_selection="stratified": string labels after '
        "integer labels",
        "ValueError saying that the labels must be of one kind and how, before "
        "anything changes: the class is not stored, and later valid batches work",
    ),
    (
        "centring-near-the-largest-value",
        "with centring (the default), finite rows near the dtype's largest value: "
        "float32 codes around 2e36 (300 anchors, whose float32 sum overflows), "
        "float32 rows spanning -3e38 to 3e38 (a row minus the mean overflows), "
        "float64 rows near 1e307; fused kernel, standardisation, exponent and top-k, "
        "NumPy and torch",
        "the cosine of the unscaled rows, to rounding, without a RuntimeWarning: the "
        "mean is summed in units that cannot overflow, and rows that would leave the "
        "range once centred are centred at a smaller power-of-two scale, which the "
        "cosine ignores; a distance, which cannot ignore it, refuses such anchors "
        "with a ValueError saying what to do",
    ),
    (
        "stream-of-one-row",
        "partial_fit with center=True (the default) whose first batch is one row; "
        "n_anchors=1 with center=True; a later batch that is refused",
        "the row is kept (n_samples_seen_ is 1) and transform raises NotFittedError "
        "saying that centring needs a second row, then the second row fits it; "
        "n_anchors=1 is a ValueError leaving no trace; a refused call leaves every "
        "attribute as it was",
    ),
    (
        "nested-parameters-of-a-name",
        "GridSearchCV over relativetransformer__similarity__normalization with the "
        "default similarity='cosine' (a string, which has no set_params), or over a "
        "part of a list of names",
        "the search runs: get_params lists the parameters of the object the name "
        "stands for, and setting one replaces the name by that object; the searched "
        "pipeline keeps its string",
    ),
    (
        "guard-near-the-largest-value",
        "the input-space guard on finite rows whose norms exceed the dtype's "
        "largest value: crowded float32 codes up to 3e38, float64 codes up to "
        "1.7e308, dense, CSR and torch, at fit and at transform",
        "no RuntimeWarning, and the fingerprint of the unscaled rows (the typical "
        "norm shifted by the factor): held-out rows pass, rows of another space and "
        "rescaled rows are refused as at ordinary scale (each row is divided by a "
        "power of two before its norm is taken, and the norm's logarithm kept)",
    ),
    (
        "distances-near-the-largest-value",
        "similarity='l1', 'linf' or 'euclidean' (center=False) on finite rows near "
        "the dtype's largest value: entries of both signs whose sum overflows "
        "(scikit-learn's check for NaN sums X first), and rows whose distances to "
        "the anchors exceed the largest value; NumPy and torch",
        "the distances of the unscaled rows, scaled, without a RuntimeWarning; a "
        "distance beyond the dtype's range is a ValueError saying what to do, never "
        "an infinite similarity; NaN in X is still scikit-learn's error",
    ),
    (
        "standardising-near-the-largest-value",
        "standardize=True without centring on finite rows near the dtype's largest "
        "value: float32 codes up to 3e38, float64 codes up to 1.7e308",
        "the output of the unscaled rows, without a RuntimeWarning: the features' "
        "spreads use the same overflow-safe mean as centring, so no feature is "
        "taken for constant because its mean overflowed",
    ),
    (
        "finite-check-near-the-largest-value",
        "rows of both signs near the dtype's largest value (their sum, which "
        "scikit-learn's check for NaN reads first, overflows to NaN) through each "
        "validation of the relative stage: arrays, dask arrays (fitted anchors and "
        "blocks), GreedyAnchorSelector's two spaces",
        "no RuntimeWarning, and the result of the rows scaled down by a power of two "
        "(the same anchors, the output scaled back); NaN in X still raises "
        "scikit-learn's error",
    ),
    (
        "anchor-selection-near-the-largest-value",
        "anchor_selection='fps' or 'kmeans' on finite rows whose norms exceed the "
        "dtype's largest value (float32 and float64, dense and CSR)",
        "the anchors of the same rows scaled down by a power of two, without a "
        "RuntimeWarning (farthest point sampling reads directions: it divides such "
        "rows by powers of two first)",
    ),
]


def test_every_case_is_tested():
    check_every_case_is_tested(globals(), CASES)


def _data(n_samples=120, n_features=6, dtype=np.float64, seed=0):
    rng = np.random.RandomState(seed)
    return (rng.normal(size=(n_samples, n_features)) + 0.3).astype(dtype)


CONFIGURATIONS = [
    {},
    {"center": True},
    {"center": True, "standardize": True},
    {"anchor_selection": "fps"},
    {"similarity": "euclidean", "center": True},
]


@case("magnitudes")
@settings(max_examples=40, deadline=None)
@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    exponent=st.floats(-1.0, 1.0),
    params=st.sampled_from(CONFIGURATIONS),
    sparse=st.booleans(),
)
def test_magnitudes(dtype, exponent, params, sparse):
    largest = 30 if dtype == np.float32 else 300
    factor = dtype(10.0 ** (largest * exponent))
    X = _data(dtype=dtype)
    if params.get("similarity") == "euclidean":
        # A distance scales with the data: compared after dividing by the factor.
        expected = RelativeTransformer(8, random_state=0, **params).fit_transform(X)
        scaled = RelativeTransformer(8, random_state=0, **params).fit_transform(
            X * factor
        )
        assert_allclose(scaled / factor, expected, rtol=1e-4, atol=1e-4)
        return
    if sparse:
        # About one entry in five zero; never so many that two rows point the same
        # way, which would make farthest point sampling's pick a tie broken by rounding.
        X[X < -0.5] = 0
    as_input = sp.csr_matrix if sparse else np.asarray
    expected = RelativeTransformer(8, random_state=0, **params).fit_transform(
        as_input(X)
    )
    scaled = RelativeTransformer(8, random_state=0, **params).fit_transform(
        as_input(X * factor)
    )
    assert scaled.dtype == dtype
    assert np.isfinite(scaled).all()
    tolerance = 1e-4 if dtype == np.float32 else 1e-10
    assert_allclose(scaled, expected, atol=tolerance)


@case("zero-rows")
def test_zero_rows():
    X = _data()
    for center in (False, True):
        relative = RelativeTransformer(10, center=center, random_state=0).fit(X)
        row = relative.anchor_mean_ if center else np.zeros(X.shape[1])
        assert_array_equal(relative.transform(np.tile(row, (3, 1))), 0)
    sparse_zero = sp.csr_matrix((2, X.shape[1]))
    assert_array_equal(
        RelativeTransformer(5, center=False, random_state=0)
        .fit(X)
        .transform(sparse_zero),
        0,
    )


@case("mean-up-to-rounding")
def test_mean_up_to_rounding():
    X = _data() * 1e6 + 1e8  # a large offset: the residue of centring is large too
    relative = RelativeTransformer(10, center=True, random_state=0).fit(X)
    # One and two units in the last place away: what computing the mean another
    # way (another order of summation) gives.
    one_ulp = np.nextafter(relative.anchor_mean_, np.inf)
    two_ulps = np.nextafter(one_ulp, -np.inf * np.sign(relative.anchor_mean_))
    assert_array_equal(relative.transform(np.vstack([one_ulp, two_ulps])), 0)
    # A row a genuine distance away is projected as usual.
    far = relative.anchor_mean_ + 1.0
    assert np.abs(relative.transform(far[None, :])).max() > 0.1


@case("identical-anchors")
def test_identical_anchors():
    rng = np.random.RandomState(0)
    row = rng.normal(size=5) * 3 + 10
    X = np.vstack([np.tile(row, (20, 1)), rng.normal(size=(30, 5))])
    with pytest.warns(UserWarning, match="All 5 anchors equal the anchors' mean"):
        relative = RelativeTransformer(anchor_selection=[0, 1, 2, 3, 4], center=True)
        R = relative.fit_transform(X)
    assert_array_equal(R, 0)
    assert_array_equal(relative.anchors_, 0)
    # Two identical anchors among distinct ones are kept: identical columns.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        R = RelativeTransformer(anchor_selection=[0, 1, 25, 30], center=True)
        R = R.fit_transform(X)
    assert_array_equal(R[:, 0], R[:, 1])
    assert np.abs(R[:, 2:]).max() > 0.5


@case("constant-feature")
def test_constant_feature():
    X = np.random.RandomState(0).normal(size=(200, 8))
    X[:, 3] = 0.1
    relative = RelativeTransformer(
        10, center=False, standardize=True, random_state=0
    ).fit(X)
    assert relative.anchor_scale_[3] == 1.0
    R = relative.transform(X)
    assert not np.allclose(R, 1.0)
    assert R.std() > 0.2
    # Against an independent computation: scale the other features by hand.
    anchors = X[relative.anchor_indices_]
    spread = anchors.std(axis=0)
    spread[3] = 1.0
    unit = lambda A: A / np.linalg.norm(A, axis=1, keepdims=True)  # noqa: E731
    assert_allclose(R, unit(X / spread) @ unit(anchors / spread).T, atol=1e-12)


@case("crowded-uncentred")
def test_crowded_uncentred():
    rng = np.random.RandomState(0)
    spread = rng.normal(size=(300, 32))
    crowded = spread + 3 * np.ones(32)
    unit = crowded / np.linalg.norm(crowded, axis=1, keepdims=True)
    relative = RelativeTransformer(50, center=False, random_state=0)
    with pytest.warns(UserWarning, match="mean pairwise cosine is") as record:
        relative.fit(crowded)
    # The number in the message against an independent computation.
    cosines = unit[relative.anchor_indices_] @ unit[relative.anchor_indices_].T
    expected = (cosines.sum() - np.trace(cosines)) / (50 * 49)
    assert expected > 0.8
    assert f"{expected:.2f}" in str(record[0].message)
    assert "center=True" in str(record[0].message)
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RelativeTransformer(50, random_state=0).fit(crowded)
        RelativeTransformer(50, center=False, random_state=0).fit(spread)


@case("non-finite")
def test_non_finite():
    X = _data()
    relative = RelativeTransformer(5, random_state=0).fit(X)
    for value in (np.nan, np.inf, -np.inf):
        bad = X.copy()
        bad[3, 2] = value
        with pytest.raises(ValueError, match=r"Input X contains (NaN|infinity)"):
            RelativeTransformer(5, random_state=0).fit(bad)
        with pytest.raises(ValueError, match=r"Input X contains (NaN|infinity)"):
            relative.transform(bad)


@case("empty-or-wrong-width")
def test_empty_or_wrong_width():
    X = _data()
    with pytest.raises(ValueError, match="0 sample"):
        RelativeTransformer(5).fit(X[:0])
    with pytest.raises(ValueError, match="0 feature"):
        RelativeTransformer(5).fit(X[:, :0])
    relative = RelativeTransformer(5, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 4 features, but RelativeTransformer"):
        relative.transform(X[:, :4])


@case("too-many-anchors")
def test_too_many_anchors():
    X = _data(n_samples=20)
    with pytest.warns(UserWarning, match="n_anchors=50 is larger") as record:
        relative = RelativeTransformer(50, random_state=0).fit(X)
    assert relative.n_anchors_ == 20
    assert record[0].filename == __file__  # the caller's line, not the library's


@case("string-indices")
def test_string_indices():
    X = _data()
    for selection in (["a", "b"], lambda X, y, **kwargs: ["a", "b"]):
        with pytest.raises(ValueError, match=r"integer row indices.*look their"):
            RelativeTransformer(2, anchor_selection=selection).fit(X)


@case("bad-indices")
def test_bad_indices():
    X = _data()
    for selection, match in [
        ([1, 1, 2], "duplicate"),
        ([0, 500], "out of range"),
        ([0.5, 2.0], "integer row indices"),
        ([], "non-empty"),
    ]:
        with pytest.raises(ValueError, match=match):
            RelativeTransformer(anchor_selection=np.asarray(selection)).fit(X)


@case("stratified-continuous")
def test_stratified_continuous():
    X = _data()
    rng = np.random.RandomState(0)
    for y, kind in [
        (rng.normal(size=len(X)), "continuous"),
        (rng.randint(2, size=(len(X), 2)), "multilabel-indicator"),
    ]:
        with pytest.raises(ValueError, match=f"type is '{kind}'"):
            RelativeTransformer(5, anchor_selection="stratified").fit(X, y)


@case("parallel-data-unread")
def test_parallel_data_unread():
    X = _data()
    for selection in ("random", "fps", [0, 1, 2]):
        with pytest.raises(ValueError, match="X_parallel is read only by"):
            RelativeTransformer(3, anchor_selection=selection).fit(X, X_parallel=X)


@case("bad-similarity")
def test_bad_similarity():
    from skrelrep.similarity import CombinedSimilarity

    X = _data()
    for similarity in ("dot", ["cosine", "cosine"], [], CombinedSimilarity(["l1"])):
        with pytest.raises(InvalidParameterError, match="similarit"):
            RelativeTransformer(5, similarity=similarity).fit(X)


@case("bfloat16")
def test_bfloat16():
    torch = pytest.importorskip("torch")
    X = _data(dtype=np.float32)
    tensor = torch.tensor(X).to(torch.bfloat16)
    R = RelativeTransformer(5, random_state=0).fit_transform(tensor)
    assert R.dtype == np.float32
    expected = RelativeTransformer(5, random_state=0).fit_transform(
        tensor.float().numpy()
    )
    assert_allclose(R, expected)


@case("another-encoder")
def test_another_encoder():
    X = _data(n_samples=200) + 3.0  # codes crowding around a direction of their own
    relative = RelativeTransformer(50, random_state=0).fit(X[:100])
    for n_rows in (1, 100):
        relative.transform(X[100 : 100 + n_rows])
        with pytest.raises(
            ValueError, match=r"mean cosine .* mean direction is .*, against 0\.\d\d"
        ):
            # Signs flipped on half the features: the shared direction turned away.
            relative.transform(X[100 : 100 + n_rows] * [1, -1, 1, -1, 1, -1])
    relative.set_params(check_input_space=False).transform(-X)


@case("related-rows")
def test_related_rows():
    rng = np.random.RandomState(0)
    centres = rng.normal(size=(10, 64)) * 1.5
    y = rng.randint(10, size=3000)
    X = centres[y] + rng.normal(size=(3000, 64)) + 0.35
    relative = RelativeTransformer(random_state=0).fit(X[:1500])
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    direction = unit[relative.anchor_indices_].sum(axis=0)
    alignment = unit @ direction
    # The class least aligned with the anchors' mean direction, and its rows.
    label = min(range(10), key=lambda label: alignment[y == label].mean())
    assert alignment[:1500][y[:1500] == label].mean() < 0.2 * alignment.mean()
    for batch in (np.flatnonzero(y[:1500] == label), np.flatnonzero(y == label)):
        relative.transform(X[batch])
        relative.transform(X[batch[:100]])
    least = np.argsort(alignment)[:50]
    relative.transform(X[least])
    for i in least:
        relative.transform(X[np.repeat(i, 50)])


@case("rescaled-centred")
def test_rescaled_centred():
    rng = np.random.RandomState(0)
    centres = rng.normal(size=(8, 64)) * 0.5
    X = centres[rng.randint(8, size=3000)] + rng.normal(size=(3000, 64))
    X += rng.normal(size=64)  # crowding about 0.45
    queries = X[1500:]
    unit = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    relative = RelativeTransformer(random_state=0).fit(X[:1500])
    relative.transform(queries)
    anchors = np.linalg.norm(X[relative.anchor_indices_], axis=1)
    for rows in (unit, 3 * queries):
        # The numbers in the message against an independent computation.
        typical = np.exp(np.log(np.linalg.norm(rows, axis=1)).mean())
        expected = f"is {typical:.3g}, against {np.exp(np.log(anchors).mean()):.3g}"
        with pytest.raises(
            ValueError,
            match=r"subtracting the anchors' mean.*Preprocess X as the anchors were",
        ) as error:
            relative.transform(rows)
        assert expected in str(error.value)
    with pytest.warns(UserWarning, match="crowd"):
        uncentred = RelativeTransformer(center=False, random_state=0).fit(X[:1500])
    assert_allclose(uncentred.transform(unit), uncentred.transform(queries))
    assert_allclose(uncentred.transform(3 * queries), uncentred.transform(queries))


@case("dead-features")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dead_features(dtype):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(500, 16)) * 0.05
    X[:, [3, 7, 11]] = rng.normal(size=(500, 3)) * 1e-32
    # Below float32's rounding of the other features, not below float64's.
    X[:, 5] = rng.normal(size=500) * 1e-8
    dead = [3, 5, 7, 11] if dtype == np.float32 else [3, 7, 11]
    X = X.astype(dtype)
    shift = (rng.normal(size=16) * 0.1).astype(dtype)
    params = dict(n_anchors=100, standardize=True, random_state=0)
    relative = RelativeTransformer(**params).fit(X)
    shifted = RelativeTransformer(**params).fit(X + shift)
    assert_array_equal(np.flatnonzero(relative.anchor_scale_ == 1.0), dead)
    # The shift rounds feature 5 (float64) to eps * 0.1 / 1e-8 of its spread.
    tolerance = 1e-5 if dtype == np.float32 else 1e-8
    assert_allclose(relative.transform(X), shifted.transform(X + shift), atol=tolerance)
    # Against an independent computation: the live features standardised, the
    # dead ones left as they are (their centred values are below rounding).
    anchors = X[relative.anchor_indices_].astype(np.float64)
    scale = anchors.std(axis=0)
    scale[dead] = 1.0

    def unit(A):
        A = (A - anchors.mean(axis=0)) / scale
        return A / np.linalg.norm(A, axis=1, keepdims=True)

    assert_allclose(relative.transform(X), unit(X) @ unit(anchors).T, atol=tolerance)


@case("partial-fit-mixed-containers")
def test_partial_fit_mixed_containers():
    X = _data(n_samples=300) + 3.0
    relative = RelativeTransformer(20, random_state=0)
    dense = RelativeTransformer(20, random_state=0)
    for i, rows in enumerate(np.array_split(np.arange(300), 3)):
        relative.partial_fit(sp.csr_matrix(X[rows]) if i == 1 else X[rows])
        dense.partial_fit(X[rows])
    indices = np.asarray(relative.anchor_indices_)
    assert_array_equal(indices, dense.anchor_indices_)
    assert len(np.unique(indices)) == 20
    assert_allclose(relative.anchors_, dense.anchors_)
    explicit = RelativeTransformer(anchor_selection=indices).fit(X)
    assert_allclose(relative.transform(X), explicit.transform(X), atol=1e-12)


@case("partial-fit-label-kinds")
def test_partial_fit_label_kinds():
    X = _data(n_samples=300)
    y = np.arange(300) % 3
    relative = RelativeTransformer(12, anchor_selection="stratified", random_state=0)
    relative.partial_fit(X[:100], y[:100])
    seen = relative.n_samples_seen_
    with pytest.raises(ValueError, match=r"labels of one kind.*LabelEncoder"):
        relative.partial_fit(X[100:200], np.array(list("abc"))[y[100:200]])
    assert sorted(relative._stream.reservoirs) == [0, 1, 2]
    assert relative.n_samples_seen_ == seen
    relative.partial_fit(X[100:], y[100:])
    assert relative.n_samples_seen_ == 300
    indices = np.asarray(relative.anchor_indices_)
    assert_array_equal(np.bincount(y[indices]), [4, 4, 4])
    explicit = RelativeTransformer(anchor_selection=indices).fit(X)
    assert_allclose(relative.transform(X), explicit.transform(X), atol=1e-12)


@contextlib.contextmanager
def _no_runtime_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


@case("centring-near-the-largest-value")
def test_centring_near_the_largest_value():
    rng = np.random.RandomState(0)
    offset = rng.normal(size=(1000, 8)) + 1.0  # codes around a common direction
    spread = rng.normal(size=(1000, 8))  # both signs: centring spans the range
    inputs = [
        (offset, 2e36, np.float32, {}),  # the anchors' float32 sum overflows
        (offset, 1e37, np.float32, {"standardize": True}),
        (spread, 3e38 / np.abs(spread).max(), np.float32, {}),
        (spread, 3e38 / np.abs(spread).max(), np.float32, {"exponent": 2.0}),
        (spread, 3e38 / np.abs(spread).max(), np.float32, {"top_k": 5}),
        (offset, 1e307 / np.abs(offset).max(), np.float64, {}),
        (offset, 1e307 / np.abs(offset).max(), np.float64, {"standardize": True}),
    ]
    for data, factor, dtype, params in inputs:
        X = (data * factor).astype(dtype)
        assert np.isfinite(X).all()
        expected = RelativeTransformer(300, random_state=0, **params).fit_transform(
            data.astype(dtype)
        )
        with _no_runtime_warning():
            relative = RelativeTransformer(300, random_state=0, **params).fit(X)
            R = relative.transform(X)
        if sp.issparse(R):
            R, expected = R.toarray(), expected.toarray()
        assert R.dtype == dtype
        assert_allclose(R, expected, atol=1e-5 if dtype == np.float32 else 1e-12)
        assert np.isfinite(relative.anchor_mean_).all()
        # The mean itself, against float64 (float32 input) or a scaled computation.
        anchors = X[relative.anchor_indices_].astype(np.float64)
        reference = (anchors / factor).mean(axis=0) * factor
        assert_allclose(relative.anchor_mean_, reference, rtol=1e-5, atol=0)
    # Rows whose difference with the mean overflows at transform: centred at half
    # scale, row by row, whatever the path.
    relative_X = (spread * (1e38 / np.abs(spread).max())).astype(np.float32)
    relative = RelativeTransformer(50, random_state=0).fit(relative_X)
    mean = relative.anchor_mean_
    far = np.vstack([relative_X[:5], -np.sign(mean) * np.float32(3.4e38)]).astype(
        np.float32
    )
    with np.errstate(over="ignore"):
        assert not np.isfinite(far[-1] - mean).all()
    rows = far.astype(np.float64) - mean
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    expected = rows @ relative.anchors_.astype(np.float64).T
    for params in ({}, {"exponent": 3.0}, {"exponent": 1.0, "batch_size": 2}):
        with _no_runtime_warning():
            R = relative.set_params(**params).transform(far)
        assert_allclose(
            np.sign(R) * np.abs(R) ** (1 / relative.exponent),
            expected,
            atol=1e-5,
        )
    relative.set_params(exponent=1.0, batch_size=None)
    # A distance cannot ignore the scale: refused, with what to do.
    X = (spread * (3e38 / np.abs(spread).max())).astype(np.float32)
    with pytest.raises(
        ValueError, match="Centred, these anchors leave the range of float32"
    ):
        RelativeTransformer(50, similarity="euclidean", random_state=0).fit(X)
    torch = pytest.importorskip("torch")
    import sklearn

    expected_fit = RelativeTransformer(50, random_state=0).fit_transform(X)
    with sklearn.config_context(array_api_dispatch=True):
        on_torch = RelativeTransformer(50, random_state=0, batch_size=100)
        R = on_torch.fit_transform(torch.asarray(X))
        R_far = relative.fit(torch.asarray(relative_X)).transform(torch.asarray(far))
    assert_allclose(R.numpy(), expected_fit, atol=1e-5)
    assert_allclose(R_far.numpy(), expected, atol=1e-5)


@case("stream-of-one-row")
def test_stream_of_one_row():
    from sklearn.exceptions import NotFittedError

    X = _data()
    relative = RelativeTransformer(300, random_state=0).partial_fit(X[:1])
    assert relative.n_samples_seen_ == 1
    with pytest.raises(NotFittedError, match=r"seen 1 row.*needs at least 2 anchors"):
        relative.transform(X)
    with pytest.raises(NotFittedError):
        relative.get_feature_names_out()
    relative.partial_fit(X[1:2])
    assert relative.n_samples_seen_ == 2
    assert_array_equal(relative.anchor_indices_, [0, 1])
    expected = RelativeTransformer(anchor_selection=[0, 1]).fit(X).transform(X)
    assert_allclose(relative.transform(X), expected)
    # Without centring one row is enough.
    uncentred = RelativeTransformer(300, center=False).partial_fit(X[:1])
    assert uncentred.transform(X).shape == (len(X), 1)
    # A stream that can never hold two anchors: refused, and no trace left.
    one = RelativeTransformer(1)
    with pytest.raises(ValueError, match="center=True needs at least 2 anchors"):
        one.partial_fit(X)
    assert vars(one) == vars(RelativeTransformer(1))
    # A refused later batch leaves every attribute as it was, the stream included.
    relative = RelativeTransformer(5, random_state=0).partial_fit(X[:10])
    before = pickle.dumps(relative)
    for bad in (X[:3, :4], np.full((3, X.shape[1]), np.nan)):
        with pytest.raises(ValueError):
            relative.partial_fit(bad)
        assert pickle.dumps(relative) == before
    # ... and a refused first batch leaves no width behind.
    fresh = RelativeTransformer(5, anchor_selection="stratified")
    with pytest.raises(ValueError):
        fresh.partial_fit(X[:10])  # stratified without labels
    assert vars(fresh) == vars(RelativeTransformer(5, anchor_selection="stratified"))


@case("nested-parameters-of-a-name")
def test_nested_parameters_of_a_name():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    from skrelrep.similarity import (
        CombinedSimilarity,
        CosineSimilarity,
        ManhattanSimilarity,
    )

    X = _data()
    y = (X[:, 0] > 0.3).astype(int)
    pipe = make_pipeline(RelativeTransformer(10, random_state=0), LogisticRegression())
    key = "relativetransformer__similarity__normalization"
    assert pipe.get_params()[key] is None
    search = GridSearchCV(pipe, {key: [None, "l2"]}, cv=2).fit(X, y)
    assert [params[key] for params in search.cv_results_["params"]] == [None, "l2"]
    best = search.best_estimator_[0].similarity
    assert isinstance(best, CosineSimilarity)
    assert best.normalization == search.best_params_[key]
    assert pipe[0].similarity == "cosine"  # the searched pipeline is left as it was
    # The object is what the name stands for: the same output as the name.
    relative = RelativeTransformer(10, random_state=0)
    relative.set_params(similarity__normalization="l2")
    assert_allclose(
        relative.fit_transform(X),
        RelativeTransformer(
            10, similarity=CosineSimilarity("l2"), random_state=0
        ).fit_transform(X),
    )
    # A list of names, and a name replaced in the same call.
    combined = RelativeTransformer(10, similarity=["cosine", "l1"])
    combined.set_params(similarity__l1__normalization="l2")
    assert isinstance(combined.similarity, CombinedSimilarity)
    assert combined.similarity.similarities[1] == ManhattanSimilarity("l2") or (
        combined.similarity.similarities[1].normalization == "l2"
    )
    renamed = RelativeTransformer(10).set_params(
        similarity="euclidean", similarity__normalization="l2"
    )
    assert renamed.similarity.get_params() == {"normalization": "l2"}
    assert type(renamed.similarity).__name__ == "EuclideanSimilarity"


@case("guard-near-the-largest-value")
@pytest.mark.parametrize(("dtype", "top"), [(np.float32, 3e38), (np.float64, 1.7e308)])
def test_guard_near_the_largest_value(dtype, top):
    rng = np.random.RandomState(0)
    centres = rng.normal(size=(8, 16)) * 0.5
    # Codes that crowd (mean pairwise cosine about 0.75), in classes.
    codes = centres[rng.randint(8, size=600)] + rng.normal(size=(600, 16)) + 2.0
    factor = top / np.abs(codes).max()
    X, small = (codes * factor).astype(dtype), codes.astype(dtype)
    assert np.isfinite(X).all()
    with np.errstate(over="ignore"):  # finite rows whose norms are not
        assert not np.isfinite(np.linalg.norm(X, axis=1)).all()
    reference = RelativeTransformer(100, random_state=0).fit(small[:300])
    with _no_runtime_warning():
        relative = RelativeTransformer(100, random_state=0).fit(X[:300])
    space, expected = relative._input_space, reference._input_space
    assert expected.direction is not None and expected.norms == "centred"
    assert_allclose(space.direction, expected.direction, atol=1e-6)
    assert_allclose(space.direction_floor, expected.direction_floor, atol=1e-6)
    assert space.rank == expected.rank
    assert_allclose(space.share_floor, expected.share_floor, atol=1e-6)
    assert_allclose(space.log_norm, expected.log_norm + np.log(factor), rtol=1e-9)
    assert_allclose(space.log_norm_deviation, expected.log_norm_deviation, atol=1e-6)
    flipped = np.where(np.arange(16) % 2, -1, 1).astype(dtype)
    inputs = [(np.asarray, None)]
    if dtype == np.float32:
        inputs.append((sp.csr_matrix, None))
        torch = pytest.importorskip("torch")
        inputs.append((torch.asarray, torch))
    for as_input, torch in inputs:
        on = contextlib.nullcontext()
        if torch is not None:
            import sklearn

            on = sklearn.config_context(array_api_dispatch=True)
        with on, _no_runtime_warning():
            if torch is not None:
                relative = RelativeTransformer(100, random_state=0).fit(
                    torch.asarray(X[:300])
                )
            R = relative.transform(as_input(X[300:]))  # held-out rows pass
            for wrong, statistic in [
                (X[300:] * flipped, "mean direction"),  # another encoder
                (X[300:] / np.float32(4), "typical norm"),  # rescaled, then centred
            ]:
                with pytest.raises(ValueError, match=statistic):
                    reference.transform((wrong / factor).astype(dtype))
                with pytest.raises(ValueError, match=statistic):
                    relative.transform(as_input(wrong))
        R = R.numpy() if torch is not None else R
        tolerance = 1e-5 if dtype == np.float32 else 1e-12
        assert_allclose(R, reference.transform(small[300:]), atol=tolerance)


@case("distances-near-the-largest-value")
@pytest.mark.parametrize("similarity", ["l1", "linf", "euclidean"])
@pytest.mark.parametrize(("dtype", "top"), [(np.float32, 3e38), (np.float64, 1.7e308)])
def test_distances_near_the_largest_value(similarity, dtype, top):
    rng = np.random.RandomState(0)
    # Two groups of rows, of either sign: the sum of X overflows both ways.
    data = rng.normal(size=(200, 8)) + np.repeat([[3.0], [-3.0]], 100, axis=0)
    # Small enough that every distance fits (the L1 distance sums 8 differences).
    factor = top / (20 * np.abs(data).max())
    X = (data * factor).astype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        assert not np.isfinite(np.sum(X))  # what scikit-learn's first check sees
    params = {"similarity": similarity, "center": False, "random_state": 0}
    expected = RelativeTransformer(50, **params).fit_transform(data.astype(dtype))
    with _no_runtime_warning():
        relative = RelativeTransformer(50, **params).fit(X)
        R = relative.transform(X)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    if similarity == "euclidean":
        # |x|^2 - 2 x.a + |a|^2 leaves an error of about sqrt(eps) times the norms
        # in a distance near zero, at any magnitude.
        tolerance = 10 * np.sqrt(np.finfo(dtype).eps) * np.abs(expected).max()
    assert_allclose(R / factor, expected, rtol=tolerance, atol=tolerance)
    # Distances beyond the range: refused, never infinite similarities.
    far = (data * (top / np.abs(data).max())).astype(dtype)
    with _no_runtime_warning(), pytest.raises(ValueError, match="leave the range"):
        RelativeTransformer(50, **params).fit(far).transform(far)
    bad = X.copy()
    bad[0, 0] = np.nan
    with _no_runtime_warning(), pytest.raises(ValueError, match="Input X contains NaN"):
        relative.transform(bad)
    if dtype == np.float32:
        torch = pytest.importorskip("torch")
        import sklearn

        with sklearn.config_context(array_api_dispatch=True):
            on_torch = RelativeTransformer(50, **params).fit(torch.asarray(X))
            assert_allclose(
                on_torch.transform(torch.asarray(X)).numpy() / factor,
                expected,
                rtol=tolerance,
                atol=tolerance,
            )
            with pytest.raises(ValueError, match="leave the range"):
                on_torch.fit(torch.asarray(far)).transform(torch.asarray(far))


@case("standardising-near-the-largest-value")
@pytest.mark.parametrize(("dtype", "top"), [(np.float32, 3e38), (np.float64, 1.7e308)])
def test_standardising_near_the_largest_value(dtype, top):
    rng = np.random.RandomState(0)
    # Features of different spreads, all of one sign: their sums overflow.
    data = rng.normal(size=(400, 8)) * np.arange(1, 9) + 30.0
    X = (data / np.abs(data).max() * top).astype(dtype)
    params = {"center": False, "standardize": True, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # these anchors crowd
        expected = RelativeTransformer(100, **params).fit(data.astype(dtype))
        with _no_runtime_warning():
            relative = RelativeTransformer(100, **params).fit(X)
            R = relative.transform(X)
    # Each feature's spread, scaled as the rows were.
    factor = top / np.abs(data).max()
    assert_allclose(relative.anchor_scale_ / factor, expected.anchor_scale_, rtol=1e-5)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    assert_allclose(R, expected.transform(data.astype(dtype)), atol=tolerance)


@case("finite-check-near-the-largest-value")
@pytest.mark.parametrize(("dtype", "exponent"), [(np.float32, 125), (np.float64, 1020)])
def test_finite_check_near_the_largest_value(dtype, exponent):
    from skrelrep import GreedyAnchorSelector

    rng = np.random.RandomState(0)
    small = (
        rng.normal(size=(300, 8)) + np.repeat([[3.0], [-3.0]], 150, axis=0)
    ).astype(dtype)
    X = np.ldexp(small, exponent)  # exact
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isfinite(X).all() and np.isnan(np.sum(X))
    greedy = {"anchor_selection": GreedyAnchorSelector(n_eval=100), "random_state": 0}
    with _no_runtime_warning():
        chosen = RelativeTransformer(10, **greedy).fit(X, X_parallel=X)
        expected = RelativeTransformer(10, **greedy).fit(small, X_parallel=small)
        assert_array_equal(chosen.anchor_indices_, expected.anchor_indices_)
        tolerance = 1e-5 if dtype == np.float32 else 1e-12
        assert_allclose(chosen.transform(X), expected.transform(small), atol=tolerance)
    da = pytest.importorskip("dask.array")
    with _no_runtime_warning():
        relative = RelativeTransformer(20, random_state=0).fit(da.from_array(X, 100))
        R = relative.transform(da.from_array(X, chunks=100)).compute()
    reference = RelativeTransformer(20, random_state=0).fit(da.from_array(small, 100))
    assert_array_equal(relative.anchor_indices_, reference.anchor_indices_)
    assert_allclose(R, reference.transform(small), atol=tolerance)
    bad = X.copy()
    bad[5, 3] = np.nan
    with _no_runtime_warning(), pytest.raises(ValueError, match="Input X contains NaN"):
        chosen.transform(bad)
    with _no_runtime_warning(), pytest.raises(ValueError, match="contains NaN"):
        relative.transform(da.from_array(bad, chunks=100)).compute()


@case("anchor-selection-near-the-largest-value")
@pytest.mark.parametrize(("dtype", "exponent"), [(np.float32, 127), (np.float64, 1023)])
@pytest.mark.parametrize("selection", ["fps", "kmeans"])
@pytest.mark.parametrize("sparse", [False, True])
def test_anchor_selection_near_the_largest_value(dtype, exponent, selection, sparse):
    rng = np.random.RandomState(0)
    small = rng.normal(size=(300, 8)) + 1.0
    small = (small / np.abs(small).max() * 1.9).astype(dtype)  # entries below 2
    small[small < -0.3] = 0  # zeros, for the sparse rows
    X = np.ldexp(small, exponent)  # exact; the largest entries near the largest value
    norms = np.linalg.norm(X.astype(np.longdouble), axis=1)
    assert np.isfinite(X).all() and (norms > np.finfo(dtype).max).any()
    as_input = sp.csr_matrix if sparse else np.asarray
    params = {"anchor_selection": selection, "random_state": 0}
    expected = RelativeTransformer(20, **params).fit(as_input(small))
    with _no_runtime_warning():
        chosen = RelativeTransformer(20, **params).fit(as_input(X))
    assert_array_equal(chosen.anchor_indices_, expected.anchor_indices_)
