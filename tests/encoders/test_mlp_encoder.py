"""Tests for MLPEncoder: the last hidden layer of a scikit-learn MLP as a transformer."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import InvalidParameterError

from skrelrep import MLPEncoder

# Briefly trained nets are the point of these tests: their convergence is not.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("hidden_layer_sizes", [(6,), (7, 5)])
@pytest.mark.parametrize("sparse", [False, True])
def test_code_feeds_the_output_layer(activation, hidden_layer_sizes, sparse):
    # The network's own probabilities, computed by scikit-learn, must equal the output
    # layer applied to our code: an independent check of the forward pass.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 5))
    y = rng.randint(3, size=60)
    encoder = MLPEncoder(
        hidden_layer_sizes, activation, max_iter=30, random_state=0
    ).fit(X, y)
    codes = encoder.transform(sp.csr_matrix(X) if sparse else X)
    mlp = encoder.mlp_
    logits = codes @ mlp.coefs_[-1] + mlp.intercepts_[-1]
    np.testing.assert_allclose(softmax(logits, axis=1), mlp.predict_proba(X), rtol=1e-6)
    assert codes.shape == (60, hidden_layer_sizes[-1])
    if activation == "relu":
        assert codes.min() >= 0


def test_float32_stays_float32():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 4)).astype(np.float32)
    y = rng.randint(2, size=40)
    codes = MLPEncoder((5,), max_iter=10, random_state=0).fit(X, y).transform(X)
    assert codes.dtype == np.float32


def test_code_is_informative_and_seed_dependent(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    encoders = [
        MLPEncoder((16,), tol=1e-2, random_state=seed).fit(X_train, y_train)
        for seed in (0, 1)
    ]
    codes = [encoder.transform(X_test) for encoder in encoders]
    # A linear probe reads the class from the code (chance is 0.1).
    probe = LogisticRegression(max_iter=500).fit(
        encoders[0].transform(X_train), y_train
    )
    assert probe.score(codes[0], y_test) > 0.85
    # Another seed learns another space: the same probe fails on it.
    assert probe.score(codes[1], y_test) < 0.5
    # The same seed learns the same space.
    again = MLPEncoder((16,), tol=1e-2, random_state=0).fit(X_train, y_train)
    np.testing.assert_array_equal(again.transform(X_test), codes[0])


def test_feature_names_out():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(30, 3)), rng.randint(2, size=30)
    encoder = MLPEncoder((4, 3), max_iter=5, random_state=0).fit(X, y)
    assert list(encoder.get_feature_names_out()) == [
        "mlpencoder0",
        "mlpencoder1",
        "mlpencoder2",
    ]


def test_needs_a_hidden_layer():
    X, y = np.ones((10, 2)), np.arange(10) % 2
    with pytest.raises(ValueError, match="at least one hidden layer"):
        MLPEncoder(hidden_layer_sizes=()).fit(X, y)


def test_bad_parameters_and_missing_y():
    X, y = np.ones((10, 2)), np.arange(10) % 2
    with pytest.raises(InvalidParameterError, match="activation"):
        MLPEncoder(activation="softmax").fit(X, y)
    with pytest.raises(InvalidParameterError, match="alpha"):
        MLPEncoder(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="requires y"):
        MLPEncoder().fit(X, None)


def test_transform_checks_width():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(20, 3)), rng.randint(2, size=20)
    encoder = MLPEncoder((4,), max_iter=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="3 features"):
        encoder.transform(X[:, :2])


def test_fit_raises_the_keyboard_interrupt_scikit_learn_swallows(monkeypatch):
    # A Ctrl-C during the 3rd epoch: MLPClassifier's stochastic solvers catch it and
    # only warn; MLPEncoder.fit must stop with the KeyboardInterrupt, warning nothing.
    from sklearn.neural_network import MLPClassifier

    epochs = []
    update = MLPClassifier._update_no_improvement_count

    def interrupted_on_the_third_epoch(self, *args, **kwargs):
        epochs.append(self.n_iter_)
        if len(epochs) == 3:
            raise KeyboardInterrupt
        return update(self, *args, **kwargs)

    monkeypatch.setattr(
        MLPClassifier, "_update_no_improvement_count", interrupted_on_the_third_epoch
    )
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(40, 3)), rng.randint(2, size=40)
    encoder = MLPEncoder((4,), max_iter=50, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(KeyboardInterrupt):
            encoder.fit(X, y)
    assert epochs == [1, 2, 3]
    assert not [w for w in caught if "interrupted" in str(w.message)]
    assert not hasattr(encoder, "mlp_")  # no truncated encoder left behind


def test_fit_still_emits_other_warnings():
    # The interrupt check must not swallow scikit-learn's other warnings.
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(40, 3)), rng.randint(2, size=40)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        MLPEncoder((4,), max_iter=2, random_state=0).fit(X, y)
