"""StitchedPipeline and stitch() on hostile inputs: a correct model or a clear error.

The table is shown in the user guide (:ref:`hostile_inputs`); ``tests/hostile.py``
describes the format.
"""

import pytest
from hostile import case, check_every_case_is_tested
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from skrelrep import (
    RelativeTransformer,
    StitchedPipeline,
    stitch,
    stitch_by_translation,
)

CASES = [
    (
        "before-fit",
        "classes_, n_features_in_ or predict of a pipeline not fitted",
        "NotFittedError (classes_ raised an AttributeError about pipeline_ before); "
        "named_steps are the unfitted steps, as a Pipeline's",
    ),
    (
        "stitch-unfitted",
        "stitching from or to a pipeline that is not fitted",
        "NotFittedError naming encoder_from or decoder_from",
    ),
    (
        "wrong-anchor-count",
        "anchor_inputs with another number of rows than the decoder's anchors",
        "ValueError with both counts",
    ),
    (
        "wrong-anchor-width",
        "anchor_inputs of another width than the new encoder reads",
        "ValueError naming both widths",
    ),
    (
        "kinds-mismatch",
        "a relative pipeline stitched onto a passthrough (absolute) one",
        "ValueError: pass the encoder itself to mix kinds on purpose",
    ),
    (
        "absolute-widths",
        "absolute stitching of codes of different widths",
        "ValueError suggesting a relative projection",
    ),
    (
        "unknown-anchors",
        "stitching onto a pipeline stitched by translation on other items than its "
        "anchors",
        "ValueError asking for anchor_inputs (its anchors are unknown in the new "
        "domain)",
    ),
    (
        "not-a-pipeline",
        "decoder_from not a StitchedPipeline, or encoder_from without transform",
        "TypeError naming the argument",
    ),
]


def test_every_case_is_tested():
    check_every_case_is_tested(globals(), CASES)


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return X[:400], y[:400]


def _pipeline(n_components=8, relative=None):
    if relative is None:
        relative = RelativeTransformer(20, center=True, random_state=0)
    return StitchedPipeline(
        PCA(n_components, random_state=0), relative, LogisticRegression(max_iter=500)
    )


@case("before-fit")
def test_before_fit(data):
    X, _ = data
    pipe = _pipeline()
    for attribute in ("classes_", "n_features_in_"):
        with pytest.raises(NotFittedError):
            getattr(pipe, attribute)
    # As for a Pipeline, the steps before fit are the parameters themselves.
    assert pipe.named_steps["relative"] is pipe.relative
    assert not hasattr(pipe, "classes_")  # NotFittedError is an AttributeError
    with pytest.raises(NotFittedError):
        pipe.predict(X)


@case("stitch-unfitted")
def test_stitch_unfitted(data):
    X, y = data
    fitted = _pipeline().fit(X, y)
    with pytest.raises(NotFittedError, match="decoder_from is not fitted"):
        stitch(fitted, _pipeline())
    with pytest.raises(NotFittedError, match="encoder_from is not fitted"):
        stitch(_pipeline(), fitted)


@case("wrong-anchor-count")
def test_wrong_anchor_count(data):
    X, y = data
    fitted = _pipeline().fit(X, y)
    with pytest.raises(ValueError, match="expected 20 rows, got 19"):
        stitch(fitted, fitted, anchor_inputs=X[:19])


@case("wrong-anchor-width")
def test_wrong_anchor_width(data):
    X, y = data
    fitted = _pipeline().fit(X, y)
    with pytest.raises(ValueError, match=r"have 10 features but .* reads 64"):
        stitch(fitted, fitted, anchor_inputs=X[:20, :10])


@case("kinds-mismatch")
def test_kinds_mismatch(data):
    X, y = data
    relative = _pipeline().fit(X, y)
    absolute = _pipeline(relative="passthrough").fit(X, y)
    with pytest.raises(ValueError, match="Cannot stitch a relative pipeline"):
        stitch(relative, absolute)


@case("absolute-widths")
def test_absolute_widths(data):
    X, y = data
    narrow = _pipeline(6, relative="passthrough").fit(X, y)
    wide = _pipeline(8, relative="passthrough").fit(X, y)
    with pytest.raises(ValueError, match=r"same width.*6 features.*reads 8"):
        stitch(narrow, wide)


@case("unknown-anchors")
def test_unknown_anchors(data):
    X, y = data
    target, source = _pipeline().fit(X, y), _pipeline(6).fit(X, y)
    translated = stitch_by_translation(
        source, target, X[:100], target_anchor_inputs=X[:100]
    )
    assert translated.anchor_inputs_ is None
    with pytest.raises(ValueError, match="pass anchor_inputs"):
        stitch(source, translated)
    # With the anchor items given, it stitches.
    anchors = X[target.anchor_indices_]
    assert stitch(source, translated, anchor_inputs=anchors).score(X, y) > 0.5


@case("not-a-pipeline")
def test_not_a_pipeline(data):
    X, y = data
    fitted = _pipeline().fit(X, y)
    with pytest.raises(TypeError, match="decoder_from must be a fitted"):
        stitch(fitted, PCA(8).fit(X))
    with pytest.raises(TypeError, match="encoder_from must be"):
        stitch("pca", fitted)
