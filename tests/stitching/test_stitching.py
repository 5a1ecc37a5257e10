"""Tests for StitchedPipeline and stitch(): zero-shot model stitching."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import InvalidParameterError

from skrelrep import MLPEncoder, RelativeTransformer, StitchedPipeline, stitch

# MLP encoders are trained briefly on purpose; their convergence is not under test.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

CHANCE = 0.1  # ten balanced digit classes


def _relative(n_anchors=100):
    return RelativeTransformer(n_anchors=n_anchors, center=True, random_state=0)


def _decoder():
    return LogisticRegression(max_iter=1000)


def _pca_pipeline(n_components=8, relative=None):
    relative = _relative(20) if relative is None else relative
    return StitchedPipeline(PCA(n_components, random_state=0), relative, _decoder())


@pytest.fixture(scope="module")
def small_digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16, y[:400]


def _stitching_matrix(pipelines, X, y, via):
    """accuracy[i, j]: encoder of pipeline i, decoder of pipeline j."""
    return np.array(
        [
            [stitch(enc, dec, via=via).score(X, y) for dec in pipelines]
            for enc in pipelines
        ]
    )


@pytest.fixture(scope="module")
def matrices(digits_split, seed_encoders):
    X_train, X_test, y_train, y_test = digits_split
    result = {}
    for kind, relative in [("relative", _relative()), ("absolute", "passthrough")]:
        pipelines = [
            StitchedPipeline(encoder, relative, _decoder()).fit(X_train, y_train)
            for encoder in seed_encoders
        ]
        result[kind] = _stitching_matrix(pipelines, X_test, y_test, via=kind)
    return result


def test_fit_is_the_chain_of_its_steps(small_digits):
    # Independent computation: the three steps fitted by hand.
    X, y = small_digits
    pipe = _pca_pipeline().fit(X, y)
    encoder = PCA(8, random_state=0).fit(X)
    relative = _relative(20).fit(encoder.transform(X), y)
    decoder = _decoder().fit(relative.transform(encoder.transform(X)), y)
    codes = relative.transform(encoder.transform(X))
    np.testing.assert_array_equal(pipe.anchor_indices_, relative.anchor_indices_)
    np.testing.assert_array_equal(pipe.anchor_inputs_, X[relative.anchor_indices_])
    np.testing.assert_allclose(pipe.transform(X), codes)
    np.testing.assert_allclose(pipe.predict_proba(X), decoder.predict_proba(codes))
    assert pipe.score(X, y) == decoder.score(codes, y)
    assert list(pipe.named_steps) == ["encoder", "relative", "decoder"]
    assert pipe.n_latent_features_ == 8
    assert pipe.n_features_in_ == 64
    np.testing.assert_array_equal(pipe.classes_, np.arange(10))
    # Each column is named by the training row that became its anchor.
    assert list(pipe.get_feature_names_out()) == [
        f"relative_anchor{i}" for i in relative.anchor_indices_
    ]


def test_stratified_anchors_get_y(small_digits):
    X, y = small_digits
    relative = RelativeTransformer(20, anchor_selection="stratified", random_state=0)
    pipe = _pca_pipeline(relative=relative).fit(X, y)
    np.testing.assert_array_equal(np.bincount(y[pipe.anchor_indices_]), [2] * 10)


def test_passthrough_is_the_absolute_baseline(small_digits):
    X, y = small_digits
    pipe = _pca_pipeline(relative="passthrough").fit(X, y)
    codes = PCA(8, random_state=0).fit_transform(X)
    np.testing.assert_allclose(pipe.transform(X), codes)
    assert pipe.anchor_indices_ is None and pipe.anchor_inputs_ is None
    assert pipe.n_latent_features_ == 8
    assert list(pipe.get_feature_names_out()[:2]) == ["pca0", "pca1"]


def test_frozen_encoder_is_not_refitted(small_digits):
    X, y = small_digits
    pretrained = PCA(8, random_state=0).fit(X[200:])
    components = pretrained.components_.copy()
    frozen = FrozenEstimator(pretrained)
    pipe = StitchedPipeline(frozen, _relative(20), _decoder()).fit(X[:200], y[:200])
    assert pipe.named_steps["encoder"] is frozen
    np.testing.assert_array_equal(pretrained.components_, components)
    np.testing.assert_allclose(
        pipe.transform(X)[:, :3],
        pipe.named_steps["relative"].transform(pretrained.transform(X))[:, :3],
    )
    assert clone(pipe).encoder is frozen


def test_unfrozen_encoder_is_cloned_and_refitted(small_digits):
    X, y = small_digits
    fitted = PCA(8, random_state=0).fit(X[200:])
    components = fitted.components_.copy()
    pipe = StitchedPipeline(fitted, _relative(20), _decoder()).fit(X[:200], y[:200])
    assert pipe.named_steps["encoder"] is not fitted
    np.testing.assert_array_equal(fitted.components_, components)
    np.testing.assert_allclose(
        np.abs(pipe.named_steps["encoder"].components_),
        np.abs(PCA(8, random_state=0).fit(X[:200]).components_),
        atol=1e-10,
    )


def test_regressor_decoder():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 6))
    y = X @ rng.normal(size=6)
    pipe = StitchedPipeline(PCA(4), _relative(30), Ridge()).fit(X, y)
    assert is_regressor(pipe) and not is_classifier(pipe)
    assert not hasattr(pipe, "predict_proba") and not hasattr(pipe, "classes_")
    assert pipe.score(X, y) == pytest.approx(r2_score(y, pipe.predict(X)))


def test_methods_follow_the_decoder(small_digits):
    X, y = small_digits
    pipe = StitchedPipeline(PCA(8), _relative(20), LinearSVC()).fit(X, y)
    assert is_classifier(pipe)
    assert hasattr(pipe, "decision_function")
    assert not hasattr(pipe, "predict_proba")
    assert not hasattr(StitchedPipeline(PCA(), "passthrough", Ridge()), "predict_proba")


# --- input containers ---------------------------------------------------------------


def test_anchor_inputs_keep_the_container(small_digits):
    X, y = small_digits
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(64)])
    pipe = _pca_pipeline().fit(frame, y)
    assert isinstance(pipe.anchor_inputs_, pd.DataFrame)
    pd.testing.assert_frame_equal(pipe.anchor_inputs_, frame.iloc[pipe.anchor_indices_])
    np.testing.assert_array_equal(pipe.feature_names_in_, frame.columns)
    # The anchors re-enter an encoder fitted on a DataFrame without warnings.
    np.testing.assert_array_equal(
        stitch(pipe, pipe).predict(frame), pipe.predict(frame)
    )

    for matrix in (sp.csr_matrix(X), sp.coo_matrix(X)):
        sparse_pipe = StitchedPipeline(
            TruncatedSVD(8, random_state=0), _relative(20), _decoder()
        ).fit(matrix, y)
        assert sp.issparse(sparse_pipe.anchor_inputs_)
        np.testing.assert_array_equal(
            sparse_pipe.anchor_inputs_.toarray(), X[sparse_pipe.anchor_indices_]
        )


def test_text_encoders_and_lists_of_strings():
    words = ["cat", "dog", "fish", "bird", "horse", "cow", "lion", "wolf"]
    rng = np.random.RandomState(0)
    texts = [" ".join(rng.choice(words, size=4)) for _ in range(60)]
    y = np.array(["cat" in text for text in texts])

    def text_pipeline(vectorizer):
        encoder = make_pipeline(vectorizer, TruncatedSVD(5, random_state=0))
        return StitchedPipeline(encoder, _relative(10), _decoder()).fit(texts, y)

    tfidf = text_pipeline(TfidfVectorizer())
    assert tfidf.anchor_inputs_ == [texts[i] for i in tfidf.anchor_indices_]
    counts = text_pipeline(CountVectorizer())
    stitched = stitch(counts, tfidf)
    assert stitched.anchor_inputs_ == tfidf.anchor_inputs_
    assert stitched.predict(texts).shape == (60,)


# --- stitching: the paper's experiment ----------------------------------------------


def test_relative_stitching_works_where_absolute_fails(matrices):
    relative, absolute = matrices["relative"], matrices["absolute"]
    off_diagonal = ~np.eye(3, dtype=bool)
    # Measured (digits, 899 test images, 3 seeds): same-encoder 0.92-0.93 relative,
    # 0.94-0.96 absolute; stitched 0.895-0.925 relative, 0.04-0.21 absolute.
    assert np.diag(relative).min() > 0.88
    assert np.diag(absolute).min() > 0.88
    assert relative[off_diagonal].min() > 0.85
    assert relative[off_diagonal].mean() > 0.95 * np.diag(relative).mean()
    assert absolute[off_diagonal].max() < 0.35
    assert absolute[off_diagonal].mean() < CHANCE + 0.15


def test_stitching_to_itself_changes_nothing(small_digits):
    X, y = small_digits
    for relative in (_relative(20), "passthrough"):
        pipe = _pca_pipeline(relative=relative).fit(X, y)
        np.testing.assert_allclose(
            stitch(pipe, pipe).predict_proba(X), pipe.predict_proba(X)
        )


def test_stitch_reuses_fitted_parts_and_mutates_nothing(small_digits):
    X, y = small_digits
    pipe_a = _pca_pipeline(8).fit(X[:200], y[:200])
    pipe_b = StitchedPipeline(PCA(12), _relative(5), Ridge()).fit(X[200:], y[200:])
    hashes = joblib.hash(pipe_a), joblib.hash(pipe_b)
    stitched = stitch(pipe_b, pipe_a)
    stitched.predict(X)
    assert (joblib.hash(pipe_a), joblib.hash(pipe_b)) == hashes

    encoder_b = pipe_b.named_steps["encoder"]
    assert stitched.named_steps["encoder"] is encoder_b
    assert stitched.named_steps["decoder"] is pipe_a.named_steps["decoder"]
    # Independent computation of the stitched relative codes and predictions.
    reanchored = pipe_a.named_steps["relative"].reanchor(
        encoder_b.transform(X[:200][pipe_a.anchor_indices_])
    )
    codes = reanchored.transform(encoder_b.transform(X))
    np.testing.assert_allclose(stitched.transform(X), codes)
    np.testing.assert_array_equal(
        stitched.predict(X), pipe_a.named_steps["decoder"].predict(codes)
    )
    assert stitched.n_latent_features_ == 12
    # The method is the same operation.
    np.testing.assert_array_equal(
        pipe_a.stitch(encoder_from=pipe_b).predict(X), stitched.predict(X)
    )
    # Its parameters are the combination; refitting trains it from scratch.
    params = stitched.get_params(deep=False)
    assert params["encoder"] is pipe_b.encoder
    assert params["relative"] is pipe_a.relative
    assert params["decoder"] is pipe_a.decoder
    refitted = clone(stitched).fit(X, y)
    assert refitted.named_steps["encoder"].n_components_ == 12


def test_bare_fitted_encoder(small_digits):
    X, y = small_digits
    pipe = _pca_pipeline().fit(X, y)
    encoder = PCA(5, random_state=1).fit(X)
    stitched = stitch(encoder, pipe)
    assert stitched.named_steps["encoder"] is encoder
    assert stitched.n_latent_features_ == 5
    assert stitched.transform(X).shape == (400, 20)


def test_cross_domain_stitching_with_parallel_anchors(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    permutation = np.random.RandomState(0).permutation(64)

    def shuffled(X):  # the same images, pixels in another order
        return X[:, permutation]

    def pooled(X):  # the same images at 4x4: 2x2 average pooling
        return X.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4)).reshape(-1, 16)

    def fitted_pipeline(domain, seed):
        encoder = MLPEncoder((32,), tol=1e-2, random_state=seed)
        return StitchedPipeline(encoder, _relative(), _decoder()).fit(
            domain(X_train), y_train
        )

    upright = fitted_pipeline(lambda X: X, 0)
    same_domain = upright.score(X_test, y_test)
    others = {
        "shuffled": fitted_pipeline(shuffled, 1),
        "pooled": fitted_pipeline(pooled, 2),
    }
    # Measured: upright 0.93; shuffled 0.93 alone, 0.91 stitched (lossless view);
    # pooled 0.86 alone, 0.73 stitched (pooling loses detail the decoder relies on).
    floors = {"shuffled": same_domain - 0.06, "pooled": 0.6}
    for name, domain in [("shuffled", shuffled), ("pooled", pooled)]:
        parallel = domain(X_train[upright.anchor_indices_])
        stitched = stitch(others[name], upright, anchor_inputs=parallel)
        assert stitched.score(domain(X_test), y_test) > floors[name]
        # The stitched pipeline keeps its anchors in the new domain: stitching it
        # onto another encoder of that domain needs no anchor_inputs.
        np.testing.assert_array_equal(stitched.anchor_inputs_, parallel)
        again = stitch(others[name], stitched)
        np.testing.assert_array_equal(
            again.predict(domain(X_test)), stitched.predict(domain(X_test))
        )

    # Anchors that are not the same items break the stitch (measured 0.21). Shuffled
    # pixels have the same width, but the other encoder's codes are not rows of the
    # anchors' space: the input-space guard refuses them, and unchecked, the
    # accuracy shows it.
    wrong = stitch(others["shuffled"], upright)
    with pytest.raises(ValueError, match="another encoder"):
        wrong.score(shuffled(X_test), y_test)
    wrong.pipeline_.set_params(relative__check_input_space=False)
    assert wrong.score(shuffled(X_test), y_test) < same_domain - 0.3
    # Another width: the missing anchor_inputs are detected.
    with pytest.raises(ValueError, match="different domains: pass anchor_inputs"):
        stitch(others["pooled"], upright)


# --- model selection, cloning, pickling, routing -------------------------------------


def test_grid_search_over_the_number_of_anchors(small_digits):
    X, y = small_digits
    pipe = _pca_pipeline(relative=_relative())
    assert pipe.get_params()["relative__n_anchors"] == 100
    search = GridSearchCV(pipe, {"relative__n_anchors": [2, 50]}, cv=3).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    # Two anchors cannot separate ten classes.
    assert scores[1] > scores[0] + 0.3
    assert search.best_params_ == {"relative__n_anchors": 50}
    assert search.best_estimator_.named_steps["relative"].n_anchors_ == 50


def test_clone_and_set_params():
    pipe = _pca_pipeline()
    twin = clone(pipe)
    assert twin.relative is not pipe.relative
    assert twin.get_params()["relative__n_anchors"] == 20
    twin.set_params(relative__n_anchors=7, encoder__n_components=3)
    assert (twin.relative.n_anchors, twin.encoder.n_components) == (7, 3)
    assert pipe.relative.n_anchors == 20
    twin.set_params(relative="passthrough")
    assert twin.relative == "passthrough"


def test_pickle_fitted_and_stitched(small_digits):
    X, y = small_digits
    pipe_a = _pca_pipeline().fit(X[:200], y[:200])
    pipe_b = _pca_pipeline(6).fit(X[200:], y[200:])
    for pipe in (pipe_a, stitch(pipe_b, pipe_a)):
        loaded = pickle.loads(pickle.dumps(pipe))
        np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
        np.testing.assert_array_equal(loaded.anchor_inputs_, pipe.anchor_inputs_)


def test_fit_params_reach_the_decoder(small_digits):
    X, y = small_digits
    weights = np.where(y < 5, 1.0, 0.05)
    plain = _pca_pipeline().fit(X, y)
    legacy = _pca_pipeline().fit(X, y, decoder__sample_weight=weights)
    expected = _decoder().fit(legacy.transform(X), y, sample_weight=weights)
    np.testing.assert_allclose(
        legacy.predict_proba(X), expected.predict_proba(legacy.transform(X))
    )
    assert not np.allclose(legacy.predict_proba(X), plain.predict_proba(X))

    with config_context(enable_metadata_routing=True):
        decoder = _decoder().set_fit_request(sample_weight=True)
        routed = StitchedPipeline(PCA(8, random_state=0), _relative(20), decoder)
        routed.fit(X, y, sample_weight=weights)
        np.testing.assert_allclose(routed.predict_proba(X), legacy.predict_proba(X))
        router = routed.get_metadata_routing()
        assert router.consumes("fit", {"sample_weight"}) == {"sample_weight"}


# --- bad input ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(small_digits):
    X, y = small_digits
    return {
        "relative": _pca_pipeline(8).fit(X, y),
        "relative_other": _pca_pipeline(5).fit(X, y),
        "absolute": _pca_pipeline(8, relative="passthrough").fit(X, y),
        "absolute_narrow": _pca_pipeline(5, relative="passthrough").fit(X, y),
    }


def test_stitching_unfitted_pipelines_raises(fitted):
    with pytest.raises(NotFittedError, match="decoder_from is not fitted"):
        stitch(fitted["relative"], _pca_pipeline())
    with pytest.raises(NotFittedError, match="encoder_from is not fitted"):
        stitch(_pca_pipeline(), fitted["relative"])
    with pytest.raises(NotFittedError, match="encoder_from is not fitted"):
        stitch(PCA(3), fitted["relative"])
    with pytest.raises(NotFittedError, match="encoder_from is not fitted"):
        stitch(FrozenEstimator(PCA(3)), fitted["relative"])
    with pytest.raises(NotFittedError):
        _pca_pipeline().stitch(encoder_from=fitted["relative"])


def test_stitching_wrong_types_raises(fitted, small_digits):
    X, y = small_digits
    with pytest.raises(
        TypeError, match="decoder_from must be a fitted StitchedPipeline"
    ):
        stitch(fitted["relative"], _decoder().fit(X, y))
    with pytest.raises(TypeError, match="encoder_from must be"):
        stitch(_decoder().fit(X, y), fitted["relative"])


def test_mismatched_anchors_raise(fitted, small_digits):
    X, _ = small_digits
    pipe = fitted["relative"]
    anchors = X[pipe.anchor_indices_]
    with pytest.raises(ValueError, match="expected 20 rows, got 19"):
        stitch(fitted["relative_other"], pipe, anchor_inputs=anchors[:-1])
    with pytest.raises(
        ValueError, match="have 32 features but encoder_from's encoder reads 64"
    ):
        stitch(fitted["relative_other"], pipe, anchor_inputs=anchors[:, :32])


def test_mixing_relative_and_absolute_raises(fitted):
    with pytest.raises(ValueError, match="relative pipeline to a passthrough"):
        stitch(fitted["absolute"], fitted["relative"])
    with pytest.raises(ValueError, match="relative pipeline to a passthrough"):
        stitch(fitted["relative"], fitted["absolute"])
    # Reusing an encoder across kinds on purpose: pass the encoder itself.
    encoder = fitted["absolute"].named_steps["encoder"]
    assert stitch(encoder, fitted["relative"]).n_latent_features_ == 8


def test_absolute_stitching_checks_widths(fitted, small_digits):
    X, _ = small_digits
    with pytest.raises(
        ValueError, match="outputs 5 features, decoder_from's decoder reads 8"
    ):
        stitch(fitted["absolute_narrow"], fitted["absolute"])
    with pytest.raises(ValueError, match="outputs 5 features"):
        stitch(fitted["absolute_narrow"].named_steps["encoder"], fitted["absolute"])
    with pytest.raises(ValueError, match=r"nothing to re-anchor.*via=.translation"):
        stitch(fitted["absolute"], fitted["absolute"], anchor_inputs=X[:8])


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"relative": "absolute"}, "relative"),
        ({"decoder": PCA()}, "decoder"),
        ({"encoder": LogisticRegression()}, "encoder"),
    ],
)
def test_invalid_parameters(small_digits, params, name):
    X, y = small_digits
    pipe = _pca_pipeline().set_params(**params)
    # Tags stay readable (GridSearchCV reads them before fit), fit names the culprit.
    assert is_classifier(pipe) == (name != "decoder")
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        pipe.fit(X, y)
