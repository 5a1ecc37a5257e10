"""The blocked search equals brute force, whatever the block sizes and ties."""

import numpy as np
import pytest
from sklearn import config_context

from skrelrep.retrieval._search import sweep, top_k_mean


def _brute(scores, k):
    """Best ``k`` of each row, ties towards the lower column."""
    columns = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    order = np.lexsort((columns, -scores), axis=1)[:, :k]
    return np.take_along_axis(scores, order, 1), order


@pytest.mark.parametrize(
    ("shape", "max_bytes"),
    [
        ((300, 500), None),
        ((300, 500), 4000),
        ((40, 5000), None),
        ((40, 5000), 20_000),
        ((7, 3), None),
        ((7, 3), 100),
        ((7, 3), 1),
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sweep_equals_brute_force(shape, max_bytes, dtype):
    n_a, n_b = shape
    rng = np.random.RandomState(0)
    A = rng.normal(size=(n_a, 8)).astype(dtype)
    B = rng.normal(size=(n_b, 8)).astype(dtype)
    row_penalty = rng.normal(size=n_a).astype(dtype)
    col_penalty = rng.normal(size=n_b).astype(dtype)
    # Exact ties: duplicated rows with equal penalties, both ways.
    B[-1], col_penalty[-1] = B[0], col_penalty[0]
    A[-1], row_penalty[-1] = A[0], row_penalty[0]
    row_k, col_k = min(5, n_b), min(3, n_a)
    rows, cols = sweep(
        A,
        B,
        row_k=row_k,
        col_k=col_k,
        row_penalty=row_penalty,
        col_penalty=col_penalty,
        max_bytes=max_bytes,
    )
    product = A @ B.T
    values, ids = _brute(product - col_penalty, row_k)
    np.testing.assert_array_equal(rows[1], ids)
    np.testing.assert_allclose(rows[0], values, rtol=1e-5, atol=1e-6)
    values, ids = _brute((product - row_penalty[:, None]).T, col_k)
    np.testing.assert_array_equal(cols[1], ids)
    np.testing.assert_allclose(cols[0], values, rtol=1e-5, atol=1e-6)
    assert rows[0].dtype == dtype


def test_sweep_follows_working_memory():
    rng = np.random.RandomState(1)
    A, B = rng.normal(size=(50, 4)), rng.normal(size=(2000, 4))
    expected = sweep(A, B, row_k=4, col_k=2)
    with config_context(working_memory=0.05):  # 50 kB: blocks of a few rows
        found = sweep(A, B, row_k=4, col_k=2)
    for side in (0, 1):
        np.testing.assert_array_equal(found[side][1], expected[side][1])


@pytest.mark.parametrize("working_memory", [1024, 0.01])
def test_top_k_mean_is_csls_statistics(working_memory):
    rng = np.random.RandomState(2)
    A, B = rng.normal(size=(30, 5)), rng.normal(size=(600, 5))
    with config_context(working_memory=working_memory):
        r_a, r_b = top_k_mean(A, B, 3)
    product = A @ B.T
    np.testing.assert_allclose(r_a, np.sort(product, axis=1)[:, -3:].mean(axis=1))
    np.testing.assert_allclose(r_b, np.sort(product, axis=0)[-3:].mean(axis=0))
