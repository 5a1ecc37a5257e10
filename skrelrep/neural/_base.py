"""What every net of :mod:`skrelrep.neural` shares with the others.

The nets are skorch nets with an extra module or two (a classification head or a
decoder, and a relative layer for the relative nets). The mixins here add the
scikit-learn side: parameter validation, float32 input validation, seeding through
``random_state``, label encoding for the classifiers, batched encoding for
``transform``, and :meth:`with_encoder` to swap in another encoder after training.
"""

import copy
import inspect
import math

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import assert_all_finite, check_array
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch import NeuralNet
from skorch.dataset import unpack_data
from skorch.utils import is_dataset, to_device, to_tensor

from ._seeding import draw_seed, offset_seed, seeded

__all__ = ["AutoEncoderMixin", "ClassifierNetMixin", "NetMixin"]

# skorch with metadata routing (skorch-dev/skorch#1139) tells partial_fit which
# method's metadata requests apply; older versions would hand the keyword to the
# module's forward.
_SKORCH_ROUTES_FIT = (
    "_routing_method" in inspect.signature(NeuralNet.fit_loop).parameters
)


class NetMixin:
    """Seeding, float32 inputs, batched encoding and encoder swapping for skorch nets.

    Subclasses implement ``initialize_module`` (building ``module_``, the encoder, and
    the modules after it) and ``_forward(x)``, the full forward pass of a batch.
    """

    _parameter_constraints: dict = {"random_state": ["random_state"]}

    def _get_param_names(self):
        # skorch lists its bookkeeping set `_params_to_validate` among the parameters;
        # its __init__ rebuilds that set from the prefixed parameters, so clone and
        # set_params need not (and must not) see it.
        return [
            name for name in super()._get_param_names() if name != "_params_to_validate"
        ]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # -- initialisation and training -------------------------------------------------
    def initialize(self):
        """Validate the parameters, then build the modules, seeded by ``random_state``.

        Returns
        -------
        self : object
            The initialized net.
        """
        # scikit-learn's validation for our own parameters; skorch validates its
        # prefixed ones (module__*, optimizer__*, ...) at the end of initialize.
        BaseEstimator._validate_params(self)
        self.torch_seed_ = draw_seed(self.random_state)
        with seeded(self.torch_seed_, self.device):
            return super().initialize()

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # Shuffling and dropout draw from a seed that moves on with every call, so
        # repeated partial_fit calls do not replay the same batches.
        seed = offset_seed(getattr(self, "torch_seed_", None), len(self.history))
        with seeded(seed, self.device):
            return super().fit_loop(X, y, epochs=epochs, **fit_params)

    def _fit_validated(self, X, y, **fit_params):
        """skorch's ``fit`` on inputs that ``fit`` has already validated."""
        if not self.warm_start or not self.initialized_:
            self.initialize()
        if _SKORCH_ROUTES_FIT:  # metadata routing: these are fit's, not partial_fit's
            fit_params["_routing_method"] = "fit"
        super().partial_fit(X, y, **fit_params)
        return self

    def _component(self, name, **defaults):
        """Instantiate parameter ``name`` (a module class or instance).

        ``name__*`` parameters are passed on; ``defaults`` (sizes read from the data
        or from the previous module) fill the arguments that the class accepts and
        the user left unset. An instance is used as it is.
        """
        spec = getattr(self, name)
        kwargs = self.get_params_for(name)
        if isinstance(spec, torch.nn.Module):
            return self.initialized_instance(spec, kwargs)
        try:
            accepted = inspect.signature(spec).parameters
        except (TypeError, ValueError):
            accepted = {}
        for key, value in defaults.items():
            if key in accepted and key not in kwargs and value is not None:
                kwargs[key] = value
        try:
            return spec(**kwargs)
        except TypeError as exc:
            raise TypeError(
                f"Could not build {name} from {getattr(spec, '__name__', spec)!r}: "
                f"{exc}. Pass its arguments as {name}__<argument>=..."
            ) from exc

    def _input_defaults(self):
        """Constructor arguments of an encoder class that the input format fixes."""
        shape = getattr(self, "input_shape_", None)
        if shape is None:
            return {}
        defaults = {"n_features": math.prod(shape)}
        if len(shape) == 3:  # (channels, height, width) images
            defaults["in_channels"] = shape[0]
        return defaults

    # -- data ------------------------------------------------------------------------
    def get_dataset(self, X, y=None):
        # The modules hold float32 weights: feed them float32 whatever comes in.
        if isinstance(X, np.ndarray) and X.dtype != np.float32:
            X = X.astype(np.float32)
        elif isinstance(X, torch.Tensor) and X.dtype != torch.float32:
            X = X.to(torch.float32)
        return super().get_dataset(X, y)

    def _validate_X(self, X, *, reset):
        """float32 NumPy array or torch tensor with a fixed per-sample shape.

        ``reset=True`` marks the start of training: the parameters are validated
        first, before anything (the anchors) is chosen from the data.
        """
        if reset:
            BaseEstimator._validate_params(self)
        if is_dataset(X):
            return X
        if isinstance(X, torch.Tensor):
            X = X.to(torch.float32)
            if X.ndim < 2:
                raise ValueError(
                    f"Expected a 2-D (or image) tensor, got shape {tuple(X.shape)}."
                )
            if reset:
                self.n_features_in_ = X.shape[1]
        else:
            X = validate_data(self, X, reset=reset, dtype=np.float32, allow_nd=True)
        if reset:
            self.input_shape_ = tuple(X.shape[1:])
        elif tuple(X.shape[1:]) != self.input_shape_:
            raise ValueError(
                f"X has samples of shape {tuple(X.shape[1:])}, but "
                f"{type(self).__name__} was fitted on samples of shape "
                f"{self.input_shape_}."
            )
        return X

    def infer(self, x, **fit_params):
        return self._forward(to_tensor(x, device=self.device), **fit_params)

    def _map_batches(self, function, X):
        """``function`` applied batch by batch in eval mode, concatenated on the CPU."""
        dataset = self.get_dataset(X)
        self._set_training(False)
        outputs = []
        with torch.no_grad():
            for batch in self.get_iterator(dataset, training=False):
                Xi, _ = unpack_data(batch)
                output = function(to_tensor(Xi, device=self.device))
                outputs.append(to_device(output, "cpu"))
        return torch.cat(outputs).numpy()

    def encode(self, X):
        """Latent codes of the encoder (``module_``) for ``X``.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Inputs in the format the net was fitted on.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
            Codes (float32), on the CPU.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._map_batches(lambda x: self.module_(x).flatten(1), X)

    # -- swapping the encoder ----------------------------------------------------------
    def with_encoder(self, encoder, **kwargs):
        """Return a copy of this fitted net that runs another encoder.

        Everything after the encoder (head or decoder, and the relative layer for the
        relative nets) is kept as trained; nothing is refitted. ``self`` is unchanged.

        Parameters
        ----------
        encoder : fitted net, FrozenEstimator of a fitted net, or torch.nn.Module
            Where to take the encoder from: the ``module_`` of a fitted net of
            :mod:`skrelrep.neural` (or any skorch net), or a torch module. A copy is
            made; ``encoder`` itself is not modified.

        **kwargs : dict
            Options of the concrete net (``anchor_inputs`` for the relative nets).

        Returns
        -------
        net : object
            A fitted net of the same class as ``self``.
        """
        check_is_fitted(self)
        module, source = _encoder_module(encoder)
        new = copy.deepcopy(self)
        module = copy.deepcopy(module)
        module = to_device(module, new.device)
        new._install_encoder(module, source, **kwargs)
        new._adopt_encoder_params(module, source)
        new.module_ = module
        # The optimizer must track the new encoder's parameters for further training.
        with new._current_init_context("optimizer"):
            new.initialize_optimizer()
        return new

    def _adopt_encoder_params(self, module, source):
        """Make ``module`` and ``module__*`` describe the new encoder (for clone)."""
        for key in [key for key in vars(self) if key.startswith("module__")]:
            delattr(self, key)
            self._params_to_validate.discard(key)
        if source is None:
            self.module = module
            return
        self.module = source.module
        for key, value in source.get_params_for("module").items():
            setattr(self, f"module__{key}", value)
            self._params_to_validate.add(f"module__{key}")
        for name in ("input_shape_", "n_features_in_", "feature_names_in_"):
            if hasattr(source, name):
                setattr(self, name, copy.copy(getattr(source, name)))
            elif hasattr(self, name):
                delattr(self, name)

    def _install_encoder(self, module, source):
        """Check that ``module`` fits the trained head (absolute codes: same width)."""
        old = getattr(self.module_, "n_components", None)
        new = getattr(module, "n_components", None)
        if old is not None and new is not None and old != new:
            raise ValueError(
                f"The new encoder's codes have {new} components but the "
                f"{type(self).__name__} was trained on {old}: absolute codes of "
                "different widths cannot be stitched (relative ones can)."
            )


class ClassifierNetMixin:
    """Label encoding, ``predict`` and ``predict_proba`` for the classifier nets."""

    def fit(self, X, y, **fit_params):
        """Train the net, re-initialising it unless ``warm_start``.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Training inputs: rows of features, or images for convolutional encoders.

        y : array-like of shape (n_samples,)
            Class labels (any hashable values).

        **fit_params : dict
            Passed on to skorch (for example to the module's ``forward``).

        Returns
        -------
        self : object
            The fitted net.
        """
        X = self._validate_X(X, reset=True)
        self.classes_, y = np.unique(self._validate_y(X, y), return_inverse=True)
        self._prepare_fit(X, y)
        return self._fit_validated(X, y, **fit_params)

    def partial_fit(self, X, y, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs without re-initialising.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Training inputs.

        y : array-like of shape (n_samples,)
            Class labels.

        classes : array-like of shape (n_classes,), default=None
            Every class label, needed on the first call if ``y`` lacks some.

        **fit_params : dict
            Passed on to skorch.

        Returns
        -------
        self : object
            The fitted net.
        """
        first_call = not self.initialized_
        X = self._validate_X(X, reset=first_call)
        y = self._validate_y(X, y)
        if first_call:
            self.classes_ = np.unique(y if classes is None else np.asarray(classes))
        missing = ~np.isin(y, self.classes_)
        if missing.any():
            raise ValueError(
                f"y holds labels unseen before: {np.unique(y[missing]).tolist()}; "
                "pass every label with classes= on the first call."
            )
        y = np.searchsorted(self.classes_, y)
        if first_call:
            self._prepare_fit(X, y)
            self.initialize()
        return super().partial_fit(X, y, **fit_params)

    def _validate_y(self, X, y):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is "
                "None: it needs class labels to fit."
            )
        y = column_or_1d(y, warn=True)
        assert_all_finite(y, input_name="y")
        check_classification_targets(y)
        check_consistent_length(X, y)
        return y

    def _prepare_fit(self, X, y):
        """Hook for what must exist before the modules are built (anchors)."""

    def predict_proba(self, X):
        """Class probabilities (softmax of the head's logits).

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            In the order of ``classes_``.
        """
        check_is_fitted(self)
        return super().predict_proba(self._validate_X(X, reset=False))

    def predict(self, X):
        """Most probable class of each sample.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)  # first: it checks that the net is fitted
        return self.classes_[proba.argmax(axis=1)]


def _unavailable(net):
    return False


class AutoEncoderMixin:
    """Reconstruction training for the autoencoders: the target is the input itself."""

    def fit(self, X, y=None, **fit_params):
        """Train encoder and decoder to reconstruct ``X``, re-initialising the net.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Training inputs.

        y : array-like of shape (n_samples,), default=None
            Not a target. Relative autoencoders use it only to choose anchors with
            ``anchor_selection="stratified"``; otherwise ignored.

        **fit_params : dict
            Passed on to skorch.

        Returns
        -------
        self : object
            The fitted net.
        """
        X = self._validate_X(X, reset=True)
        self._prepare_fit(X, y)
        return self._fit_validated(X, _flat(X), **fit_params)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs without re-initialising.

        Parameters
        ----------
        X : array-like or torch.Tensor of shape (n_samples, ...)
            Training inputs.

        y : array-like of shape (n_samples,), default=None
            As in :meth:`fit`, and only on the first call.

        classes : None
            Ignored.

        **fit_params : dict
            Passed on to skorch.

        Returns
        -------
        self : object
            The fitted net.
        """
        first_call = not self.initialized_
        X = self._validate_X(X, reset=first_call)
        if first_call:
            self._prepare_fit(X, y)
        return super().partial_fit(X, _flat(X), **fit_params)

    def _prepare_fit(self, X, y):
        """Hook for what must exist before the modules are built (anchors)."""

    def _decode(self, X, decoder):
        """Run ``decoder`` on codes in batches; reshape to the input format."""
        check_is_fitted(self)
        if isinstance(X, torch.Tensor):
            X = X.to(torch.float32)
        else:
            X = check_array(X, dtype=np.float32)
        decoded = self._map_batches(decoder, X)
        return decoded.reshape(decoded.shape[0], *self.input_shape_)

    # skorch's predict and predict_proba would return flat reconstructions; an
    # autoencoder is a transformer here (inverse_transform decodes).
    predict = available_if(_unavailable)(NeuralNet.predict)
    predict_proba = available_if(_unavailable)(NeuralNet.predict_proba)


def _flat(X):
    """Reconstruction targets: one flat row per sample (a view, not a copy)."""
    return X.reshape(X.shape[0], -1)


def _encoder_module(encoder):
    """The torch encoder inside ``encoder``, and the fitted net it came from."""
    if isinstance(encoder, torch.nn.Module):
        return encoder, None
    net = getattr(encoder, "estimator", encoder)  # FrozenEstimator
    module = getattr(net, "module_", None)
    if not isinstance(module, torch.nn.Module):
        raise TypeError(
            "with_encoder expects a fitted net of skrelrep.neural (or any skorch net), "
            f"a FrozenEstimator of one, or a torch.nn.Module; got {type(encoder)!r}."
        )
    return module, net
