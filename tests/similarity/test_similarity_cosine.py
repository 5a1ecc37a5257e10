"""The cosine kernel of skrelrep.similarity: chunking, dtype and memory (no timings).

The projection is computed in chunks of rows; these tests pin down that chunking never
changes the result, that float32 stays float32 and that no full-size temporary (a
normalised copy of X, a densified sparse X) is made.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import config_context

from skrelrep import RelativeTransformer


def _data(n_samples=500, n_features=24, dtype=np.float64, seed=0):
    rng = np.random.RandomState(seed)
    return (rng.normal(size=(n_samples, n_features)) + 0.5).astype(dtype)


def _cosine_reference(X, anchors, mean=None):
    """Float64 cosine similarity computed the textbook way, by a separate path."""
    X = np.asarray(X, dtype=np.float64)
    anchors = np.asarray(anchors, dtype=np.float64)
    if mean is not None:
        X, anchors = X - mean, anchors - mean
    X_norms = np.linalg.norm(X, axis=1, keepdims=True)
    anchor_norms = np.linalg.norm(anchors, axis=1, keepdims=True)
    X_unit = np.divide(X, X_norms, out=np.zeros_like(X), where=X_norms > 0)
    return X_unit @ (anchors / anchor_norms).T


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("batch_size", [1, 7, 64, 499, 500, 10_000])
def test_chunked_transform_equals_one_chunk(batch_size, center):
    X = _data()
    whole = RelativeTransformer(n_anchors=30, center=center, random_state=0).fit(X)
    chunked = RelativeTransformer(
        n_anchors=30, center=center, batch_size=batch_size, random_state=0
    ).fit(X)
    assert np.allclose(chunked.transform(X), whole.transform(X), rtol=0, atol=1e-12)


@pytest.mark.parametrize("center", [False, True])
def test_working_memory_chunking_matches_reference(center):
    # A tiny working_memory forces many chunks through the default (batch_size=None) path.
    X = _data(n_samples=3000, n_features=40)
    relative = RelativeTransformer(n_anchors=50, center=center, random_state=0).fit(X)
    with config_context(working_memory=0.1):
        R = relative.transform(X)
    anchors = X[relative.anchor_indices_]
    mean = anchors.mean(axis=0) if center else None
    assert np.allclose(R, _cosine_reference(X, anchors, mean), rtol=0, atol=1e-12)


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("batch_size", [None, 13])
def test_sparse_chunks_match_dense(batch_size, center):
    X = _data(n_samples=300)
    X[np.abs(X) < 0.8] = 0.0  # about half the entries
    X[5] = 0.0  # a zero row
    relative = RelativeTransformer(
        n_anchors=20, center=center, batch_size=batch_size, random_state=0
    ).fit(X)
    dense = relative.transform(X)
    sparse = relative.transform(sp.csr_matrix(X))
    assert isinstance(sparse, np.ndarray)
    assert np.allclose(sparse, dense, rtol=0, atol=1e-12)
    if not center:
        assert np.all(dense[5] == 0)


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_float32_end_to_end(center, sparse):
    X = _data(dtype=np.float32)
    X_in = sp.csr_matrix(X) if sparse else X
    relative = RelativeTransformer(
        n_anchors=25, center=center, batch_size=64, random_state=0
    ).fit(X_in)
    assert relative.anchors_.dtype == np.float32
    if center:
        assert relative.anchor_mean_.dtype == np.float32
    R = relative.transform(X_in)
    assert R.dtype == np.float32
    anchors = X[relative.anchor_indices_]
    mean = anchors.astype(np.float64).mean(axis=0) if center else None
    assert np.allclose(R, _cosine_reference(X, anchors, mean), rtol=0, atol=1e-5)


def test_float64_input_to_float32_fit_keeps_input_dtype():
    X = _data()
    relative = RelativeTransformer(n_anchors=10, random_state=0).fit(
        X.astype(np.float32)
    )
    assert relative.transform(X).dtype == np.float64
    assert relative.transform(X.astype(np.float32)).dtype == np.float32


# Interpreter and scikit-learn bookkeeping (validation, small arrays) on top of the data.
_SLACK_BYTES = 1 * 2**20


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transform_peak_is_output_plus_one_chunk(dtype, center, traced_peak):
    n_samples, n_features, n_anchors, batch_size = 40_000, 64, 16, 1000
    X = _data(n_samples, n_features, dtype=dtype)
    relative = RelativeTransformer(
        n_anchors=n_anchors, center=center, batch_size=batch_size, random_state=0
    ).fit(X)
    R, peak = traced_peak(lambda: relative.transform(X))
    itemsize = np.dtype(dtype).itemsize
    output = R.nbytes
    chunk = batch_size * (n_features + n_anchors) * itemsize
    # A normalised copy of X would add n_samples * n_features * itemsize (10-20 MiB).
    assert peak <= output + chunk + _SLACK_BYTES
    assert peak >= output  # the measurement sees NumPy's buffers at all


def test_sparse_transform_never_densifies_whole(traced_peak):
    n_samples, n_features, batch_size = 20_000, 200, 500
    rng = np.random.RandomState(0)
    anchors = rng.normal(size=(5, n_features))
    rest = sp.random(n_samples - 5, n_features, density=0.02, random_state=rng)
    X = sp.vstack([sp.csr_matrix(anchors), rest], format="csr")
    relative = RelativeTransformer(
        anchor_selection=np.arange(5), center=True, batch_size=batch_size
    ).fit(X)
    R, peak = traced_peak(lambda: relative.transform(X))
    dense_whole = n_samples * n_features * 8  # 30 MiB
    chunk = batch_size * (n_features + 5) * 8
    assert peak <= R.nbytes + 2 * chunk + _SLACK_BYTES
    assert peak < dense_whole / 4
    assert np.allclose(R, _cosine_reference(X.toarray(), anchors, anchors.mean(0)))
