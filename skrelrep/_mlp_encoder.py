"""MLPEncoder: the last hidden layer of a scikit-learn MLP classifier, as a transformer.

Model stitching needs encoders trained independently, for instance with different seeds.
This one needs nothing beyond scikit-learn: it trains a
:class:`~sklearn.neural_network.MLPClassifier` and reads out its last hidden layer.
"""

import warnings

import numpy as np
from scipy.special import expit
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.neural_network import MLPClassifier
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from .utils._compat import _fit_context

__all__ = ["MLPEncoder"]

# The hidden activations MLPClassifier offers, applied in place.
_ACTIVATIONS = {
    "identity": lambda Z: Z,
    "logistic": lambda Z: expit(Z, out=Z),
    "tanh": lambda Z: np.tanh(Z, out=Z),
    "relu": lambda Z: np.maximum(Z, 0, out=Z),
}

# What MLPClassifier's stochastic solvers warn, in place of raising, on a Ctrl-C.
_INTERRUPTED = "Training interrupted by user"

# The MLPClassifier parameters exposed here; they are validated by its own constraints.
_MLP_PARAMS = (
    "hidden_layer_sizes",
    "activation",
    "solver",
    "alpha",
    "batch_size",
    "learning_rate",
    "learning_rate_init",
    "max_iter",
    "shuffle",
    "random_state",
    "tol",
    "early_stopping",
    "validation_fraction",
    "n_iter_no_change",
)


class MLPEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Encode samples with the last hidden layer of a supervised MLP classifier.

    ``fit`` trains a :class:`~sklearn.neural_network.MLPClassifier` on ``(X, y)``;
    ``transform`` returns the activations of its last hidden layer, the latent code a
    decoder (here, the network's own output layer) reads. Two encoders that differ only
    by their seed learn latent spaces that serve the task equally well but are not
    aligned: a decoder fitted on one fails on the other, unless both are expressed
    relative to the same anchors (see :class:`RelativeTransformer`,
    :class:`StitchedPipeline`).

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers,), default=(100,)
        Width of each hidden layer; the last one is the width of the code. At least one
        hidden layer.

    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers (also applied by ``transform``).

    solver : {"lbfgs", "sgd", "adam"}, default="adam"
        Weight optimiser, see :class:`~sklearn.neural_network.MLPClassifier`.

    alpha : float, default=0.0001
        Strength of the L2 regularisation.

    batch_size : int or "auto", default="auto"
        Minibatch size of the stochastic solvers; ``"auto"`` is ``min(200, n_samples)``.

    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning rate schedule of the ``"sgd"`` solver.

    learning_rate_init : float, default=0.001
        Initial learning rate of the ``"sgd"`` and ``"adam"`` solvers.

    max_iter : int, default=200
        Maximum number of epochs (iterations for ``"lbfgs"``).

    shuffle : bool, default=True
        Whether to shuffle the samples at each epoch (stochastic solvers).

    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the shuffling and the validation split. Two
        seeds give two independently trained encoders.

    tol : float, default=1e-4
        Tolerance of the optimisation, see :class:`~sklearn.neural_network.MLPClassifier`.

    early_stopping : bool, default=False
        Stop when the score on a held-out validation split stops improving.

    validation_fraction : float, default=0.1
        Fraction of the training data held out when ``early_stopping=True``.

    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` before stopping.

    Attributes
    ----------
    mlp_ : MLPClassifier
        The trained network (its ``classes_``, ``loss_curve_``, ...).

    n_iter_ : int
        Number of iterations the solver ran.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The network trained by ``fit``.
    StitchedPipeline : Encoder, relative projection and decoder, stitchable across
        encoders.

    Notes
    -----
    Training may stop at ``max_iter`` before converging, in which case
    :class:`~sklearn.neural_network.MLPClassifier` raises a
    :class:`~sklearn.exceptions.ConvergenceWarning`. The code of an unconverged network
    is still a valid encoding.

    A :class:`KeyboardInterrupt` (Ctrl-C) during ``fit`` propagates. The stochastic
    solvers of :class:`~sklearn.neural_network.MLPClassifier` catch it, warn "Training
    interrupted by user." and return the network trained so far, so that a program
    would carry on with a truncated encoder; ``fit`` turns that warning back into the
    :class:`KeyboardInterrupt` (the warning is not emitted). To do so it adds a warning
    filter for the duration of the inner fit, with :func:`warnings.catch_warnings`
    (process-wide filters: encoders fitted in parallel threads may, rarely, miss it
    and fall back to scikit-learn's behaviour).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skrelrep import MLPEncoder
    >>> X, y = load_digits(return_X_y=True)
    >>> encoder = MLPEncoder(hidden_layer_sizes=(32,), tol=1e-2, random_state=0)
    >>> codes = encoder.fit_transform(X / 16, y)
    >>> codes.shape
    (1797, 32)
    >>> encoder.get_feature_names_out()[:3]
    array(['mlpencoder0', 'mlpencoder1', 'mlpencoder2'], dtype=object)
    """

    _parameter_constraints: dict = {
        name: MLPClassifier._parameter_constraints[name] for name in _MLP_PARAMS
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the network on ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training inputs.

        y : array-like of shape (n_samples,)
            Class labels the network learns to predict.

        Returns
        -------
        self : object
            Fitted encoder.
        """
        if len(np.atleast_1d(self.hidden_layer_sizes)) == 0:
            raise ValueError(
                "MLPEncoder needs at least one hidden layer: its code is the last "
                "hidden layer's activations."
            )
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
        )
        params = {name: getattr(self, name) for name in _MLP_PARAMS}
        self.mlp_ = _fit_interruptibly(MLPClassifier(**params), X, y)
        self.n_iter_ = self.mlp_.n_iter_
        return self

    def transform(self, X):
        """Activations of the last hidden layer.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, hidden_layer_sizes[-1])
            The latent code, in the floating dtype of ``X`` (integers become float64).
        """
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            reset=False,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
        )
        activation = _ACTIVATIONS[self.mlp_.activation]
        # The hidden layers only: the last weight matrix is the classifier's output layer.
        hidden = zip(self.mlp_.coefs_[:-1], self.mlp_.intercepts_[:-1], strict=True)
        for coef, intercept in hidden:
            X = safe_sparse_dot(X, coef.astype(X.dtype, copy=False))
            X += intercept.astype(X.dtype, copy=False)
            X = activation(X)
        return X

    @property
    def _n_features_out(self):
        """Width of the code (used by get_feature_names_out)."""
        return self.mlp_.coefs_[-1].shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _fit_interruptibly(mlp, X, y):
    """``mlp.fit(X, y)``, raising the KeyboardInterrupt that MLPClassifier swallows.

    The warning it emits instead is made an error, raised inside its ``except
    KeyboardInterrupt`` block: the interrupt is that error's context.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=_INTERRUPTED, category=UserWarning)
        try:
            return mlp.fit(X, y)
        except UserWarning as warning:
            if not str(warning).startswith(_INTERRUPTED):
                raise
            interrupt = warning.__context__
    if not isinstance(interrupt, KeyboardInterrupt):  # pragma: no cover - defensive
        interrupt = KeyboardInterrupt()
    raise interrupt
