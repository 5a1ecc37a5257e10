"""Absolute stitching on purpose only: the warning, via="absolute", the decoder's guard.

Also the stitching matrix's calling convention (test data by keyword, ``via``).
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skrelrep import StitchedPipeline, stitch
from skrelrep.metrics import stitching_matrix
from skrelrep.stitching._guard import same_encoder


class Crowded(TransformerMixin, BaseEstimator):
    """Codes that crowd around a direction of the seed (as embedding models' do).

    ``output`` gives them as an array, a CSR matrix or a DataFrame.
    """

    def __init__(self, seed=0, output="array"):
        self.seed = seed
        self.output = output

    def fit(self, X, y=None):
        rng = np.random.RandomState(self.seed)
        self.weights_ = rng.normal(size=(X.shape[1], 8))
        self.direction_ = 6.0 * rng.normal(size=8) / np.sqrt(8)
        return self

    def transform(self, X):
        codes = np.asarray(X) @ self.weights_ + self.direction_
        if self.output == "sparse":
            return sp.csr_matrix(codes)
        if self.output == "pandas":
            return pd.DataFrame(codes, columns=[f"c{i}" for i in range(8)])
        return codes


def _absolute(encoder, X, y):
    return StitchedPipeline(
        encoder, "passthrough", LogisticRegression(max_iter=500)
    ).fit(X, y)


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return X[:400], y[:400]


@pytest.mark.parametrize("output", ["array", "sparse", "pandas"])
def test_the_guard_reads_every_kind_of_codes(data, output):
    X, y = data
    own = _absolute(Crowded(0, output), X, y)
    other = _absolute(Crowded(1, output), X, y)
    with pytest.warns(UserWarning, match="absolute baseline"):
        guarded = stitch(other, own)
    with pytest.raises(ValueError, match="trained on the codes of another encoder"):
        guarded.predict(X)
    # An equal encoder (another object, refitted to the same state) is the
    # decoder's own: no warning, no guard.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        equal = stitch(Crowded(0, output).fit(X[:10]), own)
    np.testing.assert_array_equal(equal.predict(X), own.predict(X))
    # Codes of the decoder's space pass the guard, down to a batch of one row: an
    # encoder that differs a little (weights 1 % larger) warns but predicts.
    close = Crowded(0, output).fit(X)
    close.weights_ = close.weights_ * 1.01
    with pytest.warns(UserWarning, match="absolute baseline"):
        lookalike = stitch(close, own)
    agreement = np.mean(lookalike.predict(X) == own.predict(X))
    assert agreement > 0.95
    for row in range(0, 400, 40):
        lookalike.predict(X[row : row + 1])


def test_the_guard_survives_pickling_and_further_stitching(data):
    X, y = data
    own = _absolute(Crowded(0), X, y)
    other = _absolute(Crowded(1), X, y)
    with pytest.warns(UserWarning):
        guarded = stitch(other, own)
    with pytest.raises(ValueError, match="another encoder"):
        pickle.loads(pickle.dumps(guarded)).predict(X)
    # Stitched on, the decoder still reads its own encoder's space: its own encoder
    # is no baseline, the other one still is.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = stitch(own, guarded)
    np.testing.assert_array_equal(back.predict(X), own.predict(X))
    with pytest.warns(UserWarning, match="absolute baseline"):
        stitch(other, guarded)


def test_pipelines_pickled_without_an_origin_still_stitch(data):
    X, y = data
    own = _absolute(Crowded(0), X, y)
    other = _absolute(Crowded(1), X, y)
    del own._origin, own._code_guard  # as fitted by an earlier version
    with pytest.warns(UserWarning, match="absolute baseline"):
        stitched = stitch(other, own)
    stitched.predict(X)  # no fingerprint: no guard, only the warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stitch(own, own)


def test_same_encoder():
    a = Crowded(0).fit(np.ones((3, 4)))
    assert same_encoder(a, a)
    assert same_encoder(FrozenEstimator(a), a)
    assert same_encoder(a, Crowded(0).fit(np.zeros((5, 4))))  # same fitted state
    assert not same_encoder(a, Crowded(1).fit(np.ones((3, 4))))
    assert not same_encoder(a, Crowded(0).fit(np.ones((3, 5))))
    assert not same_encoder(a, LogisticRegression())


def test_stitching_matrix_passes_via(data):
    X, y = data
    models = {seed: _absolute(Crowded(seed), X, y) for seed in (0, 1)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = stitching_matrix(models, X=X, y=y, via="absolute")
    expected = [
        stitch(models[e], models[d], via="absolute").score(X, y)
        for e in models
        for d in models
    ]
    np.testing.assert_allclose(frame["score"], expected)
    with pytest.raises(ValueError, match="with your own stitch"):
        stitching_matrix(models, X=X, y=y, via="absolute", stitch=stitch)
    with pytest.raises(ValueError, match="leave via unset"):
        stitching_matrix(models, score=lambda e, d: 0.0, via="absolute")
    with pytest.raises(ValueError, match="by keyword"):
        stitching_matrix(models, y=y)
