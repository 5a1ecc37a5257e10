"""LatentTranslator: the maps, their scaling, inverses, dtypes and errors."""

import pickle

import numpy as np
import pytest
from scipy.linalg import orthogonal_procrustes
from scipy.stats import ortho_group
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skrelrep import LatentTranslator

METHODS = ["orthogonal", "linear", "affine"]
SCALINGS = ["isotropic", "per_feature", None]


def _space(n_samples=300, n_features=10, seed=0):
    # Anisotropic, off-centre data: standardisation has something to undo.
    rng = np.random.RandomState(seed)
    return rng.normal(size=(n_samples, n_features)) * rng.uniform(
        0.5, 3.0, n_features
    ) + rng.normal(size=n_features)


def _random_affine(n_in, n_out, seed=0):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)


# --- recovering known maps ------------------------------------------------------------


@pytest.mark.parametrize("scaling", ["isotropic", None])
def test_orthogonal_recovers_a_rotation(scaling):
    X = _space()
    Q = ortho_group.rvs(10, random_state=0)
    translator = LatentTranslator(scaling=scaling).fit(X[:50], X[:50] @ Q)
    np.testing.assert_allclose(translator.transform(X[50:]), X[50:] @ Q, atol=1e-10)
    R = translator.rotation_
    np.testing.assert_allclose(R @ R.T, np.eye(10), atol=1e-12)
    if scaling is None:  # no standardisation: the rotation itself
        np.testing.assert_allclose(R, Q, atol=1e-10)


def test_orthogonal_recovers_rotation_rescaling_and_shift():
    X = _space()
    Q = ortho_group.rvs(10, random_state=1)
    shift = np.arange(10.0)
    Y = 0.25 * X @ Q + shift
    translator = LatentTranslator().fit(X[:40], Y[:40])
    np.testing.assert_allclose(translator.transform(X[40:]), Y[40:], atol=1e-10)
    np.testing.assert_allclose(translator.coef_, 0.25 * Q.T, atol=1e-12)
    np.testing.assert_allclose(translator.intercept_, shift, atol=1e-10)


def test_per_feature_scaling_is_orthogonal_procrustes_on_standardised_spaces():
    # An independent computation of the authors' reference recipe: per-feature
    # standard scaling, scipy's Procrustes, de-standardisation.
    X, Y = _space(seed=0), _space(seed=1)
    translator = LatentTranslator(scaling="per_feature").fit(X[:100], Y[:100])
    mx, sx = X[:100].mean(0), X[:100].std(0)
    my, sy = Y[:100].mean(0), Y[:100].std(0)
    R, _ = orthogonal_procrustes((X[:100] - mx) / sx, (Y[:100] - my) / sy)
    expected = ((X[100:] - mx) / sx) @ R * sy + my
    np.testing.assert_allclose(translator.transform(X[100:]), expected, atol=1e-10)
    np.testing.assert_allclose(translator.source_scale_, sx)
    np.testing.assert_allclose(translator.target_mean_, my)


@pytest.mark.parametrize("scaling", SCALINGS)
def test_affine_recovers_an_affine_map(scaling):
    X = _space()
    A, b = _random_affine(10, 6)
    translator = LatentTranslator("affine", scaling=scaling).fit(X[:30], X[:30] @ A + b)
    np.testing.assert_allclose(translator.transform(X[30:]), X[30:] @ A + b, atol=1e-9)
    np.testing.assert_allclose(translator.coef_, A.T, atol=1e-10)
    np.testing.assert_allclose(translator.intercept_, b, atol=1e-10)


def test_linear_without_centring_cannot_fit_a_shift_but_affine_can():
    X = _space()
    Y = X + 5.0
    linear = LatentTranslator("linear", scaling=None).fit(X[:50], Y[:50])
    affine = LatentTranslator("affine", scaling=None).fit(X[:50], Y[:50])
    assert np.abs(linear.transform(X[50:]) - Y[50:]).max() > 0.1
    np.testing.assert_allclose(affine.transform(X[50:]), Y[50:], atol=1e-9)
    np.testing.assert_allclose(linear.intercept_, 0.0)


@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("method", ["linear", "affine"])
def test_least_squares_matches_numpy_lstsq(method, scaling):
    # With noise the fit is not exact; it must be the least-squares solution in raw
    # coordinates, with an intercept whenever the method or the centring gives one.
    rng = np.random.RandomState(0)
    X = _space(n_features=6)
    A, b = _random_affine(6, 4)
    Y = X @ A + b + 0.3 * rng.normal(size=(300, 4))
    translator = LatentTranslator(method, scaling=scaling).fit(X, Y)
    intercept = method == "affine" or scaling is not None
    design = np.hstack([X, np.ones((300, 1))]) if intercept else X
    solution = np.linalg.lstsq(design, Y, rcond=None)[0]
    np.testing.assert_allclose(translator.coef_, solution[:6].T, atol=1e-10)
    expected = X[:20] @ solution[:6] + (solution[6] if intercept else 0.0)
    np.testing.assert_allclose(translator.transform(X[:20]), expected, atol=1e-10)


def test_narrow_space_embedded_isometrically_in_a_wider_one_is_recovered():
    X = _space(n_features=8)
    embedding = ortho_group.rvs(12, random_state=0)[:8]  # orthonormal rows
    Y = X @ embedding - 2.0
    translator = LatentTranslator().fit(X[:40], Y[:40])
    assert translator.n_features_in_ == 8
    assert translator.n_features_out_ == 12
    assert translator.rotation_.shape == (12, 12)
    np.testing.assert_allclose(translator.transform(X[40:]), Y[40:], atol=1e-10)
    np.testing.assert_allclose(translator.inverse_transform(Y[40:]), X[40:], atol=1e-10)


def test_wider_into_narrower_inverse_is_a_right_inverse():
    # 12-d into 8-d loses information: transform after inverse_transform is exact.
    X, Y = _space(n_features=12), _space(n_features=8, seed=1)
    translator = LatentTranslator().fit(X, Y)
    assert translator.rotation_.shape == (12, 12)
    np.testing.assert_allclose(
        translator.transform(translator.inverse_transform(Y[:20])), Y[:20], atol=1e-10
    )


@pytest.mark.parametrize("scaling", SCALINGS)
@pytest.mark.parametrize("method", METHODS)
def test_inverse_transform_round_trip(method, scaling):
    X, Y = _space(seed=0), _space(seed=1)
    translator = LatentTranslator(method, scaling=scaling).fit(X, Y)
    np.testing.assert_allclose(
        translator.inverse_transform(translator.transform(X[:30])), X[:30], atol=1e-9
    )


def test_inverse_of_least_squares_is_the_pseudo_inverse():
    # 10-d into 4-d: the minimum-norm preimage in standardised source coordinates.
    X, Y = _space(seed=0), _space(n_features=4, seed=1)
    translator = LatentTranslator("linear", scaling="per_feature").fit(X, Y)
    W = (translator.coef_.T * translator.source_scale_[:, None]) / (
        translator.target_scale_
    )
    Y_std = (Y[:5] - translator.target_mean_) / translator.target_scale_
    expected = Y_std @ np.linalg.pinv(W) * translator.source_scale_
    np.testing.assert_allclose(
        translator.inverse_transform(Y[:5]), expected + translator.source_mean_
    )


def test_one_dimensional_target():
    X = _space()
    w = np.arange(10.0)
    # A target space of one feature is a column.
    translator = LatentTranslator("affine").fit(X, (X @ w + 1.0)[:, None])
    assert translator.n_features_out_ == 1
    np.testing.assert_allclose(translator.transform(X[:5])[:, 0], X[:5] @ w + 1.0)
    # A 1-D y is refused: see tests/test_hostile_translation.py.


@pytest.mark.parametrize("scaling", ["isotropic", "per_feature"])
@pytest.mark.parametrize("method", METHODS)
def test_constant_target_stays_constant(method, scaling):
    X = _space()
    Y = _space(n_features=3, seed=1)
    Y[:, 1] = 2.5
    if scaling == "isotropic":
        Y[:] = 2.5  # a scalar scale is zero only for a constant space
    translator = LatentTranslator(method, scaling=scaling).fit(X, Y)
    assert translator.target_scale_[1] == 0.0
    np.testing.assert_allclose(translator.transform(X[:5])[:, 1], 2.5)
    assert np.all(np.isfinite(translator.inverse_transform(Y[:5])))


# --- dtypes, persistence, feature names -----------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_float32_is_preserved(method):
    X, Y = _space(seed=0), _space(seed=1)
    translator64 = LatentTranslator(method).fit(X, Y)
    translator32 = LatentTranslator(method).fit(
        X.astype(np.float32), Y.astype(np.float32)
    )
    out = translator32.transform(X[:10].astype(np.float32))
    assert out.dtype == np.float32
    assert translator32.coef_.dtype == np.float32
    back = translator32.inverse_transform(out)
    assert back.dtype == np.float32
    np.testing.assert_allclose(
        out, translator64.transform(X[:10]), rtol=1e-4, atol=1e-4
    )


def test_pickle_round_trip():
    X, Y = _space(seed=0), _space(n_features=7, seed=1)
    translator = LatentTranslator("affine").fit(X, Y)
    loaded = pickle.loads(pickle.dumps(translator))
    np.testing.assert_array_equal(loaded.transform(X), translator.transform(X))
    np.testing.assert_array_equal(
        loaded.inverse_transform(Y), translator.inverse_transform(Y)
    )


def test_feature_names_and_pandas_output():
    pd = pytest.importorskip("pandas")
    X, Y = _space(seed=0), _space(n_features=3, seed=1)
    X_frame = pd.DataFrame(X, columns=[f"s{i}" for i in range(10)])
    translator = LatentTranslator().set_output(transform="pandas").fit(X_frame, Y)
    np.testing.assert_array_equal(
        translator.get_feature_names_out(),
        ["latenttranslator0", "latenttranslator1", "latenttranslator2"],
    )
    out = translator.transform(X_frame)
    assert list(out.columns) == list(translator.get_feature_names_out())


# --- bad input --------------------------------------------------------------------------


def test_mismatched_anchor_counts():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LatentTranslator().fit(_space()[:50], _space()[:49])


@pytest.mark.parametrize("where", ["X", "y"])
def test_nan_is_rejected(where):
    X, Y = _space(seed=0), _space(seed=1)
    (X if where == "X" else Y)[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LatentTranslator().fit(X, Y)


def test_one_anchor_is_rejected():
    with pytest.raises(ValueError, match="minimum of 2"):
        LatentTranslator().fit(_space()[:1], _space()[:1])


@pytest.mark.parametrize(
    ("method", "scaling", "n_anchors"),
    [("linear", "isotropic", 10), ("affine", None, 10), ("linear", None, 9)],
)
def test_too_few_anchors_for_least_squares_warns(method, scaling, n_anchors):
    X, Y = _space(seed=0), _space(seed=1)
    translator = LatentTranslator(method, scaling=scaling)
    with pytest.warns(UserWarning, match="cannot determine a .* map"):
        translator.fit(X[:n_anchors], Y[:n_anchors])
    # The minimum-norm solution still fits the anchors.
    np.testing.assert_allclose(
        translator.transform(X[:n_anchors]), Y[:n_anchors], atol=1e-8
    )


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    ("method", "scaling", "n_anchors"),
    [("linear", "isotropic", 11), ("linear", None, 10), ("orthogonal", None, 3)],
)
def test_enough_anchors_or_orthogonal_do_not_warn(method, scaling, n_anchors):
    X, Y = _space(seed=0), _space(seed=1)
    LatentTranslator(method, scaling=scaling).fit(X[:n_anchors], Y[:n_anchors])


@pytest.mark.parametrize(
    "params", [{"method": "procrustes"}, {"scaling": "robust"}, {"method": None}]
)
def test_invalid_parameters(params):
    with pytest.raises(InvalidParameterError):
        LatentTranslator(**params).fit(_space(), _space())


def test_wrong_widths_and_unfitted():
    X, Y = _space(seed=0), _space(n_features=4, seed=1)
    with pytest.raises(NotFittedError):
        LatentTranslator().transform(X)
    translator = LatentTranslator().fit(X, Y)
    with pytest.raises(ValueError, match="features"):
        translator.transform(Y)
    with pytest.raises(ValueError, match="expects 4"):
        translator.inverse_transform(X)
