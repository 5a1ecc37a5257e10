"""Row norms near the ends of the range, and rows divided by powers of two."""

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from skrelrep.utils._norms import power_of_two_rows, row_norms, safe_row_norms


@pytest.fixture(autouse=True)
def _runtime_warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def _rows(dtype):
    """Rows at every scale the dtype can hold: huge (norm beyond the range), usual,
    subnormal, zero."""
    info = np.finfo(dtype)
    base = np.random.RandomState(0).uniform(0.5, 1.0, size=(4, 8))
    rows = base * np.array(
        [[float(info.max)], [3.0], [float(info.smallest_subnormal) * 1e6], [0.0]]
    )
    return rows.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_norms_beyond_the_range_are_infinite_without_a_warning(dtype, container):
    rows = _rows(dtype)
    assert np.isfinite(rows).all()
    for norms in (row_norms(container(rows), np), safe_row_norms(container(rows), np)):
        assert norms.dtype == dtype
        assert norms[0] == np.inf  # eight entries above half the largest value
        # Against Python's hypot of the entries as stored (it scales as well).
        expected = [math.hypot(*row.tolist()) for row in rows[1:3]]
        assert_allclose(norms[1], expected[0], rtol=1e-6)
        assert_allclose(norms[2], expected[1], rtol=1e-4)  # a subnormal result
        assert norms[3] == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_power_of_two_rows(dtype, container):
    rows = _rows(dtype)
    scaled, exponents = power_of_two_rows(container(rows), np)
    scaled = scaled.toarray() if sp.issparse(scaled) else scaled
    assert scaled.dtype == dtype
    # Exact: multiplying back gives the rows bit for bit.
    assert_array_equal(np.ldexp(scaled.astype(np.float64), exponents[:, None]), rows)
    largest = np.abs(scaled).max(axis=1)
    assert ((largest[:3] >= 1) & (largest[:3] < 2)).all()
    assert largest[3] == 0 and exponents[3] == 0
    # The norm's logarithm, finite where the norm is not.
    logs = np.log(np.linalg.norm(scaled[:3], axis=1)) + exponents[:3] * np.log(2)
    with np.errstate(divide="ignore"):
        expected = np.log(np.linalg.norm(rows[:3].astype(np.longdouble), axis=1))
    assert_allclose(logs, expected.astype(np.float64), rtol=1e-6)


def test_power_of_two_rows_of_torch_tensors():
    torch = pytest.importorskip("torch")
    import sklearn
    from sklearn.utils._array_api import get_namespace

    rows = _rows(np.float32)
    with sklearn.config_context(array_api_dispatch=True):
        xp, _ = get_namespace(torch.asarray(rows))
        scaled, exponents = power_of_two_rows(torch.asarray(rows), xp)
    expected, expected_exponents = power_of_two_rows(rows, np)
    assert_array_equal(scaled.numpy(), expected)
    assert_array_equal(exponents, expected_exponents)
