"""RelativeTransformer.partial_fit: anchors from a stream, uniform over every row seen."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import chisquare

from skrelrep import GreedyAnchorSelector, RelativeTransformer
from skrelrep.anchors._reservoir import StreamSample


def _stream(n_samples=600, n_features=6, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)) + 3.0
    y = rng.randint(0, 3, size=n_samples)
    return X, y


def _feed(relative, X, y=None, sizes=(100, 250, 1, 249)):
    start = 0
    for size in sizes:
        batch = slice(start, start + size)
        relative.partial_fit(X[batch], None if y is None else y[batch])
        start += size
    assert start == X.shape[0]
    return relative


@pytest.mark.parametrize("strategy", ["random", "stratified"])
@pytest.mark.parametrize("sparse", [False, True])
def test_anchors_are_the_stream_rows_at_anchor_indices(strategy, sparse):
    """The fitted state equals fit with the same rows given as explicit indices."""
    X, y = _stream()
    data = sp.csr_matrix(X) if sparse else X
    params = dict(n_anchors=30, center=True, standardize=True)
    streamed = _feed(
        RelativeTransformer(anchor_selection=strategy, random_state=0, **params),
        data,
        y if strategy == "stratified" else None,
    )
    indices = np.asarray(streamed.anchor_indices_)
    assert streamed.n_samples_seen_ == 600
    assert len(np.unique(indices)) == 30
    assert indices.max() >= 351  # rows of later batches count from the stream's start
    explicit = RelativeTransformer(anchor_selection=indices, **params).fit(data)
    assert_allclose(streamed.anchor_mean_, explicit.anchor_mean_)
    assert_allclose(streamed.transform(data), explicit.transform(data), atol=1e-12)
    if strategy == "stratified":
        assert_array_equal(np.bincount(y[indices]), [10, 10, 10])


def test_indices_of_a_second_batch_count_from_the_first():
    X, _ = _stream(n_samples=2000)
    relative = RelativeTransformer(n_anchors=50, random_state=0)
    relative.partial_fit(X[:1000])
    relative.partial_fit(X[1000:])
    late = np.asarray(relative.anchor_indices_)
    late = late[late >= 1000]
    assert late.size > 0
    anchors = RelativeTransformer(
        anchor_selection=np.asarray(relative.anchor_indices_)
    ).fit(X)
    assert_allclose(
        relative.transform(X[1000:][late - 1000]),
        anchors.transform(X[late]),
    )


def _inclusions(strategy, n_samples, n_anchors, sizes, labels=None, repeats=2000):
    counts = np.zeros(n_samples)
    X = np.arange(n_samples, dtype=float)[:, None]
    for seed in range(repeats):
        rng = np.random.RandomState(seed)
        sample = StreamSample(strategy, n_anchors)
        start = 0
        for size in sizes:
            batch = slice(start, start + size)
            sample.offer(X[batch], None if labels is None else labels[batch], rng)
            start += size
        rows, indices = sample.anchors(rng)
        assert_array_equal(rows[:, 0], indices)  # each row is the one indexed
        counts[indices] += 1
    return counts


def test_random_reservoir_is_uniform_over_the_stream():
    """Every row is an anchor equally often, whatever batch it came in."""
    counts = _inclusions("random", 40, 5, sizes=(3, 17, 1, 19))
    assert counts.sum() == 2000 * 5
    assert chisquare(counts).pvalue > 1e-3
    # The test has power: a sampler that keeps the first rows seen fails it.
    biased = counts.copy()
    biased[:5] += 30
    biased[5:10] -= 30
    assert chisquare(biased).pvalue < 1e-3


def test_stratified_reservoirs_are_uniform_within_each_class():
    labels = np.repeat([0, 1], [10, 30])
    np.random.RandomState(0).shuffle(labels)
    counts = _inclusions(
        "stratified", 40, 8, sizes=(7, 13, 20), labels=labels, repeats=1000
    )
    for label, size in [(0, 10), (1, 30)]:
        members = counts[labels == label]
        # Four anchors per class, as fit's quota rule gives for these sizes.
        assert members.sum() == 1000 * 4
        assert members.size == size
        assert chisquare(members).pvalue > 1e-3


def test_stratified_counts_follow_fits_quota_rule():
    """A small class gives all it has and the others share the rest, as in fit."""
    X, _ = _stream(n_samples=300)
    y = np.repeat([0, 1, 2], [4, 148, 148])
    streamed = _feed(
        RelativeTransformer(30, anchor_selection="stratified", random_state=0),
        X,
        y,
        sizes=(100, 100, 100),
    )
    fitted = RelativeTransformer(30, anchor_selection="stratified", random_state=0)
    fitted.fit(X, y)
    assert_array_equal(
        np.bincount(y[streamed.anchor_indices_]),
        np.bincount(y[fitted.anchor_indices_]),
    )


def test_fewer_rows_than_anchors_makes_every_row_an_anchor():
    X, _ = _stream(n_samples=12)
    relative = RelativeTransformer(n_anchors=50, random_state=0)
    relative.partial_fit(X[:5])
    assert_array_equal(relative.anchor_indices_, np.arange(5))
    relative.partial_fit(X[5:])
    assert_array_equal(relative.anchor_indices_, np.arange(12))
    assert relative.n_anchors_ == 12
    assert relative.get_feature_names_out().shape == (12,)


def test_fit_starts_a_new_stream():
    X, _ = _stream()
    relative = RelativeTransformer(n_anchors=20, random_state=0)
    relative.partial_fit(X[:100]).partial_fit(X[100:])
    relative.fit(X[:50])
    assert relative.n_samples_seen_ == 50
    relative.partial_fit(X[:10])
    assert relative.n_samples_seen_ == 10
    assert np.asarray(relative.anchor_indices_).max() < 10


def test_a_pickled_stream_continues_where_it_stopped():
    X, _ = _stream()
    relative = RelativeTransformer(n_anchors=20, random_state=0).partial_fit(X[:300])
    restored = pickle.loads(pickle.dumps(relative))
    relative.partial_fit(X[300:])
    restored.partial_fit(X[300:])
    assert_array_equal(relative.anchor_indices_, restored.anchor_indices_)
    assert_allclose(relative.transform(X), restored.transform(X))


def test_same_seed_same_anchors_and_batching_does_not_matter_for_the_law():
    X, _ = _stream()
    first = _feed(RelativeTransformer(20, random_state=3), X)
    second = _feed(RelativeTransformer(20, random_state=3), X)
    assert_array_equal(first.anchor_indices_, second.anchor_indices_)


@pytest.mark.parametrize(
    "selection",
    ["fps", "kmeans", np.arange(10), GreedyAnchorSelector(), lambda X, y, **kw: [0]],
    ids=["fps", "kmeans", "indices", "greedy", "callable"],
)
def test_strategies_that_need_every_row_are_refused(selection):
    X, _ = _stream()
    relative = RelativeTransformer(10, anchor_selection=selection)
    # Absent, as scikit-learn hides a method that cannot serve, with the reason.
    assert not hasattr(relative, "partial_fit")
    with pytest.raises(AttributeError, match="no attribute 'partial_fit'") as error:
        relative.partial_fit(X)
    # The traceback carries the reason, as the cause.
    assert "needs every row at once: call fit" in str(error.value.__cause__)
    assert not hasattr(relative, "anchors_")
    with pytest.raises(ValueError, match="needs every row at once"):
        StreamSample(selection, 10)


@pytest.mark.parametrize("n_anchors", [0.5, None])
def test_a_fraction_of_an_unknown_length_is_refused(n_anchors):
    X, _ = _stream()
    with pytest.raises(AttributeError) as error:
        RelativeTransformer(n_anchors).partial_fit(X)
    assert "needs an integer n_anchors" in str(error.value.__cause__)


def test_bad_batches_are_refused():
    X, y = _stream()
    relative = RelativeTransformer(10, anchor_selection="stratified")
    with pytest.raises(ValueError, match=r"needs class labels: call partial_fit"):
        relative.partial_fit(X)
    with pytest.raises(ValueError, match="one class label per row"):
        relative.partial_fit(X, X[:, 0])
    relative.partial_fit(X[:100], y[:100])
    with pytest.raises(ValueError, match="features"):
        relative.partial_fit(X[100:, :3], y[100:])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        relative.partial_fit(X[100:], y[:10])
    assert relative.n_samples_seen_ == 100  # the refused batches left no trace


def test_dask_batches_are_refused():
    da = pytest.importorskip("dask.array")
    X, _ = _stream()
    with pytest.raises(TypeError, match="in-memory batches"):
        RelativeTransformer(10).partial_fit(da.from_array(X, chunks=100))


def test_torch_batches_stay_in_their_namespace():
    torch = pytest.importorskip("torch")
    import sklearn

    X, _ = _stream()
    with sklearn.config_context(array_api_dispatch=True):
        relative = RelativeTransformer(20, random_state=0)
        for batch in np.array_split(X, 3):
            relative.partial_fit(torch.asarray(batch))
        R = relative.transform(torch.asarray(X))
    assert isinstance(R, torch.Tensor)
    assert isinstance(relative.anchor_indices_, torch.Tensor)
    explicit = RelativeTransformer(
        anchor_selection=relative.anchor_indices_.numpy()
    ).fit(X)
    assert_allclose(R.numpy(), explicit.transform(X), atol=1e-12)


def _state(relative):
    """Everything a batch may change, as plain copies."""
    stream = relative._stream
    return {
        "anchors": np.asarray(relative.anchors_).copy(),
        "indices": np.asarray(relative.anchor_indices_).copy(),
        "n_samples_seen": relative.n_samples_seen_,
        "n_seen": stream.n_seen,
        "rng": relative._stream_rng.get_state()[1].copy(),
        "reservoirs": {
            label: (
                reservoir.indices.copy(),
                reservoir.rows.toarray()
                if sp.issparse(reservoir.rows)
                else np.array(reservoir.rows),
                reservoir.n_seen,
            )
            for label, reservoir in stream.reservoirs.items()
        },
    }


def _assert_same_state(before, after):
    assert before.keys() == after.keys()
    for key in ("anchors", "indices", "rng"):
        assert_array_equal(before[key], after[key])
    assert before["n_samples_seen"] == after["n_samples_seen"]
    assert before["n_seen"] == after["n_seen"]
    assert before["reservoirs"].keys() == after["reservoirs"].keys()
    for label, (indices, rows, n_seen) in before["reservoirs"].items():
        assert_array_equal(after["reservoirs"][label][0], indices)
        assert_array_equal(after["reservoirs"][label][1], rows)
        assert after["reservoirs"][label][2] == n_seen


def _assert_anchors_are_rows(relative, X, y=None):
    """anchor_indices_ are distinct and point at the anchor rows (fit with the
    same indices gives the same fitted state)."""
    indices = np.asarray(relative.anchor_indices_)
    assert len(np.unique(indices)) == indices.size
    assert indices.max() < relative.n_samples_seen_ == X.shape[0]
    explicit = RelativeTransformer(anchor_selection=indices).fit(X)
    assert_allclose(np.asarray(relative.anchors_), explicit.anchors_)
    dense = X.toarray() if sp.issparse(X) else X
    assert_allclose(relative.transform(dense), explicit.transform(dense), atol=1e-12)


@pytest.mark.parametrize("strategy", ["random", "stratified"])
@pytest.mark.parametrize("first_sparse", [False, True])
def test_sparse_and_dense_batches_mix(strategy, first_sparse):
    """A CSR batch after dense ones (or the reverse) joins the same stream: the
    anchors stay in the container of the first batch, and are those that dense
    batches alone would give."""
    X, y = _stream()
    containers = [sp.csr_matrix, np.asarray]
    if not first_sparse:
        containers.reverse()
    params = dict(n_anchors=20, anchor_selection=strategy, random_state=0)
    mixed, dense = RelativeTransformer(**params), RelativeTransformer(**params)
    for i, start in enumerate(range(0, 600, 150)):
        rows = slice(start, start + 150)
        labels = y[rows] if strategy == "stratified" else None
        mixed.partial_fit(containers[i % 2](X[rows]), labels)
        dense.partial_fit(X[rows], labels)
    for reservoir in mixed._stream.reservoirs.values():
        assert sp.issparse(reservoir.rows) == first_sparse
    assert_array_equal(mixed.anchor_indices_, dense.anchor_indices_)
    _assert_anchors_are_rows(mixed, X)


@pytest.mark.parametrize("strategy", ["random", "stratified"])
def test_a_refused_batch_leaves_no_trace(strategy):
    """After each refused batch the stream is as before it (reservoirs, counts, the
    random state), and later batches give anchor indices that point at the
    anchor rows."""
    torch = pytest.importorskip("torch")
    import sklearn

    X, y = _stream()
    stratified = strategy == "stratified"
    relative = RelativeTransformer(20, anchor_selection=strategy, random_state=0)
    relative.partial_fit(X[:100], y[:100] if stratified else None)
    refused = [
        (X[100:200, :3], y[100:200], "features"),
        (X[100:200], y[:10], "inconsistent numbers of samples"),
    ]
    if stratified:
        letters = np.array(list("abc"))[y[100:200]]
        refused += [
            (X[100:200], letters, "labels of one kind"),
            (X[100:200], None, "needs class labels"),
        ]
    for batch, labels, message in refused:
        before = _state(relative)
        with pytest.raises(ValueError, match=message):
            relative.partial_fit(batch, labels)
        _assert_same_state(before, _state(relative))
    # Rows of another namespace than the anchors held.
    before = _state(relative)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="torch arrays after batches of NumPy"):
            relative.partial_fit(
                torch.asarray(X[100:200]), y[100:200] if stratified else None
            )
    _assert_same_state(before, _state(relative))
    for start in (100, 350):
        rows = slice(start, start + 250)
        relative.partial_fit(X[rows], y[rows] if stratified else None)
    _assert_anchors_are_rows(relative, X)
    if stratified:
        assert sorted(relative._stream.reservoirs) == [0, 1, 2]
