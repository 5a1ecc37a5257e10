"""The base class of every net of :mod:`skrelrep.neural`: :class:`NetBase`.

The nets are skorch nets with an extra module or two (a classification head or a
decoder, and a relative layer for the relative nets). :class:`NetBase` declares the
parameters they share, once, and adds the scikit-learn side: parameter validation
(once per fit), float32 input validation, seeding through ``random_state``, batched
encoding for ``transform``, and :meth:`~NetBase.with_encoder` to swap in another
encoder after training. The training tasks (classification, reconstruction) are in
``_tasks.py``, the anchors and the relative layer in ``_relative_base.py``.
"""

import copy
import inspect
import math

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNet
from skorch.dataset import unpack_data
from skorch.utils import is_dataset, to_device, to_tensor

from ._modules import MLPEncoderModule
from ._seeding import draw_seed, offset_seed, seeded
from ._state import SKORCH_KEY, STATE_KEY, restore_components, save_components

__all__ = ["NetBase"]

# skorch with metadata routing tells partial_fit which method's metadata requests
# apply; older versions would hand the keyword to the module's forward.
_SKORCH_ROUTES_FIT = (
    "_routing_method" in inspect.signature(NeuralNet.fit_loop).parameters
)


class NetBase(ClassNamePrefixFeaturesOutMixin, TransformerMixin, NeuralNet):
    """Shared parameters, seeding, float32 inputs, batched encoding, encoder swapping.

    skorch lists a net's parameters from its instance (every attribute not ending in
    ``_``), so a subclass's ``__init__`` takes only its own parameters and passes the
    others on with ``**kwargs``. It must set its own module attributes (``head``,
    ``decoder``) *before* calling this ``__init__``: once skorch's ``__init__`` has
    run, it treats a torch module assigned to an attribute as a new component.

    Subclasses implement ``initialize_module`` (building ``module_``, the encoder,
    and the modules after it), ``_forward(x)``, the full forward pass of a batch, and
    ``fit``/``partial_fit``, which start with :meth:`_start_fit`.

    The parameters are documented once, for every net, in ``_docs.py``.
    """

    _parameter_constraints: dict = {"random_state": ["random_state"]}

    def __init__(
        self,
        module=MLPEncoderModule,
        *,
        criterion,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=20,
        batch_size=128,
        train_split=None,
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        # Ours, not skorch's: set before skorch's __init__, so that skorch does not
        # count it among the arguments it validates itself.
        self.random_state = random_state
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            verbose=verbose,
            **kwargs,
        )

    def _get_param_names(self):
        # skorch lists its bookkeeping set `_params_to_validate` among the parameters;
        # its __init__ rebuilds that set from the prefixed parameters, so clone and
        # set_params need not (and must not) see it.
        return [
            name for name in super()._get_param_names() if name != "_params_to_validate"
        ]

    # -- saving and loading -----------------------------------------------------------
    def __getstate__(self):
        """The net's state for pickle, ``copy`` and ``skops.io``: no pickled objects.

        The torch modules, criteria and optimizers are saved as their state dicts,
        in NumPy arrays (see ``_state.py``), not as skorch's inner pickle.
        """
        state = self.__dict__.copy()
        saved = save_components(self, state)
        if saved:
            state[STATE_KEY] = saved
        return state

    def __setstate__(self, state):
        if SKORCH_KEY in state:
            raise ValueError(
                f"This {type(self).__name__} was saved with its torch components as a "
                "pickle inside its state, which skrelrep does not load (a pickle can "
                "run any code). Load it with the skrelrep version that saved it, and "
                "save it again with this one."
            )
        state = dict(state)
        saved = state.pop(STATE_KEY, None)
        self.__dict__.update(state)
        if saved is not None:
            restore_components(self, saved)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if tags.transformer_tags is not None:
            tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # -- initialisation and training -------------------------------------------------
    def initialize(self):
        """Validate the parameters, then build the modules, seeded by ``random_state``.

        ``fit`` and ``partial_fit`` validate the parameters themselves, once, before
        they choose anything from the data, and do not call this method.

        Returns
        -------
        self : object
            The initialized net.
        """
        BaseEstimator._validate_params(self)
        return self._initialize_seeded()

    def _initialize_seeded(self):
        """skorch's ``initialize`` under a torch seed drawn from ``random_state``.

        The parameters must have been validated already; skorch validates its
        prefixed ones (module__*, optimizer__*, ...) at the end.
        """
        self.torch_seed_ = draw_seed(self.random_state)
        with seeded(self.torch_seed_, self.device):
            return super().initialize()

    def _start_fit(self, X):
        """Start of training: validate the parameters (once per fit), then ``X``.

        scikit-learn's validation of our own parameters runs here, before anything
        (the anchors) is chosen from the data; skorch's ``_validate_params`` (a
        method of another meaning) checks the prefixed ones in ``initialize``.
        """
        BaseEstimator._validate_params(self)
        return self._validate_X(X, reset=True)

    def _prepare_fit(self, X, y):
        """Hook for what must exist before the modules are built (the anchors)."""

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # Shuffling and dropout draw from a seed that moves on with every call, so
        # repeated partial_fit calls do not replay the same batches.
        seed = offset_seed(getattr(self, "torch_seed_", None), len(self.history))
        with seeded(seed, self.device):
            return super().fit_loop(X, y, epochs=epochs, **fit_params)

    def _fit_validated(self, X, y, **fit_params):
        """skorch's ``fit`` on inputs (and parameters) that ``fit`` has validated."""
        if not self.warm_start or not self.initialized_:
            self._initialize_seeded()
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

        ``reset=True`` records the input format (only :meth:`_start_fit` asks for it).
        """
        if is_dataset(X):
            return X
        if isinstance(X, torch.Tensor):
            X = X.to(torch.float32)
            _check_tensor(X, self)
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

    @property
    def _n_features_out(self):
        """Width of ``transform``'s output: the encoder's ``n_components``."""
        width = getattr(self.module_, "n_components", None)
        if width is None:
            raise AttributeError(
                f"The encoder {type(self.module_).__name__} does not expose "
                "n_components, so the number of output features is unknown."
            )
        return width

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


def _check_tensor(X, estimator):
    """What ``validate_data`` checks of an array, for a float32 tensor (not copied).

    At least 2-D, at least one sample and one feature, every entry finite: a NaN
    would otherwise flow through the net into every output (and, in ``predict``, into
    a plausible class).
    """
    name = type(estimator).__name__
    if X.ndim < 2:
        raise ValueError(
            f"Expected a 2-D (or image) tensor, got shape {tuple(X.shape)}."
        )
    for count, what in ((X.shape[0], "sample"), (math.prod(X.shape[1:]), "feature")):
        if count == 0:
            raise ValueError(
                f"Found tensor with 0 {what}(s) (shape={tuple(X.shape)}) while a "
                f"minimum of 1 is required by {name}."
            )
    if X.device.type != "meta" and not bool(torch.isfinite(X).all()):
        kind = "NaN" if bool(torch.isnan(X).any()) else "infinity"
        raise ValueError(f"Input X contains {kind}: {name} needs finite inputs.")


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
