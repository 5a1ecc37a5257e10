"""skrelrep.anchors: the selection strategies, their exact FPS and sampled k-means,
explicit and callable selections, and GreedyAnchorSelector with parallel data."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import ortho_group
from sklearn import config_context
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError

from skrelrep import GreedyAnchorSelector, RelativeTransformer, StitchedPipeline
from skrelrep.anchors import _fps, _kmeans
from skrelrep.anchors._greedy import _OBJECTIVES
from skrelrep.metrics import (
    cosine_agreement,
    mean_reciprocal_rank,
    neighbourhood_jaccard,
)
from skrelrep.utils._norms import normalize_rows

STRATEGIES = ["random", "stratified", "fps", "kmeans"]


# --- strategies, explicit indices, callables --------------------------------------------


def test_explicit_indices_and_order(blobs):
    X, _ = blobs
    relative = RelativeTransformer(anchor_selection=[5, 2, 9], center=False).fit(X)
    assert_array_equal(relative.anchor_indices_, [5, 2, 9])
    assert relative.n_anchors_ == 3
    assert_allclose(relative.transform(X[[5]])[0, 0], 1.0)
    assert_allclose(
        relative.transform(X), cosine_similarity(X, X[[5, 2, 9]]), atol=1e-12
    )


def test_callable_selection(blobs):
    X, y = blobs
    calls = {}

    def first_of_each_class(X, y, *, n_anchors, random_state):
        calls["n_anchors"] = n_anchors
        calls["rng"] = random_state
        return [int(np.flatnonzero(y == k)[0]) for k in np.unique(y)]

    relative = RelativeTransformer(4, anchor_selection=first_of_each_class).fit(X, y)
    assert calls["n_anchors"] == 4
    assert isinstance(calls["rng"], np.random.RandomState)
    assert_array_equal(y[relative.anchor_indices_], np.unique(y))


def test_fraction_and_none(blobs):
    X, _ = blobs
    assert RelativeTransformer(0.1, random_state=0).fit(X).n_anchors_ == 30
    one = RelativeTransformer(0.001, center=False, random_state=0).fit(X)
    assert one.n_anchors_ == 1
    with pytest.raises(ValueError, match="center=True needs at least 2 anchors"):
        RelativeTransformer(0.001, random_state=0).fit(X)
    every = RelativeTransformer(None, center=False).fit(X[:20])
    assert_array_equal(every.anchor_indices_, np.arange(20))
    assert_allclose(every.transform(X), cosine_similarity(X, X[:20]), atol=1e-12)


def test_too_many_anchors_warns_and_clips(blobs):
    X, _ = blobs
    with pytest.warns(UserWarning, match="n_anchors=500 is larger than n_samples=300"):
        relative = RelativeTransformer(500, random_state=0).fit(X)
    assert relative.n_anchors_ == 300
    assert sorted(relative.anchor_indices_) == list(range(300))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_deterministic_with_random_state(blobs, strategy):
    X, y = blobs
    a = RelativeTransformer(20, anchor_selection=strategy, random_state=3).fit(X, y)
    b = RelativeTransformer(20, anchor_selection=strategy, random_state=3).fit(X, y)
    assert_array_equal(a.anchor_indices_, b.anchor_indices_)
    assert len(set(a.anchor_indices_.tolist())) == 20


def test_stratified_is_balanced():
    y = np.array([0] * 50 + [1] * 30 + [2] * 4)
    X = np.random.RandomState(0).normal(size=(len(y), 5))
    relative = RelativeTransformer(
        12, anchor_selection="stratified", random_state=0
    ).fit(X, y)
    assert sorted(np.bincount(y[relative.anchor_indices_]).tolist()) == [4, 4, 4]
    relative = RelativeTransformer(
        20, anchor_selection="stratified", random_state=0
    ).fit(X, y)
    assert sorted(np.bincount(y[relative.anchor_indices_]).tolist()) == [4, 8, 8]
    with pytest.raises(ValueError, match="needs class labels"):
        RelativeTransformer(5, anchor_selection="stratified").fit(X)


def test_fps_spreads_over_directions():
    """FPS picks one anchor per direction before repeating one."""
    rng = np.random.RandomState(0)
    directions = np.eye(6)
    X = np.repeat(directions, 30, axis=0) * rng.uniform(0.5, 2, size=(180, 1))
    X += rng.normal(scale=1e-3, size=X.shape)
    relative = RelativeTransformer(6, anchor_selection="fps", random_state=0).fit(X)
    assert sorted((relative.anchor_indices_ // 30).tolist()) == list(range(6))


def test_kmeans_one_anchor_per_cluster():
    rng = np.random.RandomState(0)
    directions = ortho_group.rvs(8, random_state=0)[:5]
    X = np.repeat(directions, 40, axis=0) + rng.normal(scale=0.02, size=(200, 8))
    relative = RelativeTransformer(5, anchor_selection="kmeans", random_state=0).fit(X)
    assert sorted((relative.anchor_indices_ // 40).tolist()) == list(range(5))


def test_explicit_indices_take_the_first_n_anchors(blobs):
    X, y = blobs
    ranked = [7, 3, 11, 5, 0]
    assert_array_equal(
        RelativeTransformer(3, anchor_selection=ranked).fit(X).anchor_indices_,
        [7, 3, 11],
    )
    # None, or more anchors than indices: all of them, without a warning.
    for n_anchors in (None, 5, 300):
        relative = RelativeTransformer(n_anchors, anchor_selection=ranked).fit(X)
        assert_array_equal(relative.anchor_indices_, ranked)
    # A fraction of the rows: here 1% of 300, rounded up.
    relative = RelativeTransformer(0.01, anchor_selection=ranked).fit(X)
    assert_array_equal(relative.anchor_indices_, [7, 3, 11])
    # A grid search over n_anchors walks the ranked list.
    search = GridSearchCV(
        make_pipeline(
            RelativeTransformer(anchor_selection=ranked),
            LogisticRegression(),
        ),
        {"relativetransformer__n_anchors": [2, 3, 5]},
        cv=2,
        refit=False,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 3


# --- exact FPS and sampled k-means -----------------------------------------------------


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
        monkeypatch.setattr(_fps, "_FPS_MIN_CANDIDATES", 2)
        monkeypatch.setattr(_fps, "_FPS_MAX_CANDIDATES", 3)
    X = _fps_datasets()[name]
    for n_anchors in (2, 60, 200):
        relative = RelativeTransformer(
            n_anchors, anchor_selection="fps", random_state=3
        ).fit(X)
        expected = _fps_reference(X, n_anchors, seed=3)
        assert np.array_equal(relative.anchor_indices_, expected), n_anchors


def test_blocked_fps_on_sparse_and_every_row(monkeypatch):
    monkeypatch.setattr(_fps, "_FPS_MAX_CANDIDATES", 5)
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
    monkeypatch.setattr(_fps, "_FPS_MAX_CANDIDATES", 7)  # the argsort path
    X = _fps_datasets()["blobs"]
    params = dict(n_anchors=40, anchor_selection="fps", random_state=0)
    with config_context(array_api_dispatch=True):
        on_torch = RelativeTransformer(**params).fit(torch.asarray(X))
    assert np.array_equal(on_torch.anchor_indices_, _fps_reference(X, 40, 0))


def _repeated_directions(n_directions, copies, n_features, seed, scaled):
    """Rows repeating ``n_directions`` directions, shuffled; each row's direction."""
    rng = np.random.RandomState(seed)
    basis = rng.normal(size=(n_directions, n_features))
    labels = rng.permutation(np.repeat(np.arange(n_directions), copies))
    X = basis[labels]
    if scaled:
        X = X * rng.uniform(0.5, 2.0, size=(X.shape[0], 1))
    return X, labels


@pytest.mark.parametrize("candidates", ["default", "tiny"])
def test_blocked_fps_on_exact_copies_picks_what_textbook_fps_picks(
    candidates, monkeypatch
):
    # Copies tie exactly: FPS orders them by index, and so must the candidates.
    if candidates == "tiny":
        monkeypatch.setattr(_fps, "_FPS_MIN_CANDIDATES", 2)
        monkeypatch.setattr(_fps, "_FPS_MAX_CANDIDATES", 3)
    X, _ = _repeated_directions(40, 30, 8, seed=0, scaled=False)
    for n_anchors in (2, 25, 40):
        relative = RelativeTransformer(
            n_anchors, anchor_selection="fps", random_state=2
        ).fit(X)
        assert_array_equal(relative.anchor_indices_, _fps_reference(X, n_anchors, 2))


@pytest.mark.parametrize("scaled", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fps_with_more_anchors_than_directions_warns_and_fills_at_random(scaled, dtype):
    X, labels = _repeated_directions(12, 50, 16, seed=1, scaled=scaled)
    X = X.astype(dtype)
    relative = RelativeTransformer(100, anchor_selection="fps", random_state=0)
    with pytest.warns(UserWarning, match="found 12 distinct directions"):
        relative.fit(X)
    indices = relative.anchor_indices_
    assert len(set(indices.tolist())) == 100
    # FPS first covers each direction once; then no direction is picked on purpose.
    assert sorted(labels[indices[:12]].tolist()) == list(range(12))
    # The rest: the seeded uniform draw among the rows not chosen (the state of the
    # generator after FPS's first pick).
    rng = np.random.RandomState(0)
    rng.randint(X.shape[0])
    remaining = np.setdiff1d(np.arange(X.shape[0]), indices[:12])
    assert_array_equal(indices[12:], rng.choice(remaining, size=88, replace=False))


def test_fps_on_copies_needs_few_rounds(monkeypatch):
    """A count, not a time: each round rescans every row (the cost on copies was
    one round per anchor)."""
    rounds = []
    update = _fps._update_distances

    def counted(X, scale, indices, nearest, xp):
        rounds.append(len(indices))
        return update(X, scale, indices, nearest, xp)

    monkeypatch.setattr(_fps, "_update_distances", counted)
    X, _ = _repeated_directions(30, 200, 16, seed=2, scaled=True)
    regular = np.random.RandomState(0).normal(size=X.shape)
    counts = {}
    for name, data in [("regular", regular), ("copies", X)]:
        rounds.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # 30 directions
            _fps.farthest_point_sampling(data, None, 400, np.random.RandomState(0), np)
        counts[name] = len(rounds)
    assert counts["copies"] <= 2 * counts["regular"] + 10, counts


def test_kmeans_on_few_directions_does_not_warn_about_fps():
    X, _ = _repeated_directions(5, 40, 6, seed=3, scaled=True)
    relative = RelativeTransformer(20, anchor_selection="kmeans", random_state=0)
    relative.fit(X)  # warnings are errors here
    assert len(set(relative.anchor_indices_.tolist())) == 20


def test_kmeans_sample_size_rule():
    size = _kmeans.kmeans_sample_size
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
def test_selection_makes_no_normalised_copy_of_x(strategy, traced_peak):
    rng = np.random.RandomState(0)
    X = (rng.normal(size=(100_000, 64)) + 0.5).astype(np.float32)  # 24 MiB
    relative, peak = traced_peak(
        lambda: RelativeTransformer(50, anchor_selection=strategy, random_state=0).fit(
            X
        )
    )
    assert len(set(relative.anchor_indices_.tolist())) == 50
    # FPS keeps a distance per row and a chunk of products; k-means a 10% sample.
    assert peak < 0.4 * X.nbytes


# --- GreedyAnchorSelector ----------------------------------------------------------------


METRICS = ["mrr", "jaccard", "cosine"]
REFERENCE = {
    "mrr": mean_reciprocal_rank,
    "jaccard": lambda A, B: neighbourhood_jaccard(A, B, k=5),
    "cosine": cosine_agreement,
}


def _parallel_spaces(n_samples=600, n_features=16, seed=0):
    """Two views of the same items: rotated, with clean rows and very noisy rows.

    Anchors on noisy rows mean different things in the two views, so the choice of
    anchors matters and a good selection is known to exist (the clean rows).
    """
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    noise = np.where(rng.uniform(size=n_samples) < 0.5, 0.05, 1.5)
    rotation = ortho_group.rvs(n_features, random_state=seed)
    X_parallel = X @ rotation + noise[:, None] * rng.normal(size=X.shape)
    return X, X_parallel, noise


def _relative(X, anchors):
    return normalize_rows(X, np) @ normalize_rows(anchors, np).T


@pytest.mark.parametrize("metric", METRICS)
def test_incremental_objective_matches_the_metric_from_scratch(metric):
    # Scoring a candidate must equal the metric of the relative representations on
    # the chosen anchors plus that candidate, computed by skrelrep.metrics.
    X, X_parallel, _ = _parallel_spaces(n_samples=120)
    A, B = normalize_rows(X, np), normalize_rows(X_parallel, np)
    rows, chosen, candidates = np.arange(60), [70, 81, 92], np.arange(100, 110)
    objective = _OBJECTIVES[metric](len(rows), k=5)
    for index in chosen:
        objective.add(A[rows] @ A[index], B[rows] @ B[index])
    scores = objective.scores(A[rows] @ A[candidates].T, B[rows] @ B[candidates].T)
    expected = [
        REFERENCE[metric](
            _relative(X[rows], X[[*chosen, c]]),
            _relative(X_parallel[rows], X_parallel[[*chosen, c]]),
        )
        for c in candidates
    ]
    np.testing.assert_allclose(scores, expected, atol=1e-12)


@pytest.mark.parametrize("metric", ["mrr", "jaccard"])
def test_greedy_beats_random_on_held_out_rows(metric):
    X, X_parallel, _ = _parallel_spaces()
    train, test = slice(0, 400), slice(400, None)
    selector = GreedyAnchorSelector(metric=metric, n_candidates=20, n_eval=150)

    def held_out_mrr(selection, seed):
        parallel = {"X_parallel": X_parallel[train]} if selection is selector else {}
        relative = RelativeTransformer(
            n_anchors=12, anchor_selection=selection, random_state=seed
        ).fit(X[train], **parallel)
        parallel = relative.reanchor(X_parallel[train][relative.anchor_indices_])
        return mean_reciprocal_rank(
            relative.transform(X[test]), parallel.transform(X_parallel[test])
        )

    greedy = np.mean([held_out_mrr(selector, seed) for seed in range(3)])
    random = np.mean([held_out_mrr("random", seed) for seed in range(3)])
    assert greedy > random + 0.1


def test_greedy_prefers_clean_anchors():
    X, X_parallel, noise = _parallel_spaces()
    indices = GreedyAnchorSelector(n_candidates=20, n_eval=150)(
        X, None, n_anchors=15, random_state=0, X_parallel=X_parallel
    )
    # Half the rows are clean; the greedy anchors are mostly clean ones.
    assert np.mean(noise[indices] < 1) > 0.8


@pytest.mark.parametrize("metric", METRICS)
def test_deterministic_distinct_valid_indices(metric):
    X, X_parallel, _ = _parallel_spaces(n_samples=200)
    selector = GreedyAnchorSelector(metric=metric, n_candidates=10, n_eval=100)
    first = selector(X, None, n_anchors=20, random_state=0, X_parallel=X_parallel)
    again = selector(
        X,
        None,
        n_anchors=20,
        random_state=np.random.RandomState(0),
        X_parallel=X_parallel,
    )
    other = selector(X, None, n_anchors=20, random_state=1, X_parallel=X_parallel)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.dtype == np.intp
    assert first.shape == (20,)
    assert np.unique(first).size == 20
    assert first.min() >= 0
    assert first.max() < 200


def test_every_row_and_candidates_beyond_the_pool():
    X, X_parallel, _ = _parallel_spaces(n_samples=30)
    selector = GreedyAnchorSelector(n_candidates=100, n_eval=1000)
    indices = selector(X, None, n_anchors=30, random_state=0, X_parallel=X_parallel)
    np.testing.assert_array_equal(np.sort(indices), np.arange(30))
    np.testing.assert_array_equal(
        selector(X, None, n_anchors=None, random_state=0, X_parallel=X_parallel),
        np.arange(30),
    )


def test_as_anchor_selection_of_relative_transformer():
    X, X_parallel, _ = _parallel_spaces(n_samples=200)
    selector = GreedyAnchorSelector(n_candidates=10, center=True)
    relative = RelativeTransformer(
        n_anchors=8, anchor_selection=selector, center=True, random_state=0
    )
    fitted = relative.fit(X, X_parallel=X_parallel)
    np.testing.assert_array_equal(
        fitted.anchor_indices_,
        selector(
            X,
            None,
            n_anchors=8,
            random_state=np.random.RandomState(0),
            X_parallel=X_parallel,
        ),
    )
    # Cloning copies the selector and its parameters, never data; refitting on the
    # same rows gives the same anchors.
    cloned = clone(relative)
    assert cloned.anchor_selection is not selector
    assert cloned.anchor_selection.get_params() == selector.get_params()
    assert not any(
        isinstance(value, np.ndarray) for value in cloned.get_params().values()
    )
    np.testing.assert_array_equal(
        cloned.fit(X, X_parallel=X_parallel).anchor_indices_, fitted.anchor_indices_
    )
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.transform(X[:5]), fitted.transform(X[:5]))


def test_bad_input():
    X, X_parallel, _ = _parallel_spaces(n_samples=50)
    select = GreedyAnchorSelector()
    with pytest.raises(ValueError, match="X has 50 rows, X_parallel 49"):
        select(X, None, n_anchors=5, X_parallel=X_parallel[:49])
    with pytest.raises(ValueError, match="n_anchors must be between"):
        select(X, None, n_anchors=51, X_parallel=X_parallel)
    with pytest.raises(ValueError, match="needs the parallel embeddings"):
        select(X, None, n_anchors=5)
    with pytest.raises(ValueError, match="needs the parallel embeddings"):
        RelativeTransformer(5, anchor_selection=select).fit(X)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        RelativeTransformer(5, anchor_selection=select).fit(
            X, X_parallel=X_parallel[:49]
        )
    # Parallel data given to a selection that does not read it is an error, not
    # silently ignored.
    with pytest.raises(ValueError, match="X_parallel is read only by"):
        RelativeTransformer(5, random_state=0).fit(X, X_parallel=X_parallel)
    X_parallel[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        select(X, None, n_anchors=5, X_parallel=X_parallel)


@pytest.mark.parametrize(
    "params",
    [{"metric": "euclidean"}, {"n_candidates": 0}, {"n_eval": 1}, {"k": 0}],
)
def test_invalid_parameters(params):
    X, X_parallel, _ = _parallel_spaces(n_samples=50)
    with pytest.raises(InvalidParameterError):
        GreedyAnchorSelector(**params)(X, None, n_anchors=5, X_parallel=X_parallel)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_greedy_anchors_agree_better_than_as_many_baseline_anchors_on_digits():
    # The measured claim, with room to spare: on two MLP encoders of the digits (seeds
    # 0 and 1), 20 greedy anchors give held-out relative spaces that agree better
    # (mean MRR over 5 selection seeds) than 20 random, FPS or k-means anchors, by
    # more than 0.04 (measured: 0.679 against 0.553 / 0.590 / 0.571), and at least as
    # well on Jaccard@10 as random ones (0.458 against 0.418). An earlier version
    # compared with 80 baseline anchors over 3 seeds, where greedy led FPS by 0.001.
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from skrelrep import MLPEncoder

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, _ = train_test_split(
        X / 16, y, test_size=0.5, stratify=y, random_state=0
    )
    encoders = [
        MLPEncoder((32,), tol=1e-2, random_state=seed).fit(X_train, y_train)
        for seed in (0, 1)
    ]
    train = [encoder.transform(X_train) for encoder in encoders]
    test = [encoder.transform(X_test) for encoder in encoders]

    def agreement(selection, n_anchors, **fit_params):
        scores = []
        for seed in range(5):
            relative = RelativeTransformer(
                n_anchors, anchor_selection=selection, center=True, random_state=seed
            ).fit(train[0], **fit_params)
            other = relative.reanchor(train[1][relative.anchor_indices_])
            R, R_parallel = relative.transform(test[0]), other.transform(test[1])
            scores.append(
                [
                    mean_reciprocal_rank(R, R_parallel),
                    neighbourhood_jaccard(R, R_parallel, k=10),
                ]
            )
        return np.mean(scores, axis=0)

    greedy = agreement(GreedyAnchorSelector(center=True), 20, X_parallel=train[1])
    baselines = {name: agreement(name, 20) for name in ["random", "fps", "kmeans"]}
    for name, (mrr, _) in baselines.items():
        assert greedy[0] > mrr + 0.04, (name, greedy[0], mrr)
    assert greedy[1] >= baselines["random"][1]


# --- parallel data travels with the rows ---------------------------------------------


def _classified_parallel_spaces():
    X, X_parallel, _ = _parallel_spaces(n_samples=200)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, X_parallel, y


def _greedy_pipeline():
    return make_pipeline(
        RelativeTransformer(
            8,
            anchor_selection=GreedyAnchorSelector(n_candidates=10, n_eval=50),
            random_state=0,
        ),
        LogisticRegression(),
    )


def test_greedy_selection_inside_cross_validation():
    # The parallel rows are split with X: each fold's selector sees the parallel
    # view of that fold's training rows (100 of them), never the whole array.
    X, X_parallel, y = _classified_parallel_spaces()
    seen = []
    original = GreedyAnchorSelector.__call__

    def recording(self, X, y=None, **kwargs):
        seen.append((X.shape[0], kwargs["X_parallel"].shape[0]))
        return original(self, X, y, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(GreedyAnchorSelector, "__call__", recording)
        scores = cross_val_score(
            _greedy_pipeline(),
            X,
            y,
            cv=2,
            params={"relativetransformer__X_parallel": X_parallel},
        )
    assert seen == [(100, 100), (100, 100)]
    assert scores.shape == (2,) and np.all(scores > 0.5)


def test_greedy_selection_inside_grid_search_with_metadata_routing():
    X, X_parallel, y = _classified_parallel_spaces()
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            RelativeTransformer(
                8,
                anchor_selection=GreedyAnchorSelector(n_candidates=10, n_eval=50),
                random_state=0,
            ).set_fit_request(X_parallel=True),
            LogisticRegression(),
        )
        search = GridSearchCV(
            pipe, {"relativetransformer__n_anchors": [4, 8]}, cv=3
        ).fit(X, y, X_parallel=X_parallel)
        # The same anchors as a fit on the whole data with its parallel view.
        direct = (
            clone(pipe[0])
            .set_params(n_anchors=search.best_params_["relativetransformer__n_anchors"])
            .fit(X, X_parallel=X_parallel)
        )
    assert len(search.cv_results_["params"]) == 2
    np.testing.assert_array_equal(
        search.best_estimator_[0].anchor_indices_, direct.anchor_indices_
    )


def test_greedy_selection_in_a_stitched_pipeline():
    X, X_parallel, y = _classified_parallel_spaces()
    pipe = StitchedPipeline(
        FunctionTransformer(),
        RelativeTransformer(
            8, anchor_selection=GreedyAnchorSelector(n_candidates=10), random_state=0
        ),
        LogisticRegression(),
    )
    pipe.fit(X, y, relative__X_parallel=X_parallel)
    expected = GreedyAnchorSelector(n_candidates=10)(
        X,
        y,
        n_anchors=8,
        random_state=np.random.RandomState(0),
        X_parallel=X_parallel,
    )
    np.testing.assert_array_equal(pipe.anchor_indices_, expected)
