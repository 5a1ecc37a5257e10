"""stitch_decoder: a decoder fitted outside any pipeline, read through a new encoder.

The encoders count the rows they encode, so the tests check what the recipe promises:
only the anchors are encoded, once by each encoder, never the training set.
"""

import warnings
from collections import Counter

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skrelrep import (
    LatentTranslator,
    RelativeTransformer,
    StitchedPipeline,
    stitch_by_translation,
    stitch_decoder,
)

ROWS = Counter()


class Counting(TransformerMixin, BaseEstimator):
    """A fitted PCA, rotated by a seed's orthogonal matrix; counts rows by name."""

    def __init__(self, pca=None, seed=0, name="old"):
        self.pca = pca
        self.seed = seed
        self.name = name

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        ROWS[self.name] += len(X)
        codes = self.pca.transform(X)
        rotation, _ = np.linalg.qr(
            np.random.RandomState(self.seed).normal(size=(codes.shape[1],) * 2)
        )
        return codes @ rotation + 3.0

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


@pytest.fixture(scope="module")
def task(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    pca = PCA(16, random_state=0).fit(X_train)
    return X_train, X_test, y_train, y_test, pca


@pytest.fixture(autouse=True)
def _reset():
    ROWS.clear()


def _encoders(pca):
    return Counting(pca, seed=0, name="old"), Counting(pca, seed=1, name="new")


def test_only_the_anchors_are_encoded(task):
    X_train, X_test, y_train, y_test, pca = task
    old, new = _encoders(pca)
    classifier = LogisticRegression(max_iter=1000).fit(old.transform(X_train), y_train)
    own = classifier.score(old.transform(X_test), y_test)
    ROWS.clear()
    stitched = stitch_decoder(classifier, old, new, X_train[:60])
    assert ROWS == {"old": 60, "new": 60}  # the anchors, once by each encoder
    assert isinstance(stitched, StitchedPipeline)
    steps = stitched.named_steps
    assert list(steps["encoder"].named_steps) == ["encoder", "translator"]
    assert steps["encoder"].named_steps["encoder"] is new
    assert steps["decoder"] is classifier and steps["relative"] == "passthrough"
    # The two spaces differ by a rotation: the translation recovers it, and the
    # classifier reads the new codes as it read the old ones.
    ROWS.clear()
    proba = stitched.predict_proba(X_test)
    assert stitched.score(X_test, y_test) == own
    assert ROWS == {"new": 2 * len(X_test)}
    np.testing.assert_allclose(proba, classifier.predict_proba(old.transform(X_test)))
    # Read as they are, the new codes mean nothing to it.
    assert classifier.score(new.transform(X_test), y_test) < own - 0.3


def test_it_is_stitch_by_translation_of_an_equivalent_pipeline(task):
    X_train, X_test, y_train, _, pca = task
    old, new = _encoders(pca)
    classifier = LogisticRegression(max_iter=1000).fit(old.transform(X_train), y_train)
    pipeline = StitchedPipeline(
        FrozenEstimator(old), "passthrough", clone(classifier)
    ).fit(X_train, y_train)
    expected = stitch_by_translation(new, pipeline, X_train[:60], method="linear")
    stitched = stitch_decoder(classifier, old, new, X_train[:60], method="linear")
    np.testing.assert_allclose(
        stitched.predict_proba(X_test), expected.predict_proba(X_test)
    )
    translator = stitched.named_steps["encoder"].named_steps["translator"]
    reference = LatentTranslator("linear").fit(
        new.transform(X_train[:60]), old.transform(X_train[:60])
    )
    np.testing.assert_allclose(translator.coef_, reference.coef_)


def test_any_fitted_estimator_on_the_old_codes(task):
    X_train, X_test, y_train, _, pca = task
    old, new = _encoders(pca)
    codes = old.transform(X_train)
    target = codes[:, 0] * 2.0 + 1.0  # a regression on the codes
    models = {
        "regressor": Ridge().fit(codes, target),
        "pipeline": make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=1000)
        ).fit(codes, y_train),
    }
    for model in models.values():
        stitched = stitch_decoder(model, old, new, X_train[:60])
        np.testing.assert_allclose(
            stitched.predict(X_test), model.predict(old.transform(X_test)), atol=1e-8
        )


def test_a_decoder_on_relative_codes(task):
    X_train, X_test, y_train, y_test, pca = task
    old, new = _encoders(pca)
    relative = RelativeTransformer(50, center=True, random_state=0).fit(
        old.transform(X_train)
    )
    classifier = LogisticRegression(max_iter=1000).fit(
        relative.transform(old.transform(X_train)), y_train
    )
    # Parallel anchors that are not the relative step's anchors.
    stitched = stitch_decoder(classifier, old, new, X_train[100:200], relative=relative)
    assert stitched.named_steps["relative"] is relative
    np.testing.assert_array_equal(stitched.anchor_indices_, relative.anchor_indices_)
    expected = classifier.predict_proba(relative.transform(old.transform(X_test)))
    np.testing.assert_allclose(stitched.predict_proba(X_test), expected, atol=1e-6)
    # Refitting trains the relative step and the decoder on the translated codes.
    refitted = clone(stitched).fit(X_train, y_train)
    assert refitted.named_steps["decoder"] is not classifier
    assert refitted.score(X_test, y_test) > 0.85


def test_views_of_the_anchors_in_two_domains(task):
    X_train, X_test, y_train, y_test, pca = task
    reverse = Counting(PCA(16, random_state=0).fit(X_train[:, ::-1]), seed=2)
    old = Counting(pca, seed=0)
    classifier = LogisticRegression(max_iter=1000).fit(old.transform(X_train), y_train)
    own = classifier.score(old.transform(X_test), y_test)
    stitched = stitch_decoder(
        classifier,
        old,
        reverse,
        X_train[:80, ::-1],
        old_anchor_inputs=X_train[:80],
    )
    assert stitched.score(X_test[:, ::-1], y_test) > own - 0.03
    with pytest.raises(ValueError, match="two views of the same items"):
        stitch_decoder(
            classifier, old, reverse, X_train[:80, ::-1], old_anchor_inputs=X_train[:70]
        )


def test_errors(task):
    X_train, _, y_train, _, pca = task
    old, new = _encoders(pca)
    classifier = LogisticRegression(max_iter=1000).fit(old.transform(X_train), y_train)
    with pytest.raises(NotFittedError, match="decoder is not fitted"):
        stitch_decoder(LogisticRegression(), old, new, X_train[:60])
    with pytest.raises(NotFittedError, match="old_encoder is not fitted"):
        stitch_decoder(classifier, PCA(16), new, X_train[:60])
    with pytest.raises(NotFittedError, match="relative is not fitted"):
        stitch_decoder(
            classifier, old, new, X_train[:60], relative=RelativeTransformer(5)
        )
    with pytest.raises(TypeError, match="decoder must be a fitted classifier"):
        stitch_decoder(StandardScaler().fit(X_train), old, new, X_train[:60])
    with pytest.raises(TypeError, match="new_encoder must be a fitted transformer"):
        stitch_decoder(classifier, old, "e5", X_train[:60])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a translation is asked for: no warning
        stitch_decoder(classifier, old, new, X_train[:60])
