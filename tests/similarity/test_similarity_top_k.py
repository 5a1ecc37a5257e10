"""top_k: the same entries as sorting the dense output, in bounded memory."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context

from skrelrep import RelativeTransformer
from skrelrep.similarity import _projection
from skrelrep.similarity._projection import chunked_projection

_MiB = 2**20


def _reference_top_k(dense, k):
    """Each row's k largest entries by a stable sort (ties: lowest column; NaN last)."""
    key = np.where(np.isnan(dense), -np.inf, dense)
    columns = np.sort(np.argsort(-key, axis=1, kind="stable")[:, :k], axis=1)
    values = np.take_along_axis(dense, columns, axis=1)
    return columns, values


def _check_csr(R, dense, k):
    columns, values = _reference_top_k(dense, k)
    assert sp.issparse(R) and R.format == "csr" and R.dtype == dense.dtype
    assert R.shape == dense.shape
    assert_array_equal(np.diff(R.indptr), k)
    assert_array_equal(R.indices.reshape(-1, k), columns)
    assert_array_equal(R.data.reshape(-1, k), values)  # the same numbers, bit for bit


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"center": False, "exponent": 3.0},
        {"standardize": True, "similarity": "euclidean"},
        {"similarity": ["cosine", "l1"], "exponent": 0.5},
    ],
    ids=["cosine", "uncentred-exponent", "standardized-euclidean", "combined"],
)
@pytest.mark.parametrize("batch_size", [None, 37])
def test_top_k_is_the_top_of_the_dense_output(dtype, params, batch_size):
    X = np.random.RandomState(0).normal(size=(300, 9)).astype(dtype)
    relative = RelativeTransformer(
        40, top_k=6, batch_size=batch_size, random_state=0, **params
    ).fit(X)
    R = relative.transform(X)
    # The dense output of the same chunked computation, then sorted (independently).
    dense = chunked_projection(
        X,
        relative.anchors_,
        relative.similarity_,
        np,
        mean=getattr(relative, "anchor_mean_", None),
        scale=getattr(relative, "anchor_scale_", None),
        exponent=relative.exponent,
        batch_size=batch_size,
    )
    _check_csr(R, dense, 6)
    # And the public dense output, up to rounding.
    full = relative.set_params(top_k=None).transform(X)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    assert_allclose(
        R.toarray()[R.toarray() != 0], full[R.toarray() != 0], atol=tolerance
    )


def test_top_k_ties_go_to_the_lowest_column():
    rng = np.random.RandomState(1)
    X = rng.randint(-2, 3, size=(400, 4)).astype(float)
    X[[5, 7]] = X[1]  # anchors 1, 5 and 7 give identical columns: exact ties
    X[8] = 2 * X[3]  # and so do anchors 3 and 8
    X[:10] += (np.abs(X[:10]).sum(axis=1) == 0)[:, None]  # no zero anchors
    relative = RelativeTransformer(
        anchor_selection=list(range(10)), center=False, top_k=2, batch_size=64
    ).fit(X)
    R = relative.transform(X)
    dense = chunked_projection(
        X, relative.anchors_, relative.similarity_, np, batch_size=64
    )
    counts = (dense == np.sort(dense, axis=1)[:, -2:-1]).sum(axis=1)
    assert (counts > 2).sum() > 50  # ties at the k-th value that must be broken
    _check_csr(R, dense, 2)


def test_top_k_rows_rank_nan_last_and_keep_whole_rows():
    block = np.array(
        [[0.5, np.nan, 0.5, 0.1], [np.nan, np.nan, np.nan, 0.2], [3, 2, 1, 0]]
    )
    for k in (1, 2, 3, 4):
        values = np.empty(3 * k)
        columns = np.empty(3 * k, dtype=np.int32)
        _projection._top_k_rows(block, k, values, columns)
        expected_columns, expected_values = _reference_top_k(block, k)
        assert_array_equal(columns.reshape(-1, k), expected_columns)
        assert_array_equal(values.reshape(-1, k), expected_values)


def test_top_k_beyond_the_anchors_keeps_every_entry():
    X = np.random.RandomState(0).normal(size=(30, 5))
    relative = RelativeTransformer(4, top_k=10, random_state=0).fit(X)
    R = relative.transform(X)
    assert_array_equal(np.diff(R.indptr), 4)
    assert_allclose(R.toarray(), relative.set_params(top_k=None).transform(X))


def _sparse_bytes(R):
    return R.data.nbytes + R.indices.nbytes + R.indptr.nbytes


@pytest.mark.parametrize("working_memory", [None, 4096])
def test_top_k_memory_is_the_sparse_output_plus_a_fixed_budget(
    working_memory, traced_peak
):
    # 50k rows: the dense output would be 95 MiB, the sparse one 4 MiB.
    X = np.random.RandomState(0).normal(size=(50_000, 128)).astype(np.float32)
    relative = RelativeTransformer(500, top_k=10, random_state=0).fit(X)
    config = {} if working_memory is None else {"working_memory": working_memory}
    with config_context(**config):
        R, peak = traced_peak(lambda: relative.transform(X))
    assert R.shape == (50_000, 500) and R.nnz == 500_000
    assert peak <= _sparse_bytes(R) + _projection._TOP_K_CHUNK_BYTES, peak / _MiB


def test_top_k_memory_follows_the_budget(monkeypatch, traced_peak):
    """The same bound with a budget smaller than the dense output of 5k rows."""
    monkeypatch.setattr(_projection, "_TOP_K_CHUNK_BYTES", 4 * _MiB)
    X = np.random.RandomState(0).normal(size=(20_000, 64))  # float64: 20 MiB dense out
    relative = RelativeTransformer(
        128, top_k=5, standardize=True, exponent=2.0, random_state=0
    ).fit(X)
    R, peak = traced_peak(lambda: relative.transform(X))
    assert peak <= _sparse_bytes(R) + 4 * _MiB, peak / _MiB
