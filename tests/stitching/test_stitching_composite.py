"""StitchedPipeline as a composite: steps, indexing, verbose, repr, set_output, names.

Each behaviour is checked against a scikit-learn Pipeline of the same three steps,
the composite users know.
"""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils import estimator_html_repr
from sklearn.utils.estimator_checks import (
    check_global_output_transform_pandas,
    check_set_output_transform,
    check_set_output_transform_pandas,
)

from skrelrep import RelativeTransformer, StitchedPipeline, stitch
from skrelrep.similarity import CombinedSimilarity

NAMES = ["encoder", "relative", "decoder"]


def _pipeline(relative=None, **params):
    if relative is None:
        relative = RelativeTransformer(10, random_state=0)
    return StitchedPipeline(
        PCA(6, random_state=0), relative, LogisticRegression(max_iter=500), **params
    )


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return X[:300], y[:300]


def test_steps_and_indexing_like_a_pipeline(data):
    X, y = data
    pipe = _pipeline()
    plain = Pipeline(
        list(zip(NAMES, [pipe.encoder, pipe.relative, pipe.decoder], strict=True))
    )
    assert len(pipe) == len(plain) == 3
    # Before fit: the parameters themselves, as in a Pipeline.
    for index, name in enumerate(NAMES):
        assert pipe[index] is plain[index] is pipe.get_params()[name]
        assert pipe[name] is pipe.named_steps[name] is plain.named_steps[name]
    assert pipe.steps == plain.steps
    assert [name for name, _ in pipe[:-1].steps] == ["encoder", "relative"]

    pipe.fit(X, y)
    # After fit: the fitted steps (fit clones), never the parameters.
    assert pipe.steps == pipe.pipeline_.steps
    for index, name in enumerate(NAMES):
        assert pipe[index] is pipe[name] is pipe.pipeline_[index]
        assert pipe[index] is not pipe.get_params()[name]
    assert pipe[-1].classes_.tolist() == list(range(10))
    head = pipe[:-1]
    assert isinstance(head, Pipeline)
    assert head[0] is pipe[0] and head[1] is pipe[1]
    np.testing.assert_array_equal(head.transform(X), pipe.transform(X))
    with pytest.raises(ValueError, match="step of 1"):
        pipe[::2]
    with pytest.raises(KeyError):
        pipe["translator"]


def test_verbose_prints_the_steps_like_a_pipeline(data, capsys):
    X, y = data
    _pipeline(verbose=True).fit(X, y)
    ours = capsys.readouterr().out.splitlines()
    Pipeline(_pipeline().steps, verbose=True).fit(X, y)
    theirs = capsys.readouterr().out.splitlines()

    def shape(line):  # the time and the padding differ, not the message
        return re.sub(r"^\[\w+\] \.*| total=.*$", "", line)

    assert len(ours) == len(theirs) == 3
    assert [shape(line) for line in ours] == [shape(line) for line in theirs]
    assert all(line.startswith("[StitchedPipeline] ") for line in ours)
    assert all(len(line) == len(theirs[0]) for line in ours)
    _pipeline().fit(X, y)
    assert capsys.readouterr().out == ""


def test_passthrough_step_is_reported_by_verbose(data, capsys):
    X, y = data
    _pipeline("passthrough", verbose=True).fit(X, y)
    assert "(step 2 of 3) Processing relative" in capsys.readouterr().out


def test_html_repr_is_a_sequence(data):
    X, y = data
    for pipe in (_pipeline(), _pipeline().fit(X, y)):
        html = estimator_html_repr(pipe)
        body = html[html.index("</style>") :]
        assert "sk-serial" in body and "sk-parallel" not in body
        serial = body[body.index("sk-serial") :]
        order = [serial.index(n) for n in ("PCA", "RelativeTransformer", "Logistic")]
        assert order == sorted(order)
        block, reference = pipe._sk_visual_block_(), Pipeline(pipe.steps)
        assert block.kind == reference._sk_visual_block_().kind == "serial"
        assert list(block.names) == [f"{n}: {type(s).__name__}" for n, s in pipe.steps]


def test_set_output_pandas(data):
    X, y = data
    pipe = _pipeline().fit(X, y)
    default = pipe.transform(X)
    frame = pd.DataFrame(X, index=np.arange(1000, 1000 + len(X)))
    pipe.set_output(transform="pandas")
    out = pipe.transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(pipe.get_feature_names_out())
    assert list(out.index) == list(frame.index)
    np.testing.assert_allclose(out.to_numpy(), default)
    fitted = _pipeline().set_output(transform="pandas").fit_transform(X, y)
    assert isinstance(fitted, pd.DataFrame)
    np.testing.assert_allclose(fitted.to_numpy(), default)
    pipe.set_output(transform="default")
    assert isinstance(pipe.transform(X), np.ndarray)
    # The steps keep their own output (they may be shared with other pipelines).
    assert isinstance(pipe[0].transform(X), np.ndarray)


# The checks mix DataFrame and array inputs on purpose; PCA's warning about it is
# scikit-learn's, not under test.
@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
@pytest.mark.filterwarnings("ignore:X has feature names")
@pytest.mark.parametrize(
    "check",
    [
        check_set_output_transform,
        check_set_output_transform_pandas,
        check_global_output_transform_pandas,
    ],
)
@pytest.mark.parametrize("relative", [None, "passthrough"])
def test_scikit_learn_set_output_checks(check, relative):
    pipe = StitchedPipeline(
        PCA(2), relative or RelativeTransformer(5, random_state=0), LogisticRegression()
    )
    check("StitchedPipeline", pipe)


def test_set_output_polars(data):
    pl = pytest.importorskip("polars")
    X, y = data
    pipe = _pipeline().fit(X, y).set_output(transform="polars")
    out = pipe.transform(X)
    assert isinstance(out, pl.DataFrame)
    assert out.columns == list(pipe.get_feature_names_out())


def test_feature_names_say_which_anchor(data):
    X, y = data
    pipe = _pipeline().fit(X, y)
    # Independent: the anchors the relative step chose, as rows of X.
    indices = pipe[1].anchor_indices_
    names = pipe.get_feature_names_out()
    assert list(names) == [f"relative_anchor{i}" for i in indices]
    np.testing.assert_array_equal(pipe.anchor_inputs_, X[indices])
    assert len(names) == pipe.transform(X).shape[1] == 10

    combined = RelativeTransformer(
        10, similarity=CombinedSimilarity(["cosine", "euclidean"]), random_state=0
    )
    both = _pipeline(combined).fit(X, y)
    assert both.transform(X).shape[1] == 20
    assert list(both.get_feature_names_out()) == [
        f"relative_similarity{s}_anchor{i}" for s in (0, 1) for i in indices
    ]
    # The decoder's anchors are the stitched pipeline's.
    other = StitchedPipeline(
        PCA(4, random_state=0),
        RelativeTransformer(10, random_state=0),
        LogisticRegression(max_iter=500),
    ).fit(X, y)
    assert list(stitch(other, pipe).get_feature_names_out()) == list(names)
    # Passthrough: the encoder's own names.
    absolute = _pipeline("passthrough").fit(X, y)
    assert list(absolute.get_feature_names_out()) == [f"pca{i}" for i in range(6)]


def test_fitted_only_attributes_raise_not_fitted(data):
    X, _ = data
    pipe = _pipeline()
    for method in (pipe.get_feature_names_out, pipe.transform, pipe.predict_proba):
        with pytest.raises(NotFittedError):
            method(*([] if method == pipe.get_feature_names_out else [X]))
    for attribute in ("classes_", "n_features_in_", "feature_names_in_"):
        assert not hasattr(pipe, attribute)


def test_unknown_fit_parameters_raise(data):
    X, y = data
    with pytest.raises(ValueError, match="does not accept the sample_weight"):
        _pipeline().fit(X, y, sample_weight=np.ones(len(y)))
    with pytest.raises(ValueError, match="does not accept the translator__w"):
        _pipeline().fit(X, y, translator__w=1)
