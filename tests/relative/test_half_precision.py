"""Half-precision input (float16, bfloat16): computed and returned in float32.

The error against float32 input is that of rounding the input to half precision;
the bounds below are the documented ones (``docs/user_guide/relative.rst``), about
five times the largest error measured.
"""

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from numpy.testing import assert_allclose, assert_array_equal

from skrelrep import RelativeTransformer

# Largest |R(half) - R(float32)| measured over (20k, 16..768) and (50k, 128): 4.3e-4
# (float16) and 3.5e-3 (bfloat16), largest with few features.
BOUNDS = {"float16": 2e-3, "bfloat16": 1.5e-2}


def _data(n_samples=3000, n_features=16):
    rng = np.random.RandomState(0)
    return (rng.normal(size=(n_samples, n_features)) + 0.3).astype(np.float32)


PARAMS = [{}, {"center": False}, {"standardize": True, "exponent": 2.0}]


@pytest.mark.parametrize("params", PARAMS, ids=["centred", "uncentred", "standardized"])
def test_numpy_float16_is_computed_in_float32(params):
    X = _data()
    half = X.astype(np.float16)
    relative = RelativeTransformer(60, random_state=0, **params).fit(half)
    R = relative.transform(half)
    assert R.dtype == np.float32 and relative.anchors_.dtype == np.float32
    # Exactly the float32 computation on the half-precision values...
    upcast = half.astype(np.float32)
    expected = RelativeTransformer(60, random_state=0, **params).fit_transform(upcast)
    assert_array_equal(R, expected)
    # ...within the documented bound of the float32 input's result.
    reference = RelativeTransformer(60, random_state=0, **params).fit_transform(X)
    assert np.abs(R - reference).max() <= BOUNDS["float16"]


def test_float16_fitted_transformer_takes_float32_and_float16():
    X = _data()
    relative = RelativeTransformer(30, random_state=0).fit(X.astype(np.float16))
    assert relative.transform(X).dtype == np.float32
    assert relative.transform(X.astype(np.float64)).dtype == np.float64


def test_float16_top_k():
    X = _data()
    half = X.astype(np.float16)
    relative = RelativeTransformer(40, top_k=4, random_state=0).fit(half)
    R = relative.transform(half)
    assert sp.issparse(R) and R.dtype == np.float32
    dense = relative.set_params(top_k=None).transform(half)
    assert_allclose(np.sort(R.toarray())[:, -4:], np.sort(dense)[:, -4:], atol=1e-6)


def test_float16_makes_no_float64_copy(traced_peak):
    rng = np.random.RandomState(0)
    half = rng.normal(size=(40_000, 256)).astype(np.float16)  # 20 MiB
    relative = RelativeTransformer(50, center=False, random_state=0).fit(half[:1000])
    R, peak = traced_peak(lambda: relative.transform(half))
    assert R.dtype == np.float32
    # A float32 copy of X (40 MiB) and the output; a float64 copy alone is 80 MiB.
    assert peak <= 2 * half.nbytes + R.nbytes + 2**20, peak / 2**20


torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dispatch", [False, True])
@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_torch_half_precision(dtype_name, dispatch):
    X = _data()
    tensor = torch.asarray(X).to(getattr(torch, dtype_name))
    with sklearn.config_context(array_api_dispatch=dispatch):
        relative = RelativeTransformer(60, random_state=0).fit(tensor)
        R = relative.transform(tensor)
    if dispatch:  # computed by torch, on the tensor's device, in float32
        assert isinstance(R, torch.Tensor) and R.dtype == torch.float32
        assert relative.anchors_.dtype == torch.float32
        R = R.numpy()
    else:
        assert isinstance(R, np.ndarray) and R.dtype == np.float32
    upcast = tensor.float().numpy()
    expected = RelativeTransformer(60, random_state=0).fit_transform(upcast)
    assert_allclose(R, expected, atol=2e-6)
    reference = RelativeTransformer(60, random_state=0).fit_transform(X)
    assert np.abs(R - reference).max() <= BOUNDS[dtype_name]
