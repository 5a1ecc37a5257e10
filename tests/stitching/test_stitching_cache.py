"""StitchedPipeline(memory=...): the encoder's outputs cached across fits and clones.

The encoders below count, in a module-level tally that survives cloning and the
cache's pickling, every row they encode and every call to ``fit``: the counts are
the measure of the cache, checked against what a grid search must encode.
"""

import pickle
from collections import Counter

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold

from skrelrep import RelativeTransformer, StitchedPipeline, stitch
from skrelrep.stitching import _row_table
from skrelrep.stitching._cache import EncoderCache

TALLY = Counter()  # "rows" encoded, "fits" called, by every counting encoder


@pytest.fixture(autouse=True)
def _reset_tally():
    TALLY.clear()


class CountingEncoder(TransformerMixin, BaseEstimator):
    """A PCA that counts the rows it encodes and the times it is fitted."""

    def __init__(self, n_components=8):
        self.n_components = n_components

    def fit(self, X, y=None):
        TALLY["fits"] += 1
        self.pca_ = PCA(self.n_components, random_state=0).fit(X)
        return self

    def transform(self, X):
        TALLY["rows"] += len(X)
        return self.pca_.transform(X)


class PretrainedEncoder(TransformerMixin, BaseEstimator):
    """A fixed random projection: ``fit`` learns nothing but records the call."""

    def __init__(self, n_components=8, seed=0):
        self.n_components = n_components
        self.seed = seed

    def fit(self, X, y=None):
        TALLY["fits"] += 1
        return self

    def transform(self, X):
        TALLY["rows"] += len(X)
        rng = np.random.RandomState(self.seed)
        return np.asarray(X) @ rng.normal(size=(np.shape(X)[1], self.n_components))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


CV = KFold(3, shuffle=True, random_state=0)
ANCHORS = [5, 10, 15, 20]


def _pipeline(encoder=None, memory=None):
    return StitchedPipeline(
        CountingEncoder() if encoder is None else encoder,
        RelativeTransformer(20, random_state=0),
        LogisticRegression(max_iter=500),
        memory=memory,
    )


def _search(pipe, anchors, X, y):
    """Grid search over the anchor counts; returns it with the tally it caused."""
    TALLY.clear()
    search = GridSearchCV(pipe, {"relative__n_anchors": anchors}, cv=CV).fit(X, y)
    return search, Counter(TALLY)


def test_grid_search_encodes_each_input_once(data, tmp_path):
    X, y = data
    n = len(X)
    _, one = _search(_pipeline(memory=str(tmp_path / "one")), ANCHORS[:1], X, y)
    _, four = _search(_pipeline(memory=str(tmp_path / "four")), ANCHORS, X, y)
    # Each fold's training and test rows (3 n in all), then the refit on all n.
    assert one["rows"] == 4 * n
    assert four["rows"] <= 1.15 * one["rows"]
    assert four["rows"] == one["rows"]
    assert four["fits"] == one["fits"] == 4


def test_without_memory_the_encoder_runs_for_every_candidate(data):
    X, y = data
    n = len(X)
    _, one = _search(_pipeline(), ANCHORS[:1], X, y)
    _, four = _search(_pipeline(), ANCHORS, X, y)
    assert one["rows"] == 4 * n
    # 4 candidates x 3 folds x (train + test rows) + the refit.
    assert four["rows"] == (4 * 3 + 1) * n
    assert four["fits"] == 4 * 3 + 1


def test_cached_results_are_the_uncached_ones(data, tmp_path):
    X, y = data
    plain, _ = _search(_pipeline(), ANCHORS, X, y)
    cached, _ = _search(_pipeline(memory=str(tmp_path)), ANCHORS, X, y)
    # A second search reads everything from the cache and encodes nothing.
    again, tally = _search(_pipeline(memory=str(tmp_path)), ANCHORS, X, y)
    assert tally["rows"] == tally["fits"] == 0
    for search in (cached, again):
        np.testing.assert_array_equal(
            search.cv_results_["mean_test_score"], plain.cv_results_["mean_test_score"]
        )
        best, reference = search.best_estimator_, plain.best_estimator_
        np.testing.assert_array_equal(best.predict_proba(X), reference.predict_proba(X))
        np.testing.assert_array_equal(best.transform(X), reference.transform(X))
        np.testing.assert_array_equal(
            best.decision_function(X), reference.decision_function(X)
        )


def test_transform_and_predict_are_cached(data, tmp_path):
    X, y = data
    pipe = _pipeline(memory=joblib.Memory(tmp_path, verbose=0)).fit(X, y)
    TALLY.clear()
    first = pipe.predict_proba(X[:50])
    assert TALLY["rows"] == 50
    np.testing.assert_array_equal(pipe.predict_proba(X[:50]), first)
    pipe.score(X[:50], y[:50])
    pipe.transform(X[:50])
    clone(pipe).fit(X, y).predict(X[:50])  # a clone: same fitted encoder, same key
    assert TALLY["rows"] == 50
    pipe.predict(X[50:60])  # another input is encoded
    assert TALLY["rows"] == 60


def test_frozen_encoder_is_never_refitted(data, tmp_path):
    X, y = data
    encoder = CountingEncoder().fit(X)
    components = encoder.pca_.components_.copy()
    search, tally = _search(
        _pipeline(FrozenEstimator(encoder), memory=str(tmp_path)), ANCHORS, X, y
    )
    assert tally["fits"] == 0
    # Stateless: its codes are kept row by row, each row encoded once in all.
    assert tally["rows"] == len(X)
    np.testing.assert_array_equal(encoder.pca_.components_, components)
    np.testing.assert_array_equal(
        search.best_estimator_[0].pca_.components_, components
    )


def test_pretrained_encoder_is_fitted_once_per_training_set(data, tmp_path):
    X, y = data
    _, one = _search(
        _pipeline(PretrainedEncoder(), memory=str(tmp_path / "a")), [5], X, y
    )
    _, four = _search(
        _pipeline(PretrainedEncoder(), memory=str(tmp_path / "b")), ANCHORS, X, y
    )
    # Three folds and the refit: one fit per distinct training set, not per candidate.
    assert one["fits"] == four["fits"] == 4
    # What fit learns does not depend on the data: the folds share the rows' codes.
    assert four["rows"] == one["rows"] == len(X)
    # Codes read row by row give the uncached search's results (up to the rounding
    # of a matrix product over other rows).
    cached, _ = _search(
        _pipeline(PretrainedEncoder(), str(tmp_path / "b")), ANCHORS, X, y
    )
    plain, tally = _search(_pipeline(PretrainedEncoder()), ANCHORS, X, y)
    assert tally["rows"] == (4 * 3 + 1) * len(X)
    np.testing.assert_allclose(
        cached.cv_results_["mean_test_score"], plain.cv_results_["mean_test_score"]
    )
    np.testing.assert_allclose(
        cached.best_estimator_.predict_proba(X),
        plain.best_estimator_.predict_proba(X),
        rtol=1e-9,
    )


def test_another_fitted_encoder_does_not_get_the_cached_codes(data, tmp_path):
    X, y = data
    memory = joblib.Memory(tmp_path, verbose=0)
    # Same parameters, fitted on different rows: different encoders.
    first = _pipeline(FrozenEstimator(CountingEncoder().fit(X[:150])), memory)
    second = _pipeline(FrozenEstimator(CountingEncoder().fit(X[150:])), memory)
    first.fit(X, y)
    second.fit(X, y)
    for pipe in (first, second):
        codes = pipe[0].pca_.transform(X[:40])
        np.testing.assert_allclose(pipe.transform(X[:40]), pipe[1].transform(codes))
    # Refitted unfrozen encoders of other parameters, through one cache.
    narrow = _pipeline(CountingEncoder(5), memory).fit(X, y)
    wide = _pipeline(CountingEncoder(8), memory).fit(X, y)
    assert narrow[1].n_features_in_ == 5 and wide[1].n_features_in_ == 8
    TALLY.clear()
    narrow.predict(X[:40])
    wide.predict(X[:40])
    assert TALLY["rows"] == 80


def test_fitted_cached_pipeline_pickles(data, tmp_path):
    X, y = data
    pipe = _pipeline(memory=joblib.Memory(tmp_path, verbose=0)).fit(X, y)
    expected = pipe.predict_proba(X)
    loaded = pickle.loads(pickle.dumps(pipe))
    TALLY.clear()
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    assert TALLY["rows"] == 0  # the loaded encoder hashes as the original: a hit
    path = pickle.loads(pickle.dumps(_pipeline(memory=str(tmp_path)).fit(X, y)))
    np.testing.assert_array_equal(path.predict_proba(X), expected)


def test_stitching_reuses_the_cache(data, tmp_path):
    X, y = data
    memory = joblib.Memory(tmp_path, verbose=0)
    pipes = [
        _pipeline(CountingEncoder(k), memory).fit(X[:200], y[:200]) for k in (6, 8)
    ]
    TALLY.clear()
    scores = [[stitch(a, b).score(X[200:], y[200:]) for b in pipes] for a in pipes]
    # Both pipelines chose the same anchor rows (same seed, same row count): each
    # encoder embeds those 20 anchors and the 100 test rows once, not per decoder.
    np.testing.assert_array_equal(pipes[0].anchor_indices_, pipes[1].anchor_indices_)
    assert TALLY["rows"] == 2 * (20 + 100)
    plain = [_pipeline(CountingEncoder(k)).fit(X[:200], y[:200]) for k in (6, 8)]
    TALLY.clear()
    expected = [[stitch(a, b).score(X[200:], y[200:]) for b in plain] for a in plain]
    assert TALLY["rows"] == 4 * (20 + 100)
    np.testing.assert_array_equal(scores, expected)


class LetterCounts(TransformerMixin, BaseEstimator):
    """A stateless text encoder: letter counts (dense), or a sparse matrix of them."""

    def __init__(self, sparse=False):
        self.sparse = sparse

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        TALLY["rows"] += len(X)
        codes = np.array([[text.count(c) for c in "aeiourstln"] for text in X], float)
        return sp.csr_matrix(codes) if self.sparse else codes

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


@pytest.mark.parametrize("sparse", [False, True])
def test_texts_are_cached_row_by_row(tmp_path, sparse):
    words = ["relative", "latent", "anchor", "stitch", "encoder", "cosine"]
    texts = [f"{a} {b}" for a in words for b in words] * 2  # every text twice
    y = np.arange(len(texts)) % 3
    pipe = _pipeline(LetterCounts(sparse), memory=str(tmp_path))
    pipe.set_params(relative__n_anchors=6)
    pipe.fit(texts, y)
    plain = _pipeline(LetterCounts(sparse)).set_params(relative__n_anchors=6)
    expected = plain.fit(texts, y).predict_proba(texts[::-1])
    TALLY.clear()
    np.testing.assert_allclose(pipe.predict_proba(texts[::-1]), expected)
    if sparse:  # not a NumPy array: cached per input array instead
        assert TALLY["rows"] == len(texts)
    else:  # 36 distinct texts, encoded once each in fit
        assert TALLY["rows"] == 0
    TALLY.clear()
    pipe.predict([*texts[:5], "never seen"])
    assert TALLY["rows"] == (6 if sparse else 1)


def test_row_table_reads_only_the_blocks_it_needs(tmp_path, monkeypatch):
    encoder = PretrainedEncoder()
    cache = EncoderCache(str(tmp_path))
    X = np.random.RandomState(0).normal(size=(90, 64))
    for part in (X[:30], X[30:60], X[60:]):  # three calls, three blocks
        cache.transform(encoder, part)
    opened = []
    load = np.load

    def counting_load(file, *args, **kwargs):
        opened.append(getattr(file, "name", file))
        return load(file, *args, **kwargs)

    monkeypatch.setattr(np, "load", counting_load)
    TALLY.clear()
    expected = encoder.transform(X[35:40])
    TALLY.clear()
    # This process wrote the blocks and knows their keys: one block's codes read.
    np.testing.assert_array_equal(cache.transform(encoder, X[35:40]), expected)
    assert len(opened) == 1
    # A new process reads each block's keys once, then only the codes it needs.
    _row_table._KEYS.clear()
    _row_table._LOCATED.clear()
    opened.clear()
    np.testing.assert_array_equal(cache.transform(encoder, X[35:40]), expected)
    assert len(opened) == 3 + 1
    opened.clear()
    rows = [5, 45, 46, 85]  # in all three blocks
    np.testing.assert_array_equal(
        cache.transform(encoder, X[rows]), encoder.transform(X[rows])
    )
    assert len(opened) == 3
    assert TALLY["rows"] == len(rows)  # the reference computation only
