"""StitchedPipeline and stitch() on hostile inputs: a correct model or a clear error.

The table is shown in the user guide (:ref:`hostile_inputs`); ``tests/hostile.py``
describes the format.
"""

import copy
import errno
import shutil
import warnings
from collections import Counter

import numpy as np
import pytest
from hostile import case, check_every_case_is_tested
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from skrelrep import (
    RelativeTransformer,
    StitchedPipeline,
    stitch,
    stitch_by_translation,
    stitch_decoder,
)
from skrelrep.metrics import stitching_matrix
from skrelrep.stitching import _row_table

CASES = [
    (
        "before-fit",
        "classes_, n_features_in_ or predict of a pipeline not fitted",
        "NotFittedError (an AttributeError too, so hasattr is False); "
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
    (
        "absolute-across-encoders",
        "stitch() of a passthrough decoder_from onto another encoder, via not given",
        'UserWarning: the absolute baseline, with the fixes (via="translation", '
        'or via="absolute" to ask for the baseline, which is then quiet); no '
        "warning for the decoder's own encoder",
    ),
    (
        "absolute-anchor-inputs",
        "anchor_inputs given to a passthrough decoder_from",
        'ValueError pointing to via="translation"',
    ),
    (
        "absolute-of-relative",
        'via="absolute" asked of a relative decoder_from',
        'ValueError pointing to via="relative" and via="translation"',
    ),
    (
        "foreign-codes",
        "predicting with an absolute stitch whose encoder's codes crowd around "
        "another direction than the decoder's training codes",
        "ValueError from the decoder's guard, with both directions' cosines and the "
        'fixes; the same stitch with via="absolute" computes the baseline',
    ),
    (
        "decoder-old-encoder-width",
        "stitch_decoder with an old_encoder whose codes are not as wide as what the "
        "decoder reads",
        "ValueError naming both widths",
    ),
    (
        "matrix-data-as-decoders",
        "stitching_matrix(models, X_test, y_test): the test data bound to decoders",
        "TypeError: pass X= and y= by keyword; stitching_matrix(encoders, decoders, "
        "X, y) still works, with a FutureWarning",
    ),
    (
        "row-cache-corrupt",
        "a truncated, zero-byte, stray or misplaced .npz file in the row cache of a "
        "stateless encoder (memory=)",
        "UserWarning; the entry is removed and its rows encoded again, once; results "
        "equal the uncached ones",
    ),
    (
        "row-cache-read-only",
        "a row cache that cannot be written (read-only mount)",
        "UserWarning; the codes are computed and returned, equal to the uncached ones",
    ),
    (
        "guard-switch-after-fit",
        "set_params(relative__check_input_space=False) on a fitted StitchedPipeline "
        "whose relative step refuses the rows (the switch the guard's message names)",
        "the fitted step stops checking at once, with no refit, and predicts what "
        "the unchecked step predicts; the next fit keeps the switch; a pipeline that "
        "shares the fitted step (stitched by translation) keeps its guard",
    ),
    (
        "code-guard-remedy",
        "the guard of an absolute stitch across encoders refusing the codes",
        'the message ends with the fixes that exist for it (via="translation", a '
        'relative step, via="absolute"), never check_input_space=False, which it '
        "has no switch for",
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


class CrowdedProjection(TransformerMixin, BaseEstimator):
    """A fixed random projection whose codes crowd around a direction of its seed.

    Like a pretrained encoder, it learns nothing in ``fit``; it counts the rows it
    encodes in ``ROWS``. Codes of two seeds have the same width and point different
    ways, as two embedding models' do.
    """

    def __init__(self, seed=0, n_components=8):
        self.seed = seed
        self.n_components = n_components

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        ROWS["rows"] += len(X)
        rng = np.random.RandomState(self.seed)
        weights = rng.normal(size=(np.shape(X)[1], self.n_components))
        direction = rng.normal(size=self.n_components)
        direction /= np.linalg.norm(direction)
        return np.asarray(X) @ weights + 6.0 * direction

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


ROWS = Counter()


def _absolute(encoder, X, y, memory=None):
    return StitchedPipeline(
        encoder, "passthrough", LogisticRegression(max_iter=500), memory=memory
    ).fit(X, y)


@case("absolute-across-encoders")
def test_absolute_across_encoders(data):
    X, y = data
    own = _absolute(CrowdedProjection(0), X, y)
    other = _absolute(CrowdedProjection(1), X, y)
    with pytest.warns(UserWarning, match="absolute baseline") as record:
        stitch(other, own)
    message = str(record[0].message)
    assert 'via="translation"' in message and 'via="absolute"' in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        baseline = stitch(other, own, via="absolute")
        # The decoder's own encoder, or an equal one (same parameters, learns
        # nothing), is no baseline: no warning, and its own score.
        for encoder in (own, own.named_steps["encoder"], CrowdedProjection(0)):
            assert stitch(encoder, own).score(X, y) == own.score(X, y)
    assert baseline.score(X, y) < 0.5


@case("absolute-anchor-inputs")
def test_absolute_anchor_inputs(data):
    X, y = data
    own = _absolute(CrowdedProjection(0), X, y)
    other = _absolute(CrowdedProjection(1), X, y)
    with pytest.raises(ValueError, match=r'nothing to re-anchor.*via="translation"'):
        stitch(other, own, anchor_inputs=X[:50])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        translated = stitch(other, own, anchor_inputs=X[:50], via="translation")
    steps = translated.named_steps["encoder"].named_steps
    assert list(steps) == ["encoder", "translator"]


@case("absolute-of-relative")
def test_absolute_of_relative(data):
    X, y = data
    fitted = _pipeline().fit(X, y)
    with pytest.raises(ValueError, match=r'via="relative".*via="translation"'):
        stitch(_pipeline(6).fit(X, y), fitted, via="absolute")


@case("foreign-codes")
def test_foreign_codes(data):
    X, y = data
    own = _absolute(CrowdedProjection(0), X, y)
    other = _absolute(CrowdedProjection(1), X, y)
    with pytest.warns(UserWarning, match="absolute baseline"):
        guarded = stitch(other, own)
    for method in ("predict", "score", "transform"):
        with pytest.raises(ValueError, match=r"mean cosine .* via=\"absolute\""):
            getattr(guarded, method)(*((X, y) if method == "score" else (X,)))
    # Asked for, the baseline is computed: near chance on these codes.
    assert stitch(other, own, via="absolute").score(X, y) < 0.5


@case("decoder-old-encoder-width")
def test_decoder_old_encoder_width(data):
    X, y = data
    old = PCA(8, random_state=0).fit(X)
    decoder = LogisticRegression(max_iter=500).fit(old.transform(X), y)
    with pytest.raises(ValueError, match="codes have 6 features, but decoder reads 8"):
        stitch_decoder(decoder, PCA(6).fit(X), PCA(10).fit(X), X[:50])


@case("matrix-data-as-decoders")
def test_matrix_data_as_decoders(data):
    X, y = data
    models = [_pipeline().fit(X, y), _pipeline(6).fit(X, y)]
    for wrong in (X, list(X), [str(row) for row in X]):
        with pytest.raises(
            TypeError, match=r"by keyword: stitching_matrix\(models, X="
        ):
            stitching_matrix(models, wrong, y)
    expected = stitching_matrix(models, X=X, y=y)
    with pytest.warns(FutureWarning, match="pass X=X, y=y by keyword"):
        frame = stitching_matrix(models, None, X, y)
    assert frame.equals(expected)


def _row_cache_folder(memory):
    (folder,) = (memory / "skrelrep_rows").iterdir()
    return folder


def _stray(path):
    np.savez(path.with_name("stray.npz"), weights=np.ones(3))


def _misplaced(path):
    # A block of another encoder's folder, holding the same rows' keys.
    with np.load(path) as block:
        keys, codes = block["keys"], block["codes"]
    np.savez(path.with_name("copied.npz"), keys=keys, codes=-codes, owner="another")


CORRUPTIONS = {
    "truncated": lambda path: path.write_bytes(path.read_bytes()[:200]),
    "zero-byte": lambda path: path.write_bytes(b""),
    "stray": _stray,
    "misplaced": _misplaced,
}


@case("row-cache-corrupt")
@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
@pytest.mark.parametrize("new_process", [False, True])
def test_row_cache_corrupt(data, tmp_path, corruption, new_process):
    X, y = data
    expected = _absolute(CrowdedProjection(0), X, y).predict_proba(X)
    pipe = _absolute(CrowdedProjection(0), X, y, memory=str(tmp_path))
    (block,) = _row_cache_folder(tmp_path).glob("*.npz")
    CORRUPTIONS[corruption](block)
    if new_process:  # a new process has read no block yet
        _row_table._KEYS.clear()
    ROWS.clear()
    with pytest.warns(
        UserWarning, match="corrupt entry of the encoder's row"
    ) as record:
        np.testing.assert_allclose(pipe.predict_proba(X), expected)
    assert len(record) == 1 and "removed" in str(record[0].message)
    # The rows of a damaged block are encoded again, once; a stray or misplaced
    # file is removed and the encoder's own block still serves every row.
    damaged = corruption in ("truncated", "zero-byte")
    assert ROWS["rows"] == (len(X) if damaged else 0)
    assert len(list(block.parent.glob("*.npz"))) == 1
    ROWS.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(pipe.predict_proba(X), expected)
    assert ROWS["rows"] == 0


@case("row-cache-read-only")
def test_row_cache_read_only(data, tmp_path, monkeypatch):
    X, y = data
    expected = _absolute(CrowdedProjection(0), X[:100], y[:100]).predict_proba(X)
    pipe = _absolute(CrowdedProjection(0), X[:100], y[:100], memory=str(tmp_path))

    def read_only(path, write):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    # The tests may run as root, whom file modes do not stop: the write fails as
    # it does on a read-only mount.
    monkeypatch.setattr(_row_table, "atomic_write", read_only)
    ROWS.clear()
    with pytest.warns(UserWarning, match="cannot be written .Read-only file system"):
        np.testing.assert_allclose(pipe.predict_proba(X), expected)
    assert ROWS["rows"] == len(X) - 100  # the stored rows were read
    # Nothing was written; the folder still reads.
    assert len(list(_row_cache_folder(tmp_path).glob("*.npz"))) == 1
    shutil.rmtree(tmp_path / "skrelrep_rows")
    with pytest.warns(UserWarning, match="cannot be written"):
        np.testing.assert_allclose(pipe.predict_proba(X), expected)


@case("guard-switch-after-fit")
def test_guard_switch_after_fit(data):
    X, y = data
    X = X / 16
    own = StitchedPipeline(
        CrowdedProjection(0),
        RelativeTransformer(20, random_state=0),
        LogisticRegression(max_iter=500),
    ).fit(X, y)
    shared = stitch_by_translation(CrowdedProjection(0), own)
    fitted = own.named_steps["relative"]
    assert shared.named_steps["relative"] is fitted
    foreign = -X  # codes pointing away from the anchors' mean direction
    with pytest.raises(ValueError, match=r"mean direction.*check_input_space=False"):
        own.predict(foreign)
    # What the fitted steps predict without the check, computed apart.
    unchecked = copy.deepcopy(fitted).set_params(check_input_space=False)
    codes = own.named_steps["encoder"].transform(foreign)
    expected = own.named_steps["decoder"].predict(unchecked.transform(codes))
    own.set_params(relative__check_input_space=False)
    np.testing.assert_array_equal(own.predict(foreign), expected)
    assert own.named_steps["relative"].check_input_space is False
    np.testing.assert_array_equal(own.named_steps["relative"].anchors_, fitted.anchors_)
    # The pipeline that shares the step, and the step itself, keep their guard.
    assert shared.named_steps["relative"] is fitted and fitted.check_input_space
    with pytest.raises(ValueError, match="mean direction"):
        fitted.transform(codes)
    # Switched on again, and kept by the next fit.
    with pytest.raises(ValueError, match="mean direction"):
        own.set_params(relative__check_input_space=True).predict(foreign)
    own.set_params(relative__check_input_space=False).fit(X, y).predict(foreign)
    # The copy keeps the fitted arrays as they are, torch tensors included.
    torch = pytest.importorskip("torch")
    import sklearn
    from sklearn.pipeline import Pipeline

    from skrelrep.stitching._steps import switch_guards

    with sklearn.config_context(array_api_dispatch=True):
        on_torch = RelativeTransformer(10, random_state=0).fit(torch.asarray(codes))
    steps = Pipeline([("encoder", "passthrough"), ("relative", on_torch)])
    switched = switch_guards(steps, {"relative__check_input_space": False})
    assert switched.named_steps["relative"].anchors_ is on_torch.anchors_
    assert on_torch.check_input_space


@case("code-guard-remedy")
def test_code_guard_remedy(data):
    from skrelrep.stitching._guard import REMEDY

    X, y = data
    own = _absolute(CrowdedProjection(0), X, y)
    other = _absolute(CrowdedProjection(1), X, y)
    with pytest.warns(UserWarning, match="absolute baseline"):
        guarded = stitch(other, own)
    with pytest.raises(ValueError, match="mean cosine") as error:
        guarded.predict(X)
    message = str(error.value)
    assert "check_input_space" not in message
    assert message.endswith(REMEDY)
