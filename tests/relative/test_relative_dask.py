"""RelativeTransformer on dask arrays, run on a real multi-process LocalCluster."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import ortho_group
from sklearn.datasets import make_classification
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skrelrep import RelativeTransformer

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")
ParallelPostFit = pytest.importorskip("dask_ml.wrappers").ParallelPostFit
import joblib  # noqa: E402  (joblib's dask backend needs distributed, checked above)

from skrelrep import StitchedPipeline  # noqa: E402
from skrelrep.similarity import (  # noqa: E402
    ChebyshevSimilarity,
    CombinedSimilarity,
    CosineSimilarity,
    EuclideanSimilarity,
    ManhattanSimilarity,
)
from skrelrep.utils import _dask  # noqa: E402

# Results agree with the NumPy path up to BLAS rounding (a block of rows may take a
# different GEMM path than the whole array, as with batch_size in NumPy).
TOL = {np.float32: {"rtol": 0, "atol": 1e-6}, np.float64: {"rtol": 0, "atol": 1e-14}}


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="1GiB",
            dashboard_address=":0",  # any free port: parallel test workers start clusters too
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _data(n_samples=300, n_features=8, dtype=np.float64, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)).astype(dtype)
    y = rng.choice(3, size=n_samples, p=[0.6, 0.3, 0.1])
    return X, y


def _holders(graph, array):
    """Graph keys whose task or value, as the scheduler would receive it, holds ``array``."""
    needle = np.ascontiguousarray(array).tobytes()
    return [key for key, value in graph.items() if needle in cloudpickle.dumps(value)]


# -- transform ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("center", [False, True])
def test_transform_equals_numpy(client, dtype, center):
    X, _ = _data(dtype=dtype)
    relative = RelativeTransformer(20, center=center, random_state=0).fit(X)
    # Column chunks too: transform must rechunk so each block holds whole rows.
    X_dask = da.from_array(X, chunks=(64, 5))

    R = relative.transform(X_dask)

    assert isinstance(R, da.Array)
    assert R.dtype == dtype and R._meta.dtype == dtype
    assert R.chunks == ((64, 64, 64, 64, 44), (20,))
    computed = R.compute()
    assert computed.dtype == dtype
    assert_allclose(computed, relative.transform(X), **TOL[dtype])


@pytest.mark.parametrize(
    "params",
    [
        {
            "similarity": CombinedSimilarity(
                [
                    CosineSimilarity(normalization="standard"),
                    EuclideanSimilarity(normalization="standard"),
                    ManhattanSimilarity(normalization="standard"),
                ]
            )
        },
        {"center": True, "standardize": True, "exponent": 3.0},
        {
            "similarity": CombinedSimilarity(
                [CosineSimilarity(), ChebyshevSimilarity()], aggregation="mean"
            )
        },
    ],
)
def test_every_projection_option_equals_numpy(client, params):
    X, _ = _data(dtype=np.float64)
    relative = RelativeTransformer(20, random_state=0, **params).fit(X)
    R = relative.transform(da.from_array(X, chunks=(64, 5)))
    assert R.shape == (X.shape[0], relative._n_features_out)
    assert R.chunks[1] == (relative._n_features_out,)
    assert_allclose(R.compute(), relative.transform(X), atol=1e-7)


def test_top_k_is_refused_for_dask():
    X, _ = _data(dtype=np.float64)
    relative = RelativeTransformer(20, top_k=3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="top_k gives sparse output"):
        relative.transform(da.from_array(X, chunks=64))


def test_integer_input_is_projected_as_float64(client):
    X = np.random.RandomState(0).randint(-5, 6, size=(120, 6))
    relative = RelativeTransformer(10, random_state=0).fit(X)
    R = relative.transform(da.from_array(X, chunks=50))
    assert R.dtype == np.float64
    assert_allclose(R.compute(), relative.transform(X), **TOL[np.float64])


def test_unknown_chunk_sizes_and_empty_blocks(client):
    X, _ = _data(n_samples=200)
    X[:50, 0] = -10.0  # the mask below empties the first block
    relative = RelativeTransformer(10, random_state=0).fit(X[50:])
    X_dask = da.from_array(X, chunks=(50, 8))
    X_masked = X_dask[X_dask[:, 0] > -10]
    assert np.isnan(X_masked.shape[0])

    assert_allclose(
        relative.transform(X_masked).compute(),
        relative.transform(X[50:]),
        **TOL[np.float64],
    )
    # fit computes the row count first, then picks the rows a NumPy fit picks.
    refit = RelativeTransformer(10, random_state=0).fit(X_masked)
    assert_array_equal(refit.anchor_indices_, relative.anchor_indices_)


@pytest.mark.parametrize("center", [False, True])
def test_task_graph_holds_the_anchors_once(center):
    X, _ = _data(n_samples=1000, n_features=16, dtype=np.float32)
    relative = RelativeTransformer(20, center=center, random_state=0).fit(X)
    R = relative.transform(da.from_array(X, chunks=(50, 16)))
    assert R.numblocks == (20, 1)

    anchors = relative.anchors_.astype(np.float32)
    for result in (R, dask.optimize(R)[0]):  # as built, and as compute sends it
        graph = dict(result.__dask_graph__())
        assert len(_holders(graph, anchors)) == 1
        if center:
            assert len(_holders(graph, relative.anchor_mean_)) == 1
    # The check itself can fail: a graph with a copy of the anchors per task.
    naive = da.from_array(X, chunks=(50, 16)).map_blocks(
        lambda block, anchors: block @ anchors.T, anchors, chunks=(50, 20)
    )
    assert len(_holders(dict(naive.__dask_graph__()), anchors)) == 20


def test_many_chunks_with_bounded_worker_memory(client):
    """200 lazily generated chunks, reduced on the cluster: no worker holds its share."""
    n_chunks, rows, n_features = 200, 2000, 128
    X = da.random.default_rng(0).random(
        (n_chunks * rows, n_features), chunks=(rows, n_features), dtype=np.float32
    )
    relative = RelativeTransformer(32, center=True, random_state=0).fit(
        X.blocks[0].compute()
    )
    R = relative.transform(X)
    # Warm up (imports, allocator pools) so that growth below is the run's own.
    R.blocks[:4].sum().compute()
    pids = client.run(os.getpid)
    # Sample each worker's RSS during the run: the process's lifetime peak would
    # include whatever earlier tests on this cluster allocated.
    before = client.run(_start_rss_sampler)

    total = R.sum().compute()

    peak = client.run(_stop_rss_sampler)
    assert np.isfinite(total)
    assert client.run(os.getpid) == pids  # no worker was restarted for memory
    share = X.nbytes / 2**20 / len(pids)  # 98 MiB of input per worker
    growth = {worker: peak[worker] - before[worker] for worker in pids}
    assert max(growth.values()) < share / 4, growth
    block = 123
    assert_allclose(
        R.blocks[block].compute(),
        relative.transform(X.blocks[block].compute()),
        **TOL[np.float32],
    )


def _start_rss_sampler(dask_worker):
    """Start sampling this worker's RSS every 2 ms; return the current RSS in MiB."""
    import threading
    import time

    import psutil

    process = psutil.Process()
    state = {"peak": process.memory_info().rss, "stop": False}

    def sample():
        while not state["stop"]:
            state["peak"] = max(state["peak"], process.memory_info().rss)
            time.sleep(0.002)

    threading.Thread(target=sample, daemon=True).start()
    dask_worker.skrelrep_rss_sampler = state
    return state["peak"] / 2**20


def _stop_rss_sampler(dask_worker):
    """Stop the sampler; return the peak RSS it saw, in MiB."""
    state = dask_worker.skrelrep_rss_sampler
    state["stop"] = True
    return state["peak"] / 2**20


def test_feature_checks_match_numpy():
    X, _ = _data()
    relative = RelativeTransformer(10, random_state=0).fit(X)
    with pytest.raises(ValueError) as numpy_error:
        relative.transform(X[:, :5])
    with pytest.raises(ValueError) as dask_error:
        relative.transform(da.from_array(X[:, :5], chunks=100))
    assert str(dask_error.value) == str(numpy_error.value)
    assert "X has 5 features, but RelativeTransformer is expecting 8" in str(
        dask_error.value
    )
    # Fitted with feature names, given an array without: the same warning.
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)])
    relative.fit(frame)
    for X_new in (X, da.from_array(X, chunks=100)):
        with pytest.warns(UserWarning, match="X does not have valid feature names"):
            relative.transform(X_new)
    relative.fit(da.from_array(X, chunks=100))
    assert not hasattr(relative, "feature_names_in_")


def test_invalid_dask_inputs():
    X, _ = _data()
    relative = RelativeTransformer(10, random_state=0)
    with pytest.raises(ValueError, match="Expected a 2D dask array, got 1D"):
        relative.fit(da.from_array(X[:, 0], chunks=100))
    with pytest.raises(ValueError, match="needs numeric input"):
        relative.fit(da.from_array(X.astype(complex), chunks=100))
    with pytest.raises(ValueError, match="number of columns of X is unknown"):
        relative.fit(
            da.from_array(X, chunks=100).map_blocks(
                lambda b: b, chunks=((np.nan,) * 3, (np.nan,))
            )
        )
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    frame = dd.from_pandas(pd.DataFrame(X), npartitions=2)
    with pytest.raises(TypeError, match=r"to_dask_array\(lengths=True\)"):
        relative.fit(frame)
    with pytest.raises(ValueError, match="Found array with 0 sample"):
        relative.fit(da.zeros((0, 8), chunks=10))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        relative.fit(da.from_array(X, chunks=100), np.zeros(10))


def test_non_finite_values_raise_like_numpy(client):
    X, _ = _data()
    relative = RelativeTransformer(10, random_state=0).fit(X)
    X_nan = X.copy()
    X_nan[250, 3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        relative.transform(da.from_array(X_nan, chunks=100)).compute()
    # In fit, only the computed anchor rows can be checked.
    X_nan[relative.anchor_indices_[0], 0] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        RelativeTransformer(10, random_state=0).fit(da.from_array(X_nan, chunks=100))


# -- fit ------------------------------------------------------------------------


def _first_rows(X, y, n_anchors, random_state):
    return random_state.permutation(X.shape[0])[:n_anchors]


@pytest.mark.parametrize(
    "params, dask_y",
    [
        pytest.param({"n_anchors": 12}, False, id="random"),
        pytest.param({"n_anchors": 0.05, "center": True}, False, id="fraction"),
        pytest.param({"n_anchors": None}, False, id="all"),
        pytest.param({"anchor_selection": "stratified"}, False, id="stratified"),
        pytest.param({"anchor_selection": "stratified"}, True, id="stratified-dask-y"),
        pytest.param({"anchor_selection": [5, 3, 250, 7]}, False, id="explicit"),
        pytest.param({"anchor_selection": _first_rows}, True, id="callable"),
        # Below fit_sample_size the sample is the whole array: same anchors too.
        pytest.param({"anchor_selection": "fps"}, False, id="fps"),
        pytest.param(
            {"anchor_selection": "kmeans", "center": True}, False, id="kmeans"
        ),
    ],
)
def test_fit_gives_the_numpy_anchors(client, params, dask_y):
    params = {"n_anchors": 12, "random_state": 0, **params}
    X, y = _data(dtype=np.float32)
    X_dask = da.from_array(X, chunks=(64, 5))
    y_dask = da.from_array(y, chunks=64) if dask_y else y
    expected = RelativeTransformer(**params).fit(X, y)

    relative = RelativeTransformer(**params).fit(X_dask, y_dask)

    assert_array_equal(relative.anchor_indices_, expected.anchor_indices_)
    assert relative.n_anchors_ == expected.n_anchors_
    assert relative.n_features_in_ == 8
    assert relative.anchors_.dtype == np.float32
    assert_allclose(relative.anchors_, expected.anchors_, **TOL[np.float32])
    assert hasattr(relative, "anchor_mean_") == hasattr(expected, "anchor_mean_")
    if hasattr(expected, "anchor_mean_"):
        assert_allclose(relative.anchor_mean_, expected.anchor_mean_, rtol=1e-6)


def test_the_dask_helpers_return_values_and_leave_the_estimator_alone():
    from skrelrep.relative._dask import dask_anchors, dask_projection

    X, _ = _data()
    X_dask = da.from_array(X, chunks=(64, 8))
    fitted = RelativeTransformer(12, random_state=0).fit(X)
    before = dict(vars(fitted))
    anchors, indices = dask_anchors(
        X_dask,
        None,
        None,
        n_anchors=12,
        anchor_selection="random",
        random_state=0,
        estimator=fitted,
    )
    assert_array_equal(indices, fitted.anchor_indices_)
    assert_array_equal(anchors, X[fitted.anchor_indices_])
    R = dask_projection(X_dask, fitted._projection(), estimator=fitted)
    assert_allclose(R.compute(), fitted.transform(X), **TOL[np.float64])
    assert vars(fitted).keys() == before.keys()
    assert all(vars(fitted)[name] is value for name, value in before.items())


def test_parallel_data_reaches_the_greedy_selection():
    from skrelrep import GreedyAnchorSelector

    X, _ = _data(n_samples=200)
    X_parallel = 2.0 * X[:, ::-1]
    params = dict(
        n_anchors=6, anchor_selection=GreedyAnchorSelector(n_eval=50), random_state=0
    )
    expected = RelativeTransformer(**params).fit(X, X_parallel=X_parallel)
    relative = RelativeTransformer(**params).fit(
        da.from_array(X, chunks=50), X_parallel=X_parallel
    )
    assert_array_equal(relative.anchor_indices_, expected.anchor_indices_)
    # A strategy that does not read parallel data refuses it, on a sample too.
    for strategy in ("random", "fps"):
        with pytest.raises(ValueError, match="X_parallel is read only by"):
            RelativeTransformer(4, anchor_selection=strategy).fit(
                da.from_array(X, chunks=50), X_parallel=X_parallel
            )


@pytest.mark.parametrize("strategy", ["fps", "kmeans"])
def test_fps_and_kmeans_run_on_a_uniform_sample(monkeypatch, strategy):
    monkeypatch.setattr(_dask, "MIN_SAMPLE_SIZE", 100)
    X, _ = _data(n_samples=1000)
    sample_size = _dask.fit_sample_size(1000, 4)
    assert sample_size == 100

    relative = RelativeTransformer(4, anchor_selection=strategy, random_state=0).fit(
        da.from_array(X, chunks=200)
    )

    # Independently: the NumPy strategy on the same uniform sample, same random stream.
    rng = np.random.RandomState(0)
    sample = np.sort(rng.choice(1000, size=sample_size, replace=False))
    on_sample = RelativeTransformer(4, anchor_selection=strategy, random_state=rng)
    on_sample.fit(X[sample])
    assert_array_equal(relative.anchor_indices_, sample[on_sample.anchor_indices_])
    assert_allclose(relative.anchors_, on_sample.anchors_, **TOL[np.float64])


def test_fit_computes_only_the_anchor_blocks():
    X, _ = _data(n_samples=1000)
    computed = []

    def record(block, block_info=None):
        computed.append(block_info[0]["chunk-location"][0])
        return block

    X_dask = da.from_array(X, chunks=(10, 8)).map_blocks(
        record, meta=np.empty((0, 0), dtype=X.dtype)
    )
    with dask.config.set(scheduler="synchronous"):
        relative = RelativeTransformer(3, random_state=0).fit(X_dask)
    assert sorted(computed) == sorted(set(relative.anchor_indices_ // 10))


def test_fit_transform_is_lazy(client):
    X, _ = _data()
    R = RelativeTransformer(10, random_state=0).fit_transform(
        da.from_array(X, chunks=100)
    )
    assert isinstance(R, da.Array)
    expected = RelativeTransformer(10, random_state=0).fit_transform(X)
    assert_allclose(R.compute(), expected, **TOL[np.float64])


# -- scikit-learn and dask-ml integration -------------------------------------------


def test_parallel_post_fit_predicts_on_dask_arrays(client):
    X, y = _data(n_samples=400)
    model = ParallelPostFit(
        make_pipeline(RelativeTransformer(16, random_state=0), LogisticRegression())
    ).fit(X, y)
    X_dask = da.from_array(X, chunks=(100, 8))

    predicted = model.predict(X_dask)
    proba = model.predict_proba(X_dask)

    assert isinstance(predicted, da.Array) and isinstance(proba, da.Array)
    assert_array_equal(predicted.compute(), model.estimator.predict(X))
    assert_allclose(proba.compute(), model.estimator.predict_proba(X), rtol=1e-10)


_ROTATION = ortho_group.rvs(6, random_state=0)


def _rotate(codes):
    return 2.0 * codes @ _ROTATION


def test_stitched_pipeline_under_parallel_post_fit(client):
    X, y = _data(n_samples=400, n_features=10)
    X_dask = da.from_array(X, chunks=(100, 10))

    def fitted(encoder):
        pipeline = StitchedPipeline(
            encoder, RelativeTransformer(20, random_state=0), LogisticRegression()
        )
        return ParallelPostFit(pipeline).fit(X, y)

    model_a = fitted(PCA(6, svd_solver="full"))
    # Encoder B's codes are A's, rotated and rescaled: relative codes are the same.
    model_b = fitted(
        make_pipeline(PCA(6, svd_solver="full"), FunctionTransformer(_rotate))
    )
    stitched = ParallelPostFit(model_a.estimator.stitch(encoder_from=model_b.estimator))

    expected = model_a.estimator.predict(X)
    for model in (model_a, stitched):
        predicted = model.predict(X_dask)
        assert isinstance(predicted, da.Array)
        assert_array_equal(predicted.compute(), expected)
    assert_allclose(
        stitched.predict_proba(X_dask).compute(),
        model_a.estimator.predict_proba(X),
        atol=1e-8,
    )


def test_grid_search_on_the_dask_backend_matches_local(client):
    X, y = make_classification(
        n_samples=300, n_features=20, n_informative=6, random_state=0
    )
    search = GridSearchCV(
        make_pipeline(RelativeTransformer(random_state=0), LogisticRegression()),
        {"relativetransformer__n_anchors": [2, 6, 24]},
        cv=3,
    )
    local = GridSearchCV(**search.get_params(deep=False)).fit(X, y)

    with (
        distributed.get_task_stream(client) as tasks,
        joblib.parallel_config(backend="dask", n_jobs=-1),
    ):
        search.fit(X, y)

    assert tasks.data, "no task ran on the cluster"
    scores = search.cv_results_["mean_test_score"]
    assert len(set(scores)) == len(
        scores
    )  # a unique best: the comparison means something
    assert search.best_params_ == local.best_params_
    assert_allclose(scores, local.cv_results_["mean_test_score"])


# -- optional dependency --------------------------------------------------------


def test_core_imports_and_works_without_dask():
    code = textwrap.dedent(
        """
        import sys
        import skrelrep
        assert "dask" not in sys.modules, "import skrelrep imported dask"
        for name in ("dask", "dask.array", "distributed", "dask_ml"):
            sys.modules[name] = None  # any import of them now raises ImportError
        import numpy as np
        from skrelrep import RelativeTransformer
        X = np.random.RandomState(0).normal(size=(50, 4))
        R = RelativeTransformer(5, random_state=0).fit_transform(X)
        assert R.shape == (50, 5)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
