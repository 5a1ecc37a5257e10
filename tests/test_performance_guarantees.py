"""Guarantees behind the performance work: chunking, dtype and memory (no timings).

The projection is computed in chunks of rows; these tests pin down that chunking never
changes the result, that float32 stays float32, that no full-size temporary (a
normalised copy of X, a densified sparse X) is made, and that the benchmark harness
runs end to end.
"""

import csv
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import config_context

from skrelrep import RelativeTransformer, _anchors

ROOT = Path(__file__).resolve().parents[1]


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


def _traced_peak(function):
    """Peak bytes allocated through Python's allocators (NumPy reports its buffers)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline, _ = tracemalloc.get_traced_memory()
        result = function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak - baseline


# Interpreter and scikit-learn bookkeeping (validation, small arrays) on top of the data.
_SLACK_BYTES = 1 * 2**20


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transform_peak_is_output_plus_one_chunk(dtype, center):
    n_samples, n_features, n_anchors, batch_size = 40_000, 64, 16, 1000
    X = _data(n_samples, n_features, dtype=dtype)
    relative = RelativeTransformer(
        n_anchors=n_anchors, center=center, batch_size=batch_size, random_state=0
    ).fit(X)
    R, peak = _traced_peak(lambda: relative.transform(X))
    itemsize = np.dtype(dtype).itemsize
    output = R.nbytes
    chunk = batch_size * (n_features + n_anchors) * itemsize
    # A normalised copy of X would add n_samples * n_features * itemsize (10-20 MiB).
    assert peak <= output + chunk + _SLACK_BYTES
    assert peak >= output  # the measurement sees NumPy's buffers at all


def test_sparse_transform_never_densifies_whole():
    n_samples, n_features, batch_size = 20_000, 200, 500
    rng = np.random.RandomState(0)
    anchors = rng.normal(size=(5, n_features))
    rest = sp.random(n_samples - 5, n_features, density=0.02, random_state=rng)
    X = sp.vstack([sp.csr_matrix(anchors), rest], format="csr")
    relative = RelativeTransformer(
        anchor_selection=np.arange(5), center=True, batch_size=batch_size
    ).fit(X)
    R, peak = _traced_peak(lambda: relative.transform(X))
    dense_whole = n_samples * n_features * 8  # 30 MiB
    chunk = batch_size * (n_features + 5) * 8
    assert peak <= R.nbytes + 2 * chunk + _SLACK_BYTES
    assert peak < dense_whole / 4
    assert np.allclose(R, _cosine_reference(X.toarray(), anchors, anchors.mean(0)))


def _fps_reference(X, n_anchors, seed):
    """Textbook FPS: one distance update per pick, over every row (float64)."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    unit = np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)
    chosen = [np.random.RandomState(seed).randint(X.shape[0])]
    nearest = np.full(X.shape[0], np.inf)
    while len(chosen) < n_anchors:
        nearest = np.minimum(nearest, 1 - unit @ unit[chosen[-1]])
        nearest[chosen] = -np.inf
        chosen.append(int(np.argmax(nearest)))
    return np.array(chosen)


def _fps_datasets():
    rng = np.random.RandomState(0)
    blobs = np.repeat(rng.normal(size=(10, 16)), 100, axis=0)
    return {
        "gaussian": rng.normal(size=(1000, 20)),
        "blobs": blobs + rng.normal(scale=0.05, size=blobs.shape),
        "duplicates and zero rows": np.vstack(
            [np.ones((40, 5)), rng.normal(size=(200, 5)), np.zeros((3, 5))]
        ),
        "three dimensions": rng.normal(size=(800, 3)),
    }


@pytest.mark.parametrize("candidates", ["default", "tiny"])
@pytest.mark.parametrize("name", list(_fps_datasets()))
def test_blocked_fps_picks_what_textbook_fps_picks(name, candidates, monkeypatch):
    if candidates == "tiny":  # many short rounds: the certainty test decides often
        monkeypatch.setattr(_anchors, "_FPS_MIN_CANDIDATES", 2)
        monkeypatch.setattr(_anchors, "_FPS_MAX_CANDIDATES", 3)
    X = _fps_datasets()[name]
    for n_anchors in (2, 60, 200):
        relative = RelativeTransformer(
            n_anchors, anchor_selection="fps", random_state=3
        ).fit(X)
        expected = _fps_reference(X, n_anchors, seed=3)
        assert np.array_equal(relative.anchor_indices_, expected), n_anchors


def test_blocked_fps_on_sparse_and_every_row(monkeypatch):
    monkeypatch.setattr(_anchors, "_FPS_MAX_CANDIDATES", 5)
    X = sp.random(600, 40, density=0.3, format="csr", random_state=0)
    relative = RelativeTransformer(200, anchor_selection="fps", random_state=1).fit(X)
    assert np.array_equal(relative.anchor_indices_, _fps_reference(X, 200, 1))
    # Every row: the candidates are all rows and the round runs to the end. (Rows
    # pointing the same way tie at distance 0, where rounding may order them either
    # way: these rows are distinct directions.)
    X = _fps_datasets()["gaussian"][:300]
    relative = RelativeTransformer(300, anchor_selection="fps", random_state=1).fit(X)
    assert np.array_equal(relative.anchor_indices_, _fps_reference(X, 300, 1))


def test_blocked_fps_same_picks_on_torch(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(_anchors, "_FPS_MAX_CANDIDATES", 7)  # the argsort path
    X = _fps_datasets()["blobs"]
    params = dict(n_anchors=40, anchor_selection="fps", random_state=0)
    with config_context(array_api_dispatch=True):
        on_torch = RelativeTransformer(**params).fit(torch.asarray(X))
    assert np.array_equal(on_torch.anchor_indices_, _fps_reference(X, 40, 0))


def test_kmeans_sample_size_rule():
    size = _anchors.kmeans_sample_size
    assert size(500, 10) == 500  # small data: every row
    assert size(10_000, 300) == 10_000
    assert size(100_000, 1000) == 10_000  # 10 rows per anchor
    assert size(1_000_000, 256) == 100_000  # a tenth of the rows
    assert size(50_000, 2000) == 20_000


def test_kmeans_on_a_sample_still_finds_every_cluster():
    # 24 000 rows > the 10 000-row sample: the sampled path, with tight clusters.
    rng = np.random.RandomState(0)
    directions = rng.normal(size=(8, 32))
    X = np.repeat(directions, 3000, axis=0) + rng.normal(scale=0.05, size=(24_000, 32))
    relative = RelativeTransformer(8, anchor_selection="kmeans", random_state=0).fit(X)
    assert sorted((relative.anchor_indices_ // 3000).tolist()) == list(range(8))


@pytest.mark.parametrize("strategy", ["fps", "kmeans"])
def test_selection_makes_no_normalised_copy_of_x(strategy):
    X = _data(100_000, 64, dtype=np.float32)  # 24 MiB
    relative, peak = _traced_peak(
        lambda: RelativeTransformer(50, anchor_selection=strategy, random_state=0).fit(
            X
        )
    )
    assert len(set(relative.anchor_indices_.tolist())) == 50
    # FPS keeps a distance per row and a chunk of products; k-means a 10% sample.
    assert peak < 0.4 * X.nbytes


def test_benchmark_harness_smoke(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.run import run_benchmarks

    pytest.importorskip("matplotlib")
    results = run_benchmarks("smoke", out_dir=tmp_path, isolate=False)
    for name in ("transform.csv", "selection.csv", "scaling.csv", "results.md"):
        assert (tmp_path / name).stat().st_size > 0
    assert (tmp_path / "results.png").read_bytes()[:4] == b"\x89PNG"

    transform = results["transform"]
    assert all("error" not in row for row in transform), transform
    with open(tmp_path / "transform.csv") as handle:
        assert len(list(csv.DictReader(handle))) == len(transform)
    methods = {row["method"] for row in transform}
    assert {"gemm", "skrelrep", "numpy", "sklearn_cosine", "nystroem"} <= methods
    for row in transform:
        assert row["ratio_to_gemm"] > 0
        if row["method"] == "gemm":
            assert row["ratio_to_gemm"] == 1.0
        if row["max_error"] is not None:  # the method computes the cosine matrix
            tolerance = 1e-5 if row["dtype"] == "float32" else 1e-12
            assert row["max_error"] < tolerance, row
        if row["method"] in ("gemm", "skrelrep", "numpy", "sklearn_cosine"):
            assert row["out_dtype"] == row["dtype"]

    selection = results["selection"]
    assert [row["strategy"] for row in selection] == [
        "random",
        "stratified",
        "fps",
        "kmeans",
    ]
    for row in selection:
        assert "error" not in row, row
        assert 0 < row["coverage"] < 2
    assert {row["n"] for row in results["scaling"]} == {200, 400}
    markdown = (tmp_path / "results.md").read_text()
    assert "## Targets (issue 5)" in markdown and "skrelrep" in markdown


def test_pipeline_benchmark_smoke():
    """benchmarks.bench_pipeline runs end to end on a tiny problem."""
    from benchmarks.bench_pipeline import run

    timings = dict(run(rows=400, features=16, anchors=10, classes=3, repeats=1))
    assert set(timings) == {
        "fit: StitchedPipeline",
        "fit: plain Pipeline, same steps",
        "fit: absolute baseline (passthrough)",
        "predict: StitchedPipeline",
        "predict: plain Pipeline, same steps",
        "predict: absolute baseline (passthrough)",
        "stitch(): re-embed anchors",
    }
    assert all(seconds > 0 for seconds in timings.values())
