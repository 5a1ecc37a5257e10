"""Centring that cannot overflow: the mean, the scale to centre at, the difference."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skrelrep.utils._statistics import (
    centre_rows,
    centring_scale,
    column_mean,
    feature_scale,
)


@pytest.fixture(autouse=True)
def _runtime_warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_column_mean_is_numpys_where_numpys_cannot_overflow(dtype):
    X = np.random.RandomState(0).normal(size=(300, 5)).astype(dtype) * 1e3
    assert_array_equal(column_mean(X, np), np.mean(X, axis=0))


@pytest.mark.parametrize(
    ("dtype", "magnitude"),
    [(np.float32, 2e36), (np.float32, 3e38), (np.float64, 1e307)],
)
def test_column_mean_near_the_largest_value(dtype, magnitude):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4)) + np.array([1.0, -1.0, 0.0, 1e-3])
    X = (X / np.abs(X).max() * magnitude).astype(dtype)
    X[:, 3] = X[:, 3] * 1e-30  # a small column beside the large ones: unchanged
    with np.errstate(over="ignore"):
        assert not np.isfinite(X.sum(axis=0)[:2]).all() or magnitude < 1e37
    mean = column_mean(X, np)
    assert mean.dtype == dtype
    # Against a sum that cannot overflow: in float64 of the scaled rows.
    expected = (X.astype(np.float64) / magnitude).mean(axis=0) * magnitude
    assert_allclose(mean[:3], expected[:3], rtol=1e-5)
    assert_allclose(mean[3], np.mean(X[:, 3].astype(np.float64)), rtol=1e-6)
    # Every entry equal to the largest value: its own mean, not infinity.
    top = np.full((7, 2), np.finfo(dtype).max, dtype=dtype)
    assert_array_equal(column_mean(top, np), np.finfo(dtype).max)


def test_centring_scale():
    info = np.finfo(np.float32)
    X = np.random.RandomState(0).normal(size=(100, 8)).astype(np.float32)
    assert centring_scale(X, np) == 1.0
    assert centring_scale(X * 1e36, np) == 1.0
    for magnitude in (1e38, 3e38, float(info.max)):
        big = (X / np.abs(X).max() * magnitude).astype(np.float32)
        factor = centring_scale(big, np)
        assert factor < 1 and np.log2(factor) == int(np.log2(factor))  # a power of two
        scaled = big * np.float32(factor)
        centred = scaled - column_mean(scaled, np)
        assert np.isfinite(centred).all()
        assert (np.linalg.norm(centred.astype(np.float64), axis=1) <= info.max).all()
    assert centring_scale(np.zeros((3, 2), dtype=np.float32), np) == 1.0
    assert centring_scale(np.zeros((0, 2), dtype=np.float32), np) == 1.0


def test_centre_rows():
    mean = np.array([-3e38, 1.0], dtype=np.float32)
    X = np.array([[3e38, 2.0], [1.0, 1.0], [-3e38, 5.0]], dtype=np.float32)
    centred = centre_rows(X, mean, np, scale_free=True)
    # Only the row whose difference overflows is halved, exactly.
    assert_array_equal(centred[0], X[0] * np.float32(0.5) - mean * np.float32(0.5))
    assert_array_equal(centred[1:], X[1:] - mean)
    with pytest.raises(ValueError, match="leaves the range of float32"):
        centre_rows(X, mean, np, scale_free=False)
    assert_array_equal(centre_rows(X[1:], mean, np, scale_free=False), X[1:] - mean)
    torch = pytest.importorskip("torch")
    import sklearn
    from sklearn.utils._array_api import get_namespace

    with sklearn.config_context(array_api_dispatch=True):
        xp, _ = get_namespace(torch.asarray(X))
        on_torch = centre_rows(
            torch.asarray(X), torch.asarray(mean), xp, scale_free=True
        )
    assert_array_equal(on_torch.numpy(), centred)


@pytest.mark.parametrize(
    ("dtype", "magnitude"), [(np.float32, 3e38), (np.float64, 1.7e308)]
)
def test_feature_scale_near_the_largest_value(dtype, magnitude):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4)) * [1.0, 2.0, 3.0, 0.0] + 10.0  # one constant
    big = (X / np.abs(X).max() * magnitude).astype(dtype)
    scale = feature_scale(big, np)
    assert scale.dtype == dtype
    # Against float64 (float32 input) or a computation on the scaled rows.
    expected = (big.astype(np.float64) / magnitude).std(axis=0) * magnitude
    assert_allclose(scale[:3], expected[:3], rtol=1e-5)
    assert scale[3] == 1  # constant: left unscaled
