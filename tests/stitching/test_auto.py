"""stitch(via="auto"): the bridge chosen by cross-validation on the anchors."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

from skrelrep import RelativeTransformer, StitchedPipeline, stitch

_RNG = np.random.default_rng(0)
_Q, _ = np.linalg.qr(_RNG.normal(size=(10, 10)))
_W = _RNG.normal(size=10)
_SCALES = np.logspace(-1.5, 1.5, 10)


def _rescaled_rotation(X):
    """Rotated codes, each row rescaled by its own factor: cosines are kept."""
    return np.exp(1.5 * np.sin(X @ _W))[:, None] * (X @ _Q)


def _feature_scaled(X):
    """Codes with each feature rescaled and shifted: cosines are not kept."""
    return X * _SCALES + 3.0


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=900, n_features=10, n_informative=8, n_classes=3, random_state=0
    )
    X = X + 1.5  # off the origin, where centring matters
    return X[:600], X[600:], y[:600], y[600:]


@pytest.fixture(scope="module")
def decoder_from(data):
    X_train, _, y_train, _ = data
    return StitchedPipeline(
        FunctionTransformer(),
        RelativeTransformer(n_anchors=100, center=False, random_state=0),
        LogisticRegression(max_iter=2000),
    ).fit(X_train, y_train)


def _encoder(func, X_train):
    return FunctionTransformer(func).fit(X_train)


def test_auto_picks_relative_when_cosines_are_kept(data, decoder_from):
    X_train, X_test, _, y_test = data
    encoder = _encoder(_rescaled_rotation, X_train)
    stitched = stitch(encoder, decoder_from, via="auto")
    assert stitched.stitch_choice_ == "relative"
    scores = stitched.stitch_cv_scores_
    assert scores["relative"] == 1.0
    assert max(v for k, v in scores.items() if k != "relative") < 1.0
    # Same predictions as the decoder reading its own encoder's codes.
    expected = decoder_from.predict(X_test)
    np.testing.assert_array_equal(stitched.predict(X_test), expected)
    assert stitched.score(X_test, y_test) == decoder_from.score(X_test, y_test)


def test_auto_picks_per_feature_translation(data, decoder_from):
    X_train, X_test, _, _ = data
    encoder = _encoder(_feature_scaled, X_train)
    stitched = stitch(encoder, decoder_from, via="auto")
    assert stitched.stitch_choice_ == "translation:orthogonal:per_feature"
    scores = stitched.stitch_cv_scores_
    assert scores["translation:orthogonal:per_feature"] > scores["relative"] + 0.05
    assert scores["translation:orthogonal:isotropic"] < 1.0
    agreement = np.mean(stitched.predict(X_test) == decoder_from.predict(X_test))
    assert agreement > 0.98


def test_auto_scores_on_anchors_only(data, decoder_from):
    """The choice depends on the anchors, not on data the caller scores later."""
    X_train, _, _, _ = data
    encoder = _encoder(_feature_scaled, X_train)
    first = stitch(encoder, decoder_from, via="auto")
    again = stitch(encoder, decoder_from, via="auto")
    assert first.stitch_cv_scores_ == again.stitch_cv_scores_
    assert set(first.stitch_cv_scores_) == {
        "relative",
        "translation:orthogonal:isotropic",
        "translation:orthogonal:per_feature",
        "translation:linear:isotropic",
        "translation:linear:per_feature",
    }


def test_auto_rejects_absolute_decoder(data):
    X_train, _, y_train, _ = data
    absolute = StitchedPipeline(
        FunctionTransformer(), "passthrough", LogisticRegression(max_iter=2000)
    ).fit(X_train, y_train)
    encoder = _encoder(_feature_scaled, X_train)
    with pytest.raises(ValueError, match='via="translation"'):
        stitch(encoder, absolute, via="auto")


def test_auto_rejects_wrong_anchor_count(data, decoder_from):
    X_train, _, _, _ = data
    encoder = _encoder(_feature_scaled, X_train)
    with pytest.raises(ValueError, match="100 anchor items"):
        stitch(encoder, decoder_from, X_train[:50], via="auto")
