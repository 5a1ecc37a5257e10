"""stitch_by_translation and stitch(via="translation"): a decoder reads translated codes."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import InvalidParameterError

from skrelrep import (
    LatentTranslator,
    RelativeTransformer,
    StitchedPipeline,
    stitch,
    stitch_by_translation,
)

METHODS = ["orthogonal", "linear", "affine"]

# MLP encoders are trained briefly on purpose; their convergence is not under test.
stitching = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def encoders(seed_encoders):
    """Two MLP encoders of the digits that differ only by their seed, frozen."""
    return seed_encoders[:2]


@pytest.fixture(scope="module")
def pipelines(digits_split, encoders):
    """Per kind of decoder: (target, source) pipelines on encoders 1 and 0."""
    X_train, _, y_train, _ = digits_split
    relative = RelativeTransformer(n_anchors=100, center=True, random_state=0)
    return {
        kind: [
            StitchedPipeline(encoder, step, LogisticRegression(max_iter=1000)).fit(
                X_train, y_train
            )
            for encoder in encoders[::-1]
        ]
        for kind, step in [("absolute", "passthrough"), ("relative", relative)]
    }


@stitching
@pytest.mark.parametrize("method", METHODS)
def test_decoder_reads_translated_codes_at_near_same_accuracy(
    digits_split, pipelines, method
):
    # A classifier trained on encoder 1's codes, fed encoder 0's codes translated
    # into encoder 1's space on 200 parallel anchors.
    X_train, X_test, _, y_test = digits_split
    target, source = pipelines["absolute"]
    own = target.score(X_test, y_test)
    stitched = stitch_by_translation(source, target, X_train[:200], method=method)
    assert isinstance(stitched, StitchedPipeline)
    assert list(stitched.named_steps) == ["encoder", "relative", "decoder"]
    assert list(stitched.named_steps["encoder"].named_steps) == [
        "encoder",
        "translator",
    ]
    assert stitched.named_steps["relative"] == "passthrough"
    assert stitched.anchor_inputs_ is None and stitched.anchor_indices_ is None
    assert stitched.n_latent_features_ == target.n_latent_features_
    assert stitched.score(X_test, y_test) > own - 0.03
    absolute = stitch(source, target, via="absolute")
    assert absolute.score(X_test, y_test) < 0.5  # absolute fails


@stitching
def test_translation_through_a_relative_decoder(digits_split, encoders, pipelines):
    # The translated codes go through the decoder's own relative step, whose anchors
    # are the items the translator is fitted on by default.
    X_train, X_test, _, y_test = digits_split
    target, source = pipelines["relative"]
    stitched = stitch_by_translation(source, target)
    assert list(stitched.named_steps) == ["encoder", "relative", "decoder"]
    assert stitched.named_steps["relative"] is target.named_steps["relative"]
    assert stitched.named_steps["decoder"] is target.named_steps["decoder"]
    translator = stitched.named_steps["encoder"].named_steps["translator"]
    codes = encoders[0].transform(X_train[target.anchor_indices_])
    expected = LatentTranslator().fit(
        codes, encoders[1].transform(target.anchor_inputs_)
    )
    np.testing.assert_allclose(translator.coef_, expected.coef_)
    assert stitched.score(X_test, y_test) > target.score(X_test, y_test) - 0.03
    # The relative step's anchors, as the new encoder reads them: the stitched
    # pipeline can be stitched further.
    assert stitched.anchor_inputs_ is target.anchor_inputs_
    np.testing.assert_array_equal(stitched.anchor_indices_, target.anchor_indices_)
    again = stitch(encoders[1], stitched)
    assert again.score(X_test, y_test) > target.score(X_test, y_test) - 0.03
    # Translated on other items than the decoder's anchors: those are unknown in the
    # new domain, and stitching further asks for them.
    other = stitch_by_translation(
        source, target, X_train[:150], target_anchor_inputs=X_train[:150]
    )
    assert other.anchor_inputs_ is None
    with pytest.raises(ValueError, match="pass anchor_inputs"):
        stitch(encoders[1], other)


@stitching
def test_translator_is_frozen_and_a_bare_encoder_is_accepted(
    digits_split, encoders, pipelines
):
    X_train, X_test, _, y_test = digits_split
    target, _ = pipelines["absolute"]
    stitched = stitch_by_translation(encoders[0], target, X_train[:200])
    translated = stitched.named_steps["encoder"]
    assert translated.named_steps["encoder"] is encoders[0]
    assert isinstance(stitched.encoder, FrozenEstimator)
    translator = translated.named_steps["translator"]
    coef = translator.coef_.copy()
    # Refitting (for instance inside cross-validation) retrains the decoder on the
    # translated codes but never refits the translator to the task's labels.
    for refitted in (clone(stitched).fit(X_test, y_test), stitched.fit(X_test, y_test)):
        inner = refitted.named_steps["encoder"].named_steps["translator"]
        assert inner is translator
        np.testing.assert_array_equal(inner.coef_, coef)
        assert refitted.named_steps["decoder"] is not target.named_steps["decoder"]
    np.testing.assert_array_equal(translator.coef_, coef)


def test_stitch_by_translation_errors():
    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200]
    pipe = StitchedPipeline(
        PCA(8, random_state=0), "passthrough", LogisticRegression(max_iter=1000)
    )
    encoder = PCA(8, random_state=0).fit(X)
    with pytest.raises(NotFittedError, match="decoder_from is not fitted"):
        stitch_by_translation(encoder, pipe, X[:50])
    pipe.fit(X, y)
    with pytest.raises(NotFittedError, match="encoder_from is not fitted"):
        stitch_by_translation(PCA(8), pipe, X[:50])
    with pytest.raises(ValueError, match="stores no anchors"):
        stitch_by_translation(encoder, pipe)
    with pytest.raises(ValueError, match="got 50 and 40 rows"):
        stitch_by_translation(encoder, pipe, X[:50], target_anchor_inputs=X[:40])
    with pytest.raises(TypeError, match="decoder_from"):
        stitch_by_translation(encoder, encoder, X[:50])
    with pytest.raises(TypeError, match="encoder_from"):
        stitch_by_translation("pca", pipe, X[:50])
    with pytest.raises(InvalidParameterError):
        stitch_by_translation(encoder, pipe, X[:50], method="rotation")


@stitching
def test_stitch_via_translation_is_stitch_by_translation(digits_split, pipelines):
    X_train, X_test, _, _ = digits_split
    target, source = pipelines["absolute"]
    expected = stitch_by_translation(source, target, X_train[:200], method="affine")
    for stitched in [
        stitch(source, target, X_train[:200], via="translation", method="affine"),
        target.stitch(
            source, anchor_inputs=X_train[:200], via="translation", method="affine"
        ),
    ]:
        np.testing.assert_allclose(
            stitched.predict_proba(X_test), expected.predict_proba(X_test)
        )
    with pytest.raises(
        ValueError, match="via must be one of 'relative', 'translation', 'absolute'"
    ):
        stitch(source, target, via="procrustes")
